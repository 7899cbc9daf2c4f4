import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createMailer } from '../../src/adapters/mailer/mailer.ts';
import { buildApp } from '../../src/app.ts';
import { agencyIdentity } from '../../src/core/agency/agency.ts';
import { createWorker } from '../../src/worker.ts';
import type { Worker } from '../../src/core/jobs/worker.ts';
import { createLogger } from '../../src/core/logging.ts';
import { TEST_LOG_DIR } from './log-dir.ts';
import type { Config } from '../../src/config.ts';
import { writeNewSecrets } from '../../src/core/secrets/secrets.ts';
import { createDb, type Db, type DialectName } from '../../src/db/db.ts';
import { createTestDb, type TestDbOptions } from './db.ts';
import { startSmtp, type SmtpCapture } from './smtp.ts';

export interface TestApp {
  app: FastifyInstance;
  db: Db;
  config: Config;
  smtp: SmtpCapture;
  dialect: DialectName;
  /** Delivers the mail outbox (polls every 50 ms, on the app's clock); stopped by close(). */
  worker: Worker;
  /** Moves the app's clock (session expiry, link expiry, lockouts). */
  clock: { now: Date; advance(ms: number): void };
  close(): Promise<void>;
}

/**
 * The real app on a given data folder and database, as server.ts builds it (default
 * logger, mail to the outbox folder): for tests that bring their own data, like a restore.
 */
export async function startApp(config: Config, db: Db): Promise<FastifyInstance> {
  const app = await buildApp({ config, db });
  await app.ready();
  return app;
}

/** The whole app on a fresh database of the given dialect, mailing to a real local SMTP server. */
export async function buildTestApp(
  dialect: DialectName = 'sqlite',
  overrides: Partial<Config> = {},
  opts: { agencyRecheckMs?: number; onQuery?: TestDbOptions['onQuery'] } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'palier-app-'));
  const tdb = await createTestDb(dialect, { onQuery: opts.onQuery });
  const smtp = await startSmtp();
  const config: Config = {
    port: 0,
    host: '127.0.0.1',
    dataDir,
    databaseUrl: tdb.url,
    baseUrl: 'http://palier.test',
    smtpUrl: smtp.url,
    mailFrom: 'ne-pas-repondre@palier.test',
    logLevel: 'silent',
    secureCookies: false,
    trustProxy: false,
    secrets: writeNewSecrets(dataDir),
    ...overrides,
  };
  const mailer = createMailer(config);
  const clock = {
    now: new Date(),
    advance(ms: number) {
      this.now = new Date(this.now.getTime() + ms);
    },
  };
  // Every test app logs like production into the suite's log folder, which the global
  // teardown searches for passwords, codes, tokens and session ids.
  const logger = createLogger('info', path.join(TEST_LOG_DIR, `${path.basename(dataDir)}.log`));
  // Tests change the agency's identity in the database while the app runs: no copy kept.
  const agency = agencyIdentity(tdb.db, { recheckMs: opts.agencyRecheckMs ?? 0 });
  const app = await buildApp({ config, db: tdb.db, now: () => clock.now, agency }, { logger });
  await app.ready();
  // The worker has its own connection, like a worker in another instance would: tests that
  // count the app's queries do not see its polls.
  const workerDb = createDb(tdb.url);
  const worker = createWorker(
    { db: workerDb, mailer, config, agency: agencyIdentity(workerDb, { recheckMs: 0 }) },
    { now: () => clock.now, pollMs: 50, log: app.log },
  );
  worker.start();
  return {
    app,
    db: tdb.db,
    config,
    smtp,
    dialect,
    worker,
    clock,
    async close() {
      await app.close();
      await worker.stop();
      await workerDb.destroy();
      mailer.close();
      await smtp.close();
      await tdb.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
