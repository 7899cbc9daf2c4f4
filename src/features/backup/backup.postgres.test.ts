import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../../../test/helpers/app.ts';
import { createTestDb, type TestDb } from '../../../test/helpers/db.ts';
import { createUser, TEST_PASSWORD } from '../../../test/helpers/factories.ts';
import { loginAs } from '../../../test/helpers/login.ts';
import type { BootConfig, Config } from '../../config.ts';
import { openDatabase } from '../../core/secrets/secrets.ts';
import { createDb } from '../../db/db.ts';
import { createBackup, restoreBackup } from './backup.service.ts';
import { libpqConnection, postgresTables, restorePostgres, snapshotPostgres } from './postgres.ts';
import {
  alteredArchive,
  configFor,
  emptyPostgres,
  openInstall,
  seed,
  storedFiles,
  tableRows,
  USER_EMAIL,
  rejection,
} from './test-support.ts';

describe('sauvegarde and restauration on PostgreSQL', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'palier-backup-pg-'));
  const archive = path.join(tmp, 'sauvegarde.tar.gz');
  let sourceDb: TestDb;
  let source: Config;
  let target: { url: string; destroy(): Promise<void> };
  let restored: BootConfig;
  let writerRows: number[];
  /** The backup key the source's first sauvegarde created, as the operator keeps a copy of it. */
  const sourceKey = () => path.join(source.dataDir, 'backup.key');

  beforeAll(async () => {
    sourceDb = await createTestDb('postgres');
    const opened = await openInstall(path.join(tmp, 'source'), sourceDb.url);
    source = opened.config;
    await opened.db.destroy();
    await seed(sourceDb.db, source);

    // Another connection writes in transactions of 10 rows through the whole backup.
    let writing = true;
    let batches = 0;
    const writer = (async () => {
      while (writing) {
        await sourceDb.db.transaction().execute(async (trx) => {
          for (let k = 0; k < 10; k++) {
            await trx
              .insertInto('audit_events')
              .values({ at: new Date().toISOString(), action: 'test.writer', outcome: 'success', details_json: null })
              .execute();
          }
        });
        batches++;
      }
    })();
    while (batches < 3) await new Promise((r) => setTimeout(r, 5));
    try {
      await createBackup(source, archive);
    } finally {
      writing = false;
      await writer;
    }
    writerRows = [batches * 10];

    target = await emptyPostgres();
    restored = configFor(path.join(tmp, 'restored'), target.url);
    await restoreBackup(restored, archive, { keyFile: sourceKey() });
  }, 120_000);

  afterAll(async () => {
    await sourceDb.destroy();
    await target.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('restores into an empty database every row of every table, at one instant', async () => {
    const db = createDb(target.url);
    try {
      const after = await tableRows(db);
      const copied = after.audit_events!.filter((r) => r.includes('"test.writer"')).length;
      expect(copied % 10, `${copied} rows: a transaction of 10 was cut`).toBe(0);
      expect(copied).toBeGreaterThan(0);
      expect(copied).toBeLessThanOrEqual(writerRows[0]!);

      const maxId = Math.max(...after.audit_events!.map((r) => (JSON.parse(r) as { id: number }).id));
      const before = await tableRows(sourceDb.db);
      before.audit_events = (
        await sourceDb.db.selectFrom('audit_events').selectAll().where('id', '<=', maxId).execute()
      )
        .map((r) => JSON.stringify(r))
        .sort();
      expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
      for (const table of Object.keys(before)) expect(after[table], table).toEqual(before[table]);
      expect(after.ledger_entries).toHaveLength(19);
    } finally {
      await db.destroy();
    }
    for (const [rel, bytes] of Object.entries(storedFiles(source.dataDir))) {
      expect(storedFiles(restored.dataDir)[rel]!.equals(bytes), rel).toBe(true);
    }
  });

  it('serves the restored data, and new rows get fresh ids (sequences came back too)', async () => {
    // Opened as the server opens it: the restored secrets.json must match the restored database.
    const { config, db } = await openDatabase(restored);
    const app = await startApp(config, db);
    try {
      const client = await loginAs(app, USER_EMAIL, TEST_PASSWORD);
      expect((await client.get('/accueil')).body).toContain('Bienvenue');
      const other = await createUser(db, { email: 'nouvelle@exemple.test' });
      const ids = (await db.selectFrom('users').select('id').execute()).map((u) => u.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(other.id).toBe(Math.max(...ids));
    } finally {
      await app.close();
      await db.destroy();
    }
  });

  it('refuses a database that has tables, unless forced, and then replaces it', async () => {
    const folder = mkdtempSync(path.join(tmp, 'occupe-'));
    const occupied = configFor(folder, target.url);
    const err = await rejection(restoreBackup(occupied, archive, { keyFile: sourceKey() }));
    expect(err.code).toBe('restore_not_empty');
    expect(err.userMessage).toContain('une base PostgreSQL non vide');
    expect(readdirSync(folder), 'no secrets.json left behind').toEqual([]);

    const db = createDb(target.url);
    try {
      await db.insertInto('settings').values({ key: 'marqueur', value: 'après restauration' }).execute();
      const summary = await restoreBackup(occupied, archive, { force: true, keyFile: sourceKey() });
      expect(summary.replaced).toBe(true);
      expect(await db.selectFrom('settings').selectAll().where('key', '=', 'marqueur').execute()).toHaveLength(0);
      expect(await db.selectFrom('client_accounts').select('id').execute()).toHaveLength(4);
    } finally {
      await db.destroy();
    }
  });

  it('restores all or nothing: a failure halfway leaves the database and the folder as they were', async () => {
    const blocked = await emptyPostgres();
    const folder = mkdtempSync(path.join(tmp, 'bloque-'));
    const client = new pg.Client({ connectionString: blocked.url });
    await client.connect();
    try {
      // Not a table, so the database counts as empty; but the dump's CREATE TABLE
      // ledger_entries collides with it, after several other tables were created.
      await client.query('CREATE TYPE public.ledger_entries AS (x integer)');
      const err = await rejection(restoreBackup(configFor(folder, blocked.url), archive, { keyFile: sourceKey() }));
      expect(err.code).toBe('restore_pg_failed');
      expect(err.userMessage).toContain('La restauration PostgreSQL a échoué');
      expect(err.userMessage).toContain('la base est restée telle qu’elle était');
      const { rows } = await client.query(
        "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'",
      );
      expect(rows[0].n, 'no table left behind').toBe(0);
      expect(readdirSync(folder), 'no secrets.json left behind').toEqual([]);
    } finally {
      await client.end();
      await blocked.destroy();
    }
  });

  it('refuses a dump changed by someone without the key, every checksum recomputed', async () => {
    const evil = await emptyPostgres();
    const target = await emptyPostgres();
    const folder = mkdtempSync(path.join(tmp, 'pirate-'));
    try {
      // With PostgreSQL's own tools: restore the dump elsewhere, change a row, dump it again.
      const file = await alteredArchive(archive, path.join(tmp, 'pirate.tar.gz'), async (dir) => {
        await restorePostgres(evil.url, path.join(dir, 'database.pgdump'), { replace: false });
        const client = new pg.Client({ connectionString: evil.url });
        await client.connect();
        await client.query("UPDATE settings SET value = 'Cabinet Pirate' WHERE key = 'agency.name'");
        await client.end();
        await snapshotPostgres(evil.url, path.join(dir, 'database.pgdump'));
      });
      const err = await rejection(restoreBackup(configFor(folder, target.url), file, { keyFile: sourceKey() }));
      expect(err.code).toBe('restore_altered');
      expect(err.userMessage).toContain('a été modifiée depuis sa création');
      expect(await postgresTables(target.url), 'nothing restored').toEqual([]);
      expect(readdirSync(folder)).toEqual([]);
    } finally {
      await evil.destroy();
      await target.destroy();
    }
  });

  it('refuses to cross from one kind of database to the other', async () => {
    const intoSqlite = configFor(mkdtempSync(path.join(tmp, 'sqlite-')), `sqlite:${path.join(tmp, 'x.sqlite')}`);
    const err = await rejection(restoreBackup(intoSqlite, archive, { keyFile: sourceKey() }));
    expect(err.code).toBe('restore_other_dialect');
    expect(err.userMessage).toContain(
      'Cette sauvegarde vient d’une base PostgreSQL, mais Palier est configuré ici pour SQLite',
    );

    const sqliteDir = mkdtempSync(path.join(tmp, 'depuis-sqlite-'));
    const { config: sqliteSource, db: sdb } = await openInstall(
      sqliteDir,
      `sqlite:${path.join(sqliteDir, 'palier.sqlite')}`,
    );
    await sdb.destroy();
    const sqliteArchive = path.join(tmp, 'sqlite.tar.gz');
    await createBackup(sqliteSource, sqliteArchive);
    const empty = await emptyPostgres();
    try {
      const e2 = await rejection(
        restoreBackup(configFor(mkdtempSync(path.join(tmp, 'vers-pg-')), empty.url), sqliteArchive, {
          keyFile: path.join(sqliteDir, 'backup.key'),
        }),
      );
      expect(e2.userMessage).toContain(
        'Cette sauvegarde vient d’une base SQLite, mais Palier est configuré ici pour PostgreSQL',
      );
    } finally {
      await empty.destroy();
    }
  });

  it('says in French what to install when pg_dump is missing', async () => {
    const path0 = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const err = await rejection(snapshotPostgres(sourceDb.url, path.join(tmp, 'x.pgdump')));
      expect(err.userMessage).toContain('« pg_dump » est introuvable : installez le client PostgreSQL');
    } finally {
      process.env.PATH = path0;
    }
  });

  it('keeps the password off the tools’ command lines', () => {
    const c = libpqConnection('postgres://palier:s%C3%A9cret@db.example:5432/palier?ssl=true');
    expect(c.dbname).toBe('postgres://palier@db.example:5432/palier?sslmode=require');
    expect(c.env.PGPASSWORD).toBe('sécret');
  });
});
