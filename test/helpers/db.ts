import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
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

/** A fresh, migrated database of its own: a temp SQLite file, or a new PostgreSQL database dropped afterwards. */
export async function createTestDb(dialect: DialectName): Promise<TestDb> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'palier-db-'));
    const url = `sqlite:${path.join(dir, 'test.sqlite')}`;
    const db = createDb(url);
    await migrateToLatest(db);
    return {
      db,
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
    db,
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
