import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Secrets } from '../../config.ts';
import { writeAudit } from '../../core/audit.ts';
import { frenchCsv } from '../../core/csv.ts';
import { AppError } from '../../core/errors.ts';
import { generateAccessCode, hashAccessCode } from '../../core/security/access-code.ts';
import { decrypt, encrypt } from '../../core/security/tokens.ts';
import type { Db } from '../../db/db.ts';
import type { BuildingsTable, ClientAccountsTable, LotsTable, ManagersTable } from '../../db/schema.ts';
import {
  ACCOUNT_CONTACT_COLUMNS,
  deletePendingFields,
  pendingFieldsOfAccounts,
  type AccountContactColumn,
  type PendingField,
} from '../accounts/accounts.repository.ts';
import { parseEcritures } from './ecritures.ts';
import * as repo from './imports.repository.ts';
import {
  lotKey,
  parseReferentiel,
  type ParsedAccount,
  type ParsedBuilding,
  type ParsedLot,
  type ParsedReferentiel,
  type ReferentielColumn,
} from './referentiel.ts';

/** Only the secrets an import needs, so tests and tools need not build a whole Config. */
export interface ImportConfig {
  secrets: Pick<Secrets, 'hmacKey' | 'encryptionKey'>;
}

export interface ReferentielSummary {
  rows: number;
  accounts: number;
  accountsCreated: number;
  accountsUpdated: number;
  buildings: number;
  buildingsCreated: number;
  buildingsUpdated: number;
  lots: number;
  lotsCreated: number;
  lotsUpdated: number;
  managers: number;
  managersCreated: number;
  managersUpdated: number;
  linksAdded: number;
  linksRemoved: number;
  /** Codes Palier created for accounts that had none (to print with `codes export`). */
  codesCreated: number;
  /** Codes taken from the file's `code_acces`, new or replacing an older one. */
  codesImported: number;
  /** Accounts whose fields corrected by the client were left alone, awaiting the agency. */
  keptClientChanges: KeptClientChange[];
  /** Pending client corrections the file now carries: no longer pending. */
  clientChangesTakenIn: number;
}

/** Fields of one account the import left as the client corrected them. */
export interface KeptClientChange {
  reference: string;
  fields: AccountContactColumn[];
  /** The latest of their corrections (ISO instant). */
  changedAt: string;
}

export interface EcrituresSummary {
  rows: number;
  accounts: number;
  lines: number;
}

/** Keeps only the fields whose value differs from the stored row. */
function changes<T extends object>(stored: T, wanted: Partial<T>): Partial<T> {
  const patch: Partial<T> = {};
  for (const key of Object.keys(wanted) as (keyof T)[]) {
    if (wanted[key] !== undefined && wanted[key] !== stored[key]) patch[key] = wanted[key];
  }
  return patch;
}

const isEmpty = (o: object) => Object.keys(o).length === 0;

/** Writes the fields that differ from the stored row, if any; true when something was written. */
async function applyChanges<T extends object>(
  stored: T,
  wanted: Partial<T>,
  write: (patch: Partial<T>) => Promise<void>,
): Promise<boolean> {
  const patch = changes(stored, wanted);
  if (isEmpty(patch)) return false;
  await write(patch);
  return true;
}

/** One référentiel import under way: its transaction, the parsed file, and what it counts. */
interface ReferentielRun {
  trx: Db;
  config: ImportConfig;
  file: ParsedReferentiel;
  summary: ReferentielSummary;
  /** One instant for every row the import writes. */
  now: string;
  /** Columns absent from the file leave stored values untouched. */
  has(column: ReferentielColumn): boolean;
}

/** Ids of the file's gestionnaires (by email) and buildings (by code), stored or just created. */
interface ParentIds {
  managers: Map<string, number>;
  buildings: Map<string, number>;
}

/** The accounts of the file once written. */
interface WrittenAccounts {
  /** By reference. */
  ids: Map<string, number>;
  /** By reference: those that existed before this import. */
  stored: Map<string, Selectable<ClientAccountsTable>>;
  /** Ids of stored accounts this import changed. */
  updated: Set<number>;
}

/**
 * Upserts the agency's référentiel: gestionnaires by email, buildings by code, lots by
 * (building, number), accounts by reference, and the accounts' lots. Accounts absent
 * from the file are kept. All or nothing; importing the same file twice changes nothing.
 */
