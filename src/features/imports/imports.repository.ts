import type { Insertable, Updateable } from 'kysely';
import { bumpLedgerVersion } from '../statements/statements.repository.ts';
import type { Db } from '../../db/db.ts';
import { referenceKey } from '../../db/reference-key.ts';
import type {
  AccountLotsTable,
  BuildingsTable,
  ClientAccountsTable,
  LotsTable,
  ManagersTable,
} from '../../db/schema.ts';
import type { NewLedgerEntry } from './ecritures.ts';

/**
 * Rows per multi-row INSERT: large enough to amortize round trips, small enough to stay
 * under SQLite's 32 766 bound parameters and keep statements quick to compile.
 */
export const INSERT_BATCH_ROWS = 500;
const IN_LIST_SIZE = 500;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function batchSize(columns: number): number {
  return Math.max(1, Math.min(INSERT_BATCH_ROWS, Math.floor(30_000 / columns)));
}

// ---------------------------------------------------------------------------
// Référentiel

export async function listManagers(db: Db) {
  return db.selectFrom('managers').selectAll().execute();
}

export async function listBuildings(db: Db) {
  return db.selectFrom('buildings').selectAll().execute();
}

export async function listLotsOfBuildings(db: Db, buildingIds: number[]) {
  const out = [];
  for (const ids of chunks(buildingIds, IN_LIST_SIZE)) {
    out.push(...(await db.selectFrom('lots').selectAll().where('building_id', 'in', ids).execute()));
  }
  return out;
}

export async function listAccountsByReference(db: Db, references: string[]) {
  const out = [];
  for (const refs of chunks(references, IN_LIST_SIZE)) {
    out.push(...(await db.selectFrom('client_accounts').selectAll().where('reference', 'in', refs).execute()));
  }
  return out;
}

export async function listLinksOfAccounts(db: Db, accountIds: number[]) {
  const out = [];
  for (const ids of chunks(accountIds, IN_LIST_SIZE)) {
    out.push(...(await db.selectFrom('account_lots').selectAll().where('account_id', 'in', ids).execute()));
  }
  return out;
}

export async function insertManagers(db: Db, rows: Insertable<ManagersTable>[]) {
  const out = [];
  for (const batch of chunks(rows, batchSize(3))) {
    out.push(...(await db.insertInto('managers').values(batch).returning(['id', 'email']).execute()));
  }
  return out;
}

export async function updateManager(db: Db, id: number, patch: Updateable<ManagersTable>): Promise<void> {
  await db.updateTable('managers').set(patch).where('id', '=', id).execute();
}

export async function insertBuildings(db: Db, rows: Insertable<BuildingsTable>[]) {
  const out = [];
  for (const batch of chunks(rows, batchSize(5))) {
    out.push(...(await db.insertInto('buildings').values(batch).returning(['id', 'code']).execute()));
  }
  return out;
}

export async function updateBuilding(db: Db, id: number, patch: Updateable<BuildingsTable>): Promise<void> {
  await db.updateTable('buildings').set(patch).where('id', '=', id).execute();
}

export async function insertLots(db: Db, rows: Insertable<LotsTable>[]) {
  const out = [];
  for (const batch of chunks(rows, batchSize(5))) {
    out.push(...(await db.insertInto('lots').values(batch).returning(['id', 'building_id', 'number']).execute()));
  }
  return out;
}

export async function updateLot(db: Db, id: number, patch: Updateable<LotsTable>): Promise<void> {
  await db.updateTable('lots').set(patch).where('id', '=', id).execute();
}

/** A new account; its reference_key is derived here, where it is written. */
export type NewAccountRow = Omit<Insertable<ClientAccountsTable>, 'reference_key'>;

export async function insertAccounts(db: Db, rows: NewAccountRow[]) {
  const out = [];
  for (const batch of chunks(rows, batchSize(21))) {
    const values = batch.map((r) => ({ ...r, reference_key: referenceKey(r.reference) }));
    out.push(...(await db.insertInto('client_accounts').values(values).returning(['id', 'reference']).execute()));
  }
  return out;
}

export async function updateAccount(
  db: Db,
  id: number,
  patch: Omit<Updateable<ClientAccountsTable>, 'reference_key'>,
): Promise<void> {
  // Accounts are matched by reference, so an import never changes one; if it did, its key follows.
  const key = patch.reference === undefined ? {} : { reference_key: referenceKey(patch.reference) };
  await db
    .updateTable('client_accounts')
    .set({ ...patch, ...key })
    .where('id', '=', id)
    .execute();
}

