import type { Mailer } from '../../adapters/mailer/mailer.ts';
import { MAIL_JOB, mailHandler } from '../../adapters/mailer/outbox.ts';
import type { Db } from '../../db/db.ts';
import { Worker, type JobHandler, type WorkerOptions } from './worker.ts';

/** Every kind of background job Palier knows, and what does it. */
export function jobHandlers(deps: { mailer: Mailer }): Record<string, JobHandler> {
  return {
    [MAIL_JOB]: mailHandler(deps.mailer),
  };
}

/** The worker of a Palier process (server or test app), handling every kind of job. */
export function createWorker(
  deps: { db: Db; mailer: Mailer },
  opts: Omit<WorkerOptions, 'db' | 'handlers'> = {},
): Worker {
  return new Worker({ db: deps.db, handlers: jobHandlers(deps), ...opts });
}
