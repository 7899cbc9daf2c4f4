import type { Db } from '../../db/db.ts';

/**
 * Failure counters kept in the database (not in memory) so limits hold across restarts
 * and instances. A key is locked once it has `max` failures within `windowMs`.
 */
export interface Limit {
  scope: string;
  max: number;
  windowMs: number;
}

export const LIMITS = {
  codePerReference: { scope: 'code:reference', max: 5, windowMs: 15 * 60_000 },
  codePerIp: { scope: 'code:ip', max: 20, windowMs: 60 * 60_000 },
  loginPerEmail: { scope: 'login:email', max: 10, windowMs: 15 * 60_000 },
  loginPerIp: { scope: 'login:ip', max: 50, windowMs: 60 * 60_000 },
  resetPerEmail: { scope: 'reset:email', max: 3, windowMs: 60 * 60_000 },
  resetPerIp: { scope: 'reset:ip', max: 20, windowMs: 60 * 60_000 },
  messagePerUser: { scope: 'message:user', max: 10, windowMs: 60 * 60_000 },
} satisfies Record<string, Limit>;

export async function recordAttempt(db: Db, limit: Limit, key: string, now: Date): Promise<void> {
  await db.insertInto('auth_attempts').values({ scope: limit.scope, key, created_at: now.toISOString() }).execute();
}

/** When the key is locked, the instant it unlocks; otherwise null. */
export async function lockedUntil(db: Db, limit: Limit, key: string, now: Date): Promise<Date | null> {
  const since = new Date(now.getTime() - limit.windowMs).toISOString();
  const rows = await db
    .selectFrom('auth_attempts')
    .select('created_at')
    .where('scope', '=', limit.scope)
    .where('key', '=', key)
    .where('created_at', '>', since)
    .orderBy('created_at', 'desc')
    .limit(limit.max)
    .execute();
  if (rows.length < limit.max) return null;
  // Unlocks when the oldest of the last `max` failures leaves the window.
  const oldest = rows[rows.length - 1]!.created_at;
  return new Date(new Date(oldest).getTime() + limit.windowMs);
}

export async function clearAttempts(db: Db, limit: Limit, key: string): Promise<void> {
  await db.deleteFrom('auth_attempts').where('scope', '=', limit.scope).where('key', '=', key).execute();
}

/** "14:35" in Paris time, to tell a locked person when to retry. */
export function retryTime(until: Date): string {
  return new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(
    until,
  );
}
