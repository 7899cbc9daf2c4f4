import { existsSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '../../core/errors.ts';

export interface DatabaseContents {
  migrations: string[];
  tables: Record<string, number>;
}

/** The file behind a `sqlite:` DATABASE_URL, as an absolute path. */
export function sqliteFile(databaseUrl: string): string {
  const file = databaseUrl.replace(/^sqlite:/, '');
  if (file === '' || file === ':memory:') {
    throw new AppError(
      'backup_memory_database',
      'in-memory SQLite database',
      'La base SQLite est en mémoire (DATABASE_URL=sqlite:) : il n’y a rien à sauvegarder ni à restaurer.',
    );
  }
  return path.resolve(file);
}

/** The main file and the journals SQLite keeps beside it. */
export function sqliteFamily(file: string): string[] {
  return [file, `${file}-wal`, `${file}-shm`, `${file}-journal`];
}

export function sqliteHoldsDatabase(file: string): boolean {
  return existsSync(file) && statSync(file).size > 0;
}

/** Refuses a missing or empty file before anything opens it (opening would create it). */
export function requireSqliteDatabase(file: string): void {
  if (!sqliteHoldsDatabase(file)) {
    throw new AppError(
      'backup_no_database',
      `no SQLite database at ${file}`,
      `Aucune base SQLite à sauvegarder : « ${file} » n’existe pas ou est vide. Vérifiez DATA_DIR et DATABASE_URL.`,
    );
  }
}

/**
 * Copies the live database to `dest` with SQLite's online backup API, through a
 * connection of its own: the server keeps reading and writing meanwhile.
 */
export async function snapshotSqlite(file: string, dest: string): Promise<DatabaseContents> {
  requireSqliteDatabase(file);
  const source = new Database(file, { fileMustExist: true });
  try {
    source.pragma('busy_timeout = 5000');
    // One step copies every page inside a single read transaction: a snapshot of one
    // instant that, in WAL mode, never blocks the server's writes. In small steps, each
    // write by another connection would restart the copy, and a busy server could starve it.
    await source.backup(dest, { progress: () => 0x7fffffff });
  } finally {
    source.close();
  }
  const copy = new Database(dest, { fileMustExist: true });
  try {
    // A single self-contained file in the archive, no -wal beside it.
    copy.pragma('journal_mode = DELETE');
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') {
      throw new AppError(
        'backup_integrity',
        `integrity_check: ${String(check)}`,
        `La copie de la base ne passe pas le contrôle d’intégrité de SQLite (${String(check)}) : aucune sauvegarde écrite.`,
      );
    }
    return contentsOf(copy);
  } finally {
    copy.close();
  }
}

/** Checks a database file taken out of an archive, and tells what it holds. */
export function inspectSqlite(file: string): DatabaseContents & { integrity: string } {
  const db = new Database(file, { fileMustExist: true });
  try {
    const integrity = String(db.pragma('integrity_check', { simple: true }));
    return { ...contentsOf(db), integrity };
  } finally {
    db.close();
  }
}

function contentsOf(db: Database.Database): DatabaseContents {
  const names = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  const tables: Record<string, number> = {};
  for (const name of names) {
    tables[name] = db
      .prepare(`SELECT COUNT(*) FROM "${name.replace(/"/g, '""')}"`)
      .pluck()
      .get() as number;
  }
  const migrations = names.includes('kysely_migration')
    ? (db.prepare('SELECT name FROM kysely_migration ORDER BY name').pluck().all() as string[])
    : [];
  return { migrations, tables };
}

/** Removes a database file and its journals (a stale -wal must never be replayed onto another file). */
export function removeSqlite(file: string): void {
  for (const f of sqliteFamily(file)) rmSync(f, { force: true });
}
