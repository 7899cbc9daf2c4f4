/**
 * The app under test, in its own process (forked by bench/run.ts) so that the load
 * generator does not share its event loop: on a 2-core machine the server gets one core,
 * autocannon the other.
 *
 * The baseline "static page of the same size" is a route of THIS app instance, added after
 * buildApp and before listen. Compared with a second app instance, this keeps everything
 * identical — helmet headers, cookie parsing and signature checks, the session lookup in the
 * database (the baseline requests carry the same session cookie), the flash and CSRF hooks,
 * the same process and database connection — so the ratio isolates what the page itself
 * costs: its queries and its rendering.
 */
import { performance } from 'node:perf_hooks';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/core/secrets/secrets.ts';
import { SERVER_CHECKPOINT_MS } from '../src/db/db.ts';
import { verifyPassword } from '../src/core/security/passwords.ts';

export interface ServerArgs {
  dataDir: string;
  databaseUrl: string;
}

export type ServerMessage = { port: number } | { error: string };

/** Bare argon2 verifications run in this process, asked for by the parent. */
export interface Argon2Request {
  argon2: { seconds: number; concurrency: number; hash: string; password: string };
}
export interface Argon2Result {
  argon2Result: { responses: number; latencies: number[]; failures: number };
}

/**
 * `concurrency` loops calling verifyPassword, as the login route does once per request; only
 * what completes within the slice counts, as with autocannon. Run here rather than in the
 * parent so that the verifications get the same process, thread pool and CPU share as the
 * logins they are compared with.
 */
async function argon2Slice({ seconds, concurrency, hash, password }: Argon2Request['argon2']) {
  const out: Argon2Result['argon2Result'] = { responses: 0, latencies: [], failures: 0 };
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        const ok = await verifyPassword(hash, password);
        const end = performance.now();
        if (end > deadline) break;
        out.responses++;
        out.latencies.push(end - t);
        if (!ok) out.failures++;
      }
    }),
  );
  return out;
}

const MAX_STATIC_BYTES = 20 * 1024 * 1024;

/** An HTML document of exactly `bytes` bytes (ASCII filler, so length in bytes = length in characters). */
function staticDocument(bytes: number): string {
  const head =
    '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Page statique</title></head><body><p>';
  const tail = '</p></body></html>';
  const fill = bytes - head.length - tail.length;
  if (fill < 0) throw new Error(`static page too small: ${bytes}`);
  const sentence = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. ';
  return head + sentence.repeat(Math.ceil(fill / sentence.length)).slice(0, fill) + tail;
}

async function main() {
  const args = JSON.parse(process.argv[2] ?? '{}') as ServerArgs;
  const { config, db } = await openDatabase(
    loadConfig({ DATA_DIR: args.dataDir, DATABASE_URL: args.databaseUrl, PORT: '0', LOG_LEVEL: 'silent' }),
    // As src/server.ts opens it.
    { checkpointEveryMs: SERVER_CHECKPOINT_MS },
  );
  // No request logging, as in buildApp's default: we measure the app, not pino writing to a pipe.
  const app = await buildApp({ config, db });

  // Rendered once per size, then served from memory: the cost is the framework's alone.
  const documents = new Map<number, string>();
  app.get('/bench/static/:bytes', async (req, reply) => {
    const bytes = Number((req.params as { bytes: string }).bytes);
    if (!Number.isInteger(bytes) || bytes < 200 || bytes > MAX_STATIC_BYTES) return reply.status(404).send('');
    let doc = documents.get(bytes);
    if (!doc) {
      doc = staticDocument(bytes);
      documents.set(bytes, doc);
    }
    // Same headers as renderPage.
    return reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(doc);
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await app.close();
    await db.destroy();
    process.exit(0);
  };
  process.on('message', (m: unknown) => {
    if (m === 'stop') void shutdown();
    else if (typeof m === 'object' && m !== null && 'argon2' in m) {
      void argon2Slice((m as Argon2Request).argon2).then((r) =>
        process.send?.({ argon2Result: r } satisfies Argon2Result),
      );
    }
  });
  process.on('disconnect', () => void shutdown());
  process.send?.({ port } satisfies ServerMessage);
}

main().catch((err: unknown) => {
  process.send?.({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies ServerMessage);
  process.exit(1);
});
