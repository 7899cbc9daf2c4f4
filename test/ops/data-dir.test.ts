import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type DialectName } from '../../src/db/db.ts';
import { dialects } from '../helpers/db.ts';
import { emptyDatabase, type EmptyDatabase } from './databases.ts';
import { freePort, runPalier, startServer, stopProcess } from './processes.ts';

/**
 * A data folder and a database belong together: the real `palier` commands and server,
 * started on a DATA_DIR whose secrets are missing or belong to another database, refuse
 * to work and write nothing; a new install creates its folder and files private.
 */

const FIXTURE = path.resolve('src/features/imports/fixtures/referentiel.csv');
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function palier(args: string[], env: Record<string, string>): Promise<Run> {
  const p = runPalier(`cli-${args[0]}`, 'src/cli.ts', args, env);
  const exit = await p.exited;
  return { code: exit.code, stdout: p.stdout(), stderr: p.stderr() };
}

/** The server as `npm start` runs it, when it is expected to refuse to start. */
async function refusedServer(env: Record<string, string>): Promise<Run> {
  const p = runPalier('refused-server', 'src/server.ts', [], {
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    ...env,
  });
  const exit = await p.exited;
  return { code: exit.code, stdout: p.stdout(), stderr: p.stderr() };
}

const mode = (file: string) => statSync(file).mode & 0o7777;

async function recordedFingerprint(url: string): Promise<string | undefined> {
  const db = createDb(url);
  try {
    const row = await db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', 'secrets_fingerprint')
      .executeTakeFirst();
    return row?.value;
  } finally {
    await db.destroy();
  }
}

async function agencyName(url: string): Promise<string | undefined> {
  const db = createDb(url);
  try {
    const row = await db.selectFrom('settings').select('value').where('key', '=', 'agency.name').executeTakeFirst();
    return row?.value;
  } finally {
    await db.destroy();
  }
}

