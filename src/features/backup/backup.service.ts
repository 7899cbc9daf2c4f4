import {
  copyFileSync,
  constants as fsConstants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import path from 'node:path';
import type { Config } from '../../config.ts';
import { AppError } from '../../core/errors.ts';
import { verifySecrets } from '../../core/secrets/secrets.ts';
import { createDb, dialectOf, pendingMigrations, type DialectName } from '../../db/db.ts';
import { ArchiveError, FILE_MODE, FOLDER_MODE, listFiles, packArchive, sha256File, unpackArchive } from './archive.ts';
import {
  BACKUP_KEY_FILE,
  ensureBackupKey,
  formatKeyId,
  manifestMac,
  manifestMacMatches,
  readBackupKey,
  type BackupKey,
} from './backup-key.ts';
import {
  DATABASE_MEMBER,
  FILES_PREFIX,
  MANIFEST_MAC_NAME,
  MANIFEST_NAME,
  manifestSchema,
  palierVersion,
  SECRETS_MEMBER,
  type Manifest,
} from './manifest.ts';
import { checkDump, postgresTables, restorePostgres, snapshotPostgres } from './postgres.ts';
import {
  inspectSqlite,
  removeSqlite,
  requireSqliteDatabase,
  snapshotSqlite,
  sqliteFamily,
  sqliteFile,
  sqliteHoldsDatabase,
  type DatabaseContents,
} from './sqlite.ts';

/**
 * `palier sauvegarde` / `palier restauration`: one gzipped tar holding a consistent copy of
 * the database, the stored files (DATA_DIR/files) and secrets.json, with a manifest of
 * SHA-256 sums signed by the backup key (kept outside the archive), both checked before a
 * restore writes anything.
 */

type BackupConfig = Pick<Config, 'dataDir' | 'databaseUrl'>;

export interface BackupSummary {
  file: string;
  bytes: number;
  manifest: Manifest;
  /** The key that signed it; `created` by this sauvegarde (the first one). */
  key: { file: string; id: string; created: boolean };
}

export interface RestoreSummary {
  manifest: Manifest;
  /** Where the database went: the SQLite file, or DATABASE_URL for PostgreSQL. */
  databaseTarget: string;
  filesDir: string;
  /** True when --forcer replaced existing data. */
  replaced: boolean;
  /** The key that authenticated the archive; `installed`: copied to DATA_DIR/backup.key, which had none. */
  key: { file: string; id: string; installed: string | null };
}

const filesDirOf = (config: BackupConfig) => path.join(config.dataDir, 'files');

/** Moves a staged file or folder into place; a copy when the two are on different disks. */
function moveInto(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    const tmp = `${to}.restauration-${process.pid}`;
    if (statSync(from).isDirectory()) {
      mkdirSync(tmp, { recursive: true, mode: FOLDER_MODE });
      for (const rel of listFiles(from)) {
        mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true, mode: FOLDER_MODE });
        copyFileSync(path.join(from, rel), path.join(tmp, rel));
        chmodSync(path.join(tmp, rel), FILE_MODE);
      }
    } else {
      copyFileSync(from, tmp);
      chmodSync(tmp, FILE_MODE);
    }
    renameSync(tmp, to);
  }
}

// ---------------------------------------------------------------------------
// sauvegarde

