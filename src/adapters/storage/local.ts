import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { checkKey, generateKey } from './keys.ts';
import type { PutOptions, Storage, StoredFile } from './storage.ts';

export interface LocalStorageOptions {
  /** Where the files live, under their keys. */
  dir: string;
  /** Where put() writes before moving a complete file into dir; must be on the same disk. */
  incomingDir: string;
}

/** How many keys put() draws before giving up: a second collision in 2^64 means a broken random source. */
const MAX_DRAWS = 3;

/** Files in one local folder, readable by Palier's user only (0600, folders 0700). */
export function createLocalStorage(opts: LocalStorageOptions): Storage {
  const { dir, incomingDir } = opts;
  const fileOf = (key: string) => path.join(dir, checkKey(key));

  return {
    async put(data: Uint8Array | Readable, putOpts: PutOptions): Promise<StoredFile> {
      // Checked before writing anything: a bad extension is a bug, not a file to clean up.
      let key = generateKey(putOpts);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await mkdir(incomingDir, { recursive: true, mode: 0o700 });
      const temp = path.join(incomingDir, `${randomBytes(8).toString('hex')}.part`);
      try {
        const written = await writeSynced(temp, data);
        for (let draw = 1; ; draw++) {
          try {
            // link() never replaces an existing file, unlike rename(): an existing key is never lost.
            await link(temp, path.join(dir, key));
            break;
          } catch (err) {
            if (errno(err) !== 'EEXIST' || draw >= MAX_DRAWS) throw err;
            key = generateKey(putOpts);
          }
        }
        // The new name must survive a crash: the database will refer to it once put() returns.
        await syncDir(dir);
        return { key, ...written };
      } finally {
        await unlink(temp).catch(() => {});
      }
    },

    async get(key: string): Promise<Readable | null> {
      const file = fileOf(key);
      let handle;
      try {
        // O_NOFOLLOW: a symbolic link planted in the folder is not followed out of it.
        handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
      } catch (err) {
        if (['ENOENT', 'ELOOP', 'EISDIR'].includes(errno(err) ?? '')) return null;
        throw err;
      }
      let isFile = false;
      try {
        isFile = (await handle.stat()).isFile();
      } finally {
        if (!isFile) await handle.close();
      }
      // The stream owns the handle from here and closes it when done or destroyed.
      return isFile ? handle.createReadStream() : null;
    },

    async delete(key: string): Promise<void> {
      try {
        await unlink(fileOf(key));
      } catch (err) {
        if (errno(err) !== 'ENOENT') throw err;
      }
    },

    async exists(key: string): Promise<boolean> {
      try {
        return (await lstat(fileOf(key))).isFile();
      } catch (err) {
        if (errno(err) === 'ENOENT') return false;
        throw err;
      }
    },
  };
}

/** Writes data to a new file (0600), hashing it on the way, and flushes it to disk. */
async function writeSynced(file: string, data: Uint8Array | Readable): Promise<Omit<StoredFile, 'key'>> {
  const hash = createHash('sha256');
  let size = 0;
  const handle = await open(file, 'wx', 0o600);
  try {
    const chunks: AsyncIterable<unknown> | Iterable<Uint8Array> = data instanceof Uint8Array ? [data] : data;
    for await (const chunk of chunks) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
      hash.update(bytes);
      size += bytes.length;
      for (let offset = 0; offset < bytes.length;) {
        offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { size, sha256: hash.digest('hex') };
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}
