import { PostgresAdapter, sql } from 'kysely';
import type { Db } from '../../db/db.ts';

/** Attempt counters: one row per attempt, in the database so limits hold across instances. */

export async function insertAttempt(db: Db, scope: string, key: string, at: Date): Promise<number> {
  const row = await db
    .insertInto('auth_attempts')
    .values({ scope, key, created_at: at.toISOString() })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** The newest `limit` attempts of a key since an instant (those before `beforeId` when given), newest first. */
export async function recentAttempts(
  db: Db,
  scope: string,
  key: string,
  since: Date,
  limit: number,
  beforeId?: number,
): Promise<{ created_at: string }[]> {
  let q = db
    .selectFrom('auth_attempts')
    .select('created_at')
    .where('scope', '=', scope)
    .where('key', '=', key)
    .where('created_at', '>', since.toISOString());
  if (beforeId !== undefined) q = q.where('id', '<', beforeId);
  return q.orderBy('id', 'desc').limit(limit).execute();
}

export async function deleteAttempt(db: Db, id: number): Promise<void> {
  await db.deleteFrom('auth_attempts').where('id', '=', id).execute();
}

/** Returns how many attempts were deleted. */
export async function deleteAttemptsOfKey(db: Db, scope: string, key: string): Promise<number> {
  const r = await db.deleteFrom('auth_attempts').where('scope', '=', scope).where('key', '=', key).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Purges rows older than every window (the attempts log is not an audit trail). */
export async function deleteAttemptsBefore(db: Db, before: Date): Promise<number> {
  const r = await db.deleteFrom('auth_attempts').where('created_at', '<', before.toISOString()).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/**
 * Runs fn alone for this key: in a transaction holding a PostgreSQL advisory lock on the
 * key (other instances wait for it), or SQLite's single-writer transaction. What fn counts
 * then includes every attempt committed before, whatever order their ids were drawn in.
 */
export async function withKeyLock<T>(db: Db, name: string, fn: (q: Db) => Promise<T>): Promise<T> {
  const run = async (q: Db) => {
    if (q.getExecutor().adapter instanceof PostgresAdapter) {
      await sql`select pg_advisory_xact_lock(hashtextextended(${name}, 0))`.execute(q);
    }
    return fn(q);
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}