export async function insertLinks(db: Db, rows: AccountLotsTable[]): Promise<void> {
  for (const batch of chunks(rows, batchSize(2))) {
    await db.insertInto('account_lots').values(batch).execute();
  }
}

export async function deleteLinks(db: Db, accountId: number, lotIds: number[]): Promise<void> {
  for (const ids of chunks(lotIds, IN_LIST_SIZE)) {
    await db.deleteFrom('account_lots').where('account_id', '=', accountId).where('lot_id', 'in', ids).execute();
  }
}

export async function deleteClaimTickets(db: Db, accountId: number): Promise<void> {
  await db.deleteFrom('claim_tickets').where('account_id', '=', accountId).execute();
}

// ---------------------------------------------------------------------------
// Écritures

/** reference → id of every client account. */
export async function accountIdsByReference(db: Db): Promise<Map<string, number>> {
  const rows = await db.selectFrom('client_accounts').select(['id', 'reference']).execute();
  return new Map(rows.map((r) => [r.reference, r.id]));
}

/** The given accounts' ledgers become exactly `entries`. */
export async function replaceLedgers(db: Db, accountIds: number[], entries: NewLedgerEntry[]): Promise<void> {
  await bumpLedgerVersion(db);
  for (const ids of chunks(accountIds, IN_LIST_SIZE)) {
    await db.deleteFrom('ledger_entries').where('account_id', 'in', ids).execute();
  }
  const size = batchSize(7);
  for (let i = 0; i < entries.length; i += size) {
    await db
      .insertInto('ledger_entries')
      .values(entries.slice(i, i + size))
      .execute();
  }
}

// ---------------------------------------------------------------------------
// FEC

export function findBuildingByCode(db: Db, code: string) {
  return db.selectFrom('buildings').select(['id', 'code', 'name']).where('code', '=', code).executeTakeFirst();
}

/** The client accounts of a building, with what a FEC line is matched by. */
export function clientAccountsOfBuilding(db: Db, buildingId: number) {
  return db
    .selectFrom('client_accounts')
    .select(['id', 'reference', 'ledger_account'])
    .where('building_id', '=', buildingId)
    .orderBy('id')
    .execute();
}

/** Deletes the building's client lines dated within the period (bounds included); returns how many. */
export async function deleteBuildingLedgerPeriod(
  db: Db,
  buildingId: number,
  period: { from: string; to: string },
): Promise<number> {
  // The building's ledgers change: statements kept in memory are recomputed.
  await bumpLedgerVersion(db);
  const r = await db
    .deleteFrom('ledger_entries')
    .where('account_id', 'in', (eb) =>
      eb.selectFrom('client_accounts').select('id').where('building_id', '=', buildingId),
    )
    .where('entry_date', '>=', period.from)
    .where('entry_date', '<=', period.to)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Rows per INSERT for ledger lines (8 columns). */
export const LEDGER_BATCH_ROWS = batchSize(8);

export async function insertLedgerEntries(db: Db, entries: NewLedgerEntry[]): Promise<void> {
  for (const batch of chunks(entries, LEDGER_BATCH_ROWS)) {
    await db.insertInto('ledger_entries').values(batch).execute();
  }
}

// ---------------------------------------------------------------------------
// Codes

/**
 * Accounts whose current code was created by Palier and has not been used yet, with what a
 * mail merge prints on the letter: the holder's postal address, the building, the gestionnaire.
 */
export async function listPrintableCodes(db: Db) {
  return db
    .selectFrom('client_accounts')
    .leftJoin('buildings', 'buildings.id', 'client_accounts.building_id')
    .leftJoin('managers', 'managers.id', 'client_accounts.manager_id')
    .select([
      'client_accounts.reference',
      'client_accounts.access_code_encrypted',
      'client_accounts.civility',
      'client_accounts.last_name',
      'client_accounts.first_name',
      'client_accounts.address',
      'client_accounts.postal_code',
      'client_accounts.city',
      'buildings.code as building_code',
      'buildings.name as building_name',
      'managers.name as manager_name',
    ])
    .where('client_accounts.access_code_origin', '=', 'palier')
    .where('client_accounts.access_code_used_at', 'is', null)
    .where('client_accounts.access_code_encrypted', 'is not', null)
    .orderBy('client_accounts.reference')
    .execute();
}