export async function importReferentiel(db: Db, config: ImportConfig, buffer: Buffer): Promise<ReferentielSummary> {
  const file = parseReferentiel(buffer);
  const summary = emptySummary(file);
  return db.transaction().execute(async (trx) => {
    const run: ReferentielRun = {
      trx,
      config,
      file,
      summary,
      now: new Date().toISOString(),
      has: (c) => file.columns.has(c),
    };
    const parents = { managers: await upsertManagers(run), buildings: await upsertBuildings(run) };
    const lotIds = await upsertLots(run, parents.buildings);
    const accounts = await upsertAccounts(run, parents);
    if (run.has('lot_numero')) await replaceAccountLots(run, accounts, lotIds);
    summary.accountsUpdated = accounts.updated.size;
    await writeAudit(trx, { action: 'import.referentiel', outcome: 'success', details: { ...summary } });
    return summary;
  });
}

function emptySummary(file: ParsedReferentiel): ReferentielSummary {
  return {
    rows: file.rows,
    accounts: file.accounts.size,
    accountsCreated: 0,
    accountsUpdated: 0,
    buildings: file.buildings.size,
    buildingsCreated: 0,
    buildingsUpdated: 0,
    lots: file.lots.size,
    lotsCreated: 0,
    lotsUpdated: 0,
    managers: file.managers.size,
    managersCreated: 0,
    managersUpdated: 0,
    linksAdded: 0,
    linksRemoved: 0,
    codesCreated: 0,
    codesImported: 0,
    keptClientChanges: [],
    clientChangesTakenIn: 0,
  };
}

// ---- Gestionnaires

/** Gestionnaire ids by email. */
async function upsertManagers(run: ReferentielRun): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  const stored = new Map((await repo.listManagers(run.trx)).map((m) => [m.email.toLowerCase(), m]));
  const created: Insertable<ManagersTable>[] = [];
  for (const m of run.file.managers.values()) {
    const s = stored.get(m.email);
    if (!s) {
      created.push({ email: m.email, name: m.name ?? m.email, phone: m.phone });
      continue;
    }
    ids.set(m.email, s.id);
    const wanted: Updateable<ManagersTable> = {
      name: m.name ?? s.name,
      ...(run.has('gestionnaire_telephone') && { phone: m.phone }),
    };
    if (await applyChanges(s, wanted, (patch) => repo.updateManager(run.trx, s.id, patch))) {
      run.summary.managersUpdated++;
    }
  }
  for (const r of await repo.insertManagers(run.trx, created)) ids.set(r.email, r.id);
  run.summary.managersCreated = created.length;
  return ids;
}

// ---- Immeubles

/** Building ids by code. */
async function upsertBuildings(run: ReferentielRun): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  const stored = new Map((await repo.listBuildings(run.trx)).map((b) => [b.code, b]));
  const created: Insertable<BuildingsTable>[] = [];
  for (const b of run.file.buildings.values()) {
    const s = stored.get(b.code);
    if (!s) {
      created.push({
        code: b.code,
        name: b.name ?? b.code,
        address: b.address,
        postal_code: b.postalCode,
        city: b.city,
        iban: b.iban,
        bic: b.bic,
      });
      continue;
    }
    ids.set(b.code, s.id);
    if (await applyChanges(s, buildingFields(run, b, s), (patch) => repo.updateBuilding(run.trx, s.id, patch))) {
      run.summary.buildingsUpdated++;
    }
  }
  for (const r of await repo.insertBuildings(run.trx, created)) ids.set(r.code, r.id);
  run.summary.buildingsCreated = created.length;
  return ids;
}

function buildingFields(
  run: ReferentielRun,
  b: ParsedBuilding,
  stored: Selectable<BuildingsTable>,
): Updateable<BuildingsTable> {
  return {
    name: b.name ?? stored.name,
    ...(run.has('immeuble_adresse') && { address: b.address }),
    ...(run.has('immeuble_code_postal') && { postal_code: b.postalCode }),
    ...(run.has('immeuble_ville') && { city: b.city }),
    ...(run.has('immeuble_iban') && { iban: b.iban }),
    ...(run.has('immeuble_bic') && { bic: b.bic }),
  };
}

// ---- Lots

