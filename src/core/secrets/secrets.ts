import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { BootConfig, Config, Secrets } from '../../config.ts';
import { createDb, migrateToLatest, type Db, type DbOptions } from '../../db/db.ts';
import { AppError } from '../errors.ts';
import { databaseHoldsData, getSecretsFingerprint, recordSecretsFingerprint } from './secrets.repository.ts';

/**
 * DATA_DIR/secrets.json and the database belong together: access codes are hashed and
 * encrypted, cookies signed, with these keys. The database keeps a fingerprint of them, so
 * a command or a server pointed at another DATA_DIR (or none) refuses instead of creating
 * new keys that match nothing. Secrets are created only with a new, empty database.
 */

export const SECRETS_FILE = 'secrets.json';

/** Each key signs this constant: the result tells keys apart without revealing them. */
const FINGERPRINT_LABEL = 'palier:empreinte-des-secrets:v1';

/** SHA-256 of each key's HMAC of a constant: stored in the database, useless to find the keys. */
export function secretsFingerprint(secrets: Secrets): string {
  const hash = createHash('sha256');
  for (const key of [secrets.cookieSecret, secrets.hmacKey, secrets.encryptionKey]) {
    hash.update(createHmac('sha256', key).update(FINGERPRINT_LABEL).digest());
  }
  return hash.digest('hex');
}

const secretsSchema = z.object({
  cookieSecret: z.string().min(1),
  hmacKey: z.string().min(1),
  encryptionKey: z.string().min(1),
});

function unreadable(dataDir: string, why: string): AppError {
  return new AppError(
    'secrets_unreadable',
    `unreadable ${path.join(dataDir, SECRETS_FILE)}: ${why}`,
    `Les secrets de DATA_DIR (${dataDir}) sont illisibles\u00a0: «\u00a0${path.join(dataDir, SECRETS_FILE)}\u00a0» n’est pas un fichier de secrets de Palier (${why}). Rien n’a été modifié.`,
  );
}

function differentSecrets(dataDir: string): AppError {
  return new AppError(
    'secrets_different',
    `${path.join(dataDir, SECRETS_FILE)} does not match the database's fingerprint`,
    `Les secrets de DATA_DIR (${dataDir}) ne correspondent pas à cette base\u00a0: «\u00a0${path.join(dataDir, SECRETS_FILE)}\u00a0» n’est pas le fichier de secrets avec lequel elle a été créée, ses codes d’accès, ses codes chiffrés et ses sessions seraient inutilisables. ` +
      'Vérifiez que DATA_DIR et DATABASE_URL désignent le dossier de données et la base d’une même installation. Rien n’a été modifié.',
  );
}

function missingSecrets(dataDir: string, databaseHasOwn: boolean): AppError {
  const file = path.join(dataDir, SECRETS_FILE);
  return new AppError(
    'secrets_missing',
    `no ${file}${databaseHasOwn ? ' for a database that has data' : ''}`,
    databaseHasOwn
      ? `Les secrets de DATA_DIR (${dataDir}) sont introuvables\u00a0: «\u00a0${file}\u00a0» n’existe pas, alors que cette base a déjà les siens (ses codes d’accès et ses codes chiffrés en dépendent). ` +
          'Vérifiez que DATA_DIR désigne le dossier de données de cette base\u202f; si son secrets.json est perdu, restaurez une sauvegarde (npx palier restauration). Rien n’a été modifié.'
      : `Les secrets de DATA_DIR (${dataDir}) sont introuvables\u00a0: «\u00a0${file}\u00a0» n’existe pas. ` +
          'Vérifiez DATA_DIR\u202f; Palier ne crée des secrets qu’avec une base neuve, au premier démarrage ou à la première commande. Rien n’a été modifié.',
  );
}

/** The secrets of DATA_DIR, or null when it has none. */
export function readSecretsFile(dataDir: string): Secrets | null {
  const file = path.join(dataDir, SECRETS_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw unreadable(dataDir, (err as Error).message);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw unreadable(dataDir, 'JSON invalide');
  }
  const parsed = secretsSchema.safeParse(raw);
  if (!parsed.success) throw unreadable(dataDir, `clé manquante\u00a0: ${parsed.error.issues[0]?.path.join('.')}`);
  return parsed.data;
}

