import type { JobsTable } from '../../core/jobs/jobs.repository.ts';
import type { Db } from '../../db/db.ts';
import type { DocumentScope, DocumentsTable } from '../../db/schema.ts';
import type { Insertable } from 'kysely';

type Q = Db;

export async function insertDocument(db: Q, values: Insertable<DocumentsTable>): Promise<number> {
  const row = await db.insertInto('documents').values(values).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export function findDocument(db: Q, id: number) {
  return db.selectFrom('documents').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function markWithdrawn(db: Q, id: number, at: string): Promise<boolean> {
  const r = await db
    .updateTable('documents')
    .set({ withdrawn_at: at })
    .where('id', '=', id)
    .where('withdrawn_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export function buildingByCode(db: Q, code: string) {
  return db.selectFrom('buildings').select(['id', 'code', 'name']).where('code', '=', code).executeTakeFirst();
}

export function buildingsByCodes(db: Q, codes: string[]) {
  if (codes.length === 0) return Promise.resolve([]);
  return db.selectFrom('buildings').select(['id', 'code', 'name']).where('code', 'in', codes).execute();
}

export function allBuildings(db: Q) {
  return db.selectFrom('buildings').select(['id', 'code', 'name']).orderBy('code').execute();
}

export function accountsByReferences(db: Q, references: string[]) {
  if (references.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('client_accounts')
    .select(['id', 'reference', 'building_id'])
    .where('reference', 'in', references)
    .execute();
}

const LIST_COLUMNS = [
  'documents.id',
  'documents.scope',
  'documents.building_id',
  'documents.account_id',
  'documents.for_tenants',
  'documents.category',
  'documents.title',
  'documents.document_date',
  'documents.size_bytes',
  'documents.content_type',
  'documents.published_at',
  'documents.withdrawn_at',
] as const;

/**
 * The current documents of one space seen through one account, with whether this person
 * opened each: candidates only, the policy decides (a locataire's building documents are
 * narrowed to those for tenants by the policy, not here alone).
 */
export function currentDocumentsOfSpace(
  db: Q,
  q: { userId: number; scope: DocumentScope; accountId: number; buildingId: number | null },
) {
  let query = db
    .selectFrom('documents')
    .leftJoin('document_reads', (j) =>
      j.onRef('document_reads.document_id', '=', 'documents.id').on('document_reads.user_id', '=', q.userId),
    )
    .select([...LIST_COLUMNS, 'document_reads.read_at'])
    .where('documents.scope', '=', q.scope)
    .where('documents.withdrawn_at', 'is', null);
  if (q.scope === 'account') query = query.where('documents.account_id', '=', q.accountId);
  else if (q.buildingId === null) return Promise.resolve([]);
  else query = query.where('documents.building_id', '=', q.buildingId);
  return query.orderBy('documents.document_date', 'desc').orderBy('documents.id', 'desc').execute();
}

/**
 * Current document counts for the home page, in one query whatever the number of accounts:
 * private ones per account, building and council ones per building (and tenant flag).
 */
export async function currentDocumentGroups(db: Q, accountIds: number[], buildingIds: number[]) {
  if (accountIds.length === 0 && buildingIds.length === 0) return [];
  const rows = await db
    .selectFrom('documents')
    .select((eb) => ['scope', 'account_id', 'building_id', 'for_tenants', eb.fn.countAll<number>().as('n')])
    .where('withdrawn_at', 'is', null)
    .where((eb) =>
      eb.or([
        ...(accountIds.length > 0 ? [eb.and([eb('scope', '=', 'account'), eb('account_id', 'in', accountIds)])] : []),
        ...(buildingIds.length > 0
          ? [eb.and([eb('scope', 'in', ['building', 'council']), eb('building_id', 'in', buildingIds)])]
          : []),
      ]),
    )
    .groupBy(['scope', 'account_id', 'building_id', 'for_tenants'])
    .execute();
  return rows.map((r) => ({ ...r, n: Number(r.n) }));
}

export async function markRead(db: Q, userId: number, documentId: number, at: string): Promise<void> {
  await db
    .insertInto('document_reads')
    .values({ user_id: userId, document_id: documentId, read_at: at })
    .onConflict((oc) => oc.columns(['user_id', 'document_id']).doNothing())
    .execute();
}

/** Current documents of these buildings' building and council spaces (conformity report). */
export function currentBuildingDocuments(db: Q, buildingIds: number[]) {
  if (buildingIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('documents')
    .select(['building_id', 'scope', 'category', 'document_date'])
    .where('withdrawn_at', 'is', null)
    .where('scope', 'in', ['building', 'council'])
    .where('building_id', 'in', buildingIds)
    .execute();
}

/** Every document of a building, withdrawn ones too, with the account reference of private ones. */
export function allDocumentsOfBuilding(db: Q, buildingId: number) {
  return db
    .selectFrom('documents')
    .leftJoin('client_accounts', 'client_accounts.id', 'documents.account_id')
    .selectAll('documents')
    .select('client_accounts.reference as account_reference')
    .where('documents.building_id', '=', buildingId)
    .orderBy('documents.scope')
    .orderBy('documents.category')
    .orderBy('documents.document_date', 'desc')
    .orderBy('documents.id')
    .execute();
}

// ---------------------------------------------------------------------------
// Notices of new documents

/** Turns the notices on from `since`, or off (null); already on, it keeps its start. */
export async function setUserDocumentNotice(db: Q, userId: number, since: string | null) {
  let query = db.updateTable('users').set({ document_notice_since: since }).where('id', '=', userId);
  if (since !== null) query = query.where('document_notice_since', 'is', null);
  await query.execute();
}

export async function anyoneWantsNotices(db: Q): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('document_notice_since', 'is not', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** People who asked for notices and whose address is confirmed. */
export function usersWantingNotices(db: Q) {
  return db
    .selectFrom('users')
    .select(['id', 'email', 'civility', 'first_name', 'last_name', 'document_notice_since', 'document_notice_sent_at'])
    .where('document_notice_since', 'is not', null)
    .where('email_verified_at', 'is not', null)
    .orderBy('id')
    .execute();
}

export async function accountsOfUsers(db: Q, userIds: number[]) {
  if (userIds.length === 0) return [];
  return db
    .selectFrom('client_accounts')
    .innerJoin('user_accounts', 'user_accounts.account_id', 'client_accounts.id')
    .select([
      'user_accounts.user_id',
      'client_accounts.id',
      'client_accounts.kind',
      'client_accounts.reference',
      'client_accounts.building_id',
      'client_accounts.council_role',
    ])
    .where('user_accounts.user_id', 'in', userIds)
    .execute();
}

/** Current documents published after `since` in these accounts' or buildings' spaces (candidates). */
export async function documentsPublishedSince(db: Q, since: string, accountIds: number[], buildingIds: number[]) {
  if (accountIds.length === 0) return [];
  return db
    .selectFrom('documents')
    .select([...LIST_COLUMNS])
    .where('withdrawn_at', 'is', null)
    .where('published_at', '>', since)
    .where((eb) =>
      eb.or([
        eb('account_id', 'in', accountIds),
        ...(buildingIds.length > 0 ? [eb('building_id', 'in', buildingIds)] : []),
      ]),
    )
    .orderBy('published_at')
    .orderBy('id')
    .execute();
}

export async function markNoticeSent(db: Q, userId: number, at: string): Promise<void> {
  await db.updateTable('users').set({ document_notice_sent_at: at }).where('id', '=', userId).execute();
}

/** Whether a job of this kind waits in the queue (the notices plan one run ahead). */
export async function hasPendingJob(db: Q, kind: string): Promise<boolean> {
  const row = await db
    .withTables<{ jobs: JobsTable }>()
    .selectFrom('jobs')
    .select('id')
    .where('kind', '=', kind)
    .where('status', '=', 'pending')
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
