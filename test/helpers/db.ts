import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import type { KyselyPlugin, QueryId, RootOperationNode } from 'kysely';
import { createDb, migrateToLatest, type Db, type DialectName } from '../../src/db/db.ts';

export const PG_ADMIN_URL = process.env.PALIER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Every data-layer test runs on both databases. */
export const dialects: DialectName[] = ['sqlite', 'postgres'];

export interface TestDb {
  db: Db;
  url: string;
  dialect: DialectName;
  destroy(): Promise<void>;
}

export interface TestDbOptions {
  /**
   * Called once for every query run through the returned Db (and its transactions) once it
   * has answered, with its SQL: to count a request's queries. Migrations are not reported;
   * nor are BEGIN/COMMIT, nor a query that fails.
   */
  onQuery?: (sql: string) => void;
}

/**
 * A plugin that reports each executed query. transformQuery also runs for a builder used as
 * a subquery, so it only remembers the SQL; transformResult runs once per query executed.
 */
function queryReporter(db: Db, onQuery: (sql: string) => void): KyselyPlugin {
  const pending = new WeakMap<QueryId, string>();
  return {
    transformQuery({ node, queryId }) {
      pending.set(queryId, db.getExecutor().compileQuery(node as RootOperationNode, queryId).sql);
      return node;
    },
    async transformResult({ result, queryId }) {
      onQuery(pending.get(queryId) ?? '(SQL not seen)');
      pending.delete(queryId);
      return result;
    },
  };
}

/** A fresh, migrated database of its own: a temp SQLite file, or a new PostgreSQL database dropped afterwards. */
export async function createTestDb(dialect: DialectName, opts: TestDbOptions = {}): Promise<TestDb> {
  const report = (db: Db) => (opts.onQuery ? db.withPlugin(queryReporter(db, opts.onQuery)) : db);
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'palier-db-'));
    const url = `sqlite:${path.join(dir, 'test.sqlite')}`;
    const db = createDb(url);
    await migrateToLatest(db);
    return {
      db: report(db),
      url,
      dialect,
      async destroy() {
        await db.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `palier_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  const db = createDb(url);
  await migrateToLatest(db);
  return {
    db: report(db),
    url,
    dialect,
    async destroy() {
      await db.destroy();
      const a = new pg.Client({ connectionString: PG_ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
