import type { Mailer } from './adapters/mailer/mailer.ts';
import { MAIL_JOB, mailHandler } from './adapters/mailer/outbox.ts';
import type { Config } from './config.ts';
import { agencyIdentity, type AgencyIdentity } from './core/agency/agency.ts';
import { createContext, type Actor, type Ctx } from './core/context.ts';
import { PermanentJobError, Worker, type JobHandler, type WorkerLog, type WorkerOptions } from './core/jobs/worker.ts';
import type { Db } from './db/db.ts';
import { RESET_REQUEST_JOB, mailPasswordReset, parseResetRequest } from './features/auth/auth.service.ts';
import { PURGE_JOB, purgeExpired, schedulePurge } from './features/maintenance/maintenance.service.ts';
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
    [PURGE_JOB]: async () => {
      const ctx = jobCtx({ kind: 'system', name: 'purge', ip: null });
      const counts = await purgeExpired(ctx);
      await schedulePurge(deps.db, ctx.now());
      // The job's row says what it removed.
      return { retain: counts };
    },
    [DOCUMENT_NOTICES_JOB]: () => runDocumentNotices(jobCtx({ kind: 'system', name: 'documents.notices', ip: null })),
  };
}

/**
 * How often each worker makes sure the next purge is queued, besides at start and after
 * each purge: a purge job lost (failed for good, deleted) is replaced within this delay.
 */
const SCHEDULE_CHECK_MS = 15 * 60_000;

/** A worker that also keeps the hourly purge queued. */
class PalierWorker extends Worker {
  private timer: NodeJS.Timeout | null = null;
  private scheduling: Promise<unknown> = Promise.resolve();

  constructor(
    o: WorkerOptions,
    private readonly schedule: () => Promise<unknown>,
    private readonly logTo: WorkerLog,
  ) {
    super(o);
  }

  override start(): void {
    if (this.running) return;
    super.start();
    const check = () => {
      this.scheduling = this.schedule().catch((err: unknown) =>
        this.logTo.error({ err, worker: this.id }, 'purge could not be scheduled'),
      );
    };
    check();
    this.timer = setInterval(check, SCHEDULE_CHECK_MS);
    this.timer.unref();
  }

  override async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.scheduling;
    await super.stop();
  }
}

/** The worker of a Palier process (server or test app), handling every kind of job. */
export function createWorker(deps: WorkerDeps, opts: Omit<WorkerOptions, 'db' | 'handlers'> = {}): Worker {
  const now = opts.now ?? (() => new Date());
  return new PalierWorker(
    { db: deps.db, handlers: jobHandlers({ ...deps, now: opts.now, log: opts.log }), ...opts },
    () => schedulePurge(deps.db, now()),
    opts.log ?? silent,
  );
}
