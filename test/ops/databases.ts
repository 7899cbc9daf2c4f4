import { randomBytes } from 'node:crypto';
import { copyFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { DialectName } from '../../src/db/db.ts';
import { PG_ADMIN_URL } from '../helpers/db.ts';

/** An empty database (not migrated), which the test opens and closes as it likes. */
export interface EmptyDatabase {
  url: string;
  /** The SQLite file; null on PostgreSQL. */
  file: string | null;
  drop(): Promise<void>;
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

function pgUrl(name: string): string {
  return PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
}

/** A new SQLite file in `dir`, or a new PostgreSQL database dropped by drop(). */
export async function emptyDatabase(dialect: DialectName, dir: string): Promise<EmptyDatabase> {
  if (dialect === 'sqlite') {
    const file = path.join(dir, 'palier.sqlite');
    return { url: `sqlite:${file}`, file, drop: async () => {} };
  }
  const name = `palier_ops_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  return { url: pgUrl(name), file: null, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** A copy of a database nobody is connected to. */
export async function copyDatabase(dialect: DialectName, url: string, dir: string): Promise<EmptyDatabase> {
  if (dialect === 'sqlite') {
    const file = path.join(dir, 'copie.sqlite');
    copyFileSync(url.replace(/^sqlite:/, ''), file);
    return { url: `sqlite:${file}`, file, drop: async () => rmSync(file, { force: true }) };
  }
  const source = url.slice(url.lastIndexOf('/') + 1);
  const name = `${source}_copie`;
  await admin(`CREATE DATABASE ${name} TEMPLATE ${source}`);
  return { url: pgUrl(name), file: null, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