export async function createBackup(
  config: BackupConfig,
  outFile: string,
  opts: { now?: () => Date } = {},
): Promise<BackupSummary> {
  const out = path.resolve(outFile);
  const outDir = path.dirname(out);
  if (!existsSync(outDir) || !statSync(outDir).isDirectory()) {
    throw new AppError(
      'backup_no_folder',
      `no folder ${outDir}`,
      `Le dossier « ${outDir} » n’existe pas : créez-le ou choisissez un autre emplacement pour la sauvegarde.`,
    );
  }
  if (existsSync(out) && statSync(out).isDirectory()) {
    throw new AppError(
      'backup_is_folder',
      `${out} is a folder`,
      `« ${out} » est un dossier : indiquez un nom de fichier.`,
    );
  }
  const dialect = dialectOf(config.databaseUrl);
  const live = [path.join(config.dataDir, SECRETS_MEMBER), path.join(config.dataDir, BACKUP_KEY_FILE)];
  if (dialect === 'sqlite') live.push(...sqliteFamily(sqliteFile(config.databaseUrl)));
  const filesDir = filesDirOf(config);
  if (live.includes(out) || out.startsWith(filesDir + path.sep)) {
    throw new AppError(
      'backup_inside_data',
      `archive path ${out} is live data`,
      `« ${out} » est un fichier de données de Palier : écrivez la sauvegarde ailleurs (hors de DATA_DIR/files), de préférence sur un autre disque.`,
    );
  }
  // An archive whose keys match nothing in its database would be useless: DATA_DIR must
  // hold this database's secrets. Never creates any (opening a missing SQLite file would).
  if (dialect === 'sqlite') requireSqliteDatabase(sqliteFile(config.databaseUrl));
  await verifySecrets(config);
  const key = ensureBackupKey(config.dataDir);
  // Staged beside the archive (mode 0700): same disk for the final rename, no one else can read it.
  const staging = mkdtempSync(path.join(outDir, '.palier-sauvegarde-'));
  try {
    const content = path.join(staging, 'contenu');
    mkdirSync(content);
    const now = (opts.now ?? (() => new Date()))();

    // The database first, then the files: a file is stored before any row names it, so
    // every file the copied database refers to already exists when the files are copied.
    const dbMember = DATABASE_MEMBER[dialect];
    const contents: DatabaseContents =
      dialect === 'sqlite'
        ? await snapshotSqlite(sqliteFile(config.databaseUrl), path.join(content, dbMember))
        : await snapshotPostgres(config.databaseUrl, path.join(content, dbMember));

    // Checked against the database above.
    copyFileSync(path.join(config.dataDir, SECRETS_MEMBER), path.join(content, SECRETS_MEMBER));

    const files = listFiles(filesDir);
    for (const rel of files) {
      const dest = path.join(content, FILES_PREFIX, rel);
      mkdirSync(path.dirname(dest), { recursive: true });
      // Copy-on-write clone where the file system allows it: instant and no extra space.
      copyFileSync(path.join(filesDir, rel), dest, fsConstants.COPYFILE_FICLONE);
    }

    const memberPaths = [dbMember, SECRETS_MEMBER, ...files.map((f) => FILES_PREFIX + f)];
    const members = [];
    // Sums of the staged copies: exactly the bytes that go into the archive.
    for (const p of memberPaths) {
      const file = path.join(content, p);
      members.push({ path: p, size: statSync(file).size, sha256: await sha256File(file) });
    }
    const manifest: Manifest = {
      format: 'palier-sauvegarde',
      format_version: 2,
      key_id: key.id,
      palier_version: palierVersion(),
      dialect,
      created_at: now.toISOString(),
      migrations: contents.migrations,
      tables: contents.tables,
      file_count: files.length,
      members,
    };
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(path.join(content, MANIFEST_NAME), manifestBytes, { mode: 0o600 });
    writeFileSync(path.join(content, MANIFEST_MAC_NAME), `${manifestMac(key.key, manifestBytes)}\n`, { mode: 0o600 });

    const partial = path.join(staging, 'archive.tar.gz');
    await packArchive(content, [MANIFEST_NAME, MANIFEST_MAC_NAME, ...memberPaths], partial);
    // The archive appears under its name only once complete: a crash never leaves half an archive there.
    renameSync(partial, out);
    return {
      file: out,
      bytes: statSync(out).size,
      manifest,
      key: { file: key.file, id: key.id, created: key.created },
    };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// restauration

const DIALECT_LABEL: Record<DialectName, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

function damaged(file: string, why: string): AppError {
  return new AppError(
    'restore_damaged',
    `damaged archive ${file}: ${why}`,
    `L’archive « ${file} » est endommagée : ${why}. Rien n’a été restauré.`,
  );
}

/** Why a manifest's signature does not hold: unsigned, another key, or changed since. */
function unauthenticated(file: string, manifest: Buffer, signed: boolean, key: BackupKey): AppError {
  if (!signed) {
    return new AppError(
      'restore_unsigned',
      `no ${MANIFEST_MAC_NAME} in ${file}`,
      `L’archive «\u00a0${file}\u00a0» n’est pas signée par une clé de sauvegarde\u00a0: elle a été faite par une version de Palier qui ne signait pas ses sauvegardes, ou modifiée depuis. ` +
        'Son contenu ne peut pas être authentifié\u00a0: faites une nouvelle sauvegarde avec cette version de Palier. Rien n’a été restauré.',
    );
  }
  // Read without trusting it, only to say which key the archive claims.
  let claimed: unknown;
  try {
    claimed = (JSON.parse(manifest.toString('utf8')) as { key_id?: unknown }).key_id;
  } catch {
    claimed = null;
  }
  if (typeof claimed === 'string' && /^[0-9a-f]{16}$/.test(claimed) && claimed !== key.id) {
    return new AppError(
      'restore_other_key',
      `${file} claims key ${claimed}, given ${key.id}`,
      `L’archive «\u00a0${file}\u00a0» n’a pas été signée avec la clé de sauvegarde «\u00a0${key.file}\u00a0» (empreinte ${formatKeyId(key.id)}), mais avec une autre (empreinte ${formatKeyId(claimed)})\u00a0: ` +
        'indiquez avec --cle FICHIER la copie du fichier backup.key du serveur qui l’a faite. Rien n’a été restauré.',
    );
  }
  return new AppError(
    'restore_altered',
    `${MANIFEST_MAC_NAME} does not match in ${file}`,
    `L’archive «\u00a0${file}\u00a0» a été modifiée depuis sa création\u00a0: son manifeste ne correspond plus à sa signature par la clé de sauvegarde «\u00a0${key.file}\u00a0» (empreinte ${formatKeyId(key.id)}). Rien n’a été restauré.`,
  );
}

/**
 * Reads and checks the staged archive: the manifest's signature by the backup key first
 * (nothing of a manifest is trusted before), then the exact member list and every SHA-256.
 */
async function verifyStaged(file: string, content: string, extracted: string[], key: BackupKey): Promise<Manifest> {
  if (!extracted.includes(MANIFEST_NAME)) {
    throw damaged(file, 'elle ne contient pas de manifest.json (ce n’est pas une sauvegarde Palier)');
  }
  const manifestBytes = readFileSync(path.join(content, MANIFEST_NAME));
  const mac = extracted.includes(MANIFEST_MAC_NAME)
    ? readFileSync(path.join(content, MANIFEST_MAC_NAME), 'utf8').trim()
    : null;
  if (mac === null || !manifestMacMatches(key.key, manifestBytes, mac)) {
    throw unauthenticated(file, manifestBytes, mac !== null, key);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(manifestBytes.toString('utf8'));
  } catch {
    throw damaged(file, 'son manifest.json est illisible');
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw damaged(
      file,
      `son manifest.json n’est pas celui d’une sauvegarde Palier (${first?.path.join('.') || 'format'})`,
    );
  }
  const manifest = parsed.data;
  const expected = new Set(manifest.members.map((m) => m.path));
  const stray = extracted.find((p) => p !== MANIFEST_NAME && p !== MANIFEST_MAC_NAME && !expected.has(p));
  if (stray) throw damaged(file, `« ${stray} » n’est pas dans son manifeste`);
  for (const m of manifest.members) {
    const staged = path.join(content, m.path);
    if (!extracted.includes(m.path)) throw damaged(file, `« ${m.path} » annoncé par le manifeste est absent`);
    const sum = await sha256File(staged);
    if (sum !== m.sha256 || statSync(staged).size !== m.size) {
      throw damaged(file, `le contenu de « ${m.path} » ne correspond pas à sa somme de contrôle SHA-256`);
    }
  }
  const dbMember = DATABASE_MEMBER[manifest.dialect];
  if (!expected.has(dbMember)) throw damaged(file, `la copie de la base (« ${dbMember} ») manque`);
  if (!expected.has(SECRETS_MEMBER)) throw damaged(file, 'secrets.json manque');
  if (manifest.members.filter((m) => m.path.startsWith(FILES_PREFIX)).length !== manifest.file_count) {
    throw damaged(file, 'le nombre de fichiers ne correspond pas au manifeste');
  }
  return manifest;
}

/** Migrations this version of Palier knows (read from a throwaway in-memory database). */
async function knownMigrations(): Promise<Set<string>> {
  const db = createDb('sqlite:');
  try {
    return new Set(await pendingMigrations(db));
  } finally {
    await db.destroy();
  }
}

function sameCounts(expected: Record<string, number>, actual: Record<string, number>): string | null {
  for (const [table, n] of Object.entries(expected)) {
    if (actual[table] !== n) return `${table} : ${actual[table] ?? 'absente'} ligne(s) au lieu de ${n}`;
  }
  const extra = Object.keys(actual).find((t) => !(t in expected));
  return extra ? `table ${extra} inattendue` : null;
}

/** The key to authenticate with: --cle, or else DATA_DIR/backup.key (a restore on the same server). */
function restoreKey(config: BackupConfig, archive: string, keyFile: string | undefined): BackupKey {
  const nothing = 'Rien n’a été restauré.';
  if (keyFile !== undefined) {
    const file = path.resolve(keyFile);
    const key = readBackupKey(file, nothing);
    if (key) return key;
    throw new AppError(
      'restore_no_key',
      `no key file ${file}`,
      `Clé de sauvegarde introuvable\u00a0: «\u00a0${file}\u00a0» n’existe pas. ${nothing}`,
    );
  }
  const key = readBackupKey(path.join(config.dataDir, BACKUP_KEY_FILE), nothing);
  if (key) return key;
  throw new AppError(
    'restore_no_key',
    `no --cle and no ${BACKUP_KEY_FILE} in ${config.dataDir}`,
    `Clé de sauvegarde introuvable\u00a0: une archive ne se restaure qu’avec la clé du serveur qui l’a faite, son fichier DATA_DIR/backup.key, dont vous gardez une copie hors du serveur. ` +
      `Indiquez-la avec --cle FICHIER, par exemple\u00a0: npx palier restauration --cle /chemin/vers/backup.key ${archive}. ${nothing}`,
  );
}

export async function restoreBackup(
  config: BackupConfig,
  archiveFile: string,
  opts: { force?: boolean; keyFile?: string } = {},
): Promise<RestoreSummary> {
  const file = path.resolve(archiveFile);
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new AppError('restore_no_file', `no file ${file}`, `Archive introuvable : « ${file} ».`);
  }
  // Before anything is created: without the key, nothing in the archive can be trusted.
  const key = restoreKey(config, file, opts.keyFile);
  const dialect = dialectOf(config.databaseUrl);
  const filesDir = filesDirOf(config);
  const createdDataDir = mkdirSync(config.dataDir, { recursive: true, mode: FOLDER_MODE });
  // Staged inside DATA_DIR (private, same disk) so that putting it in place is a rename.
  const staging = mkdtempSync(path.join(config.dataDir, '.restauration-'));
  try {
    const content = path.join(staging, 'contenu');
    mkdirSync(content);
    let extracted: string[];
    try {
      extracted = await unpackArchive(file, content);
    } catch (err) {
      if (err instanceof ArchiveError) throw damaged(file, err.message);
      throw err;
    }
    const manifest = await verifyStaged(file, content, extracted, key);

    if (manifest.dialect !== dialect) {
      throw new AppError(
        'restore_other_dialect',
        `archive is ${manifest.dialect}, configured ${dialect}`,
        `Cette sauvegarde vient d’une base ${DIALECT_LABEL[manifest.dialect]}, mais Palier est configuré ici pour ${DIALECT_LABEL[dialect]} (DATABASE_URL). ` +
          `Une restauration d’un type de base vers l’autre n’est pas possible : restaurez-la dans une installation configurée pour ${DIALECT_LABEL[manifest.dialect]}. Rien n’a été restauré.`,
      );
    }
    const known = await knownMigrations();
    const unknown = manifest.migrations.find((m) => !known.has(m));
    if (unknown) {
      throw new AppError(
        'restore_newer',
        `unknown migration ${unknown}`,
        `Cette sauvegarde vient d’une version plus récente de Palier (${manifest.palier_version}, migration « ${unknown} » inconnue ici) : mettez Palier à jour, puis restaurez-la. Rien n’a été restauré.`,
      );
    }

    // What is already there: refused unless --forcer.
    const present: string[] = [];
    const sqlitePath = dialect === 'sqlite' ? sqliteFile(config.databaseUrl) : null;
    if (sqlitePath && sqliteHoldsDatabase(sqlitePath)) present.push(`une base (« ${sqlitePath} »)`);
    const pgTables = dialect === 'postgres' ? await postgresTables(config.databaseUrl) : [];
    if (pgTables.length > 0) {
      present.push(`une base PostgreSQL non vide (${pgTables.length} table${pgTables.length > 1 ? 's' : ''})`);
    }
    const existingFiles = listFiles(filesDir).length;
    if (existingFiles > 0) {
      present.push(`${existingFiles} fichier${existingFiles > 1 ? 's' : ''} dans « ${filesDir} »`);
    }
    if (present.length > 0 && !opts.force) {
      throw new AppError(
        'restore_not_empty',
        `target not empty: ${present.join(', ')}`,
        `La destination n’est pas vide : elle contient déjà ${present.join(' et ')}. ` +
          `Restaurez dans un DATA_DIR vide${dialect === 'postgres' ? ' et une base PostgreSQL vide' : ''}, ou relancez avec --forcer pour remplacer ces données. Rien n’a été restauré.`,
      );
    }

    const stagedDb = path.join(content, DATABASE_MEMBER[dialect]);
    let databaseTarget: string;
    if (sqlitePath) {
      // Checked before the live file is touched: SQLite's own integrity check, then the row counts.
      const found = inspectSqlite(stagedDb);
      const mismatch = found.integrity === 'ok' ? sameCounts(manifest.tables, found.tables) : found.integrity;
      if (mismatch) throw damaged(file, `la copie de la base est incohérente (${mismatch})`);
      mkdirSync(path.dirname(sqlitePath), { recursive: true, mode: FOLDER_MODE });
      removeSqlite(sqlitePath);
      moveInto(stagedDb, sqlitePath);
      databaseTarget = sqlitePath;
    } else {
      await checkDump(config.databaseUrl, stagedDb);
      const found = await restorePostgres(config.databaseUrl, stagedDb, { replace: pgTables.length > 0 });
      const mismatch = sameCounts(manifest.tables, found.tables);
      if (mismatch) {
        throw new AppError(
          'restore_pg_mismatch',
          `restored counts differ: ${mismatch}`,
          `La base restaurée ne correspond pas au manifeste (${mismatch}) : vérifiez-la avant de démarrer Palier.`,
        );
      }
      databaseTarget = 'DATABASE_URL';
    }

    rmSync(filesDir, { recursive: true, force: true });
    const stagedFiles = path.join(content, 'files');
    if (existsSync(stagedFiles)) moveInto(stagedFiles, filesDir);
    else mkdirSync(filesDir, { recursive: true, mode: FOLDER_MODE });

    // Last: the keys that make the restored codes, cookies and encrypted codes usable.
    const secrets = path.join(config.dataDir, SECRETS_MEMBER);
    writeFileSync(secrets, readFileSync(path.join(content, SECRETS_MEMBER)), { mode: FILE_MODE });
    chmodSync(secrets, FILE_MODE);

    // The restored server's next sauvegardes use the same key, which the operator already keeps.
    const installedKey = path.join(config.dataDir, BACKUP_KEY_FILE);
    let installed: string | null = null;
    if (!existsSync(installedKey)) {
      writeFileSync(installedKey, `${key.key.toString('hex')}\n`, { mode: FILE_MODE, flag: 'wx' });
      installed = installedKey;
    }

    return {
      manifest,
      databaseTarget,
      filesDir,
      replaced: present.length > 0,
      key: { file: key.file, id: key.id, installed },
    };
  } finally {
    rmSync(staging, { recursive: true, force: true });
    // A refused restore leaves no DATA_DIR it created (rmdir: only if nothing was written there).
    if (createdDataDir) {
      try {
        rmdirSync(createdDataDir);
      } catch {
        // Restored data is in it.
      }
    }
  }
}
