import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import type { Config, Secrets } from '../../src/config.ts';
import { recordSecretsFingerprint } from '../../src/core/secrets/secrets.repository.ts';
import { secretsFingerprint, writeNewSecrets } from '../../src/core/secrets/secrets.ts';
import { formatMoney } from '../../src/core/format.ts';
import { createLogger } from '../../src/core/logging.ts';
import { createDb, migrateToLatest, type Db, type DialectName } from '../../src/db/db.ts';
import { importEcritures, importReferentiel } from '../../src/features/imports/imports.service.ts';
import { textOf } from '../helpers/client.ts';
import { dialects } from '../helpers/db.ts';
import { createUser } from '../helpers/factories.ts';
import { TEST_LOG_DIR } from '../helpers/log-dir.ts';
import { loginAs } from '../helpers/login.ts';
import { copyDatabase, emptyDatabase, type EmptyDatabase } from './databases.ts';
import { runPalier, type Exit } from './processes.ts';

const ACCOUNTS = 500;
const SEED_LINES = 20_000;
/** Big enough that the import spends seconds inside its transaction. */
const CRASH_LINES = 100_000;

function referentielCsv(): string {
  const lines = [
    'type;reference;civilite;nom;prenom;email;immeuble_code;immeuble_nom;lot_numero;lot_type;lot_description;tantiemes;gestionnaire_nom;gestionnaire_email',
  ];
  for (let i = 0; i < ACCOUNTS; i++) {
    lines.push(
      `copropriétaire;${70000 + i};M.;NOM${i};Prénom;proprietaire${i}@exemple.test;IMM${i % 10};Résidence ${i % 10};${String(i).padStart(4, '0')};Appartement;3 pièces;100;Claire Martin;claire.martin@cabinet.test`,
    );
  }
  return lines.join('\n') + '\n';
}

/** `count` lines over every account; `salt` makes amounts and labels differ between files. */
function ecrituresCsv(count: number, salt: number): string {
  const lines = ['reference;date;libelle;debit;credit;piece'];
  for (let j = 0; j < count; j++) {
    const ref = 70000 + (j % ACCOUNTS);
    const month = String((j % 12) + 1).padStart(2, '0');
    const amount = `${((j * 7 + salt) % 900) + 100},${String((j + salt) % 100).padStart(2, '0')}`;
    lines.push(
      j % 3 === 0
        ? `${ref};15/${month}/2024;Règlement ${salt}-${j};;${amount};`
        : `${ref};01/${month}/2024;Appel de fonds ${salt}-${j};${amount};;AF${j}`,
    );
  }
  return lines.join('\n') + '\n';
}

interface Snapshot {
  counts: Record<string, number>;
  checksums: Record<string, string>;
}

