import { PostgresAdapter, type Selectable } from 'kysely';
import type { Db } from '../../db/db.ts';
import type { PendingContactFieldsTable } from '../../db/schema.ts';
import { LEDGER_VERSION_KEY } from '../../core/versions.ts';

/**
 * The account if this person holds it, else undefined. Every page about one account goes
 * through here, so someone else's id answers exactly like an id that does not exist.
 */
export function findAccountOfUser(db: Db, userId: number, accountId: number) {
  return db
    .selectFrom('client_accounts')
    .innerJoin('user_accounts', 'user_accounts.account_id', 'client_accounts.id')
    .selectAll('client_accounts')
    .where('user_accounts.user_id', '=', userId)
    .where('client_accounts.id', '=', accountId)
    .executeTakeFirst();
}

/**
 * One query for everything a page about one account needs to know of it: the account if
 * this person holds it, its building and its gestionnaire (either may be missing).
 */
export function findAccountContext(db: Db, userId: number, accountId: number) {
  return db
    .selectFrom('client_accounts')
    .innerJoin('user_accounts', 'user_accounts.account_id', 'client_accounts.id')
    .leftJoin('buildings', 'buildings.id', 'client_accounts.building_id')
    .leftJoin('managers', 'managers.id', 'client_accounts.manager_id')
    .selectAll('client_accounts')
    .select([
      'buildings.name as building_name',
      'buildings.address as building_address',
      'buildings.postal_code as building_postal_code',
      'buildings.city as building_city',
      'managers.name as manager_name',
      'managers.email as manager_email',
      'managers.phone as manager_phone',
      'buildings.iban as building_iban',
      'buildings.bic as building_bic',
      // Whether the account ever paid online: only then are unreconciled payments looked up.
      (eb) =>
        eb
          .selectFrom('payments')
          .select((p) => p.fn.countAll<number | string>().as('n'))
          .whereRef('payments.account_id', '=', 'client_accounts.id')
          .where('payments.status', '=', 'paid')
          .as('paid_online'),
      // Read with the account so that in-memory statements are checked at no extra query.
      (eb) => eb.selectFrom('settings').select('value').where('key', '=', LEDGER_VERSION_KEY).as('ledger_version'),
    ])
    .where('user_accounts.user_id', '=', userId)
    .where('client_accounts.id', '=', accountId)
    .executeTakeFirst();
}

export function accountsOfUser(db: Db, userId: number) {
  return db
    .selectFrom('client_accounts')
    .innerJoin('user_accounts', 'user_accounts.account_id', 'client_accounts.id')
    .selectAll('client_accounts')
    .where('user_accounts.user_id', '=', userId)
    .orderBy('client_accounts.kind')
    .orderBy('client_accounts.reference')
    .execute();
}

/**
 * Balance = credits − debits; negative means the client owes money (solde débiteur). An
 * à-nouveau carries the balance of everything dated before it: only the lines from an
 * account's last à-nouveau on count (all of them when it has none). One query.
 */
export async function balancesOf(db: Db, accountIds: number[]): Promise<Map<number, number>> {
  if (accountIds.length === 0) return new Map();
  const since = db
    .selectFrom('ledger_entries')
    .select((eb) => ['account_id', eb.fn.max('entry_date').as('since')])
    .where('account_id', 'in', accountIds)
    .where('opening', '=', 1)
    .groupBy('account_id')
    .as('an');
  const rows = await db
    .selectFrom('ledger_entries as l')
    .leftJoin(since, 'an.account_id', 'l.account_id')
    .select((eb) => [
      'l.account_id',
      eb.fn.sum<number>('l.credit_cents').as('credits'),
      eb.fn.sum<number>('l.debit_cents').as('debits'),
    ])
    .where('l.account_id', 'in', accountIds)
    .where((eb) => eb.or([eb('an.since', 'is', null), eb('l.entry_date', '>=', eb.ref('an.since'))]))
    .groupBy('l.account_id')
    .execute();
  const out = new Map<number, number>(accountIds.map((id) => [id, 0]));
  for (const r of rows) out.set(r.account_id, Number(r.credits ?? 0) - Number(r.debits ?? 0));
  return out;
}

/** A person's accounts with the name and address of their building, in one query (home page). */
export function accountsWithBuildingOfUser(db: Db, userId: number) {
  return db
    .selectFrom('client_accounts')
    .innerJoin('user_accounts', 'user_accounts.account_id', 'client_accounts.id')
    .leftJoin('buildings', 'buildings.id', 'client_accounts.building_id')
    .select([
      'client_accounts.id',
      'client_accounts.reference',
      'client_accounts.kind',
      'client_accounts.council_role',
      'client_accounts.building_id',
      'buildings.name as building_name',
      'buildings.address as building_address',
      'buildings.postal_code as building_postal_code',
      'buildings.city as building_city',
    ])
    .where('user_accounts.user_id', '=', userId)
    .orderBy('client_accounts.kind')
    .orderBy('client_accounts.reference')
    .execute();
}

/** The lots of several accounts in one query, whatever their number (not one query per account). */
export async function lotsOfAccounts(db: Db, accountIds: number[]) {
  if (accountIds.length === 0) return [];
  return db
    .selectFrom('account_lots')
    .innerJoin('lots', 'lots.id', 'account_lots.lot_id')
    .select(['account_lots.account_id', 'lots.id', 'lots.number', 'lots.type', 'lots.description'])
    .where('account_lots.account_id', 'in', accountIds)
    .orderBy('account_lots.account_id')
    .orderBy('lots.number')
    .execute();
}

/* Mes coordonnées, conseil syndical and gestionnaire lookups (features/accounts, features/contact). */

