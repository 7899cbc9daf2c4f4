import type { Db } from '../../db/db.ts';

/** The building named on a letter: code and name. */
export function findBuildingOfAccount(db: Db, buildingId: number) {
  return db.selectFrom('buildings').select(['code', 'name']).where('id', '=', buildingId).executeTakeFirst();
}

/**
 * A new code supersedes the stored one, used or not. It is kept hashed only: the agency sees
 * it once, when it is issued, and `codes export` never prints it again.
 */
export async function replaceAccessCode(db: Db, accountId: number, hash: string, now: Date): Promise<void> {
  await db
    .updateTable('client_accounts')
    .set({
      access_code_hash: hash,
      access_code_encrypted: null,
      access_code_origin: 'palier',
      access_code_issued_at: now.toISOString(),
      access_code_used_at: null,
      updated_at: now.toISOString(),
    })
    .where('id', '=', accountId)
    .execute();
  // A step 1 passed with the superseded code must not carry on to step 2.
  await db.deleteFrom('claim_tickets').where('account_id', '=', accountId).execute();
}

/** How many people hold the account (a new code lets one more attach it). */
export async function countHolders(db: Db, accountId: number): Promise<number> {
  const r = await db
    .selectFrom('user_accounts')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
