import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { checkKey, generateKey } from './keys.ts';
import type { PutOptions, Storage, StoredFile } from './storage.ts';

/** Where files go on an S3-compatible service, as FILES_URL gives it (parsed by config.ts). */
export interface S3Location {
  bucket: string;
  /** Folder inside the bucket, without slashes at either end; may be empty. */
  prefix: string;
  /** http(s)://host:port of a service other than AWS (MinIO, Scaleway, OVH…); null: AWS. */
  endpoint: string | null;
  region: string;
  /** Null: the SDK's own chain (instance role…). */
  credentials: { accessKeyId: string; secretAccessKey: string } | null;
}

const MAX_DRAWS = 3;

/**
 * Files as objects of one bucket, under prefix/key. An object becomes visible only once
 * complete (S3 semantics). A put never replaces an object: it is sent with
 * `If-None-Match: *`, which S3 enforces atomically; services that ignore that header are
 * also asked first whether the key exists (a collision of 64 random bits is what this
 * guards against, not a race).
 */
export function createS3Storage(location: S3Location, client?: S3Client): Storage {
  const s3 =
    client ??
    new S3Client({
      region: location.region,
      ...(location.endpoint ? { endpoint: location.endpoint, forcePathStyle: true } : {}),
      ...(location.credentials ? { credentials: location.credentials } : {}),
    });
  const Bucket = location.bucket;
  const objectKey = (key: string) => (location.prefix ? `${location.prefix}/${checkKey(key)}` : checkKey(key));

  async function exists(key: string): Promise<boolean> {
    try {
      await s3.send(new HeadObjectCommand({ Bucket, Key: objectKey(key) }));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  return {
    async put(data: Uint8Array | Readable, putOpts: PutOptions): Promise<StoredFile> {
      let key = generateKey(putOpts);
      // Read whole (documents are 50 Mo at most): S3 needs the length, and the hash is known before sending.
      const body = data instanceof Uint8Array ? Buffer.from(data) : await readAll(data);
      const sha256 = createHash('sha256').update(body).digest('hex');
      for (let draw = 1; ; draw++) {
        if (!(await exists(key))) {
          try {
            await s3.send(
              new PutObjectCommand({
                Bucket,
                Key: objectKey(key),
                Body: body,
                ContentLength: body.length,
                IfNoneMatch: '*',
              }),
            );
            return { key, size: body.length, sha256 };
          } catch (err) {
            if (!(err instanceof S3ServiceException && err.$metadata.httpStatusCode === 412)) throw err;
          }
        }
        if (draw >= MAX_DRAWS) throw new Error('storage: could not draw a free key');
        key = generateKey(putOpts);
      }
    },

    async get(key: string): Promise<Readable | null> {
      try {
        const res = await s3.send(new GetObjectCommand({ Bucket, Key: objectKey(key) }));
        return res.Body instanceof Readable ? res.Body : null;
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    },

    async delete(key: string): Promise<void> {
      // S3 answers a deletion of a missing object with success too.
      await s3.send(new DeleteObjectCommand({ Bucket, Key: objectKey(key) }));
    },

    exists: (key: string) => exists(key),
  };
}

function isMissing(err: unknown): boolean {
  return (
    err instanceof S3ServiceException &&
    (err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404)
  );
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}