/** Lot ids by lotKey(building code, number). */
async function upsertLots(run: ReferentielRun, buildingIds: Map<string, number>): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  const codeOf = new Map([...buildingIds].map(([code, id]) => [id, code]));
  const keyOf = (l: { building_id: number; number: string }) => lotKey(codeOf.get(l.building_id)!, l.number);
  const stored = new Map(
    (await repo.listLotsOfBuildings(run.trx, [...buildingIds.values()])).map((l) => [keyOf(l), l]),
  );
  const created: Insertable<LotsTable>[] = [];
  for (const [key, l] of run.file.lots) {
    const s = stored.get(key);
    if (!s) {
      const { buildingCode, number, type, description, shares } = l;
      created.push({ building_id: buildingIds.get(buildingCode)!, number, type, description, shares });
      continue;
    }
    ids.set(key, s.id);
    if (await applyChanges(s, lotFields(run, l), (patch) => repo.updateLot(run.trx, s.id, patch))) {
      run.summary.lotsUpdated++;
    }
  }
  for (const r of await repo.insertLots(run.trx, created)) ids.set(keyOf(r), r.id);
  run.summary.lotsCreated = created.length;
  return ids;
}

function lotFields(run: ReferentielRun, l: ParsedLot): Updateable<LotsTable> {
  return {
    ...(run.has('lot_type') && { type: l.type }),
    ...(run.has('lot_description') && { description: l.description }),
    ...(run.has('tantiemes') && { shares: l.shares }),
  };
}

// ---- Comptes

async function upsertAccounts(run: ReferentielRun, parents: ParentIds): Promise<WrittenAccounts> {
  const ids = new Map<string, number>();
  const updated = new Set<number>();
  const stored = new Map(
    (await repo.listAccountsByReference(run.trx, [...run.file.accounts.keys()])).map((a) => [a.reference, a]),
  );
  const pending = await pendingFieldsByAccount(
    run,
    [...stored.values()].map((s) => s.id),
  );
  const created: repo.NewAccountRow[] = [];
  for (const a of run.file.accounts.values()) {
    const s = stored.get(a.reference);
    if (!s) {
      created.push(newAccount(run, a, parents));
      continue;
    }
    ids.set(a.reference, s.id);
    if (await updateAccount(run, s, a, parents, pending.get(s.id) ?? [])) updated.add(s.id);
  }
  for (const r of await repo.insertAccounts(run.trx, created)) ids.set(r.reference, r.id);
  run.summary.accountsCreated = created.length;
  return { ids, stored, updated };
}

function newAccount(run: ReferentielRun, a: ParsedAccount, parents: ParentIds): repo.NewAccountRow {
  return {
    reference: a.reference,
    kind: a.kind,
    building_id: a.buildingCode ? parents.buildings.get(a.buildingCode)! : null,
    manager_id: a.managerEmail ? parents.managers.get(a.managerEmail)! : null,
    civility: a.civility,
    last_name: a.lastName,
    first_name: a.firstName,
    email: a.email,
    phone: a.phone,
    address: a.address,
    postal_code: a.postalCode,
    city: a.city,
    country: a.country,
    council_role: a.councilRole,
    ledger_account: a.ledgerAccount,
    ...accessCodeFields(run, a, null),
    created_at: run.now,
    updated_at: run.now,
  };
}

/** True when the stored account changed. */
async function updateAccount(
  run: ReferentielRun,
  stored: Selectable<ClientAccountsTable>,
  a: ParsedAccount,
  parents: ParentIds,
  pending: PendingField[],
): Promise<boolean> {
  const wanted = accountFields(run, a, parents);
  await keepPendingFields(run, stored.reference, wanted, pending);
  const patch = {
    ...changes(stored, wanted),
    ...accessCodeFields(run, a, stored.access_code_hash),
  };
  if (isEmpty(patch)) return false;
  await repo.updateAccount(run.trx, stored.id, { ...patch, updated_at: run.now });
  // A step 1 passed with the superseded code must not carry on to step 2.
  if (patch.access_code_hash) await repo.deleteClaimTickets(run.trx, stored.id);
  return true;
}

function accountFields(run: ReferentielRun, a: ParsedAccount, parents: ParentIds): Updateable<ClientAccountsTable> {
  const has = run.has;
  return {
    kind: a.kind,
    last_name: a.lastName,
    ...(has('civilite') && { civility: a.civility }),
    ...(has('prenom') && { first_name: a.firstName }),
    ...(has('email') && { email: a.email }),
    ...(has('telephone') && { phone: a.phone }),
    ...(has('adresse') && { address: a.address }),
    ...(has('code_postal') && { postal_code: a.postalCode }),
    ...(has('ville') && { city: a.city }),
    ...(has('pays') && { country: a.country }),
    ...(has('immeuble_code') && { building_id: a.buildingCode ? parents.buildings.get(a.buildingCode)! : null }),
    ...(has('gestionnaire_email') && { manager_id: a.managerEmail ? parents.managers.get(a.managerEmail)! : null }),
    ...(has('compte_comptable') && { ledger_account: a.ledgerAccount }),
    // Only co-owners sit on the council, even when the file has no conseil_syndical column.
    ...(has('conseil_syndical') || a.kind !== 'coproprietaire' ? { council_role: a.councilRole } : {}),
  };
}

