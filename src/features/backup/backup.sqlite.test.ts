import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../../../test/helpers/app.ts';
import { TestClient } from '../../../test/helpers/client.ts';
import { TEST_PASSWORD } from '../../../test/helpers/factories.ts';
import { loginAs } from '../../../test/helpers/login.ts';
import type { BootConfig, Config } from '../../config.ts';
import { openDatabase } from '../../core/secrets/secrets.ts';
import { AppError } from '../../core/errors.ts';
import { createDb, type Db } from '../../db/db.ts';
import { exportCodes } from '../imports/imports.service.ts';
import { createBackup, restoreBackup, type BackupSummary } from './backup.service.ts';
import {
  alteredArchive,
  configFor,
  openInstall,
  PNG,
  ROOT,
  seed,
  storedFiles,
  tableRows,
  USER_EMAIL,
  type Seeded,
  rejection,
  signUnpacked,
} from './test-support.ts';

/**
 * A second process writing into the live database in transactions of 10 rows, as fast
 * as it can: a consistent copy holds a multiple of 10 of its rows.
 */
const WRITER = `
const Database = require('better-sqlite3');
const db = new Database(process.env.WRITER_DB);
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 5000');
const insert = db.prepare("INSERT INTO audit_events (at, action, outcome, details_json) VALUES (?, 'test.writer', 'success', ?)");
const batch = db.transaction((n) => { for (let k = 0; k < 10; k++) insert.run(new Date().toISOString(), JSON.stringify({ n, k })); });
const pause = new Int32Array(new SharedArrayBuffer(4));
for (let n = 0; ; n++) {
  batch(n);
  if (n === 20) process.stdout.write('ready\\n');
  Atomics.wait(pause, 0, 0, 1);
}
`;

function startWriter(dbFile: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', WRITER], {
    cwd: ROOT,
    env: { ...process.env, WRITER_DB: dbFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.on('exit', (code) => reject(new Error(`writer exited (${code}): ${err}`)));
  });
}

