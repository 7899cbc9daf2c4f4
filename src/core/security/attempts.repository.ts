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

/** A key to count an attempt on, and its limit: at most `max` attempts since `since`. */
export interface AttemptKey {
  scope: string;
  key: string;
  since: Date;
  max: number;
}

/**
 * Records one attempt on every key, or none when any key already holds `max` attempts in
 * its window: one statement, so on SQLite (one writer, one statement at a time) counting and
 * recording cannot be split by another request. Returns the new ids, or null when locked.
 */
export async function insertAttemptsUnlessLocked(db: Db, keys: AttemptKey[], at: Date): Promise<number[] | null> {
  // The columns of a VALUES list are column1, column2 on both SQLite and PostgreSQL.
  const wanted = sql.join(keys.map((k) => sql`(${k.scope}, ${k.key})`));
  // A key is free while its window holds no max-th attempt (cheaper than counting them).
  const free = sql.join(
    keys.map(
      (k) => sql`not exists (select 1 from auth_attempts
        where scope = ${k.scope} and key = ${k.key} and created_at > ${k.since.toISOString()}
        limit 1 offset ${k.max - 1})`,
    ),
    sql` and `,
  );
  const { rows } = await sql<{ id: number }>`insert into auth_attempts (scope, key, created_at)
    select column1, column2, ${at.toISOString()} from (values ${wanted}) as wanted where ${free}
    returning id`.execute(db);
  return rows.length === keys.length ? rows.map((r) => r.id) : null;
}

export async function deleteAttempt(db: Db, id: number): Promise<void> {
  await db.deleteFrom('auth_attempts').where('id', '=', id).execute();
}

/** Deletes the given attempts and every attempt of the given keys, in one statement. */
export async function deleteAttemptsAndKeys(
  db: Db,
  ids: number[],
  keys: { scope: string; key: string }[],
): Promise<void> {
  if (ids.length === 0 && keys.length === 0) return;
  await db
    .deleteFrom('auth_attempts')
    .where((eb) =>
      eb.or([
        ...(ids.length > 0 ? [eb('id', 'in', ids)] : []),
        ...keys.map((k) => eb.and([eb('scope', '=', k.scope), eb('key', '=', k.key)])),
      ]),
    )
    .execute();
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
 * Runs a single statement alone for these keys. PostgreSQL runs concurrent statements side
 * by side, so it runs in a transaction holding an advisory lock on each key (other
 * instances wait for them), taken in one order whatever the caller's so that two requests
 * cannot wait for each other; what it counts then includes every attempt committed before,
 * whatever order their ids were drawn in. SQLite runs one writing statement at a time: it
 * needs no more.
 */
export async function withKeyLocks<T>(db: Db, names: string[], statement: (q: Db) => Promise<T>): Promise<T> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return statement(db);
  const run = async (q: Db) => {
    for (const name of [...new Set(names)].sort()) {
      await sql`select pg_advisory_xact_lock(hashtextextended(${name}, 0))`.execute(q);
    }
    return statement(q);
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}