// ---- Client corrections awaiting the agency

async function pendingFieldsByAccount(run: ReferentielRun, accountIds: number[]): Promise<Map<number, PendingField[]>> {
  const out = new Map<number, PendingField[]>();
  for (const p of await pendingFieldsOfAccounts(run.trx, accountIds)) {
    out.set(p.account_id, [...(out.get(p.account_id) ?? []), p]);
  }
  return out;
}

/**
 * A field the client corrected stays as the client left it until the agency takes the
 * correction in: removed from `wanted` unless the file brings the client's value, which
 * shows the agency has carried it into its software (then it is no longer pending).
 */
async function keepPendingFields(
  run: ReferentielRun,
  reference: string,
  wanted: Updateable<ClientAccountsTable>,
  pending: PendingField[],
): Promise<void> {
  const kept: PendingField[] = [];
  const takenIn: PendingField[] = [];
  const fields = wanted as Record<string, unknown>;
  for (const p of pending) {
    // A column absent from the file changes nothing: the correction simply stays pending.
    if (!(p.field in fields)) continue;
    if (((fields[p.field] as string | null) ?? '') === (p.new_value ?? '')) takenIn.push(p);
    else {
      delete fields[p.field];
      kept.push(p);
    }
  }
  if (takenIn.length > 0) {
    run.summary.clientChangesTakenIn += await deletePendingFields(
      run.trx,
      takenIn.map((p) => ({ account_id: p.account_id, field: p.field })),
    );
  }
  if (kept.length > 0) {
    run.summary.keptClientChanges.push({
      reference,
      fields: ACCOUNT_CONTACT_COLUMNS.filter((c) => kept.some((p) => p.field === c)),
      changedAt: kept.map((p) => p.changed_at).reduce((a, b) => (a > b ? a : b)),
    });
  }
}

// ---- Codes d'accès

/** The code fields to write for an account, or null to keep the stored code. */
function accessCodeFields(
  run: ReferentielRun,
  a: ParsedAccount,
  storedHash: string | null,
): Updateable<ClientAccountsTable> | null {
  if (a.accessCode !== null) return importedCode(run, a.accessCode, storedHash);
  // An empty code_acces never removes a code: Palier only creates one for an account without.
  return storedHash === null ? createdCode(run) : null;
}

function importedCode(run: ReferentielRun, code: string, storedHash: string | null) {
  const hash = hashAccessCode(run.config.secrets.hmacKey, code);
  if (hash === storedHash) return null;
  run.summary.codesImported++;
  // A new code from the agency supersedes the old one, used or not.
  return {
    access_code_hash: hash,
    access_code_encrypted: null,
    access_code_origin: 'import' as const,
    access_code_issued_at: run.now,
    access_code_used_at: null,
  };
}

/** Kept encrypted as well as hashed, so that `codes export` can print it for the agency. */
function createdCode(run: ReferentielRun) {
  const code = generateAccessCode();
  run.summary.codesCreated++;
  return {
    access_code_hash: hashAccessCode(run.config.secrets.hmacKey, code),
    access_code_encrypted: encrypt(run.config.secrets.encryptionKey, code),
    access_code_origin: 'palier' as const,
    access_code_issued_at: run.now,
    access_code_used_at: null,
  };
}

// ---- Lots of each account

/** The file lists all the lots of the accounts it names: those no longer listed are unlinked. */
async function replaceAccountLots(
  run: ReferentielRun,
  accounts: WrittenAccounts,
  lotIds: Map<string, number>,
): Promise<void> {
  const storedLinks = await linksOf(
    run,
    [...accounts.stored.values()].map((a) => a.id),
  );
  const toAdd = [];
  for (const a of run.file.accounts.values()) {
    const accountId = accounts.ids.get(a.reference)!;
    const wanted = new Set(a.lotKeys.map((k) => lotIds.get(k)!));
    const stored = storedLinks.get(accountId) ?? new Set<number>();
    const added = [...wanted].filter((id) => !stored.has(id));
    const removed = [...stored].filter((id) => !wanted.has(id));
    for (const lotId of added) toAdd.push({ account_id: accountId, lot_id: lotId });
    if (removed.length > 0) await repo.deleteLinks(run.trx, accountId, removed);
    run.summary.linksAdded += added.length;
    run.summary.linksRemoved += removed.length;
    const changed = added.length > 0 || removed.length > 0;
    if (changed && accounts.stored.has(a.reference)) await touchAccount(run, accounts, accountId);
  }
  await repo.insertLinks(run.trx, toAdd);
}