/**
 * New random keys written to DATA_DIR/secrets.json (0600). Only for a new, empty database
 * (openDatabase) or a test preparing a data folder. The file appears whole or not at all;
 * when another process starting on the same new install wrote it first, its keys are
 * returned instead, so both use the same.
 */
export function writeNewSecrets(dataDir: string): Secrets {
  const secrets: Secrets = {
    cookieSecret: randomBytes(32).toString('base64url'),
    hmacKey: randomBytes(32).toString('base64url'),
    encryptionKey: randomBytes(32).toString('base64url'),
  };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, SECRETS_FILE);
  const partial = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(partial, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify(secrets, null, 2));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    // link() refuses an existing name, where rename() would replace another process's keys.
    linkSync(partial, file);
    return secrets;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readSecretsFile(dataDir)!;
  } finally {
    rmSync(partial, { force: true });
  }
}

/**
 * THE check, for the server and every command: the secrets of DATA_DIR if the database's
 * fingerprint says they are its own; new ones if `mayCreate` and the database is new and
 * empty; a French refusal naming DATA_DIR otherwise. A database without a fingerprint
 * (created before them) takes the secrets found beside it. `recorded`: whether the
 * database already holds their fingerprint.
 */
async function checkSecrets(
  db: Db,
  dataDir: string,
  mayCreate: boolean,
): Promise<{ secrets: Secrets; recorded: boolean }> {
  for (let attempt = 1; ; attempt++) {
    const recorded = await getSecretsFingerprint(db);
    const onDisk = readSecretsFile(dataDir);
    if (onDisk) {
      if (recorded !== null && recorded !== secretsFingerprint(onDisk)) throw differentSecrets(dataDir);
      return { secrets: onDisk, recorded: recorded !== null };
    }
    if (recorded === null && !(await databaseHoldsData(db))) {
      if (!mayCreate) throw missingSecrets(dataDir, false);
      return { secrets: writeNewSecrets(dataDir), recorded: false };
    }
    // Another process starting on the same new install may have filled the database since
    // secrets.json was read; it wrote that file before any row: read again, once.
    if (attempt === 2) throw missingSecrets(dataDir, true);
  }
}

/**
 * Opens the database for the server or a command: DATA_DIR created private, secrets
 * checked (or created with a new database), migrations applied, the fingerprint recorded.
 * Refuses, in French, a database whose secrets are missing or different.
 */
export async function openDatabase(boot: BootConfig, dbOptions: DbOptions = {}): Promise<{ config: Config; db: Db }> {
  // Private from the start: the database, secrets.json and files/ are created inside.
  const created = mkdirSync(boot.dataDir, { recursive: true, mode: 0o700 });
  const db = createDb(boot.databaseUrl, dbOptions);
  try {
    const { secrets, recorded } = await checkSecrets(db, boot.dataDir, true);
    await migrateToLatest(db);
    // Written once, by the first process to open a new database (or one older than
    // fingerprints); another may have recorded other keys meanwhile (two DATA_DIRs, one new database).
    const fingerprint = secretsFingerprint(secrets);
    if (!recorded && (await recordSecretsFingerprint(db, fingerprint)) !== fingerprint) {
      throw differentSecrets(boot.dataDir);
    }
    return { config: { ...boot, secrets }, db };
  } catch (err) {
    await db.destroy();
    // A refused command leaves no empty DATA_DIR behind (a folder holding anything stays).
    if (created) {
      try {
        rmdirSync(created);
      } catch {
        // Not empty: a new SQLite database was created in it.
      }
    }
    throw err;
  }
}

/**
 * For a command that reads the live database and must create nothing (sauvegarde): the
 * secrets of DATA_DIR if they are this database's, the same refusals as openDatabase
 * otherwise. No migration, no fingerprint written.
 */
export async function verifySecrets(boot: Pick<BootConfig, 'dataDir' | 'databaseUrl'>): Promise<Secrets> {
  const db = createDb(boot.databaseUrl);
  try {
    return (await checkSecrets(db, boot.dataDir, false)).secrets;
  } finally {
    await db.destroy();
  }
}
