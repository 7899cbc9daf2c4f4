import type { Ctx } from '../../core/context.ts';
import { SESSION_IDLE_MS } from '../../core/sessions/sessions.ts';
import { deleteAttemptsBefore } from '../../core/security/attempts.repository.ts';
import { deleteExpiredSessions } from '../../core/sessions/sessions.repository.ts';
import type { Db } from '../../db/db.ts';
import {
  deleteExpiredClaimTickets,
  deleteFinishedJobs,
  deleteSpentTokens,
  insertSlotJob,
} from './maintenance.repository.ts';

/** The recurring job that calls purgeExpired once an hour (see src/worker.ts). */
export const PURGE_JOB = 'purge';

const HOUR_MS = 60 * 60_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Sessions, links and tickets stay a day past their end, so that a question about
 * yesterday's link can still be looked into; they open nothing meanwhile.
 */
export const EXPIRED_KEPT_MS = DAY_MS;
/** Attempt rows count only within their limit's window, an hour at most: a day is well past every one. */
export const ATTEMPTS_KEPT_MS = DAY_MS;
/** Sent mails stay listed by `palier courriels` (the last 24 hours) and a while after. */
export const DONE_JOBS_KEPT_MS = 7 * DAY_MS;
/** Jobs failed for good can be requeued by staff for a month. */
export const FAILED_JOBS_KEPT_MS = 30 * DAY_MS;

export interface PurgeCounts {
  sessions: number;
  attempts: number;
  tokens: number;
  claimTickets: number;
  doneJobs: number;
  failedJobs: number;
}

/**
 * Deletes what has outlived its use: sessions ended (absolute or idle timeout), attempt
 * counters older than every window, one-time links used or expired, tickets of step 1
 * expired, jobs long finished. The audit log (audit_events) is never purged. Each delete
 * stands alone: a purge interrupted half-way is finished by the next one.
 */
export async function purgeExpired(ctx: Ctx): Promise<PurgeCounts> {
  const { db } = ctx;
  const now = ctx.now().getTime();
  const expiredBefore = new Date(now - EXPIRED_KEPT_MS);
  const counts: PurgeCounts = {
    sessions: await deleteExpiredSessions(db, expiredBefore, new Date(now - EXPIRED_KEPT_MS - SESSION_IDLE_MS)),
    attempts: await deleteAttemptsBefore(db, new Date(now - ATTEMPTS_KEPT_MS)),
    tokens: await deleteSpentTokens(db, expiredBefore),
    claimTickets: await deleteExpiredClaimTickets(db, expiredBefore),
    doneJobs: await deleteFinishedJobs(db, 'done', new Date(now - DONE_JOBS_KEPT_MS)),
    failedJobs: await deleteFinishedJobs(db, 'failed', new Date(now - FAILED_JOBS_KEPT_MS)),
  };
  ctx.log.info({ event: 'purge', ...counts }, 'expired data purged');
  return counts;
}

/** The purge slot after `now`: the next full hour (UTC), the same for every instance. */
export function nextPurgeAt(now: Date): Date {
  return new Date((Math.floor(now.getTime() / HOUR_MS) + 1) * HOUR_MS);
}

/**
 * Makes sure the next hour's purge is queued. Every instance's worker calls it (at start,
 * then regularly, and after each purge): the slot's unique index keeps one job per hour,
 * and the queue's atomic claim gives it to one worker.
 */
export function schedulePurge(db: Db, now: Date): Promise<boolean> {
  return insertSlotJob(db, PURGE_JOB, nextPurgeAt(now), now);
}
