import type { Mailer } from '../../adapters/mailer/mailer.ts';
import { MAIL_JOB, mailHandler } from '../../adapters/mailer/outbox.ts';
import type { Db } from '../../db/db.ts';
import { RESET_REQUEST_JOB, resetRequestHandler } from '../../features/auth/auth.service.ts';
import { Worker, type JobHandler, type WorkerLog, type WorkerOptions } from './worker.ts';

const silent: WorkerLog = { info() {}, warn() {}, error() {} };

/** Every kind of background job Palier knows, and what does it. */
export function jobHandlers(deps: {
  db: Db;
  mailer: Mailer;
  now?: () => Date;
  log?: WorkerLog;
}): Record<string, JobHandler> {
  const now = deps.now ?? (() => new Date());
  return {
    [MAIL_JOB]: mailHandler(deps.mailer),
    [RESET_REQUEST_JOB]: resetRequestHandler({ db: deps.db, now, log: deps.log ?? silent }),
  };
}

/** The worker of a Palier process (server or test app), handling every kind of job. */
export function createWorker(
  deps: { db: Db; mailer: Mailer },
  opts: Omit<WorkerOptions, 'db' | 'handlers'> = {},
): Worker {
  return new Worker({ db: deps.db, handlers: jobHandlers({ ...deps, now: opts.now, log: opts.log }), ...opts });
}
