import { PostgresAdapter, sql, type Generated, type Selectable } from 'kysely';
import type { Db } from '../../db/db.ts';

export type JobStatus = 'pending' | 'running' | 'done' | 'failed';

/** One unit of background work (a mail to send…), kept until done or given up. */
export interface JobsTable {
  id: Generated<number>;
  kind: string;
  payload_json: string;
  status: JobStatus;
  /** Claims so far, counted when a worker takes the job (a crash mid-job counts too). */
  attempts: number;
  max_attempts: number;
  /** Not before this instant (UTC ISO): the creation, or the next try after a failure. */
  run_at: string;
  /** The worker holding a running job, and until when; past that the job is free again. */
  locked_by: string | null;
  locked_until: string | null;
  last_error: string | null;
  created_at: string;
  finished_at: string | null;
}

export type Job = Selectable<JobsTable>;

/**
 * About a day of tries: 30 s, 1, 2, 4 … 32 min, then hourly (see retryDelayMs), so an SMTP
 * server down for a night still gets every mail once it is back.
 */
export const DEFAULT_MAX_ATTEMPTS = 30;

/** Db or a transaction, seeing the jobs table. */
function q(db: Db) {
  return db.withTables<{ jobs: JobsTable }>();
}

// ---------------------------------------------------------------------------
// Wake-up of the workers of this process

const listeners = new Set<() => void>();

/** A worker of this process asks to hear of new jobs, so it need not wait for its next poll. */
export function onJobEnqueued(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export interface EnqueueOptions {
  /** The caller's clock (tests move it). */
  now: Date;
  /** Not before this instant; now by default. */
  runAt?: Date;
  maxAttempts?: number;
}

/**
 * Adds a job. Pass the caller's transaction: the job then exists exactly when the change
 * that causes it is committed (a rollback leaves no job, a commit loses none).
 */
export async function enqueue(db: Db, kind: string, payload: unknown, opts: EnqueueOptions): Promise<number> {
  const { id } = await q(db)
    .insertInto('jobs')
    .values({
      kind,
      payload_json: JSON.stringify(payload),
      status: 'pending',
      attempts: 0,
      max_attempts: opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      run_at: (opts.runAt ?? opts.now).toISOString(),
      created_at: opts.now.toISOString(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  // Workers of this process poll at once (they retry shortly if the transaction is not
  // committed yet); workers of other processes find it at their next poll.
  for (const l of listeners) l();
  return id;
}

/** Whether a claim could find work: lets an idle poll stay a plain read, with no write lock. */
export async function hasDueJob(db: Db, kinds: string[], now: Date): Promise<boolean> {
  const iso = now.toISOString();
  const row = await q(db)
    .selectFrom('jobs')
    .select('id')
    .where('kind', 'in', kinds)
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', 'pending'), eb('run_at', '<=', iso)]),
        eb.and([eb('status', '=', 'running'), eb('locked_until', '<=', iso)]),
      ]),
    )
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Takes the next due job of these kinds for this worker, atomically: a pending job whose
 * time has come, or a running one whose worker let its lock expire (crashed). On
 * PostgreSQL, FOR UPDATE SKIP LOCKED lets concurrent workers each take a different row
 * without waiting; SQLite has a single writer, so the UPDATE … WHERE id = (SELECT …) is
 * atomic by itself.
 */
export async function claimNextJob(
  db: Db,
  o: { workerId: string; kinds: string[]; now: Date; lockMs: number },
): Promise<Job | undefined> {
  const now = o.now.toISOString();
  let next = q(db)
    .selectFrom('jobs')
    .select('id')
    .where('kind', 'in', o.kinds)
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', 'pending'), eb('run_at', '<=', now)]),
        eb.and([
          eb('status', '=', 'running'),
          eb('locked_until', '<=', now),
          eb('attempts', '<', eb.ref('max_attempts')),
        ]),
      ]),
    )
    .orderBy('run_at')
    .orderBy('id')
    .limit(1);
  if (db.getExecutor().adapter instanceof PostgresAdapter) next = next.forUpdate().skipLocked();
  return q(db)
    .updateTable('jobs')
    .set((eb) => ({
      status: 'running',
      locked_by: o.workerId,
      locked_until: new Date(o.now.getTime() + o.lockMs).toISOString(),
      attempts: eb('attempts', '+', 1),
    }))
    .where('id', '=', next)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Only the worker still holding the job may settle it (false: its lock was lost). The
 * payload is replaced by `retainedPayload` when given, so secrets it carried do not stay.
 */
