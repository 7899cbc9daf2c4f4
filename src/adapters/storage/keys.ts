import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { PutOptions } from './storage.ts';

/** A key that no backend accepts (a path, "..", a name we would never generate): a bug or tampering. */
export class StorageKeyError extends Error {
  constructor(key: string) {
    super(`invalid storage key: ${JSON.stringify(key.slice(0, 100))}`);
    this.name = 'StorageKeyError';
  }
}

/**
 * One flat file name: no separator, no leading dot, one extension. Wider than what
 * generateKey makes, because keys stored before this adapter existed (and by the backup
 * tests) follow the same shape with other words than random hex.
 */
const KEY = /^[a-z0-9][a-z0-9_-]{0,99}\.[a-z0-9]{1,10}$/;
const EXT = /^[a-z0-9]{1,10}$/;
const PREFIX = /^[a-z][a-z0-9]{0,31}$/;

export function isStorageKey(key: string): boolean {
  return KEY.test(key);
}

export function checkKey(key: string): string {
  if (!isStorageKey(key)) throw new StorageKeyError(key);
  return key;
}

/** The key's extension ("png"), which the content was judged to be when it was stored. */
export function keyExtension(key: string): string {
  return path.extname(checkKey(key)).slice(1);
}

/**
 * A new random key. 64 bits keep the names short (the existing `logo-<16 hex>.png`); they
 * are not secrets (routes decide who reads what), and backends refuse to overwrite, so a
 * collision makes put() draw again instead of losing a file.
 */
export function generateKey(opts: PutOptions): string {
  if (!EXT.test(opts.ext)) throw new Error(`invalid storage extension: ${JSON.stringify(opts.ext)}`);
  if (opts.prefix !== undefined && !PREFIX.test(opts.prefix)) {
    throw new Error(`invalid storage prefix: ${JSON.stringify(opts.prefix)}`);
  }
  const random = randomBytes(8).toString('hex');
  return `${opts.prefix ? `${opts.prefix}-` : ''}${random}.${opts.ext}`;
}
