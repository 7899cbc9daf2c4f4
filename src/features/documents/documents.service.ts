import { findAccountContext } from '../accounts/accounts.repository.ts';
import type { Readable } from 'node:stream';
import type { Storage, StoredFile } from '../../adapters/storage/storage.ts';
import { auditOperation, securityEvent } from '../../core/audit.ts';
import { clientId, inTransaction, type Ctx } from '../../core/context.ts';
import { AppError, notFound } from '../../core/errors.ts';
import { todayInParis } from '../../core/format.ts';
import type { DocumentRow, DocumentScope } from '../../db/schema.ts';
import { controlCharacterIn } from '../imports/fields.ts';
import { categoriesOf, categoryOf, CATEGORIES } from './categories.ts';
import {
  accountsByReferences,
  buildingsByCodes,
  currentDocumentGroups,
  currentDocumentsOfSpace,
  findDocument,
  insertDocument,
  markRead,
  markWithdrawn,
} from './documents.repository.ts';
import { canSeeDocument, canSeeSpace, type DocumentViewer } from './documents.policies.ts';
import { judgeDocument, sanitizeOriginalName } from './files.ts';
import { planDocumentNotices } from './notices.service.ts';

/** Where a document goes: an account's private space, or its building's public or council space. */
export type DocumentTarget =
  /** buildingCode, when given, must be the account's building (a guard against a wrong reference). */
  | { scope: 'account'; accountReference: string; buildingCode?: string }
  | { scope: 'building'; buildingCode: string; forTenants: boolean }
  | { scope: 'council'; buildingCode: string };

export interface PublishInput {
  target: DocumentTarget;
  category: string;
  title: string;
  /** ISO date; today (Paris) when absent. */
  date?: string | null;
  file: { name: string; content: Uint8Array };
  /** Where this input comes from, to name it in errors (« Ligne 3 », « fichier x.pdf »). */
  origin?: string;
}

/** A publication refused as a whole, with one French line per problem: nothing was stored. */
export class DocumentRefusal extends AppError {
  constructor(readonly problems: string[]) {
    super(
      'documents_refused',
      `documents refused: ${problems.length} problem(s)`,
      ['Rien n’a été publié\u00a0:', ...problems.map((p) => `  ${p}`)].join('\n'),
      422,
    );
    this.name = 'DocumentRefusal';
  }
}

export const MAX_TITLE_LENGTH = 200;

function checkTitle(title: string): string | null {
  const t = title.trim();
  if (t === '') return 'le titre est obligatoire.';
  if (t.length > MAX_TITLE_LENGTH) return `le titre dépasse ${MAX_TITLE_LENGTH} caractères.`;
  const control = controlCharacterIn(t);
  return control ? `titre\u00a0: ${control}.` : null;
}

export function validCategoriesMessage(space?: DocumentScope): string {
  const valid = (space ? categoriesOf(space) : CATEGORIES).map((c) => c.code).join(', ');
  return `Catégories valides${space ? ' pour cet espace' : ''}\u00a0: ${valid}.`;
}

export function unknownCategoryMessage(code: string, space?: DocumentScope): string {
  return `catégorie inconnue\u00a0: «\u00a0${code}\u00a0». ${validCategoriesMessage(space)}`;
}

interface Prepared {
  input: PublishInput;
  buildingId: number;
  accountId: number | null;
  ext: string;
  contentType: string;
  date: string;
  replacesId?: number;
}

/**
 * Publishes documents all-or-nothing: every input is checked (target, category, title,
 * date, content), then the files are stored under generated names, then the rows and their
 * audit events are written in one transaction. Any problem refuses them all and leaves no
 * row and no file. Returns the new ids, in input order.
 */
export async function publishDocuments(ctx: Ctx, storage: Storage, inputs: PublishInput[]): Promise<number[]> {
  const prepared = await prepare(ctx, inputs);
  return storeAndInsert(ctx, storage, prepared, async () => {});
}

