import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../../core/errors.ts';

/**
 * The backup key authenticates each archive: an HMAC-SHA256 of its manifest, whose SHA-256
 * sums cover every member. SHA-256 sums alone protect against damage, not against someone
 * who changes a member and recomputes them; without the key, nobody can sign the result.
 * So the key is never in an archive: it lives in DATA_DIR/backup.key, created by the first
 * sauvegarde, and the operator keeps a copy off the server to restore with (--cle).
 */

export const BACKUP_KEY_FILE = 'backup.key';

export interface BackupKey {
  /** Where it was read from, to name it in messages. */
  file: string;
  key: Buffer;
  /** A short public identifier (see keyId): printed, recorded in manifests. */
  id: string;
}

/** Tells keys apart in messages and manifests without revealing anything of them. */
function keyId(key: Buffer): string {
  return createHmac('sha256', key).update('palier:identifiant-de-cle-de-sauvegarde').digest('hex').slice(0, 16);
}

/** "3f2a91bc04de77a1" → "3f2a-91bc-04de-77a1", easier to compare by eye. */
export function formatKeyId(id: string): string {
  return id.match(/.{1,4}/g)!.join('-');
}

function invalidKey(file: string, consequence: string): AppError {
  return new AppError(
    'backup_key_invalid',
    `${file} is not a backup key`,
    `«\u00a0${file}\u00a0» n’est pas une clé de sauvegarde de Palier (une ligne de 64 caractères hexadécimaux attendue). ${consequence}`,
  );
}

/** The key in `file`, or null when there is no such file. */
export function readBackupKey(file: string, consequence: string): BackupKey | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if ((err as NodeJS.ErrnoException).code === 'EISDIR') throw invalidKey(file, consequence);
    throw err;
  }
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw invalidKey(file, consequence);
  const key = Buffer.from(hex, 'hex');
  return { file, key, id: keyId(key) };
}

/**
 * DATA_DIR/backup.key, created (0600) by the first sauvegarde. The file appears whole or not
 * at all; if two sauvegardes start at once, both use the one written first.
 */
export function ensureBackupKey(dataDir: string): BackupKey & { created: boolean } {
  const file = path.join(dataDir, BACKUP_KEY_FILE);
  const consequence = 'Aucune sauvegarde écrite.';
  const existing = readBackupKey(file, consequence);
  if (existing) return { ...existing, created: false };
  const partial = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(partial, 'wx', 0o600);
  try {
    writeSync(fd, `${randomBytes(32).toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    // link() refuses an existing name, where rename() would replace a key already in use.
    linkSync(partial, file);
    return { ...readBackupKey(file, consequence)!, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { ...readBackupKey(file, consequence)!, created: false };
  } finally {
    rmSync(partial, { force: true });
  }
}

/** Domain separation: this key signs Palier manifests and nothing else. */
const MAC_LABEL = 'palier-sauvegarde-manifeste-v2\n';

/** The signature stored beside manifest.json: HMAC-SHA256 of its exact bytes, in hex. */
export function manifestMac(key: Buffer, manifest: Buffer): string {
  return createHmac('sha256', key).update(MAC_LABEL).update(manifest).digest('hex');
}

export function manifestMacMatches(key: Buffer, manifest: Buffer, mac: string): boolean {
  const expected = Buffer.from(manifestMac(key, manifest), 'hex');
  const given = Buffer.from(/^[0-9a-f]{64}$/.test(mac) ? mac : '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
