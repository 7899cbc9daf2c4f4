import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { PG_ADMIN_URL } from '../../../test/helpers/db.ts';
import { createUser } from '../../../test/helpers/factories.ts';
import { loadConfig, type BootConfig, type Config } from '../../config.ts';
import { openDatabase } from '../../core/secrets/secrets.ts';
import type { Db } from '../../db/db.ts';
import { setAgency } from '../../core/agency/agency.repository.ts';
import { exportCodes, importEcritures, importReferentiel, type PrintableCode } from '../imports/imports.service.ts';
import * as tar from 'tar';
import { listFiles, sha256File } from './archive.ts';
import { manifestMac } from './backup-key.ts';
import { expect } from 'vitest';
import { AppError } from '../../core/errors.ts';

/**
 * Test helpers of the backup feature (not a test file itself). A feature module: it must
 * not import the composition root (app.ts); tests needing the app get it from test/helpers.
 */

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../imports/fixtures/', import.meta.url));

/** The configuration loadConfig reads for this data folder and database (as the CLI and server would). */
export function configFor(dataDir: string, databaseUrl: string): BootConfig {
  return loadConfig({
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    BASE_URL: 'http://palier.test',
    LOG_LEVEL: 'silent',
  });
}

/** An install opened as the CLI and server open it: secrets checked, or created with a new database. */
export function openInstall(dataDir: string, databaseUrl: string): Promise<{ config: Config; db: Db }> {
  return openDatabase(configFor(dataDir, databaseUrl));
}

export const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
export const USER_EMAIL = 'restauration@exemple.test';

export interface Seeded {
  codes: PrintableCode[];
}

/**
 * What an agency's Palier holds after a while, written through the real services: the
 * fixture référentiel and ledger, a person with a space, the agency's logo and a document.
 */
export async function seed(db: Db, config: Config): Promise<Seeded> {
  await importReferentiel(db, config, readFileSync(path.join(FIXTURES, 'referentiel.csv')));
  await importEcritures(db, readFileSync(path.join(FIXTURES, 'ecritures.csv')));
  const account = await db
    .selectFrom('client_accounts')
    .select('id')
    .where('reference', '=', '10001')
    .executeTakeFirstOrThrow();
  await createUser(db, { email: USER_EMAIL, accountIds: [account.id] });
  const files = path.join(config.dataDir, 'files');
  mkdirSync(path.join(files, 'documents', '2024'), { recursive: true });
  writeFileSync(path.join(files, 'logo-sauvegarde.png'), PNG);
  writeFileSync(path.join(files, 'documents', '2024', 'appel-de-fonds.pdf'), randomBytes(150_000));
  await setAgency(db, { name: 'Cabinet Sauvegarde', logo: 'logo-sauvegarde.png' });
  return { codes: await exportCodes(db, config) };
}

/** Every row of every table, as sorted JSON lines (order-free comparison of two databases). */
export async function tableRows(db: Db): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of await db.introspection.getTables()) {
    const { rows } = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(t.name)}`.execute(db);
    out[t.name] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

/** Each stored file's bytes, by path under DATA_DIR/files. */
export function storedFiles(dataDir: string): Record<string, Buffer> {
  const dir = path.join(dataDir, 'files');
  return Object.fromEntries(listFiles(dir).map((rel) => [rel, readFileSync(path.join(dir, rel))]));
}

/** A new PostgreSQL database with nothing in it (not even migrations): a restore target. */
export async function emptyPostgres(): Promise<{ url: string; destroy(): Promise<void> }> {
  const name = `palier_restore_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`),
    async destroy() {
      const a = new pg.Client({ connectionString: PG_ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/**
 * What someone holding an archive but not its key can do: unpack it, let `change` alter
 * members, recompute the manifest's sizes and SHA-256 so every checksum matches again, and
 * pack it again (a member `change` deletes is left out).
 */
export async function alteredArchive(archive: string, out: string, change: (dir: string) => unknown): Promise<string> {
  const dir = mkdtempSync(path.join(path.dirname(out), 'alteration-'));
  try {
    await tar.x({ file: archive, cwd: dir });
    const members: string[] = [];
    await tar.t({ file: archive, onReadEntry: (e) => members.push(e.path) });
    await change(dir);
    const manifestFile = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
      members: { path: string; size: number; sha256: string }[];
    };
    for (const m of manifest.members) {
      m.size = statSync(path.join(dir, m.path)).size;
      m.sha256 = await sha256File(path.join(dir, m.path));
    }
    writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    await tar.c(
      { gzip: true, file: out, cwd: dir },
      members.filter((m) => existsSync(path.join(dir, m))),
    );
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Signs the manifest.json of an unpacked archive with the key in `keyFile`, as sauvegarde does. */
export function signUnpacked(dir: string, keyFile: string): void {
  const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'hex');
  writeFileSync(
    path.join(dir, 'manifest.hmac'),
    `${manifestMac(key, readFileSync(path.join(dir, 'manifest.json')))}\n`,
  );
}

/** The AppError a promise rejects with (a refusal the operator would read). */
export async function rejection(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}