async function prepare(ctx: Ctx, inputs: PublishInput[]): Promise<Prepared[]> {
  const codes = [...new Set(inputs.flatMap((i) => (i.target.buildingCode ? [i.target.buildingCode] : [])))];
  const refs = [...new Set(inputs.flatMap((i) => (i.target.scope === 'account' ? [i.target.accountReference] : [])))];
  const [buildings, accounts] = await Promise.all([
    buildingsByCodes(ctx.db, codes),
    accountsByReferences(ctx.db, refs),
  ]);
  const buildingOf = new Map(buildings.map((b) => [b.code, b]));
  const accountOf = new Map(accounts.map((a) => [a.reference, a]));

  const problems: string[] = [];
  const prepared: Prepared[] = [];
  for (const input of inputs) {
    const where = input.origin ? `${input.origin}\u00a0: ` : '';
    const own: string[] = [];
    let buildingId: number | null = null;
    let accountId: number | null = null;
    const t = input.target;
    if (t.scope === 'account') {
      const account = accountOf.get(t.accountReference);
      if (!account) own.push(`compte inconnu\u00a0: «\u00a0${t.accountReference}\u00a0».`);
      else if (account.building_id === null)
        own.push(`le compte «\u00a0${t.accountReference}\u00a0» n’a pas d’immeuble.`);
      else if (t.buildingCode !== undefined && buildingOf.get(t.buildingCode)?.id !== account.building_id) {
        own.push(
          `le compte «\u00a0${t.accountReference}\u00a0» n’appartient pas à l’immeuble «\u00a0${t.buildingCode}\u00a0».`,
        );
      } else [buildingId, accountId] = [account.building_id, account.id];
    } else {
      const building = buildingOf.get(t.buildingCode);
      if (!building) own.push(`immeuble inconnu\u00a0: «\u00a0${t.buildingCode}\u00a0».`);
      else buildingId = building.id;
    }
    const category = categoryOf(input.category);
    if (!category) own.push(unknownCategoryMessage(input.category, t.scope));
    else if (category.space !== t.scope) {
      own.push(
        `la catégorie «\u00a0${input.category}\u00a0» n’appartient pas à cet espace. ${validCategoriesMessage(t.scope)}`,
      );
    }
    const titleProblem = checkTitle(input.title);
    if (titleProblem) own.push(titleProblem);
    const date = input.date ?? todayInParis(ctx.now());
    const judged = await judgeDocument(input.file.content);
    if ('error' in judged)
      own.push(`fichier «\u00a0${sanitizeOriginalName(input.file.name)}\u00a0»\u00a0: ${judged.error}`);
    if (own.length > 0 || buildingId === null || 'error' in judged) {
      problems.push(...own.map((p) => where + p));
      continue;
    }
    prepared.push({ input, buildingId, accountId, ext: judged.ext, contentType: judged.contentType, date });
  }
  if (problems.length > 0) {
    ctx.log.info({ problems: problems.length }, 'documents refused');
    throw new DocumentRefusal(problems);
  }
  return prepared;
}

/** Stores the files, then writes rows in one transaction; stored files are removed if anything fails. */
async function storeAndInsert(
  ctx: Ctx,
  storage: Storage,
  prepared: Prepared[],
  /** Runs in the transaction before the rows are written. */
  before: (trx: Ctx) => Promise<void>,
): Promise<number[]> {
  const stored: StoredFile[] = [];
  try {
    for (const p of prepared) stored.push(await storage.put(p.input.file.content, { ext: p.ext, prefix: 'document' }));
    return await inTransaction(ctx, async (trx) => {
      await before(trx);
      const ids: number[] = [];
      const at = ctx.now().toISOString();
      for (const [i, p] of prepared.entries()) {
        const file = stored[i]!;
        const id = await insertDocument(trx.db, {
          building_id: p.buildingId,
          scope: p.input.target.scope,
          account_id: p.accountId,
          for_tenants: p.input.target.scope === 'building' && p.input.target.forTenants ? 1 : 0,
          category: p.input.category,
          title: p.input.title.trim(),
          document_date: p.date,
          size_bytes: file.size,
          sha256: file.sha256,
          storage_key: file.key,
          content_type: p.contentType,
          original_name: sanitizeOriginalName(p.input.file.name),
          published_by: publisherName(ctx),
          published_at: at,
          withdrawn_at: null,
          replaces_id: p.replacesId ?? null,
        });
        ids.push(id);
        await auditOperation(trx, {
          action: 'document.publish',
          outcome: 'success',
          accountId: p.accountId,
          details: { documentId: id, scope: p.input.target.scope, category: p.input.category, sha256: file.sha256 },
        });
      }
      // Whoever asked to hear of new documents will, at the next daily run.
      await planDocumentNotices(trx);
      return ids;
    });
  } catch (err) {
    for (const f of stored) await storage.delete(f.key).catch(() => {});
    throw err;
  }
}

function publisherName(ctx: Ctx): string {
  const a = ctx.actor;
  return a.kind === 'staff' || a.kind === 'system' ? a.name : a.kind;
}

const alreadyGone = (id: number) =>
  new AppError(
    'document_not_current',
    'document missing or withdrawn',
    `Aucun document courant ne porte le numéro ${id}.`,
    404,
  );

/** Withdraws a current document: clients no longer see it; its row and file stay for history. */
export async function withdrawDocument(ctx: Ctx, id: number): Promise<DocumentRow> {
  return inTransaction(ctx, async (trx) => {
    const doc = await findDocument(trx.db, id);
    if (!doc || !(await markWithdrawn(trx.db, id, ctx.now().toISOString()))) throw alreadyGone(id);
    await auditOperation(trx, {
      action: 'document.withdraw',
      outcome: 'success',
      accountId: doc.account_id,
      details: { documentId: id, scope: doc.scope, category: doc.category },
    });
    return doc;
  });
}

/**
 * Replaces a current document by a new file: the successor keeps its space, category, title
 * and date (unless given) and points to it (replaces_id); the old one is withdrawn, in the
 * same transaction. Returns the successor's id.
 */
