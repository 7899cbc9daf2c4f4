import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
  rows: number;
  period: { from: string; to: string };
  clientLines: number;
  openingLines: number;
  accounts: number;
  ignored: FecSummary['ignored'];
}

/**
 * The checked client lines, one per line of a temporary file (mode 0600, deleted at the
 * end): the writing pass reads them back instead of parsing the FEC a second time, and
 * writes exactly what was checked even if the FEC changed meanwhile. Memory stays flat.
 * Labels and pièces hold no tab nor line break (control characters are refused).
 */
class Spool {
  private constructor(
    private readonly dir: string,
    readonly file: string,
    private readonly out: WriteStream,
  ) {}

  private pending = '';

  static create(): Spool {
    const dir = mkdtempSync(path.join(tmpdir(), 'palier-fec-'));
    const file = path.join(dir, 'lignes.tsv');
    const out = createWriteStream(file, { mode: 0o600 });
    // Writing errors reach close() and flush() through `once`, which rejects on 'error'. A
    // file refused early is removed while the stream may still be opening: that late
    // ENOENT has nobody left to tell, and must not surface as an unhandled error.
    out.on('error', () => {});
    return new Spool(dir, file, out);
  }

  /** A promise only when the buffer is written out, so most lines cost no await. */
  add(accountId: number, l: FecLine): Promise<void> | undefined {
    this.pending += `${accountId}\t${l.line}\t${l.date}\t${l.debitCents}\t${l.creditCents}\t${l.opening ? 1 : 0}\t${l.piece ?? ''}\t${l.label}\n`;
    return this.pending.length >= 1 << 16 ? this.flush() : undefined;
  }

  private async flush(): Promise<void> {
    const chunk = this.pending;
    this.pending = '';
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.out.end();
    await once(this.out, 'finish');
  }

  /** The spooled lines, as ledger rows. */
  async *entries(): AsyncGenerator<NewLedgerEntry> {
    let rest = '';
    for await (const chunk of createReadStream(this.file, { encoding: 'utf8' })) {
      const lines = (rest + (chunk as string)).split('\n');
      rest = lines.pop()!;
      for (const text of lines) {
        const f = text.split('\t');
        yield {
          account_id: Number(f[0]),
          // The file line: same-day lines keep the order of the books.
          position: Number(f[1]),
          entry_date: f[2]!,
          debit_cents: Number(f[3]),
          credit_cents: Number(f[4]),
          opening: Number(f[5]),
          piece: f[6] || null,
          label: f.slice(7).join('\t'),
        };
      }
    }
  }

  remove(): void {
    this.out.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * `import fec`: the client lines of one building's FEC. The file is streamed, never held in
 * memory: once over its bytes to decide the encoding, once over its lines to check
 * everything (nothing is written if anything is wrong) while the client lines are spooled;
 * then, in one transaction, those lines replace the ones the building had for the period
 * the file covers (first to last EcritureDate). Lines of other periods stay; importing the
 * same file twice changes nothing.
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
  const spool = Spool.create();
  try {
    const checked = await check(input, format, resolver, building.code, spool);
    return await inTransaction(ctx, async (trx) => {
      input.onProgress?.({ phase: 'ecriture', lines: 0 });
      const replaced = await repo.deleteBuildingLedgerPeriod(trx.db, building.id, checked.period);
      await write(trx, input, spool);
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
  } finally {
    spool.remove();
  }
}

async function check(
  input: FecImportInput,
  format: FecFormat,
  resolver: ClientResolver,
  buildingCode: string,
  spool: Spool,
): Promise<Checked> {
  const issues = new IssueCollector();
  const balance = new BalanceCheck();
  const unknown = new Map<string, { line: number; lines: number }>();
  const accounts = new Set<number>();
  let cols: FecColumns | null = null;
  let rows = 0;
  let clientLines = 0;
  let openingLines = 0;
  let from = '';
  let to = '';
  input.onProgress?.({ phase: 'verification', lines: 0 });
  for await (const row of readFecRows(input.open, format)) {
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
      // Nothing is spooled once the file is known to be refused.
      if (issues.empty) {
        const flushing = spool.add(r.accountId, l);
        if (flushing) await flushing;
      }
    }
  }
  await spool.close();
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
    rows,
    period: { from, to },
    clientLines,
    openingLines,
    accounts: accounts.size,
    ignored: [...unknown].map(([reference, u]) => ({ reference, ...u })),
  };
}

/** The checked client lines, inserted in batches as they are read back. */
async function write(trx: Ctx, input: FecImportInput, spool: Spool): Promise<void> {
  let batch: NewLedgerEntry[] = [];
  let written = 0;
  for await (const entry of spool.entries()) {
    batch.push(entry);
    if (batch.length >= repo.LEDGER_BATCH_ROWS) {
      await repo.insertLedgerEntries(trx.db, batch);
      written += batch.length;
      batch = [];
      if (written % (PROGRESS_EVERY * 2) < repo.LEDGER_BATCH_ROWS) {
        input.onProgress?.({ phase: 'ecriture', lines: written });
      }
    }
  }
  await repo.insertLedgerEntries(trx.db, batch);
}
