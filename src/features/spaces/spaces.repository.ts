import type { Db } from '../../db/db.ts';

export function findBuildingByCode(db: Db, code: string) {
  return db.selectFrom('buildings').select(['id', 'code', 'name']).where('code', '=', code).executeTakeFirst();
}

/** Every (account, person holding it), of one building or all, by building, reference, date linked. */
export function listHoldings(db: Db, buildingId: number | null) {
  let q = db
    .selectFrom('user_accounts')
    .innerJoin('client_accounts', 'client_accounts.id', 'user_accounts.account_id')
    .innerJoin('users', 'users.id', 'user_accounts.user_id')
    .leftJoin('buildings', 'buildings.id', 'client_accounts.building_id')
    .select([
      'client_accounts.reference',
      'client_accounts.kind',
      'buildings.code as building_code',
      'buildings.name as building_name',
      'users.id as user_id',
      'users.civility',
      'users.first_name',
      'users.last_name',
      'users.email',
      'users.email_verified_at',
      'user_accounts.linked_at',
    ]);
  if (buildingId !== null) q = q.where('client_accounts.building_id', '=', buildingId);
  return q
    .orderBy('buildings.code')
    .orderBy('client_accounts.reference')
    .orderBy('user_accounts.linked_at')
    .orderBy('users.id')
    .execute();
}

/** How many client accounts there are, of one building or all. */
export async function countAccounts(db: Db, buildingId: number | null): Promise<number> {
  let q = db.selectFrom('client_accounts').select((eb) => eb.fn.countAll<number | string>().as('n'));
  if (buildingId !== null) q = q.where('building_id', '=', buildingId);
  const r = await q.executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * The last time each person signed in (a login, or the sign-in that ends the creation of a
 * space), from the audit log, which the hourly purge keeps.
 */
export async function lastSignIns(db: Db, userIds: number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (let i = 0; i < userIds.length; i += 500) {
    const rows = await db
      .selectFrom('audit_events')
      .select(['user_id', (eb) => eb.fn.max('at').as('at')])
      .where('action', 'in', ['login', 'claim'])
      .where('outcome', '=', 'success')
      .where('user_id', 'in', userIds.slice(i, i + 500))
      .groupBy('user_id')
      .execute();
    for (const r of rows) if (r.user_id !== null && r.at) out.set(r.user_id, r.at);
  }
  return out;
}
