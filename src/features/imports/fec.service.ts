import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { auditOperation } from '../../core/audit.ts';
import { inTransaction, type Ctx } from '../../core/context.ts';
import { AppError } from '../../core/errors.ts';
import { formatMoney } from '../../core/format.ts';
import { detectEncoding } from './csv.ts';
import type { NewLedgerEntry } from './ecritures.ts';
import {
  BalanceCheck,
  fecFormat,
  FecColumns,
  isClientAccount,
  readFecRows,
  type FecFormat,
  type FecLine,
} from './fec.ts';
import { IssueCollector } from './import-error.ts';
import * as repo from './imports.repository.ts';

export interface FecProgress {
  phase: 'encodage' | 'verification' | 'ecriture';
  /** Data lines read so far in this phase. */
  lines: number;
}

export interface FecImportInput {
  /** Opens the file from its start; called once per pass (the file is never held in memory). */
  open: () => Readable;
  buildingCode: string;
  /** Skip the lines of client accounts absent from the référentiel instead of refusing the file. */
  ignoreUnknown?: boolean;
  onProgress?: (p: FecProgress) => void;
}

export interface FecSummary {
  building: { code: string; name: string };
  /** Data lines of the file. */
  rows: number;
  /** First and last EcritureDate: the building's client lines in between were replaced. */
  period: { from: string; to: string };
  clientLines: number;
  openingLines: number;
  accounts: number;
  /** Client lines stored before, in the period, now replaced. */
  replaced: number;
  /** Unknown client accounts skipped with ignoreUnknown, with their first line and line count. */
  ignored: { reference: string; line: number; lines: number }[];
}

const PROGRESS_EVERY = 10_000;

type Resolution = { accountId: number } | { unknown: string } | { ambiguous: string[] } | null;

/**
 * Finds the client account of a line: by CompAuxNum (exact reference, else compared without
 * regard to case and surrounding spaces, as people type it when claiming their space), or,
 * without CompAuxNum, by the co-owner's own sub-account (référentiel `compte_comptable`).
 * null for a line that is not a client's.
 */
class ClientResolver {
  private readonly exact = new Map<string, number>();
  private readonly loose = new Map<string, number[]>();
  private readonly ledger = new Map<string, { id: number; reference: string }[]>();

  constructor(accounts: { id: number; reference: string; ledger_account: string | null }[]) {
    for (const a of accounts) {
      this.exact.set(a.reference, a.id);
      const key = a.reference.trim().toUpperCase();
      this.loose.set(key, [...(this.loose.get(key) ?? []), a.id]);
      if (a.ledger_account) {
        this.ledger.set(a.ledger_account, [...(this.ledger.get(a.ledger_account) ?? []), a]);
      }
    }
  }

  resolve(l: FecLine): Resolution {
    if (!isClientAccount(l.compteNum)) return null;
    if (l.compAuxNum !== '') {
      const id = this.exact.get(l.compAuxNum);
      if (id !== undefined) return { accountId: id };
      const loose = this.loose.get(l.compAuxNum.toUpperCase());
      return loose?.length === 1 ? { accountId: loose[0]! } : { unknown: l.compAuxNum };
    }
    const mapped = this.ledger.get(l.compteNum);
    if (!mapped) return { unknown: `compte ${l.compteNum} sans CompAuxNum` };
    if (mapped.length > 1) return { ambiguous: mapped.map((a) => a.reference) };
    return { accountId: mapped[0]!.id };
  }
}

interface Checked {
  format: FecFormat;
  rows: number;
  period: { from: string; to: string };
  clientLines: number;
  openingLines: number;
  accounts: number;
  ignored: FecSummary['ignored'];
  digest: string;
}

/**
 * `import fec`: the client lines of one building's FEC. The file is read three times,
 * streaming: its bytes to decide the encoding, its lines to check everything (nothing is
 * written if anything is wrong), then again to write, in one transaction, the client lines
 * in place of those the building had for the period the file covers. Lines of other periods
 * stay; importing the same file twice changes nothing.
 */
export async function importFec(ctx: Ctx, input: FecImportInput): Promise<FecSummary> {
  const building = await repo.findBuildingByCode(ctx.db, input.buildingCode);
  if (!building) {
    throw new AppError(
      'building_unknown',
      `unknown building ${input.buildingCode}`,
      `Immeuble « ${input.buildingCode} » inconnu : importez d’abord le référentiel qui le décrit (colonne immeuble_code).`,
      422,
    );
  }
  const resolver = new ClientResolver(await repo.clientAccountsOfBuilding(ctx.db, building.id));
  input.onProgress?.({ phase: 'encodage', lines: 0 });
  const format = fecFormat(await detectEncoding(input.open, { singleByteCharset: 'iso-8859-15' }));
  const checked = await check(input, format, resolver, building.code);

  const written = await inTransaction(ctx, async (trx) => {
    const replaced = await repo.deleteBuildingLedgerPeriod(trx.db, building.id, checked.period);
    const digest = await write(trx, input, format, resolver);
    // The file must be the one checked: changed in between, it could bring lines never checked.
    if (digest !== checked.digest) {
      throw new AppError(
        'import_file_changed',
        'FEC changed while importing',
        'Le fichier a été modifié pendant l’import : rien n’a été importé. Relancez la commande.',
        409,
      );
    }
    const summary: FecSummary = {
      building: { code: building.code, name: building.name },
      rows: checked.rows,
      period: checked.period,
      clientLines: checked.clientLines,
      openingLines: checked.openingLines,
      accounts: checked.accounts,
      replaced,
      ignored: checked.ignored,
    };
    await auditOperation(trx, {
      action: 'import.fec',
      outcome: 'success',
      details: { ...summary, ignored: summary.ignored.map((i) => i.reference) },
    });
    return summary;
  });
  return written;
}

