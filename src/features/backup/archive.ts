import { createHash } from 'node:crypto';
import { chmodSync, closeSync, createReadStream, existsSync, fsyncSync, openSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';

/** SHA-256 of a file, read as a stream so a large document never sits whole in memory. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Regular files under `dir`, as sorted POSIX paths relative to it (symbolic links are not followed). */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) found.push(child);
    }
  };
  walk('');
  return found.sort();
}

/**
 * Writes `members` (paths relative to `cwd`, in this order) to a gzipped tar at `out`,
 * readable by its owner only, and flushed to disk before the caller renames it into place.
 */
export async function packArchive(cwd: string, members: string[], out: string): Promise<void> {
  // portable: no user or group names, so the archive restores the same on another server.
  await tar.c({ gzip: true, file: out, cwd, portable: true, noDirRecurse: true, mode: 0o600 }, members);
  chmodSync(out, 0o600);
  const fd = openSync(out, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The archive cannot be read as a Palier backup: damaged, truncated, or not ours. */
export class ArchiveError extends Error {}

/** Modes of everything restored, whatever the archive says: no setuid bit, nothing for others. */
export const FILE_MODE = 0o600;
export const FOLDER_MODE = 0o700;

/** Gives every file and folder under `dir` (and `dir` itself) the fixed modes above. */
export function fixModes(dir: string): void {
  chmodSync(dir, FOLDER_MODE);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) fixModes(p);
    else if (entry.isFile()) chmodSync(p, FILE_MODE);
  }
}

/**
 * Extracts the archive into `cwd` (a private staging folder) and returns the regular files it
 * held. Anything but plain files and folders (links, devices), a path leaving `cwd`, or a
 * damaged gzip or tar stream is refused. Files get mode 0600 and folders 0700 whatever the
 * archive says: a setuid bit or a world-writable folder never reaches the disk.
 */
export async function unpackArchive(file: string, cwd: string): Promise<string[]> {
  const unexpected: string[] = [];
  const extracted: string[] = [];
  try {
    await tar.x({
      file,
      cwd,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
      // Folders the archive implies without listing them.
      dmode: FOLDER_MODE,
      fmode: FILE_MODE,
      filter: (p, entry) => {
        const type = 'type' in entry ? entry.type : null;
        const name = p.replace(/^\.\//, '').replace(/\/+$/, '');
        if (type === 'Directory') {
          // node-tar creates the entry with this mode: the archive's own is ignored.
          entry.mode = FOLDER_MODE;
          return true;
        }
        if (type === 'File' || type === 'OldFile' || type === 'ContiguousFile') {
          entry.mode = FILE_MODE;
          extracted.push(name);
          return true;
        }
        unexpected.push(name);
        return false;
      },
    });
  } catch (err) {
    throw new ArchiveError(describeTarError(err));
  }
  if (unexpected.length > 0) {
    throw new ArchiveError(`elle contient autre chose que des fichiers ordinaires (« ${unexpected[0]} »)`);
  }
  // Checked again by our own hand, not left to the tar library's handling of modes.
  fixModes(cwd);
  return extracted.sort();
}

function describeTarError(err: unknown): string {
  const e = err as { code?: string; errno?: number; message?: string };
  if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR' || e.errno === -3 || /zlib|gzip/i.test(e.message ?? '')) {
    return 'elle est tronquée ou sa compression est corrompue (contrôle gzip en échec)';
  }
  if (e.code === 'TAR_BAD_ARCHIVE' || e.code === 'TAR_ABORT')
    return 'elle est tronquée ou n’est pas une archive tar.gz';
  if (e.code === 'TAR_ENTRY_INVALID' || e.code === 'TAR_ENTRY_ERROR') {
    return 'une de ses entrées est invalide (chemin absolu ou sortant du dossier, en-tête corrompu)';
  }
  return `elle est illisible (${e.message ?? String(err)})`;
}