describe.each(dialects)('DATA_DIR and its database belong together (%s)', (dialect: DialectName) => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'palier-data-dir-'));
  const source = path.join(tmp, 'source');
  const logo = path.join(tmp, 'logo.png');
  const databases: EmptyDatabase[] = [];
  let database: EmptyDatabase;

  /** A new database: a file in `dir` (which need not exist yet), or a new PostgreSQL database. */
  async function newDatabase(dir: string): Promise<EmptyDatabase> {
    const d = await emptyDatabase(dialect, dir);
    databases.push(d);
    return d;
  }

  beforeAll(async () => {
    writeFileSync(logo, PNG, { mode: 0o644 });
    database = await newDatabase(source);
    // A new install whose first commands are the agency's identity and an import.
    const env = { DATA_DIR: source, DATABASE_URL: database.url };
    const agence = await palier(['agence', '--nom', 'Cabinet Témoin', '--logo', logo], env);
    expect(agence, agence.stderr).toMatchObject({ code: 0, stderr: '' });
    const imported = await palier(['import', 'referentiel', FIXTURE], env);
    expect(imported, imported.stderr).toMatchObject({ code: 0, stderr: '' });
  }, 60_000);

  afterAll(async () => {
    for (const d of databases) await d.drop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('a new install keeps a fingerprint of its secrets in the database, never the secrets', async () => {
    const secrets = JSON.parse(readFileSync(path.join(source, 'secrets.json'), 'utf8')) as Record<string, string>;
    const fingerprint = await recordedFingerprint(database.url);
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    for (const key of Object.values(secrets)) expect(fingerprint).not.toContain(key);
  });

  it('creates DATA_DIR, the database, secrets.json and stored files readable by their owner only', () => {
    expect(mode(source)).toBe(0o700);
    expect(mode(path.join(source, 'secrets.json'))).toBe(0o600);
    expect(mode(path.join(source, 'files'))).toBe(0o700);
    const stored = readdirSync(path.join(source, 'files'));
    expect(stored).toHaveLength(1);
    expect(mode(path.join(source, 'files', stored[0]!)), 'the logo copied from a 0644 file').toBe(0o600);
    if (database.file) {
      for (const f of [database.file, `${database.file}-wal`, `${database.file}-shm`]) {
        if (existsSync(f)) expect(mode(f), f).toBe(0o600);
      }
    }
  });

  it('sauvegarde from an empty DATA_DIR next to the database is refused and writes nothing', async () => {
    const empty = mkdtempSync(path.join(tmp, 'vide-'));
    const archive = path.join(tmp, `sans-secrets-${dialect}.tar.gz`);
    const r = await palier(['sauvegarde', archive], { DATA_DIR: empty, DATABASE_URL: database.url });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`Les secrets de DATA_DIR (${empty}) sont introuvables`);
    expect(existsSync(archive), 'no archive').toBe(false);
    expect(readdirSync(empty), 'no secrets.json generated').toEqual([]);
  });

  it('a command with an empty DATA_DIR is refused too, and creates no secrets', async () => {
    const empty = path.join(tmp, `jamais-cree-${dialect}`);
    const r = await palier(['agence', '--nom', 'Pirate'], { DATA_DIR: empty, DATABASE_URL: database.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Les secrets de DATA_DIR (${empty}) sont introuvables`);
    expect(existsSync(path.join(empty, 'secrets.json'))).toBe(false);
    expect(existsSync(empty), 'not even the folder').toBe(false);
    expect(await agencyName(database.url)).toBe('Cabinet Témoin');
  });

  it('commands and the server refuse secrets that belong to another database', async () => {
    const other = path.join(tmp, 'autre');
    const otherDb = await newDatabase(other);
    const made = await palier(['agence', '--nom', 'Autre cabinet'], { DATA_DIR: other, DATABASE_URL: otherDb.url });
    expect(made.code).toBe(0);
    const otherSecrets = readFileSync(path.join(other, 'secrets.json'), 'utf8');

    const crossed = { DATA_DIR: other, DATABASE_URL: database.url };
    const message = `Les secrets de DATA_DIR (${other}) ne correspondent pas à cette base\u00a0: `;
    const agence = await palier(['agence', '--nom', 'Pirate'], crossed);
    expect(agence.code).toBe(1);
    expect(agence.stderr).toContain(message);
    expect(await agencyName(database.url)).toBe('Cabinet Témoin');

    const codes = path.join(tmp, `codes-${dialect}.csv`);
    const exported = await palier(['codes', 'export', codes], crossed);
    expect(exported.code).toBe(1);
    expect(exported.stderr).toContain(message);
    expect(existsSync(codes)).toBe(false);

    const archive = path.join(tmp, `croisee-${dialect}.tar.gz`);
    const saved = await palier(['sauvegarde', archive], crossed);
    expect(saved.code).toBe(1);
    expect(saved.stderr).toContain(message);
    expect(existsSync(archive)).toBe(false);

    const server = await refusedServer(crossed);
    expect(server.code).toBe(1);
    expect(server.stderr).toContain(message);

    expect(readFileSync(path.join(other, 'secrets.json'), 'utf8'), 'the other secrets untouched').toBe(otherSecrets);
  }, 60_000);

  it('the server starts on its own DATA_DIR, and a new one creates its folder and files private', async () => {
    const own = await startServer(`own-${dialect}`, { DATA_DIR: source, DATABASE_URL: database.url });
    await stopProcess(own);

    const fresh = path.join(tmp, 'neuf');
    const freshDb = await newDatabase(fresh);
    const server = await startServer(`fresh-${dialect}`, { DATA_DIR: fresh, DATABASE_URL: freshDb.url });
    try {
      expect(mode(fresh)).toBe(0o700);
      expect(mode(path.join(fresh, 'secrets.json'))).toBe(0o600);
      if (freshDb.file) {
        // The server holds the database open: its -wal and -shm files exist.
        for (const f of [freshDb.file, `${freshDb.file}-wal`, `${freshDb.file}-shm`]) expect(mode(f), f).toBe(0o600);
      }
    } finally {
      await stopProcess(server);
    }
    expect(await recordedFingerprint(freshDb.url)).toMatch(/^[0-9a-f]{64}$/);
  }, 60_000);
});
