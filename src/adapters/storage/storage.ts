import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Config } from '../../config.ts';
import { createLocalStorage } from './local.ts';
import { createS3Storage } from './s3.ts';

export { isStorageKey, keyExtension, StorageKeyError } from './keys.ts';

/** What put() reports: the generated key to keep in the database, and what was stored. */
export interface StoredFile {
  key: string;
  size: number;
  /** Hex SHA-256 of the stored bytes, computed while writing. */
  sha256: string;
}

export interface PutOptions {
  /** Extension of the key, lowercase letters and digits ("png", "pdf"), chosen by the caller from the content. */
  ext: string;
  /** Start of the key ("logo", "document"), so a person looking at the files knows what they are. */
  prefix?: string;
}

/**
 * Where Palier keeps files (the agency's logo; documents and appels de fonds later). Files
 * get generated names: no caller, let alone a user, ever chooses a path. A backend must:
 * - never overwrite an existing key (local: hard link; S3: a conditional `If-None-Match: *` put),
 *   so two files can never end up under one name;
 * - make a file visible under its key only once it is complete;
 * - refuse any key that isStorageKey rejects, before touching anything.
 * Two backends: a local folder (default) and an S3-compatible bucket (FILES_URL).
 */
export interface Storage {
  put(data: Uint8Array | Readable, opts: PutOptions): Promise<StoredFile>;
  /** The file's bytes, or null when no file has this key. */
  get(key: string): Promise<Readable | null>;
  /** Removes the file; no error when it is already gone. */
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
}

/**
 * The storage this configuration asks for: an S3 bucket when FILES_URL names one, otherwise
 * the local folder DATA_DIR/files.
 * Files are written in DATA_DIR/.incoming first, outside files/ so a backup never copies
 * one half-written, and on the same disk so moving them into place is atomic.
 */
export function createStorage(config: Pick<Config, 'dataDir'> & Partial<Pick<Config, 'files'>>): Storage {
  if (config.files) return createS3Storage(config.files);
  return createLocalStorage({
    dir: path.join(config.dataDir, 'files'),
    incomingDir: path.join(config.dataDir, '.incoming'),
  });
}
