import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createDb, migrateToLatest, type Db } from './db.ts';

/** Rows of `settings` in the database file alone, as if the write-ahead log were lost. */
function rowsInTheFileAlone(file: string, copy: string): number {
  copyFileSync(file, copy);
  const db = new Database(copy, { readonly: true });
  try {
    return (db.prepare("select count(*) as n from settings where key like 'essai-%'").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('SQLite checkpoints on a thread of their own (server)', () => {
  let dir: string;
  let db: Db | null = null;
  afterEach(async () => {
    await db?.destroy();
    db = null;
    rmSync(dir, { recursive: true, force: true });
  });

  async function writeRows(opts: { checkpointEveryMs?: number }) {
    dir = mkdtempSync(path.join(tmpdir(), 'palier-ckpt-'));
    const file = path.join(dir, 'palier.sqlite');
    db = createDb(`sqlite:${file}`, opts);
    await migrateToLatest(db);
    // The tables are in the file; only the rows below may still be in the log.
    const other = new Database(file);
    other.pragma('wal_checkpoint(TRUNCATE)');
    other.close();
    for (let i = 0; i < 50; i++)
      await db
        .insertInto('settings')
        .values({ key: `essai-${i}`, value: 'x' })
        .execute();
    return file;
  }

  it('copies committed rows into the database file soon, without the writer doing it', async () => {
    const file = await writeRows({ checkpointEveryMs: 20 });
    const copy = path.join(dir, 'copie.sqlite');
    let found = 0;
    for (let waited = 0; waited < 3000 && found < 50; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
      found = rowsInTheFileAlone(file, copy);
    }
    expect(found).toBe(50);
  });

  it('closes its own connection first, so that closing the database removes the log', async () => {
    const file = await writeRows({ checkpointEveryMs: 20 });
    expect(existsSync(`${file}-wal`)).toBe(true);
    await db!.destroy();
    db = null;
    expect(existsSync(`${file}-wal`)).toBe(false);
    expect(rowsInTheFileAlone(file, path.join(dir, 'copie.sqlite'))).toBe(50);
  });

  it('leaves them in the log for a command, until SQLite’s own checkpoint', async () => {
    const file = await writeRows({});
    await new Promise((r) => setTimeout(r, 200));
    expect(rowsInTheFileAlone(file, path.join(dir, 'copie.sqlite'))).toBe(0);
  });
});