export async function replaceDocument(
  ctx: Ctx,
  storage: Storage,
  id: number,
  file: { name: string; content: Uint8Array },
  opts: { title?: string; date?: string } = {},
): Promise<number> {
  const old = await findDocument(ctx.db, id);
  if (!old || old.withdrawn_at !== null) throw alreadyGone(id);
  const title = opts.title ?? old.title;
  const titleProblem = checkTitle(title);
  const judged = await judgeDocument(file.content);
  const problems = [
    ...(titleProblem ? [titleProblem] : []),
    ...('error' in judged ? [`fichier «\u00a0${sanitizeOriginalName(file.name)}\u00a0»\u00a0: ${judged.error}`] : []),
  ];
  if (problems.length > 0 || 'error' in judged) throw new DocumentRefusal(problems);
  const target: DocumentTarget =
    old.scope === 'account'
      ? { scope: 'account', accountReference: '' }
      : old.scope === 'building'
        ? { scope: 'building', buildingCode: '', forTenants: old.for_tenants === 1 }
        : { scope: 'council', buildingCode: '' };
  const prepared: Prepared = {
    input: { target, category: old.category, title, date: opts.date ?? old.document_date, file },
    buildingId: old.building_id,
    accountId: old.account_id,
    ext: judged.ext,
    contentType: judged.contentType,
    date: opts.date ?? old.document_date,
    replacesId: id,
  };
  const [newId] = await storeAndInsert(ctx, storage, [prepared], async (trx) => {
    // Withdrawn in the same transaction: if someone withdrew it meanwhile, nothing happens.
    if (!(await markWithdrawn(trx.db, id, ctx.now().toISOString()))) throw alreadyGone(id);
    await auditOperation(trx, {
      action: 'document.replace',
      outcome: 'success',
      accountId: old.account_id,
      details: { documentId: id },
    });
  });
  return newId!;
}

// ---------------------------------------------------------------------------
// What clients see

/** The account a client looks through, for document policies; null when not held. */
async function viewerOf(ctx: Ctx, accountId: number) {
  // The same ownership query as every page about one account.
  const row = await findAccountContext(ctx.db, clientId(ctx), accountId);
  if (!row) return null;
  const { id, kind, reference, building_id, council_role, building_name } = row;
  return { id, kind, reference, building_id, council_role, building_name, holds: true as const };
}

async function denied(ctx: Ctx, details: Record<string, unknown>): Promise<never> {
  await securityEvent(ctx, { action: 'document.read', outcome: 'denied', details });
  throw notFound();
}

export interface SpaceListing {
  viewer: DocumentViewer & { reference: string; building_name: string | null };
  documents: Awaited<ReturnType<typeof currentDocumentsOfSpace>>;
}

/** The current documents of one space seen through one held account; a space it has no right to is a 404. */
export async function listSpace(ctx: Ctx, accountId: number, space: DocumentScope): Promise<SpaceListing> {
  const viewer = await viewerOf(ctx, accountId);
  if (!viewer || !canSeeSpace(space, viewer)) return denied(ctx, { requestedAccountId: accountId, space });
  const rows = await currentDocumentsOfSpace(ctx.db, {
    userId: clientId(ctx),
    scope: space,
    accountId: viewer.id,
    buildingId: viewer.building_id,
  });
  return { viewer, documents: rows.filter((d) => canSeeDocument(viewer, d)) };
}

export interface OpenedDocument {
  doc: DocumentRow;
  body: Readable;
}

/**
 * A document's bytes for a client, through one held account, if the policy lets them see it;
 * otherwise the same 404 as an id that does not exist. Opening it marks it read.
 */
export async function openDocument(
  ctx: Ctx,
  storage: Storage,
  accountId: number,
  documentId: number,
): Promise<OpenedDocument> {
  const [viewer, doc] = await Promise.all([viewerOf(ctx, accountId), findDocument(ctx.db, documentId)]);
  if (!doc || !canSeeDocument(viewer, doc)) {
    return denied(ctx, { requestedAccountId: accountId, requestedDocumentId: documentId });
  }
  const body = await storage.get(doc.storage_key);
  if (!body) {
    ctx.log.error({ documentId, key: doc.storage_key }, 'document file missing');
    throw notFound();
  }
  await markRead(ctx.db, clientId(ctx), doc.id, ctx.now().toISOString());
  return { doc, body };
}

export interface DocumentCounts {
  account: number;
  building: number;
  council: number;
}

/**
 * How many current documents each account's person may see in each space, in one query for
 * all the accounts (home page). Counts follow canSeeDocument.
 */
export async function documentCounts(
  ctx: Ctx,
  accounts: Omit<DocumentViewer, 'holds'>[],
): Promise<Map<number, DocumentCounts>> {
  const buildingIds = [...new Set(accounts.flatMap((a) => (a.building_id === null ? [] : [a.building_id])))];
  const groups = await currentDocumentGroups(
    ctx.db,
    accounts.map((a) => a.id),
    buildingIds,
  );
  const out = new Map<number, DocumentCounts>();
  for (const a of accounts) {
    const viewer = { ...a, holds: true };
    const counts: DocumentCounts = { account: 0, building: 0, council: 0 };
    for (const g of groups) {
      if (canSeeDocument(viewer, { ...g, withdrawn_at: null, building_id: g.building_id })) counts[g.scope] += g.n;
    }
    out.set(a.id, counts);
  }
  return out;
}
