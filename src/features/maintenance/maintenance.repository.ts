import type { Db } from '../../db/db.ts';
import type { JobStatus, JobsTable } from '../../core/jobs/jobs.repository.ts';

/** Db or a transaction, seeing the jobs table (declared by the queue, not in the schema). */
function withJobs(db: Db) {
  return db.withTables<{ jobs: JobsTable }>();
}

/** One-time links used, or expired, before `before`: they can no longer do anything. */
export async function deleteSpentTokens(db: Db, before: Date): Promise<number> {
  const iso = before.toISOString();
  const r = await db
    .deleteFrom('user_tokens')
    .where((eb) => eb.or([eb('used_at', '<', iso), eb('expires_at', '<', iso)]))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Step-1 tickets of "Créez votre espace" expired before `before`. */
export async function deleteExpiredClaimTickets(db: Db, before: Date): Promise<number> {
  const r = await db.deleteFrom('claim_tickets').where('expires_at', '<', before.toISOString()).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Jobs settled with this status (done, or failed for good) before `before`. */
export async function deleteFinishedJobs(db: Db, status: Extract<JobStatus, 'done' | 'failed'>, before: Date) {
  const r = await withJobs(db)
    .deleteFrom('jobs')
    .where('status', '=', status)
    .where('finished_at', '<', before.toISOString())
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/**
 * Adds the job of a recurring kind for one slot, unless there is one already (the unique
 * index jobs_purge_slot_idx): every instance may ask, one row results. True when added.
 */
export async function insertSlotJob(db: Db, kind: string, runAt: Date, now: Date): Promise<boolean> {
  const row = await withJobs(db)
    .insertInto('jobs')
    .values({
      kind,
      payload_json: '{}',
      status: 'pending',
      attempts: 0,
      // The next slot comes an hour later anyway: no need for a day of retries.
      max_attempts: 3,
      run_at: runAt.toISOString(),
      created_at: now.toISOString(),
    })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}
