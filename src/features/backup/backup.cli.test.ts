import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli.ts';
import { openInstall, ROOT, seed, storedFiles } from './test-support.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function palier(args: string[], env: Record<string, string>): Promise<Run> {
  // Vitest sets BASE_URL="/" for Vite: the CLI must see only the configuration the test gives it.
  const inherited = { ...process.env };
  for (const key of ['BASE_URL', 'DATABASE_URL', 'DATA_DIR', 'PORT', 'HOST', 'SMTP_URL', 'MAIL_FROM', 'LOG_LEVEL']) {
    delete inherited[key];
  }
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['tsx', 'src/cli.ts', ...args],
      { cwd: ROOT, env: { ...inherited, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npx palier sauvegarde / restauration', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'palier-backup-cli-'));
  const source = path.join(tmp, 'source');
  const archive = path.join(tmp, 'palier-2026-11-28.tar.gz');

  beforeAll(async () => {
    const { config, db } = await openInstall(source, `sqlite:${path.join(source, 'palier.sqlite')}`);
    await seed(db, config);
    await db.destroy();
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('lists both commands in the help, with their options in their own help', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    await main(['--help'], io);
    const help = lines.join('\n');
    expect(help).toContain('sauvegarde <FICHIER>');
    expect(help).toContain('restauration [options] <FICHIER>');
    lines.length = 0;
    await main(['help', 'restauration'], io);
    const own = lines.join('\n');
    expect(own).toContain('--forcer');
    expect(own).toContain('--cle <fichier>');
    expect(own).toContain('DATA_DIR/backup.key');
    expect(own).toContain('npx palier restauration --cle /coffre/palier-backup.key');
  });

  it('backs up, restores into an empty folder, refuses to overwrite, and replaces with --forcer', async () => {
    const saved = await palier(['sauvegarde', archive], { DATA_DIR: source });
    expect(saved, saved.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(saved.stdout).toContain(`Sauvegarde écrite dans « ${archive} »`);
    expect(saved.stdout).toContain('Fichiers : 2 fichiers stockés, et secrets.json.');
    expect(saved.stdout).toContain('clés secrètes de Palier (secrets.json)');
    const key = path.join(source, 'backup.key');
    expect(saved.stdout).toContain(`Nouvelle clé de sauvegarde créée\u00a0: «\u00a0${key}\u00a0»`);
    expect(saved.stdout).toContain('Copiez-la dès maintenant hors du serveur');
    expect(statSync(archive).mode & 0o777).toBe(0o600);
    const members: string[] = [];
    await tar.t({ file: archive, onReadEntry: (e) => members.push(e.path) });
    expect(members.slice(0, 2)).toEqual(['manifest.json', 'manifest.hmac']);
    expect(members).not.toContain('backup.key');

    const next = await palier(['sauvegarde', path.join(tmp, 'suivante.tar.gz')], { DATA_DIR: source });
    expect(next.code).toBe(0);
    expect(next.stdout).toContain(`Signée avec la clé de sauvegarde «\u00a0${key}\u00a0»`);
    expect(members).toContain('database.sqlite');
    expect(members).toContain('secrets.json');

    // On another server: without the key the archive is refused, with --cle it restores.
    const target = path.join(tmp, 'cible');
    const keyless = await palier(['restauration', archive], { DATA_DIR: target });
    expect(keyless.code).toBe(1);
    expect(keyless.stderr).toContain('Clé de sauvegarde introuvable');
    expect(keyless.stderr).toContain('--cle FICHIER');
    expect(existsSync(target)).toBe(false);

    const restored = await palier(['restauration', '--cle', key, archive], { DATA_DIR: target });
    expect(restored, restored.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(restored.stdout).toContain(`Signature vérifiée avec la clé de sauvegarde «\u00a0${key}\u00a0»`);
    expect(restored.stdout).toContain(`Clé copiée dans «\u00a0${path.join(target, 'backup.key')}\u00a0»`);
    expect(restored.stdout).toMatch(
      /^Sauvegarde du 1?\d{1,2}(er)? \p{L}+ \d{4} à \d{1,2} h \d{2} \(Palier [^)]+\) restaurée\./u,
    );
    expect(restored.stdout).toContain('Sommes de contrôle et nombres de lignes vérifiés.');
    expect(readFileSync(path.join(target, 'secrets.json'), 'utf8')).toBe(
      readFileSync(path.join(source, 'secrets.json'), 'utf8'),
    );
    expect(Object.keys(storedFiles(target))).toEqual(Object.keys(storedFiles(source)));

    const again = await palier(['restauration', archive], { DATA_DIR: target });
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain('La destination n’est pas vide');
    expect(again.stderr).toContain('relancez avec --forcer');

    const forced = await palier(['restauration', '--forcer', archive], { DATA_DIR: target });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('restaurée en remplacement des données présentes');
  }, 90_000);

  it('refuses a damaged archive with exit code 1, and a missing argument with exit code 2', async () => {
    const bytes = readFileSync(archive);
    bytes[bytes.length >> 1]! ^= 0x80;
    const damaged = path.join(tmp, 'abimee.tar.gz');
    writeFileSync(damaged, bytes);
    const target = path.join(tmp, 'cible-abimee');
    const r = await palier(['restauration', '--cle', path.join(source, 'backup.key'), damaged], { DATA_DIR: target });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`L’archive « ${damaged} » est endommagée`);
    // Nothing at all: no secrets.json, no database, no files, not even the folder.
    expect(existsSync(target)).toBe(false);

    const usage = await palier(['restauration'], { DATA_DIR: target });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('il manque l’argument FICHIER');

    const missing = await palier(['restauration', path.join(tmp, 'absente.tar.gz')], { DATA_DIR: target });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Archive introuvable');
  }, 60_000);
});
