/**
 * FEC import speed (`npm run bench`, alone with BENCH_ONLY=fec): a generated FEC of
 * BENCH_FEC_LINES lines (500 000) for one big building, imported into a fresh SQLite
 * database (PostgreSQL with BENCH_DATABASE_URL), as lines per second and as a ratio against
 * reading and splitting the same file (decoding and csv-parse, the import's own reader)
 * without checking or storing anything, in the same run (read alone before and after the
 * first import, mean of both). Peak memory is the largest process.memoryUsage().rss sampled
 * every 20 ms.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Config } from '../src/config.ts';
import { agencyIdentity } from '../src/core/agency/agency.ts';
import { createContext } from '../src/core/context.ts';
import { createDb, migrateToLatest } from '../src/db/db.ts';
import { detectEncoding } from '../src/features/imports/csv.ts';
import { fecFormat, readFecRows } from '../src/features/imports/fec.ts';
import { importFec, type FecProgress, type FecSummary } from '../src/features/imports/fec.service.ts';
import { importReferentiel } from '../src/features/imports/imports.service.ts';

const COPROPRIETAIRES = 1_500;
const LOCATAIRES = 500;

const HEADER =
  'JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\tPieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise';

/** Amounts as exports write them: zero-padded, decimal comma. */
const amount = (cents: number) =>
  `${String(Math.floor(cents / 100)).padStart(10, '0')},${String(cents % 100).padStart(2, '0')}`;

function line(
  j: string,
  jl: string,
  num: number,
  date: string,
  compte: string,
  aux: string,
  lib: string,
  debit: number,
  credit: number,
): string {
  return `${j}\t${jl}\t${num}\t${date}\t${compte}\tCompte ${compte}\t${aux}\t${aux ? `Client ${aux}` : ''}\tP${num}\t${date}\t${lib}\t${amount(debit)}\t${amount(credit)}\t\t\t${date}\t\t\r\n`;
}

/** An exercise of the building: à-nouveaux, quarterly calls, payments, rents, suppliers. */
async function writeFec(file: string, lines: number): Promise<{ clientLines: number }> {
  const out = createWriteStream(file);
  let buffer = `${HEADER}\r\n`;
  let written = 0;
  let clientLines = 0;
  let num = 0;
  const copro = (i: number) => `C${String(i).padStart(5, '0')}`;
  const tenant = (i: number) => `L${String(i).padStart(5, '0')}`;
  const flush = async (force = false) => {
    if (buffer.length < 1 << 20 && !force) return;
    if (!out.write(buffer)) await once(out, 'drain');
    buffer = '';
  };
  const push = async (text: string, client: boolean) => {
    buffer += text;
    written++;
    if (client) clientLines++;
    await flush();
  };
  // À-nouveaux: one line per account, then the balancing line.
  num++;
  let total = 0;
  for (let i = 0; i < COPROPRIETAIRES && written < lines - 1; i++) {
    const cents = 1_000 + ((i * 7919) % 90_000);
    total += cents;
    await push(line('AN', 'A nouveaux', num, '20240101', '450000', copro(i), 'Report à nouveau', cents, 0), true);
  }
  await push(line('AN', 'A nouveaux', num, '20240101', '890000', '', 'Bilan d’ouverture', 0, total), false);
  let day = 0;
  while (written < lines - 1) {
    num++;
    const date = new Date(Date.UTC(2024, 0, 2 + (day++ % 360))).toISOString().slice(0, 10).replace(/-/g, '');
    const kind = num % 4;
    const i = num % COPROPRIETAIRES;
    const cents = 5_000 + ((num * 104_729) % 200_000);
    if (kind === 0) {
      await push(
        line('AC', 'Appels de fonds', num, date, '450000', copro(i), 'Appel de fonds trimestriel', cents, 0),
        true,
      );
      await push(line('AC', 'Appels de fonds', num, date, '701000', '', 'Appel de fonds trimestriel', 0, cents), false);
    } else if (kind === 1) {
      await push(line('BQ', 'Banque', num, date, '512000', '', `Virement reçu ${copro(i)}`, cents, 0), false);
      await push(line('BQ', 'Banque', num, date, '450000', copro(i), 'Virement reçu', 0, cents), true);
    } else if (kind === 2) {
      const t = num % LOCATAIRES;
      await push(line('BQ', 'Banque', num, date, '512000', '', `Loyer ${tenant(t)}`, cents, 0), false);
      await push(line('BQ', 'Banque', num, date, '411000', tenant(t), 'Loyer et charges', 0, cents), true);
    } else {
      await push(
        line('AC', 'Appels de fonds', num, date, '4502', copro(i), 'Fonds travaux (loi ALUR)', cents, 0),
        true,
      );
      await push(line('AC', 'Appels de fonds', num, date, '105000', '', 'Fonds travaux (loi ALUR)', 0, cents), false);
    }
  }
  await flush(true);
  out.end();
  await once(out, 'finish');
  return { clientLines };
}