async function tableNames(db: Db, dialect: DialectName): Promise<string[]> {
  const rows =
    dialect === 'sqlite'
      ? await sql<{
          name: string;
        }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db)
      : await sql<{
          name: string;
        }>`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(
          db,
        );
  return rows.rows.map((r) => r.name).sort();
}

/** Row count of every table, and a checksum of every row of every table (ledger included). */
async function snapshot(db: Db, dialect: DialectName): Promise<Snapshot> {
  const counts: Record<string, number> = {};
  const checksums: Record<string, string> = {};
  for (const table of await tableNames(db, dialect)) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db);
    counts[table] = rows.rows.length;
    const lines = rows.rows.map((r) => JSON.stringify(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)))).sort();
    checksums[table] = createHash('sha256').update(lines.join('\n')).digest('hex');
  }
  return { counts, checksums };
}

/**
 * Whether some process holds an open write transaction on the database right now. On
 * SQLite, a write lock we cannot take (BEGIN IMMEDIATE without waiting); on PostgreSQL, a
 * backend of that database inside a transaction whose statements touch the ledger.
 */
function transactionProbe(dialect: DialectName, url: string) {
  if (dialect === 'sqlite') {
    const probe = new Database(url.replace(/^sqlite:/, ''), { timeout: 0 });
    return {
      async inTransaction(): Promise<boolean> {
        try {
          probe.exec('BEGIN IMMEDIATE');
          probe.exec('ROLLBACK');
          return false;
        } catch (err) {
          if ((err as { code?: string }).code === 'SQLITE_BUSY') return true;
          throw err;
        }
      },
      async close() {
        probe.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: url });
  const connected = client.connect();
  return {
    async inTransaction(): Promise<boolean> {
      await connected;
      const r = await client.query<{ n: string }>(
        `select count(*) as n from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid()
           and xact_start is not null and query ilike '%ledger_entries%'`,
      );
      return Number(r.rows[0]!.n) > 0;
    },
    async close() {
      await connected;
      await client.end();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `palier import ecritures FILE` on the database at `url`. With `killAfter`, it is killed
 * that many ms after its transaction was seen open (and still open). Returns how long the
 * transaction was seen open.
 */
async function runImport(
  dialect: DialectName,
  dir: string,
  url: string,
  file: string,
  killAfter?: number,
): Promise<{ exit: Exit; transactionMs: number; output: string }> {
  const probe = transactionProbe(dialect, url);
  try {
    const importer = runPalier(`crash-import-${dialect}`, 'src/cli.ts', ['import', 'ecritures', file], {
      DATA_DIR: dir,
      DATABASE_URL: url,
    });
    let exited: Exit | null = null;
    void importer.exited.then((e) => (exited = e));
    const seen = (): Exit | null => exited;

    const deadline = Date.now() + 40_000;
    while (!(await probe.inTransaction())) {
      if (seen()) throw new Error(`the import ended before its transaction was seen: ${importer.stderr()}`);
      if (Date.now() > deadline) throw new Error('the import did not open its transaction within 40 s');
      await sleep(10);
    }
    const opened = Date.now();
    if (killAfter !== undefined) {
      await sleep(killAfter);
      // Still inside its transaction at the moment of the kill.
      expect(await probe.inTransaction(), 'transaction still open when killed').toBe(true);
      expect(seen()).toBeNull();
      importer.proc.kill('SIGKILL');
      return { exit: await importer.exited, transactionMs: Date.now() - opened, output: importer.stdout() };
    }
    while (!seen() && (await probe.inTransaction())) await sleep(10);
    const transactionMs = Date.now() - opened;
    const exit = await importer.exited;
    return { exit, transactionMs, output: importer.stdout() + importer.stderr() };
  } finally {
    await probe.close();
  }
}

describe.each(dialects)('an import killed with SIGKILL halfway (%s)', (dialect) => {
  let dir: string;
  let secrets: Secrets;
  let database: EmptyDatabase;
  let db: Db | undefined;
  let before: Snapshot;
  let holder: { email: string; password: string; balance: number };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'palier-crash-'));
    secrets = writeNewSecrets(dir);
    database = await emptyDatabase(dialect, dir);
    const seeding = createDb(database.url);
    await migrateToLatest(seeding);
    await importReferentiel(seeding, { secrets }, Buffer.from(referentielCsv()));
    await importEcritures(seeding, Buffer.from(ecrituresCsv(SEED_LINES, 1)));
    // As in a real install the database knows its secrets: the import only reads the fingerprint.
    await recordSecretsFingerprint(seeding, secretsFingerprint(secrets));
    const account = await seeding
      .selectFrom('client_accounts')
      .select('id')
      .where('reference', '=', '70007')
      .executeTakeFirstOrThrow();
    const user = await createUser(seeding, { firstName: 'Odile', lastName: 'FAURE', accountIds: [account.id] });
    const sums = await seeding
      .selectFrom('ledger_entries')
      .select((eb) => [eb.fn.sum<number>('credit_cents').as('credit'), eb.fn.sum<number>('debit_cents').as('debit')])
      .where('account_id', '=', account.id)
      .executeTakeFirstOrThrow();
    holder = { email: user.email, password: user.password, balance: Number(sums.credit) - Number(sums.debit) };
    expect(holder.balance).not.toBe(0);
    before = await snapshot(seeding, dialect);
    expect(before.counts.ledger_entries).toBe(SEED_LINES);
    // The crash must find no connection of ours: the next one opens the database cold.
    await seeding.destroy();
    if (database.file) expect(existsSync(`${database.file}-wal`)).toBe(false);
  }, 60_000);

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('leaves the database exactly as before, and Palier works on it', async () => {
    const file = path.join(dir, 'ecritures.csv');
    writeFileSync(file, ecrituresCsv(CRASH_LINES, 2));

    // First the whole import, on a copy: it goes through, and shows how long its
    // transaction stays open.
    const copy = await copyDatabase(dialect, database.url, dir);
    let transactionMs: number;
    try {
      const full = await runImport(dialect, dir, copy.url, file);
      expect(full.exit, full.output).toEqual({ code: 0, signal: null });
      expect(full.output.replace(/\u202f/g, ' ')).toContain('Écritures importées : 100 000 lignes pour 500 comptes');
      transactionMs = full.transactionMs;
      // Long enough for "halfway" to be well inside it (about 1 to 3 s here).
      expect(transactionMs).toBeGreaterThan(300);
      const copyDb = createDb(copy.url);
      const n = await copyDb
        .selectFrom('ledger_entries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      await copyDb.destroy();
      expect(Number(n.n)).toBe(CRASH_LINES);
    } finally {
      await copy.drop();
    }

    // Then the same import on the real database, killed halfway through its transaction.
    const crash = await runImport(dialect, dir, database.url, file, Math.round(transactionMs / 2));
    expect(crash.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(crash.output).not.toContain('Écritures importées');

    // Opened afresh, the database is intact and exactly as it was.
    db = createDb(database.url);
    if (dialect === 'sqlite') {
      const check = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db);
      expect(check.rows.map((r) => r.integrity_check)).toEqual(['ok']);
    }
    const after = await snapshot(db, dialect);
    expect(after.counts).toEqual(before.counts);
    expect(after.checksums).toEqual(before.checksums);

    // And Palier runs on it: the holder logs in and sees the balance of before.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'palier-crash-app-'));
    const config: Config = {
      port: 0,
      host: '127.0.0.1',
      dataDir,
      databaseUrl: database.url,
      baseUrl: 'http://palier.test',
      smtpUrl: null,
      mailFrom: 'ne-pas-repondre@palier.test',
      logLevel: 'silent',
      secureCookies: false,
      trustProxy: false,
      secrets,
    };
    const app = await buildApp(
      { config, db },
      { logger: createLogger('info', path.join(TEST_LOG_DIR, `crash-${dialect}-${path.basename(dataDir)}.log`)) },
    );
    try {
      expect((await app.inject('/sante/pret')).statusCode).toBe(200);
      const client = await loginAs(app, holder.email, holder.password);
      const home = await client.get('/accueil');
      expect(home.statusCode).toBe(200);
      const text = textOf(home.body);
      expect(text).toContain('Bienvenue, Odile FAURE');
      expect(text).toContain(formatMoney(holder.balance).replace(/[\u00a0\u202f]/g, ' '));
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