async function check(
  input: FecImportInput,
  format: FecFormat,
  resolver: ClientResolver,
  buildingCode: string,
): Promise<Checked> {
  const issues = new IssueCollector();
  const hash = createHash('sha256');
  const balance = new BalanceCheck();
  const unknown = new Map<string, { line: number; lines: number }>();
  const accounts = new Set<number>();
  let cols: FecColumns | null = null;
  let rows = 0;
  let clientLines = 0;
  let openingLines = 0;
  let from = '';
  let to = '';
  for await (const row of readFecRows(input.open, format, hash)) {
    if (cols === null) {
      cols = new FecColumns(row, format, issues);
      issues.throwIfAny();
      continue;
    }
    rows++;
    if (rows % PROGRESS_EVERY === 0) input.onProgress?.({ phase: 'verification', lines: rows });
    const l = cols.read(row, issues);
    if (!l) {
      balance.spoil(...cols.ecritureOf(row));
      continue;
    }
    balance.add(l);
    if (from === '' || l.date < from) from = l.date;
    if (to === '' || l.date > to) to = l.date;
    const r = resolver.resolve(l);
    if (r === null) continue;
    if ('unknown' in r) {
      const u = unknown.get(r.unknown);
      if (u) u.lines++;
      else unknown.set(r.unknown, { line: l.line, lines: 1 });
    } else if ('ambiguous' in r) {
      issues.add(
        l.line,
        'CompteNum',
        `le compte « ${l.compteNum} » est le compte_comptable de plusieurs comptes du référentiel (${r.ambiguous.join(', ')}) : corrigez le référentiel.`,
      );
    } else {
      clientLines++;
      if (l.opening) openingLines++;
      accounts.add(r.accountId);
    }
  }
  if (cols === null) issues.add(1, undefined, 'le fichier est vide.');
  else if (rows === 0) issues.add(1, undefined, 'le fichier ne contient aucune ligne d’écriture.');
  balance.report(issues, formatMoney);
  if (!input.ignoreUnknown) {
    for (const [reference, u] of unknown) {
      issues.add(
        u.line,
        'CompAuxNum',
        `compte client « ${reference} » inconnu dans l’immeuble « ${buildingCode} » (${u.lines} ligne${u.lines > 1 ? 's' : ''}) : importez d’abord le référentiel qui le décrit, ou relancez avec --ignorer-inconnus pour ignorer ses lignes.`,
      );
    }
  }
  issues.throwIfAny();
  return {
    format,
    rows,
    period: { from, to },
    clientLines,
    openingLines,
    accounts: accounts.size,
    ignored: [...unknown].map(([reference, u]) => ({ reference, ...u })),
    digest: hash.digest('hex'),
  };
}

/** The second reading: the client lines, inserted in batches as they stream in. */
async function write(trx: Ctx, input: FecImportInput, format: FecFormat, resolver: ClientResolver): Promise<string> {
  const hash = createHash('sha256');
  const issues = new IssueCollector();
  let cols: FecColumns | null = null;
  let batch: NewLedgerEntry[] = [];
  let rows = 0;
  for await (const row of readFecRows(input.open, format, hash)) {
    if (cols === null) {
      cols = new FecColumns(row, format, issues);
      continue;
    }
    rows++;
    if (rows % PROGRESS_EVERY === 0) input.onProgress?.({ phase: 'ecriture', lines: rows });
    const l = cols.read(row, issues);
    const r = l && resolver.resolve(l);
    if (!l || !r || !('accountId' in r)) continue;
    batch.push({
      account_id: r.accountId,
      // The file line: same-day lines keep the order of the books.
      position: l.line,
      entry_date: l.date,
      label: l.label,
      debit_cents: l.debitCents,
      credit_cents: l.creditCents,
      piece: l.piece,
      opening: l.opening ? 1 : 0,
    });
    if (batch.length >= repo.LEDGER_BATCH_ROWS) {
      await repo.insertLedgerEntries(trx.db, batch);
      batch = [];
    }
  }
  await repo.insertLedgerEntries(trx.db, batch);
  return hash.digest('hex');
}