/** The contact details the agency holds for an account, as the client may correct them. */
export const ACCOUNT_CONTACT_COLUMNS = [
  'civility',
  'last_name',
  'first_name',
  'email',
  'phone',
  'address',
  'postal_code',
  'city',
  'country',
] as const;
export type AccountContactColumn = (typeof ACCOUNT_CONTACT_COLUMNS)[number];
export type AccountContact = Record<AccountContactColumn, string | null>;

export async function updateAccountContact(
  db: Db,
  accountId: number,
  values: Partial<AccountContact>,
  now: Date,
): Promise<void> {
  await db
    .updateTable('client_accounts')
    .set({ ...values, updated_at: now.toISOString() })
    .where('id', '=', accountId)
    .execute();
}

export async function insertContactChange(
  db: Db,
  c: { accountId: number; userId: number; before: Partial<AccountContact>; after: Partial<AccountContact>; now: Date },
): Promise<{ id: number }> {
  return db
    .insertInto('contact_changes')
    .values({
      account_id: c.accountId,
      user_id: c.userId,
      changed_at: c.now.toISOString(),
      before_json: JSON.stringify(c.before),
      after_json: JSON.stringify(c.after),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
}

/* Pending client corrections: fields the référentiel import leaves alone until the agency takes them in. */

export type PendingField = Selectable<PendingContactFieldsTable>;

export function pendingFieldsOfAccount(db: Db, accountId: number) {
  return db.selectFrom('pending_contact_fields').selectAll().where('account_id', '=', accountId).execute();
}

/**
 * The pending fields of many accounts (a référentiel import), by batches of ids. On
 * PostgreSQL the accounts are locked first, within the import's transaction: a client's
 * correction committed before is seen here, one made after waits for the import to end,
 * so an import never overwrites a correction it did not see. (SQLite serializes writers.)
 */
export async function pendingFieldsOfAccounts(db: Db, accountIds: number[]): Promise<PendingField[]> {
  const out: PendingField[] = [];
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  for (let i = 0; i < accountIds.length; i += 500) {
    const ids = accountIds.slice(i, i + 500);
    if (postgres) await db.selectFrom('client_accounts').select('id').where('id', 'in', ids).forUpdate().execute();
    out.push(...(await db.selectFrom('pending_contact_fields').selectAll().where('account_id', 'in', ids).execute()));
  }
  return out;
}

export async function insertPendingField(db: Db, row: PendingField): Promise<void> {
  await db.insertInto('pending_contact_fields').values(row).execute();
}

export async function updatePendingField(
  db: Db,
  key: { account_id: number; field: string },
  patch: { new_value: string | null; change_id: number; changed_at: string },
): Promise<void> {
  await db
    .updateTable('pending_contact_fields')
    .set(patch)
    .where('account_id', '=', key.account_id)
    .where('field', '=', key.field)
    .execute();
}

/**
 * Deletes pending fields; with `change_id`, only if no newer correction replaced the row
 * meanwhile (that one stays pending). Returns how many were deleted.
 */
export async function deletePendingFields(
  db: Db,
  keys: { account_id: number; field: string; change_id?: number }[],
): Promise<number> {
  let n = 0;
  for (const k of keys) {
    let q = db.deleteFrom('pending_contact_fields').where('account_id', '=', k.account_id).where('field', '=', k.field);
    if (k.change_id !== undefined) q = q.where('change_id', '=', k.change_id);
    n += Number((await q.executeTakeFirst()).numDeletedRows);
  }
  return n;
}

/** Every pending correction with its account's reference and the client who made it, oldest first. */
export function listPendingFields(db: Db) {
  return db
    .selectFrom('pending_contact_fields as p')
    .innerJoin('client_accounts as a', 'a.id', 'p.account_id')
    .innerJoin('contact_changes as c', 'c.id', 'p.change_id')
    .innerJoin('users as u', 'u.id', 'c.user_id')
    .select([
      'p.account_id',
      'p.field',
      'p.old_value',
      'p.new_value',
      'p.change_id',
      'p.changed_at',
      'a.reference',
      'u.civility',
      'u.first_name',
      'u.last_name',
      'u.email',
    ])
    .orderBy('p.changed_at')
    .orderBy('a.reference')
    .orderBy('p.field')
    .execute();
}

/** Newest first, with the name of the person who made each change. */
export function contactChangesOf(db: Db, accountId: number, limit = 50) {
  return db
    .selectFrom('contact_changes')
    .innerJoin('users', 'users.id', 'contact_changes.user_id')
    .select([
      'contact_changes.id',
      'contact_changes.changed_at',
      'contact_changes.before_json',
      'contact_changes.after_json',
      'users.civility',
      'users.first_name',
      'users.last_name',
    ])
    .where('contact_changes.account_id', '=', accountId)
    .orderBy('contact_changes.changed_at', 'desc')
    .orderBy('contact_changes.id', 'desc')
    .limit(limit)
    .execute();
}

export function findManager(db: Db, managerId: number | null) {
  if (managerId === null) return Promise.resolve(undefined);
  return db.selectFrom('managers').selectAll().where('id', '=', managerId).executeTakeFirst();
}

export function findBuilding(db: Db, buildingId: number | null) {
  if (buildingId === null) return Promise.resolve(undefined);
  return db.selectFrom('buildings').selectAll().where('id', '=', buildingId).executeTakeFirst();
}

/** The copropriétaire accounts of a building that sit on its conseil syndical (names and role only). */
export function councilAccountsOfBuilding(db: Db, buildingId: number) {
  return db
    .selectFrom('client_accounts')
    .select(['id', 'civility', 'first_name', 'last_name', 'council_role'])
    .where('building_id', '=', buildingId)
    .where('kind', '=', 'coproprietaire')
    .where('council_role', 'is not', null)
    .execute();
}