export async function completeJob(
  db: Db,
  job: Job,
  workerId: string,
  now: Date,
  retainedPayload?: string,
): Promise<boolean> {
  const r = await q(db)
    .updateTable('jobs')
    .set({
      status: 'done',
      finished_at: now.toISOString(),
      locked_by: null,
      locked_until: null,
      ...(retainedPayload !== undefined ? { payload_json: retainedPayload } : {}),
    })
    .where('id', '=', job.id)
    .where('status', '=', 'running')
    .where('locked_by', '=', workerId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** A failed try: back to pending at retryAt, or failed for good when retryAt is null. */
export async function failJob(
  db: Db,
  job: Job,
  workerId: string,
  o: { error: string; retryAt: Date | null; now: Date },
): Promise<boolean> {
  const r = await q(db)
    .updateTable('jobs')
    .set({
      status: o.retryAt ? 'pending' : 'failed',
      run_at: o.retryAt ? o.retryAt.toISOString() : job.run_at,
      last_error: o.error.slice(0, 2000),
      locked_by: null,
      locked_until: null,
      finished_at: o.retryAt ? null : o.now.toISOString(),
    })
    .where('id', '=', job.id)
    .where('status', '=', 'running')
    .where('locked_by', '=', workerId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

const ABANDONED = 'traitement interrompu (processus arrêté pendant la dernière tentative)';

/**
 * Jobs whose worker died during their last allowed attempt are not taken again (they may
 * be what kills the worker): they fail, and staff can requeue them.
 */
export async function failAbandonedJobs(db: Db, kinds: string[], now: Date): Promise<number> {
  const iso = now.toISOString();
  const r = await q(db)
    .updateTable('jobs')
    .set({
      status: 'failed',
      finished_at: iso,
      locked_by: null,
      locked_until: null,
      // `||` concatenates on both SQLite and PostgreSQL; the earlier error is kept before it.
      last_error: sql<string>`coalesce(last_error || ' ; ', '') || ${ABANDONED}`,
    })
    .where('kind', 'in', kinds)
    .where('status', '=', 'running')
    .where('locked_until', '<=', iso)
    .where((eb) => eb('attempts', '>=', eb.ref('max_attempts')))
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export function findJob(db: Db, id: number): Promise<Job | undefined> {
  return q(db).selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Jobs of a kind still to do or given up, oldest first, and those done since `doneSince`. */
export async function jobsOfKind(db: Db, kind: string, doneSince: Date): Promise<Job[]> {
  return q(db)
    .selectFrom('jobs')
    .selectAll()
    .where('kind', '=', kind)
    .where((eb) =>
      eb.or([
        eb('status', 'in', ['pending', 'running', 'failed']),
        eb.and([eb('status', '=', 'done'), eb('finished_at', '>=', doneSince.toISOString())]),
      ]),
    )
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export type RetryResult = { ok: true; job: Job } | { ok: false; reason: 'not_found' | 'not_failed'; job?: Job };

/** Staff requeue a job that failed: a fresh set of attempts, due now. */
export async function retryFailedJob(db: Db, id: number, now: Date, kind?: string): Promise<RetryResult> {
  const job = await findJob(db, id);
  if (!job || (kind && job.kind !== kind)) return { ok: false, reason: 'not_found' };
  const r = await q(db)
    .updateTable('jobs')
    .set({ status: 'pending', attempts: 0, run_at: now.toISOString(), finished_at: null })
    .where('id', '=', id)
    .where('status', '=', 'failed')
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return { ok: false, reason: 'not_failed', job };
  for (const l of listeners) l();
  return { ok: true, job: (await findJob(db, id))! };
}