function referentiel(): Buffer {
  const rows = ['type;reference;nom;immeuble_code;immeuble_nom'];
  for (let i = 0; i < COPROPRIETAIRES; i++)
    rows.push(`copropriétaire;C${String(i).padStart(5, '0')};Copro ${i};GRAND;Le Grand Ensemble`);
  for (let i = 0; i < LOCATAIRES; i++)
    rows.push(`locataire;L${String(i).padStart(5, '0')};Locataire ${i};GRAND;Le Grand Ensemble`);
  return Buffer.from(rows.join('\n'));
}

/** The largest RSS seen while `fn` runs, sampled every 20 ms. */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ result: T; peak: number; ms: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const t0 = performance.now();
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, peak, ms: performance.now() - t0 };
  } finally {
    clearInterval(timer);
  }
}

const int = (n: number) =>
  Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** The database the import writes to: a fresh SQLite file, or a PostgreSQL database made for the run. */
export interface FecBenchDb {
  url: string;
  label: string;
}

export async function runFecBench(lines: number, target?: FecBenchDb): Promise<string[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'palier-bench-fec-'));
  try {
    const file = path.join(dir, 'grand-ensemble.fec.txt');
    const { clientLines } = await writeFec(file, lines);
    const dbUrl = target?.url ?? `sqlite:${path.join(dir, 'palier.sqlite')}`;
    const db = createDb(dbUrl);
    await migrateToLatest(db);
    const config = { secrets: { hmacKey: 'bench', encryptionKey: 'bench' } };
    await importReferentiel(db, config, referentiel());
    const ctx = createContext({
      db,
      config: config as unknown as Config,
      agency: agencyIdentity(db),
      actor: { kind: 'staff', name: 'bench', ip: null },
    });
    const open = () => createReadStream(file);
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;

    // Baseline: what reading alone costs (encoding pass, then decoding and splitting every line).
    const readOnly = () =>
      withPeakRss(async () => {
        const format = fecFormat(await detectEncoding(open, { singleByteCharset: 'iso-8859-15' }));
        let n = 0;
        for await (const _row of readFecRows(open, format)) n++;
        return n - 1;
      });
    const baseline1 = await readOnly();
    // When each phase starts, to tell reading and checking from writing.
    const phases = (): { onProgress: (p: FecProgress) => void; times: Map<string, number> } => {
      const times = new Map<string, number>();
      return {
        times,
        onProgress: (p) => {
          if (!times.has(p.phase)) times.set(p.phase, performance.now());
        },
      };
    };
    const firstPhases = phases();
    const first = await withPeakRss(() =>
      importFec(ctx, { open, buildingCode: 'GRAND', onProgress: firstPhases.onProgress }),
    );
    const firstEnd = performance.now();
    // Read alone again between the imports: on a shared machine, load from other processes
    // then weighs on both sides alike; the ratio is against the mean of the two readings.
    const baseline2 = await readOnly();
    const baseline = {
      result: baseline1.result,
      ms: (baseline1.ms + baseline2.ms) / 2,
      peak: Math.max(baseline1.peak, baseline2.peak),
    };
    // The same file again: every client line of the period is deleted and written again.
    const againPhases = phases();
    const again = await withPeakRss(() =>
      importFec(ctx, { open, buildingCode: 'GRAND', onProgress: againPhases.onProgress }),
    );
    const againEnd = performance.now();
    const split = (p: ReturnType<typeof phases>, end: number) => {
      const t = (k: string) => p.times.get(k) ?? end;
      return `encoding pass ${((t('verification') - t('encodage')) / 1000).toFixed(1)} s, check and spool ${((t('ecriture') - t('verification')) / 1000).toFixed(1)} s, delete and write ${((end - t('ecriture')) / 1000).toFixed(1)} s`;
    };
    await db.destroy();

    const lps = (n: number, ms: number) => (n / ms) * 1000;
    const s: FecSummary = first.result;
    const baseLps = lps(baseline.result, baseline.ms);
    const row = (label: string, m: { ms: number; peak: number }, n: number) =>
      `${label.padEnd(52)}${int(lps(n, m.ms)).padStart(12)}${`${(m.ms / 1000).toFixed(1)} s`.padStart(10)}${mb(m.peak).padStart(10)}${(lps(n, m.ms) / baseLps).toFixed(2).padStart(8)}`;
    return [
      '',
      `FEC import — ${target?.label ?? 'SQLite'}; ${int(lines)} lines (${mb(statSync(file).size)}, tab-separated, CRLF), ${int(clientLines)} client lines for ${int(s.accounts)} accounts; RSS before ${mb(rssBefore)}`,
      `${''.padEnd(52)}${'lines/s'.padStart(12)}${'time'.padStart(10)}${'peak RSS'.padStart(10)}${'ratio'.padStart(8)}`,
      row('read and split only (encoding pass + csv-parse), mean', baseline, baseline.result),
      `  read and split only: ${(baseline1.ms / 1000).toFixed(1)} s before the first import, ${(baseline2.ms / 1000).toFixed(1)} s after it`,
      row('import fec (encoding pass, check and spool, write)', first, s.rows),
      row('import fec again (replaces every client line)', again, again.result.rows),
      `  first: ${split(firstPhases, firstEnd)}`,
      `  again: ${split(againPhases, againEnd)}`,
      'ratio = lines per second against reading and splitting the same file in the same run.',
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
