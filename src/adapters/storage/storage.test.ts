import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStorage, isStorageKey, keyExtension, StorageKeyError, type Storage } from './storage.ts';

async function bytesOf(stream: Readable | null): Promise<Buffer | null> {
  if (!stream) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('local storage', () => {
  let dataDir: string;
  let files: string;
  let storage: Storage;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'palier-storage-'));
    files = path.join(dataDir, 'files');
    storage = createStorage({ dataDir });
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('stores bytes under a generated name, readable by its owner only, and serves them back', async () => {
    const content = Buffer.from('contenu du fichier');
    const stored = await storage.put(content, { ext: 'txt' });
    expect(stored.key).toMatch(/^[0-9a-f]{16}\.txt$/);
    expect(stored.size).toBe(content.length);
    expect(stored.sha256).toBe(createHash('sha256').update(content).digest('hex'));

    const file = path.join(files, stored.key);
    expect(readFileSync(file).equals(content)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(files).mode & 0o777).toBe(0o700);
    expect(await storage.exists(stored.key)).toBe(true);
    expect((await bytesOf(await storage.get(stored.key)))!.equals(content)).toBe(true);
    // Nothing is left behind in the folder put() writes in first.
    expect(readdirSync(path.join(dataDir, '.incoming'))).toEqual([]);
  });

  it('stores a stream, with the prefix asked for, and a new name each time', async () => {
    const parts = [Buffer.from('une '), Buffer.from('deux '), Buffer.from('trois')];
    const a = await storage.put(Readable.from(parts), { ext: 'pdf', prefix: 'document' });
    const b = await storage.put(Readable.from(parts), { ext: 'pdf', prefix: 'document' });
    expect(a.key).toMatch(/^document-[0-9a-f]{16}\.pdf$/);
    expect(b.key).not.toBe(a.key);
    expect(a.size).toBe(14);
    expect(a.sha256).toBe(b.sha256);
    expect(readFileSync(path.join(files, a.key), 'utf8')).toBe('une deux trois');
    expect(keyExtension(a.key)).toBe('pdf');
  });

  it('deletes a file, and deleting it again is no error', async () => {
    const { key } = await storage.put(Buffer.from('x'), { ext: 'png', prefix: 'logo' });
    await storage.delete(key);
    expect(existsSync(path.join(files, key))).toBe(false);
    expect(await storage.exists(key)).toBe(false);
    expect(await storage.get(key)).toBeNull();
    await expect(storage.delete(key)).resolves.toBeUndefined();
  });

  it('answers null and false for a key nobody stored, even before the folder exists', async () => {
    expect(await storage.get('logo-0123456789abcdef.png')).toBeNull();
    expect(await storage.exists('logo-0123456789abcdef.png')).toBe(false);
  });

  it.each([
    '../../x',
    '../secrets.json',
    '../files/logo.png',
    '/etc/passwd',
    'a/b.png',
    'a\\b.png',
    '.incoming.png',
    '..png',
    'logo.png/..',
    'logo.PNG',
    'logo',
    'logo.png\u0000.txt',
    '',
  ])('refuses the key %j before touching anything', async (key) => {
    expect(isStorageKey(key)).toBe(false);
    await expect(storage.get(key)).rejects.toBeInstanceOf(StorageKeyError);
    await expect(storage.exists(key)).rejects.toBeInstanceOf(StorageKeyError);
    await expect(storage.delete(key)).rejects.toBeInstanceOf(StorageKeyError);
  });

  it('never deletes or reads outside its folder', async () => {
    writeFileSync(path.join(dataDir, 'x'), 'à garder');
    mkdirSync(files);
    await expect(storage.delete('../x')).rejects.toBeInstanceOf(StorageKeyError);
    expect(readFileSync(path.join(dataDir, 'x'), 'utf8')).toBe('à garder');
    // A symbolic link planted in the folder is not followed.
    symlinkSync(path.join(dataDir, 'x'), path.join(files, 'lien.png'));
    expect(await storage.get('lien.png')).toBeNull();
    expect(await storage.exists('lien.png')).toBe(false);
  });

  it('refuses an extension or prefix it would not generate, writing nothing', async () => {
    await expect(storage.put(Buffer.from('x'), { ext: '../png' })).rejects.toThrow('invalid storage extension');
    await expect(storage.put(Buffer.from('x'), { ext: 'png', prefix: '../logo' })).rejects.toThrow(
      'invalid storage prefix',
    );
    expect(existsSync(files)).toBe(false);
  });

  it('keeps nothing of a stream that fails half way', async () => {
    async function* failing() {
      yield Buffer.from('début');
      throw new Error('connexion coupée');
    }
    await expect(storage.put(Readable.from(failing()), { ext: 'pdf' })).rejects.toThrow('connexion coupée');
    expect(readdirSync(files)).toEqual([]);
    expect(readdirSync(path.join(dataDir, '.incoming'))).toEqual([]);
  });

  it('accepts the keys of files stored before it existed', () => {
    expect(isStorageKey('logo-sauvegarde.png')).toBe(true);
    expect(isStorageKey('logo-0123456789abcdef.jpg')).toBe(true);
  });
});
