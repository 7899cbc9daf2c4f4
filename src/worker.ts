import type { Mailer } from './adapters/mailer/mailer.ts';
import { MAIL_JOB, mailHandler } from './adapters/mailer/outbox.ts';
import type { Config } from './config.ts';
import { agencyIdentity, type AgencyIdentity } from './core/agency/agency.ts';
import { createContext, type Actor, type Ctx } from './core/context.ts';
import { PermanentJobError, Worker, type JobHandler, type WorkerLog, type WorkerOptions } from './core/jobs/worker.ts';
import type { Db } from './db/db.ts';
import { RESET_REQUEST_JOB, mailPasswordReset, parseResetRequest } from './features/auth/auth.service.ts';
import { DOCUMENT_NOTICES_JOB, runDocumentNotices } from './features/documents/notices.service.ts';

/*
 * The composition root of background work: which kinds of job exist and which domain
 * operation does each. A job builds its context like a request does, and calls the same
 * services the web and the CLI call.
 */

export interface WorkerDeps {
  db: Db;
  mailer: Mailer;
  config: Config;
  agency?: AgencyIdentity;
}

const silent: WorkerLog = { info() {}, warn() {}, error() {} };

export function jobHandlers(deps: WorkerDeps & { now?: () => Date; log?: WorkerLog }): Record<string, JobHandler> {
  const agency = deps.agency ?? agencyIdentity(deps.db);
  const jobCtx = (actor: Actor): Ctx =>
    createContext({ db: deps.db, config: deps.config, agency, actor, now: deps.now, log: deps.log ?? silent });
  return {
    [MAIL_JOB]: mailHandler(deps.mailer),
    [RESET_REQUEST_JOB]: async (payload) => {
      const request = parseResetRequest(payload);
      if (!request) throw new PermanentJobError('demande de nouveau mot de passe mal formée');
      // The request's address, for the audit event; the person is looked up by the service.
      const retain = await mailPasswordReset(jobCtx({ kind: 'system', name: 'reset', ip: request.ip }), request);
      // Nothing of the typed address stays in the queue.
      return { retain };
    },
    [DOCUMENT_NOTICES_JOB]: () => runDocumentNotices(jobCtx({ kind: 'system', name: 'documents.notices', ip: null })),
  };
}

/** The worker of a Palier process (server or test app), handling every kind of job. */
export function createWorker(deps: WorkerDeps, opts: Omit<WorkerOptions, 'db' | 'handlers'> = {}): Worker {
  return new Worker({ db: deps.db, handlers: jobHandlers({ ...deps, now: opts.now, log: opts.log }), ...opts });
}