/** Lot ids by account id. */
async function linksOf(run: ReferentielRun, accountIds: number[]): Promise<Map<number, Set<number>>> {
  const links = new Map<number, Set<number>>();
  for (const l of await repo.listLinksOfAccounts(run.trx, accountIds)) {
    const set = links.get(l.account_id) ?? new Set();
    set.add(l.lot_id);
    links.set(l.account_id, set);
  }
  return links;
}

/** A stored account whose lots changed counts as updated, once. */
async function touchAccount(run: ReferentielRun, accounts: WrittenAccounts, accountId: number): Promise<void> {
  if (accounts.updated.has(accountId)) return;
  await repo.updateAccount(run.trx, accountId, { updated_at: run.now });
  accounts.updated.add(accountId);
}

/**
 * For every account present in the file, the file is its whole ledger: its lines
 * replace the stored ones, in file order. All or nothing.
 */
export async function importEcritures(db: Db, buffer: Buffer): Promise<EcrituresSummary> {
  const file = parseEcritures(buffer, await repo.accountIdsByReference(db));
  const summary: EcrituresSummary = { rows: file.rows, accounts: file.accountIds.length, lines: file.entries.length };
  await db.transaction().execute(async (trx) => {
    await repo.replaceLedgers(trx, file.accountIds, file.entries);
    await writeAudit(trx, { action: 'import.ecritures', outcome: 'success', details: { ...summary } });
  });
  return summary;
}

/** One letter to print: the code and what the mail merge addresses it with. */
export interface PrintableCode {
  reference: string;
  code: string;
  civility: string | null;
  lastName: string | null;
  firstName: string | null;
  address: string | null;
  postalCode: string | null;
  city: string | null;
  buildingCode: string | null;
  buildingName: string | null;
  managerName: string | null;
}

/** Codes created by Palier and not used yet, for the agency's mail merge. */
export async function exportCodes(db: Db, config: ImportConfig): Promise<PrintableCode[]> {
  const rows = await repo.listPrintableCodes(db);
  const codes = rows.map((r): PrintableCode => {
    let code: string;
    try {
      code = decrypt(config.secrets.encryptionKey, r.access_code_encrypted!);
    } catch {
      throw new AppError(
        'codes_undecryptable',
        `cannot decrypt the access code of ${r.reference}`,
        `Le code d’accès du compte « ${r.reference} » ne peut pas être déchiffré : la clé de DATA_DIR/secrets.json a changé depuis sa création.`,
        500,
      );
    }
    return {
      reference: r.reference,
      code,
      civility: r.civility,
      lastName: r.last_name,
      firstName: r.first_name,
      address: r.address,
      postalCode: r.postal_code,
      city: r.city,
      buildingCode: r.building_code,
      buildingName: r.building_name,
      managerName: r.manager_name,
    };
  });
  await writeAudit(db, { action: 'codes.export', outcome: 'success', details: { count: codes.length } });
  return codes;
}

/** Headers named as in the référentiel, so the agency recognises them in its mail-merge tool. */
const CODES_CSV_COLUMNS = {
  reference: { header: 'reference', type: 'text' },
  code: { header: 'code_acces', type: 'text' },
  civility: { header: 'civilite', type: 'text' },
  lastName: { header: 'nom', type: 'text' },
  firstName: { header: 'prenom', type: 'text' },
  address: { header: 'adresse', type: 'text' },
  postalCode: { header: 'code_postal', type: 'text' },
  city: { header: 'ville', type: 'text' },
  buildingCode: { header: 'immeuble_code', type: 'text' },
  buildingName: { header: 'immeuble_nom', type: 'text' },
  managerName: { header: 'gestionnaire_nom', type: 'text' },
} as const;

/** `reference;code_acces;civilite;nom;…` with a header, as mail-merge tools expect. */
export function codesToCsv(codes: PrintableCode[]): string {
  return frenchCsv(codes, CODES_CSV_COLUMNS);
}