async function writerRows(db: Db): Promise<number> {
  const r = await db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('action', '=', 'test.writer')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

describe('sauvegarde and restauration on SQLite', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'palier-backup-'));
  const archive = path.join(tmp, 'sauvegarde.tar.gz');
  let source: Config;
  let sourceDb: Db;
  let seeded: Seeded;
  let sessionCookies: Map<string, string>;
  let backupWriterRows: { before: number; after: number; final: number };
  let firstBackup: BackupSummary;
  let restored: BootConfig;
  /** The backup key the source's first sauvegarde created, as the operator keeps a copy of it. */
  const sourceKey = () => path.join(source.dataDir, 'backup.key');

  beforeAll(async () => {
    ({ config: source, db: sourceDb } = await openInstall(
      path.join(tmp, 'source'),
      `sqlite:${path.join(tmp, 'source', 'palier.sqlite')}`,
    ));
    seeded = await seed(sourceDb, source);

    // A person logged in on the running server before the backup.
    const app = await startApp(source, sourceDb);
    const client = await loginAs(app, USER_EMAIL, TEST_PASSWORD);
    sessionCookies = new Map(client.cookies);
    await app.close();

    // Enough pages that copying them takes a while, during which the writer keeps going.
    for (let i = 0; i < 40; i++) {
      await sourceDb
        .insertInto('audit_events')
        .values(
          Array.from({ length: 500 }, (_, k) => ({
            at: new Date().toISOString(),
            action: 'test.padding',
            outcome: 'success' as const,
            details_json: JSON.stringify({ i, k, filler: 'x'.repeat(400) }),
          })),
        )
        .execute();
    }

    const writer = await startWriter(path.join(tmp, 'source', 'palier.sqlite'));
    try {
      const before = await writerRows(sourceDb);
      firstBackup = await createBackup(source, archive);
      const after = await writerRows(sourceDb);
      backupWriterRows = { before, after, final: 0 };
      expect(writer.exitCode, 'the writer kept running through the backup').toBeNull();
    } finally {
      const exited = new Promise((r) => writer.once('exit', r));
      writer.kill('SIGKILL');
      await exited;
    }
    backupWriterRows.final = await writerRows(sourceDb);

    restored = configFor(path.join(tmp, 'restored'), `sqlite:${path.join(tmp, 'restored', 'palier.sqlite')}`);
    await restoreBackup(restored, archive, { keyFile: sourceKey() });
  }, 120_000);

  afterAll(async () => {
    await sourceDb.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('writes one archive readable by its owner only, laid out as documented', async () => {
    expect(statSync(archive).mode & 0o777).toBe(0o600);
    const members: string[] = [];
    await tar.t({ file: archive, onReadEntry: (e) => members.push(e.path) });
    expect(members).toEqual([
      'manifest.json',
      'manifest.hmac',
      'database.sqlite',
      'secrets.json',
      'files/documents/2024/appel-de-fonds.pdf',
      'files/logo-sauvegarde.png',
    ]);
    expect(
      readdirSync(tmp).filter((n) => n.startsWith('.palier-sauvegarde-')),
      'no staging left',
    ).toEqual([]);
  });

  it('signs with a key kept outside the archive, created 0600 by the first sauvegarde, then reused', async () => {
    expect(firstBackup.key).toMatchObject({ file: sourceKey(), created: true });
    expect(statSync(sourceKey()).mode & 0o777).toBe(0o600);
    expect(readFileSync(sourceKey(), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(firstBackup.manifest.key_id).toBe(firstBackup.key.id);
    const second = await createBackup(source, path.join(tmp, 'seconde.tar.gz'));
    expect(second.key).toEqual({ ...firstBackup.key, created: false });

    // A restore with the key given installs it where there was none: the restored server's
    // next backups use it, and a restore there with --forcer needs no --cle.
    const dir = path.join(tmp, 'avec-cle');
    const target = configFor(dir, `sqlite:${path.join(dir, 'palier.sqlite')}`);
    const first = await restoreBackup(target, archive, { keyFile: sourceKey() });
    expect(first.key.installed).toBe(path.join(dir, 'backup.key'));
    expect(readFileSync(path.join(dir, 'backup.key'), 'utf8')).toBe(readFileSync(sourceKey(), 'utf8'));
    expect(statSync(path.join(dir, 'backup.key')).mode & 0o777).toBe(0o600);
    const again = await restoreBackup(target, archive, { force: true });
    expect(again.key).toEqual({ file: path.join(dir, 'backup.key'), id: firstBackup.key.id, installed: null });
  });

  it('copies the database at one instant while another process writes', async () => {
    const db = createDb(restored.databaseUrl);
    try {
      const n = await writerRows(db);
      expect(n % 10, `${n} rows: a transaction of 10 was cut`).toBe(0);
      expect(n).toBeGreaterThanOrEqual(backupWriterRows.before);
      expect(n).toBeLessThanOrEqual(backupWriterRows.after);
      expect(backupWriterRows.after, 'the writer wrote during the backup').toBeGreaterThan(backupWriterRows.before);
      expect(backupWriterRows.final, 'the writer went on after the copy').toBeGreaterThan(n);
    } finally {
      await db.destroy();
    }
  });

  it('restores every row of every table and every file byte for byte', async () => {
    const db = createDb(restored.databaseUrl);
    try {
      const after = await tableRows(db);
      const maxId = Number(
        (
          await db
            .selectFrom('audit_events')
            .select((eb) => eb.fn.max('id').as('m'))
            .executeTakeFirstOrThrow()
        ).m,
      );
      // The source has moved on since (the writer's later rows): compare with it as it was then.
      const before = await tableRows(sourceDb);
      before.audit_events = (await sourceDb.selectFrom('audit_events').selectAll().where('id', '<=', maxId).execute())
        .map((r) => JSON.stringify(r))
        .sort();
      expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
      for (const table of Object.keys(before)) {
        expect(after[table], table).toEqual(before[table]);
      }
      expect(after.ledger_entries).toHaveLength(19);
      expect(after.client_accounts).toHaveLength(4);
    } finally {
      await db.destroy();
    }
    const files = storedFiles(restored.dataDir);
    expect(Object.keys(files).sort()).toEqual(['documents/2024/appel-de-fonds.pdf', 'logo-sauvegarde.png']);
    for (const [rel, bytes] of Object.entries(storedFiles(source.dataDir))) {
      expect(files[rel]!.equals(bytes), rel).toBe(true);
    }
    const secrets = path.join(restored.dataDir, 'secrets.json');
    expect(readFileSync(secrets, 'utf8')).toBe(readFileSync(path.join(source.dataDir, 'secrets.json'), 'utf8'));
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
  });

  it('starts on the restored data: password, session, access code, printable codes and logo all work', async () => {
    // Opened as the server opens it: the restored secrets.json must match the restored database.
    const { config, db } = await openDatabase(restored);
    const app = await startApp(config, db);
    try {
      const fresh = await loginAs(app, USER_EMAIL, TEST_PASSWORD);
      expect((await fresh.get('/accueil')).body).toContain('Bienvenue');

      // The session opened before the backup is still valid.
      const returning = new TestClient(app);
      returning.cookies = new Map(sessionCookies);
      const home = await returning.get('/accueil');
      expect(home.statusCode).toBe(200);
      expect(home.body).toContain('Bienvenue');

      // Access codes are hashed with the restored HMAC key: the printed one still opens the account.
      const claim = await new TestClient(app).submit('/creer-mon-espace', {
        reference: '10002',
        code: 'ABCD-2345-EFGH',
      });
      expect(claim.statusCode).toBe(303);
      expect(claim.headers.location).toMatch(/^\/creer-mon-espace\/etape-2\?ticket=/);

      // Codes Palier created are encrypted with the restored key: they can be printed again.
      expect(await exportCodes(db, config)).toEqual(seeded.codes);
      expect(seeded.codes.length).toBeGreaterThan(0);

      const logo = await app.inject({ method: 'GET', url: '/agence/logo' });
      expect(logo.statusCode).toBe(200);
      expect(logo.rawPayload.equals(PNG)).toBe(true);
    } finally {
      await app.close();
      await db.destroy();
    }
  });

  it('refuses a data folder that already holds a database or files, unless forced', async () => {
    const { config: target, db } = await openInstall(
      path.join(tmp, 'occupied'),
      `sqlite:${path.join(tmp, 'occupied', 'palier.sqlite')}`,
    );
    await db.insertInto('settings').values({ key: 'marqueur', value: 'ancienne base' }).execute();
    await db.destroy();
    mkdirSync(path.join(target.dataDir, 'files'));
    writeFileSync(path.join(target.dataDir, 'files', 'ancien.txt'), 'ancien');

    const err = await rejection(restoreBackup(target, archive, { keyFile: sourceKey() }));
    expect(err.code).toBe('restore_not_empty');
    expect(err.userMessage).toContain('La destination n’est pas vide');
    expect(err.userMessage).toContain('--forcer');
    const check = createDb(target.databaseUrl);
    try {
      expect(await check.selectFrom('settings').select('value').where('key', '=', 'marqueur').execute()).toHaveLength(
        1,
      );
    } finally {
      await check.destroy();
    }
    expect(readFileSync(path.join(target.dataDir, 'files', 'ancien.txt'), 'utf8')).toBe('ancien');

    const summary = await restoreBackup(target, archive, { force: true, keyFile: sourceKey() });
    expect(summary.replaced).toBe(true);
    const after = createDb(target.databaseUrl);
    try {
      expect(await after.selectFrom('settings').select('value').where('key', '=', 'marqueur').execute()).toHaveLength(
        0,
      );
      expect(await after.selectFrom('client_accounts').select('id').execute()).toHaveLength(4);
    } finally {
      await after.destroy();
    }
    expect(Object.keys(storedFiles(target.dataDir)).sort()).toEqual([
      'documents/2024/appel-de-fonds.pdf',
      'logo-sauvegarde.png',
    ]);
  });

  it('restores files 0600 and folders 0700, whatever modes the archive holds (setuid included)', async () => {
    const dir = path.join(tmp, 'droits');
    const { config, db } = await openInstall(dir, `sqlite:${path.join(dir, 'palier.sqlite')}`);
    await db.destroy();
    const tools = path.join(dir, 'files', 'outils');
    mkdirSync(tools, { recursive: true });
    writeFileSync(path.join(tools, 'lanceur'), '#!/bin/sh\nid\n');
    chmodSync(path.join(tools, 'lanceur'), 0o6777);
    chmodSync(tools, 0o777);
    const file = path.join(tmp, 'droits.tar.gz');
    await createBackup(config, file);
    const modes: Record<string, number> = {};
    await tar.t({ file, onReadEntry: (e) => (modes[e.path] = e.mode!) });
    expect(modes['files/outils/lanceur']! & 0o6000, 'the archive holds a setuid and setgid file').toBe(0o6000);

    const target = configFor(
      path.join(tmp, 'droits-restaures'),
      `sqlite:${path.join(tmp, 'droits-restaures', 'palier.sqlite')}`,
    );
    await restoreBackup(target, file, { keyFile: path.join(dir, 'backup.key') });
    const mode = (rel: string) => statSync(path.join(target.dataDir, rel)).mode & 0o7777;
    expect(mode('.')).toBe(0o700);
    expect(mode('files')).toBe(0o700);
    expect(mode('files/outils')).toBe(0o700);
    expect(mode('files/outils/lanceur')).toBe(0o600);
    expect(mode('palier.sqlite')).toBe(0o600);
    expect(mode('secrets.json')).toBe(0o600);
  });

  it('refuses to back up nothing, or to write the archive over live data', async () => {
    const empty = configFor(path.join(tmp, 'vide'), `sqlite:${path.join(tmp, 'vide', 'palier.sqlite')}`);
    const none = await rejection(createBackup(empty, path.join(tmp, 'rien.tar.gz')));
    expect(none.userMessage).toContain('Aucune base SQLite à sauvegarder');

    for (const out of [
      path.join(source.dataDir, 'palier.sqlite'),
      path.join(source.dataDir, 'secrets.json'),
      path.join(source.dataDir, 'files', 'sauvegarde.tar.gz'),
    ]) {
      const err = await rejection(createBackup(source, out));
      expect(err.userMessage).toContain('est un fichier de données de Palier');
    }
    expect(storedFiles(source.dataDir)['sauvegarde.tar.gz']).toBeUndefined();
  });

  describe('a damaged or foreign archive is refused before anything is written', () => {
    /** A fresh empty target; after a refusal it must still hold nothing. */
    async function refusedInto(file: string, keyFile = sourceKey()): Promise<AppError> {
      const target = configFor(
        mkdtempSync(path.join(tmp, 'cible-')),
        `sqlite:${path.join(tmp, `cible-${Date.now()}.sqlite`)}`,
      );
      const before = readdirSync(target.dataDir);
      const err = await rejection(restoreBackup(target, file, { keyFile }));
      expect(readdirSync(target.dataDir), 'nothing written to DATA_DIR').toEqual(before);
      expect(() => statSync(target.databaseUrl.replace(/^sqlite:/, '')), 'no database file').toThrow();
      return err;
    }

    /** Unpacks the archive, lets `change` alter it, and packs it again (a valid gzip and tar). */
    async function repacked(name: string, change: (dir: string) => void | string[]): Promise<string> {
      const dir = mkdtempSync(path.join(tmp, 'repack-'));
      await tar.x({ file: archive, cwd: dir });
      const members: string[] = [];
      await tar.t({ file: archive, onReadEntry: (e) => members.push(e.path) });
      const extra = change(dir) ?? [];
      const out = path.join(tmp, name);
      await tar.c({ gzip: true, file: out, cwd: dir }, [...members, ...extra]);
      return out;
    }

    it('a flipped byte', async () => {
      const bytes = readFileSync(archive);
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
      const file = path.join(tmp, 'abimee.tar.gz');
      writeFileSync(file, bytes);
      const err = await refusedInto(file);
      expect(err.code).toBe('restore_damaged');
      expect(err.userMessage).toContain(`L’archive « ${file} » est endommagée`);
      expect(err.userMessage).toContain('Rien n’a été restauré.');
    });

    it('a member whose bytes no longer match the manifest', async () => {
      const file = await repacked('modifiee.tar.gz', (dir) => {
        writeFileSync(path.join(dir, 'files', 'logo-sauvegarde.png'), Buffer.concat([PNG, Buffer.from('!')]));
      });
      const err = await refusedInto(file);
      expect(err.userMessage).toContain(
        'le contenu de « files/logo-sauvegarde.png » ne correspond pas à sa somme de contrôle SHA-256',
      );
    });

    it('a member the manifest does not list, or a symbolic link', async () => {
      const stray = await repacked('intrus.tar.gz', (dir) => {
        writeFileSync(path.join(dir, 'files', 'intrus.txt'), 'intrus');
        return ['files/intrus.txt'];
      });
      expect((await refusedInto(stray)).userMessage).toContain('« files/intrus.txt » n’est pas dans son manifeste');

      const link = await repacked('lien.tar.gz', (dir) => {
        symlinkSync('/etc/passwd', path.join(dir, 'files', 'lien'));
        return ['files/lien'];
      });
      expect((await refusedInto(link)).userMessage).toContain('autre chose que des fichiers ordinaires');
    });

    it('without the backup key, with another one, or with a file that is not one', async () => {
      const dir = path.join(tmp, 'sans-cle');
      const none = await rejection(restoreBackup(configFor(dir, `sqlite:${path.join(dir, 'palier.sqlite')}`), archive));
      expect(none.code).toBe('restore_no_key');
      expect(none.userMessage).toContain('Indiquez-la avec --cle FICHIER');
      expect(none.userMessage).toContain('Rien n’a été restauré.');
      expect(existsSync(dir), 'not even DATA_DIR').toBe(false);

      const otherKey = path.join(tmp, 'autre.key');
      writeFileSync(otherKey, `${randomBytes(32).toString('hex')}\n`);
      const other = await refusedInto(archive, otherKey);
      expect(other.code).toBe('restore_other_key');
      expect(other.userMessage).toContain(`n’a pas été signée avec la clé de sauvegarde «\u00a0${otherKey}\u00a0»`);

      const notAKey = path.join(source.dataDir, 'secrets.json');
      expect((await refusedInto(archive, notAKey)).code).toBe('backup_key_invalid');
      expect((await refusedInto(archive, path.join(tmp, 'absente.key'))).code).toBe('restore_no_key');
    });

    it('a database changed by someone without the key, every checksum recomputed', async () => {
      const file = await alteredArchive(archive, path.join(tmp, 'pirate.tar.gz'), (dir) => {
        const db = new Database(path.join(dir, 'database.sqlite'));
        db.prepare("UPDATE settings SET value = 'Cabinet Pirate' WHERE key = 'agency.name'").run();
        db.close();
      });
      const err = await refusedInto(file);
      expect(err.code).toBe('restore_altered');
      expect(err.userMessage).toContain(`L’archive «\u00a0${file}\u00a0» a été modifiée depuis sa création`);
      expect(err.userMessage).toContain('Rien n’a été restauré.');
    });

    it('an archive stripped of its signature, posing as an older one', async () => {
      const file = await alteredArchive(archive, path.join(tmp, 'sans-signature.tar.gz'), (dir) => {
        rmSync(path.join(dir, 'manifest.hmac'), { force: true });
        const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
        manifest.format_version = 1;
        delete manifest.key_id;
        writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
        const db = new Database(path.join(dir, 'database.sqlite'));
        db.prepare("UPDATE settings SET value = 'Cabinet Pirate' WHERE key = 'agency.name'").run();
        db.close();
      });
      const err = await refusedInto(file);
      expect(err.code).toBe('restore_unsigned');
      expect(err.userMessage).toContain('n’est pas signée');
    });

    it('an archive of a newer Palier, or not a Palier backup at all', async () => {
      const newer = await repacked('future.tar.gz', (dir) => {
        const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
        manifest.migrations.push('209912312359_add-future');
        writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
        // Signed with the key: an archive a newer Palier really made.
        signUnpacked(dir, sourceKey());
      });
      const err = await refusedInto(newer);
      expect(err.code).toBe('restore_newer');
      expect(err.userMessage).toContain('version plus récente de Palier');

      const foreignDir = mkdtempSync(path.join(tmp, 'autre-'));
      writeFileSync(path.join(foreignDir, 'notes.txt'), 'bonjour');
      const foreign = path.join(tmp, 'autre.tar.gz');
      await tar.c({ gzip: true, file: foreign, cwd: foreignDir }, ['notes.txt']);
      expect((await refusedInto(foreign)).userMessage).toContain('ce n’est pas une sauvegarde Palier');

      const text = path.join(tmp, 'texte.tar.gz');
      writeFileSync(text, 'ceci n’est pas une archive');
      expect((await refusedInto(text)).code).toBe('restore_damaged');
    });
  });
});
