import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import type { S3Location } from '../../src/adapters/storage/s3.ts';

export interface S3Server {
  /** FILES_URL for this server, with this prefix. */
  url(prefix: string): string;
  location(prefix: string): S3Location;
  close(): Promise<void>;
}

/** A real S3-protocol server (s3rver) on 127.0.0.1 with one bucket, its objects in a temp folder. */
export async function startS3(bucket = 'palier-test'): Promise<S3Server> {
  const dir = mkdtempSync(path.join(tmpdir(), 'palier-s3-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    url: (prefix) => `s3://${bucket}/${prefix}?endpoint=${endpoint}&region=us-east-1`,
    location: (prefix) => ({
      bucket,
      prefix,
      endpoint,
      region: 'us-east-1',
      // s3rver's fixed keys.
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    }),
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
