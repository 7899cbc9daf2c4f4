import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type S3Server } from '../../../test/helpers/s3.ts';
import { parseFilesUrl } from '../../config.ts';
import { createStorage, StorageKeyError, type Storage } from './storage.ts';

async function bytesOf(stream: Readable | null): Promise<Buffer | null> {
  if (!stream) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('FILES_URL', () => {
  it('names a bucket, a folder, an endpoint and a region', () => {
    expect(
      parseFilesUrl('s3://palier-docs/agence/fichiers/?endpoint=http://127.0.0.1:9000&region=fr-par', 'K', 'S'),
    ).toEqual({
      bucket: 'palier-docs',
      prefix: 'agence/fichiers',
      endpoint: 'http://127.0.0.1:9000',
      region: 'fr-par',
      credentials: { accessKeyId: 'K', secretAccessKey: 'S' },
    });
    expect(parseFilesUrl('s3://palier')).toMatchObject({
      prefix: '',
      endpoint: null,
      region: 'us-east-1',
      credentials: null,
    });
    expect(parseFilesUrl('')).toBeNull();
    expect(parseFilesUrl(undefined)).toBeNull();
  });

  it.each([
    ['http://bucket/x', 'seul s3:// est pris en charge'],
    ['s3://B_AD/x', 'nom de bucket invalide'],
    ['s3://bucket/x?endpoint=ftp://h', 'endpoint doit être http(s)://hôte:port'],
    ['pas une adresse', 'attendu s3://bucket/dossier'],
  ])('refuses %s in French', (url, message) => {
    expect(() => parseFilesUrl(url)).toThrow(message);
  });

  it('wants both keys or none', () => {
    expect(() => parseFilesUrl('s3://bucket', 'K', '')).toThrow('vont ensemble');
  });
});

describe('S3 storage, against an S3-protocol server', () => {
  let s3: S3Server;
  let storage: Storage;

  beforeAll(async () => {
    s3 = await startS3();
    storage = createStorage({ dataDir: '/nonexistent', files: s3.location('palier/fichiers') });
  });
  afterAll(() => s3.close());

  it('stores bytes under a generated key in the folder of FILES_URL, and serves them back', async () => {
    const content = Buffer.from('contenu du fichier');
    const stored = await storage.put(content, { ext: 'pdf', prefix: 'document' });
    expect(stored.key).toMatch(/^document-[0-9a-f]{16}\.pdf$/);
    expect(stored).toMatchObject({ size: content.length, sha256: createHash('sha256').update(content).digest('hex') });
    expect((await bytesOf(await storage.get(stored.key)))!.equals(content)).toBe(true);
    expect(await storage.exists(stored.key)).toBe(true);
    const loc = s3.location('');
    const client = new S3Client({
      endpoint: loc.endpoint!,
      region: loc.region,
      forcePathStyle: true,
      credentials: loc.credentials!,
    });
    const head = await client.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: `palier/fichiers/${stored.key}` }));
    expect(head.ContentLength).toBe(content.length);
  });

  it('stores a stream, and deletes; a missing key is null and false, deleting again is no error', async () => {
    const stored = await storage.put(Readable.from([Buffer.from('une '), Buffer.from('deux')]), { ext: 'png' });
    expect(stored.size).toBe(8);
    await storage.delete(stored.key);
    expect(await storage.get(stored.key)).toBeNull();
    expect(await storage.exists(stored.key)).toBe(false);
    await expect(storage.delete(stored.key)).resolves.toBeUndefined();
  });

  it.each(['../../x', '/etc/passwd', 'a/b.png', 'logo.PNG', ''])(
    'refuses the key %j before sending anything',
    async (key) => {
      await expect(storage.get(key)).rejects.toBeInstanceOf(StorageKeyError);
      await expect(storage.exists(key)).rejects.toBeInstanceOf(StorageKeyError);
      await expect(storage.delete(key)).rejects.toBeInstanceOf(StorageKeyError);
    },
  );

  it('keeps nothing of a stream that fails half way', async () => {
    async function* failing() {
      yield Buffer.from('début');
      throw new Error('connexion coupée');
    }
    await expect(storage.put(Readable.from(failing()), { ext: 'pdf' })).rejects.toThrow('connexion coupée');
  });
});
