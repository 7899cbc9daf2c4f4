import type { Updateable } from 'kysely';
import type { Secrets } from '../../config.ts';
import { writeAudit } from '../../core/audit.ts';
import { AppError } from '../../core/errors.ts';
import { generateAccessCode, hashAccessCode } from '../../core/security/access-code.ts';
import { decrypt, encrypt } from '../../core/security/tokens.ts';
import type { Db } from '../../db/db.ts';
import type { BuildingsTable, ClientAccountsTable, LotsTable, ManagersTable } from '../../db/schema.ts';
import { parseEcritures } from './ecritures.ts';
import * as repo from './imports.repository.ts';
import { lotKey, parseReferentiel, type ParsedAccount, type ReferentielColumn } from './referentiel.ts';

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

/**
 * Upserts the agency's référentiel: gestionnaires by email, buildings by code, lots by
 * (building, number), accounts by reference, and the accounts' lots. Accounts absent
 * from the file are kept. All or nothing; importing the same file twice changes nothing.
 */
export async function importReferentiel(db: Db, config: ImportConfig, buffer: Buffer): Promise<ReferentielSummary> {
  const file = parseReferentiel(buffer);
  const has = (c: ReferentielColumn) => file.columns.has(c);
  const summary: ReferentielSummary = {
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
  };

  return db.transaction().execute(async (trx) => {
    const now = new Date().toISOString();

    // Gestionnaires
    const managerIds = new Map<string, number>();
    const storedManagers = new Map((await repo.listManagers(trx)).map((m) => [m.email.toLowerCase(), m]));
    const newManagers = [];
    for (const m of file.managers.values()) {
      const stored = storedManagers.get(m.email);
      const wanted: Updateable<ManagersTable> = {
        name: m.name ?? stored?.name ?? m.email,
        ...(has('gestionnaire_telephone') && { phone: m.phone }),
      };
      if (!stored) {
        newManagers.push({ email: m.email, name: wanted.name as string, phone: m.phone });
        continue;
      }
      managerIds.set(m.email, stored.id);
      const patch = changes(stored, wanted);
      if (!isEmpty(patch)) {
        await repo.updateManager(trx, stored.id, patch);
        summary.managersUpdated++;
      }
    }
    for (const r of await repo.insertManagers(trx, newManagers)) managerIds.set(r.email, r.id);
    summary.managersCreated = newManagers.length;

    // Immeubles
    const buildingIds = new Map<string, number>();
    const storedBuildings = new Map((await repo.listBuildings(trx)).map((b) => [b.code, b]));
    const newBuildings = [];
    for (const b of file.buildings.values()) {
      const stored = storedBuildings.get(b.code);
      const wanted: Updateable<BuildingsTable> = {
        name: b.name ?? stored?.name ?? b.code,
        ...(has('immeuble_adresse') && { address: b.address }),
        ...(has('immeuble_code_postal') && { postal_code: b.postalCode }),
        ...(has('immeuble_ville') && { city: b.city }),
      };
      if (!stored) {
        newBuildings.push({
          code: b.code,
          name: b.name ?? b.code,
          address: b.address,
          postal_code: b.postalCode,
          city: b.city,
        });
        continue;
      }
      buildingIds.set(b.code, stored.id);
      const patch = changes(stored, wanted);
      if (!isEmpty(patch)) {
        await repo.updateBuilding(trx, stored.id, patch);
        summary.buildingsUpdated++;
      }
    }
    for (const r of await repo.insertBuildings(trx, newBuildings)) buildingIds.set(r.code, r.id);
    summary.buildingsCreated = newBuildings.length;

    // Lots
    const lotIds = new Map<string, number>();
    const buildingCodeById = new Map([...buildingIds].map(([code, id]) => [id, code]));
    const storedLots = new Map(
      (await repo.listLotsOfBuildings(trx, [...buildingIds.values()])).map((l) => [
        lotKey(buildingCodeById.get(l.building_id)!, l.number),
        l,
      ]),
    );
    const newLots = [];
    for (const [key, l] of file.lots) {
      const stored = storedLots.get(key);
      const wanted: Updateable<LotsTable> = {
        ...(has('lot_type') && { type: l.type }),
        ...(has('lot_description') && { description: l.description }),
        ...(has('tantiemes') && { shares: l.shares }),
      };
      if (!stored) {
        newLots.push({
          building_id: buildingIds.get(l.buildingCode)!,
          number: l.number,
          type: l.type,
          description: l.description,
          shares: l.shares,
        });
        continue;
      }
      lotIds.set(key, stored.id);
      const patch = changes(stored, wanted);
      if (!isEmpty(patch)) {
        await repo.updateLot(trx, stored.id, patch);
        summary.lotsUpdated++;
      }
    }
    for (const r of await repo.insertLots(trx, newLots)) {
      lotIds.set(lotKey(buildingCodeById.get(r.building_id)!, r.number), r.id);
    }
    summary.lotsCreated = newLots.length;

    // Comptes
    const accountFields = (a: ParsedAccount): Updateable<ClientAccountsTable> => ({
      kind: a.kind,
      last_name: a.lastName,
      ...(has('civilite') && { civility: a.civility }),
      ...(has('prenom') && { first_name: a.firstName }),
      ...(has('email') && { email: a.email }),
      ...(has('telephone') && { phone: a.phone }),
      ...(has('adresse') && { address: a.address }),
      ...(has('code_postal') && { postal_code: a.postalCode }),
      ...(has('ville') && { city: a.city }),
      ...(has('immeuble_code') && { building_id: a.buildingCode ? buildingIds.get(a.buildingCode)! : null }),
      ...(has('gestionnaire_email') && { manager_id: a.managerEmail ? managerIds.get(a.managerEmail)! : null }),
      // Only co-owners sit on the council, even when the file has no conseil_syndical column.
      ...(has('conseil_syndical') || a.kind !== 'coproprietaire' ? { council_role: a.councilRole } : {}),
    });

    const codeFields = (a: ParsedAccount, storedHash: string | null): Updateable<ClientAccountsTable> | null => {
      if (a.accessCode !== null) {
        const hash = hashAccessCode(config.secrets.hmacKey, a.accessCode);
        if (hash === storedHash) return null;
        summary.codesImported++;
        // A new code from the agency supersedes the old one, used or not.
        return {
          access_code_hash: hash,
          access_code_encrypted: null,
          access_code_origin: 'import',
          access_code_issued_at: now,
          access_code_used_at: null,
        };
      }
      if (storedHash !== null) return null;
      const code = generateAccessCode();
      summary.codesCreated++;
      return {
        access_code_hash: hashAccessCode(config.secrets.hmacKey, code),
        access_code_encrypted: encrypt(config.secrets.encryptionKey, code),
        access_code_origin: 'palier',
        access_code_issued_at: now,
        access_code_used_at: null,
      };
    };

    const accountIds = new Map<string, number>();
    const updatedAccounts = new Set<number>();
    const storedAccounts = new Map(
      (await repo.listAccountsByReference(trx, [...file.accounts.keys()])).map((a) => [a.reference, a]),
    );
    const newAccounts = [];
    for (const a of file.accounts.values()) {
      const stored = storedAccounts.get(a.reference);
      if (!stored) {
        newAccounts.push({
          reference: a.reference,
          kind: a.kind,
          building_id: a.buildingCode ? buildingIds.get(a.buildingCode)! : null,
          manager_id: a.managerEmail ? managerIds.get(a.managerEmail)! : null,
          civility: a.civility,
          last_name: a.lastName,
          first_name: a.firstName,
          email: a.email,
          phone: a.phone,
          address: a.address,
          postal_code: a.postalCode,
          city: a.city,
          council_role: a.councilRole,
          ...codeFields(a, null),
          created_at: now,
          updated_at: now,
        });
        continue;
      }
      accountIds.set(a.reference, stored.id);
      const patch = { ...changes(stored, accountFields(a)), ...codeFields(a, stored.access_code_hash) };
      if (!isEmpty(patch)) {
        await repo.updateAccount(trx, stored.id, { ...patch, updated_at: now });
        updatedAccounts.add(stored.id);
        // A step 1 passed with the superseded code must not carry on to step 2.
        if (patch.access_code_hash) await repo.deleteClaimTickets(trx, stored.id);
      }
    }
    for (const r of await repo.insertAccounts(trx, newAccounts)) accountIds.set(r.reference, r.id);
    summary.accountsCreated = newAccounts.length;

    // Lots of each account: the file lists them all, for the accounts it names.
    if (has('lot_numero')) {
      const storedLinks = new Map<number, Set<number>>();
      const existingIds = [...storedAccounts.values()].map((a) => a.id);
      for (const l of await repo.listLinksOfAccounts(trx, existingIds)) {
        const set = storedLinks.get(l.account_id) ?? new Set();
        set.add(l.lot_id);
        storedLinks.set(l.account_id, set);
      }
      const toAdd = [];
      for (const a of file.accounts.values()) {
        const accountId = accountIds.get(a.reference)!;
        const wanted = new Set(a.lotKeys.map((k) => lotIds.get(k)!));
        const stored = storedLinks.get(accountId) ?? new Set<number>();
        const added = [...wanted].filter((id) => !stored.has(id));
        const removed = [...stored].filter((id) => !wanted.has(id));
        for (const lotId of added) toAdd.push({ account_id: accountId, lot_id: lotId });
        if (removed.length > 0) await repo.deleteLinks(trx, accountId, removed);
        summary.linksAdded += added.length;
        summary.linksRemoved += removed.length;
        if (
          (added.length > 0 || removed.length > 0) &&
          storedAccounts.has(a.reference) &&
          !updatedAccounts.has(accountId)
        ) {
          await repo.updateAccount(trx, accountId, { updated_at: now });
          updatedAccounts.add(accountId);
        }
      }
      await repo.insertLinks(trx, toAdd);
    }
    summary.accountsUpdated = updatedAccounts.size;

    await writeAudit(trx, { action: 'import.referentiel', outcome: 'success', details: { ...summary } });
    return summary;
  });
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

export interface PrintableCode {
  reference: string;
  code: string;
}

/** Codes created by Palier and not used yet, for the agency's mail merge. */
export async function exportCodes(db: Db, config: ImportConfig): Promise<PrintableCode[]> {
  const rows = await repo.listPrintableCodes(db);
  const codes = rows.map((r) => {
    try {
      return { reference: r.reference, code: decrypt(config.secrets.encryptionKey, r.access_code_encrypted!) };
    } catch {
      throw new AppError(
        'codes_undecryptable',
        `cannot decrypt the access code of ${r.reference}`,
        `Le code d’accès du compte « ${r.reference} » ne peut pas être déchiffré : la clé de DATA_DIR/secrets.json a changé depuis sa création.`,
        500,
      );
    }
  });
  await writeAudit(db, { action: 'codes.export', outcome: 'success', details: { count: codes.length } });
  return codes;
}

/** `reference;code_acces` with a header, as mail-merge tools expect. */
export function codesToCsv(codes: PrintableCode[]): string {
  const cell = (v: string) => (/[;"\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return ['reference;code_acces', ...codes.map((c) => `${cell(c.reference)};${cell(c.code)}`)].join('\r\n') + '\r\n';
}
