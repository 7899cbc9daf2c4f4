import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { closeSync, openSync } from 'node:fs';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';
import * as createCoreTables from './migrations/202611281930_create-core-tables.ts';
import * as createJobs from './migrations/202611282000_create-jobs.ts';
import * as addAccountLedgerAccount from './migrations/202612030740_add-account-ledger-account.ts';
import * as addBuildingBankDetails from './migrations/202612030755_add-building-bank-details.ts';
import * as addLedgerEntryOpening from './migrations/202612030741_add-ledger-entry-opening.ts';
import * as addPurgeSlotIndex from './migrations/202612030721_add-purge-slot-index.ts';
import * as addReferenceKey from './migrations/202612030720_add-reference-key.ts';
import * as addUsersDocumentNotice from './migrations/202612030732_add-users-document-notice.ts';
import * as addUsersDocumentNoticeSentAt from './migrations/202612030733_add-users-document-notice-sent-at.ts';
import * as createDocumentReads from './migrations/202612030731_create-document-reads.ts';
import * as createDocuments from './migrations/202612030730_create-documents.ts';
import * as createPayments from './migrations/202612030756_create-payments.ts';
import * as addUserClosedAt from './migrations/202612030830_add-user-closed-at.ts';
import * as createPendingContactFields from './migrations/202612030820_create-pending-contact-fields.ts';
import * as addUserCountry from './migrations/202612030821_add-user-country.ts';
import * as addAccountCountry from './migrations/202612030822_add-account-country.ts';
import * as addClientDataVersion from './migrations/202612031000_add-client-data-version.ts';
import type { Database as Schema } from './schema.ts';

export type Db = Kysely<Schema>;
export type DialectName = 'sqlite' | 'postgres';

// PostgreSQL returns bigint (COUNT, SUM) as strings; our sums of cents fit in a JS number.
pg.types.setTypeParser(20, (v) => Number(v));

/** Migrations are listed explicitly so they run the same under tsx, vitest and a bundle. */
const migrations: Record<string, Migration> = {
  '202611281930_create-core-tables': createCoreTables,
  '202611282000_create-jobs': createJobs,
  '202612030720_add-reference-key': addReferenceKey,
  '202612030721_add-purge-slot-index': addPurgeSlotIndex,
  '202612030730_create-documents': createDocuments,
  '202612030731_create-document-reads': createDocumentReads,
  '202612030732_add-users-document-notice': addUsersDocumentNotice,
  '202612030733_add-users-document-notice-sent-at': addUsersDocumentNoticeSentAt,
  '202612030740_add-account-ledger-account': addAccountLedgerAccount,
  '202612030741_add-ledger-entry-opening': addLedgerEntryOpening,
  '202612030755_add-building-bank-details': addBuildingBankDetails,
  '202612030756_create-payments': createPayments,
  '202612030820_create-pending-contact-fields': createPendingContactFields,
  '202612030821_add-user-country': addUserCountry,
  '202612030822_add-account-country': addAccountCountry,
  '202612030830_add-user-closed-at': addUserClosedAt,
  '202612031000_add-client-data-version': addClientDataVersion,
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

export function dialectOf(databaseUrl: string): DialectName {
  return databaseUrl.startsWith('postgres') ? 'postgres' : 'sqlite';
}

export interface DbOptions {
  /**
   * SQLite only: checkpoint the write-ahead log every this many milliseconds from a thread of
   * its own (a long-running server), instead of in the commit that fills it. Unset: SQLite's
   * own checkpoints (a command, a test).
   */
  checkpointEveryMs?: number;
}

/** What a server passes: the log is copied back twice a second. */
export const SERVER_CHECKPOINT_MS = 500;

export function createDb(databaseUrl: string, opts: DbOptions = {}): Db {
  if (dialectOf(databaseUrl) === 'postgres') {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
    // An idle connection dropped by the server (restart, failover) must not crash the
    // process: the pool opens a new one at the next query.
    pool.on('error', () => {});
    return new Kysely<Schema>({
      dialect: new PostgresDialect({ pool }),
    });
  }
  const file = databaseUrl.replace(/^sqlite:/, '');
  if (file !== '' && file !== ':memory:') createPrivately(file);
  const sqlite = new Database(file === '' ? ':memory:' : file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const stopCheckpoints =
    opts.checkpointEveryMs && file !== '' && file !== ':memory:'
      ? startCheckpointer(sqlite, file, opts.checkpointEveryMs)
      : () => {};
  const database = withStatementCache(sqlite, stopCheckpoints);
  return new Kysely<Schema>({ dialect: new SqliteDialect({ database }) });
}

/**
 * The checkpoint thread. The requests' connection still checkpoints, but only past 10 000
 * pages (40 MB): should the thread stop, the log stays bounded. Returns what closes it: the
 * thread's connection first (waiting for it, at most 2 s), so that the requests'
 * connection, closing last, checkpoints and removes the log as SQLite does on a clean close.
 */
function startCheckpointer(sqlite: Database.Database, file: string, everyMs: number): () => void {
  sqlite.pragma('wal_autocheckpoint = 10000');
  const closed = new SharedArrayBuffer(4);
  const worker = new Worker(new URL('./checkpoint.worker.mjs', import.meta.url), {
    workerData: { file, everyMs, closed },
  });
  let running = true;
  // Never what keeps a process alive; a failure leaves the fallback above.
  worker.unref();
  worker.on('error', () => (running = false));
  worker.on('exit', () => (running = false));
  return () => {
    if (running) {
      worker.postMessage('close');
      Atomics.wait(new Int32Array(closed), 0, 0, 2000);
    }
    void worker.terminate();
  };
}

/** Prepared statements kept per SQL text; beyond this many, the oldest are dropped. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query again, and preparing costs more than running most of
 * Palier's (a primary-key lookup). Statements are kept by their text and reused, except one
 * still being read (a streamed query), for which a fresh one is prepared.
 */
function withStatementCache(sqlite: Database.Database, onClose: () => void) {
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => {
      onClose();
      sqlite.close();
    },
    prepare(sql: string): Database.Statement {
      const kept = statements.get(sql);
      if (kept && !kept.busy) return kept;
      const stmt = sqlite.prepare(sql);
      if (kept) return stmt;
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
      statements.set(sql, stmt);
      return stmt;
    },
  };
}

/**
 * A new SQLite file is created readable by its owner only (SQLite would follow the umask,
 * often world-readable); SQLite gives its -wal and -shm files the same mode.
 */
function createPrivately(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // EEXIST: an existing database keeps its mode. ENOENT: no folder, better-sqlite3 says so.
    if (code !== 'EEXIST' && code !== 'ENOENT') throw err;
  }
}

export async function migrateToLatest(db: Db): Promise<void> {
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`Échec de la migration ${failed?.migrationName ?? ''} : ${String(error)}`);
  }
}

/** Names of migrations known to the code but not yet applied (for readiness checks). */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const list = await migrator.getMigrations();
  return list.filter((m) => !m.executedAt).map((m) => m.name);
}
