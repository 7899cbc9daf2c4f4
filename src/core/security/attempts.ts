import type { Db } from '../../db/db.ts';
import {
  deleteAttempt,
  deleteAttemptsOfKey,
  insertAttempt,
  recentAttempts,
  withKeyLock,
} from './attempts.repository.ts';

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
  // Every form that takes a new password scores it (tenths of a second of CPU each): a
  // person needs a few tries, a script sending thousands would keep the scoring busy.
  newPasswordPerLink: { scope: 'new_password:link', max: 10, windowMs: 60 * 60_000 },
  newPasswordPerEmail: { scope: 'new_password:email', max: 20, windowMs: 60 * 60_000 },
  newPasswordPerTicket: { scope: 'new_password:ticket', max: 10, windowMs: 60 * 60_000 },
  newPasswordPerIp: { scope: 'new_password:ip', max: 30, windowMs: 60 * 60_000 },
  newPasswordPerUser: { scope: 'new_password:user', max: 10, windowMs: 60 * 60_000 },
} satisfies Record<string, Limit>;

export async function recordAttempt(db: Db, limit: Limit, key: string, now: Date): Promise<void> {
  await insertAttempt(db, limit.scope, key, now);
}

/** When the key is locked, the instant it unlocks; otherwise null. */
export function lockedUntil(db: Db, limit: Limit, key: string, now: Date): Promise<Date | null> {
  return lockFrom(db, limit, key, now);
}

/**
 * Locked once `max` attempts stand in the window (those before `beforeId`, when given);
 * it unlocks when the oldest of the last `max` leaves the window.
 */
async function lockFrom(db: Db, limit: Limit, key: string, now: Date, beforeId?: number): Promise<Date | null> {
  const since = new Date(now.getTime() - limit.windowMs);
  const rows = await recentAttempts(db, limit.scope, key, since, limit.max, beforeId);
  if (rows.length < limit.max) return null;
  const oldest = rows[rows.length - 1]!.created_at;
  return new Date(new Date(oldest).getTime() + limit.windowMs);
}

/** Forgets every attempt of the key (unlocking it); returns how many there were. */
export function clearAttempts(db: Db, limit: Limit, key: string): Promise<number> {
  return deleteAttemptsOfKey(db, limit.scope, key);
}

/** "14 h 35" in Paris time, to tell a locked person when to retry. */
export function retryTime(until: Date): string {
  const p = Object.fromEntries(PARIS_TIME.formatToParts(until).map((x) => [x.type, x.value]));
  return `${Number(p.hour)} h ${p.minute}`;
}

const PARIS_TIME = new Intl.DateTimeFormat('fr-FR', {
  timeZone: 'Europe/Paris',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

export type Taken = { taken: true; id: number } | { taken: false; lockedUntil: Date };

/**
 * Counts an attempt BEFORE the secret is checked: parallel requests each see the others'
 * rows, so no more than `max` checks run in a window, on one instance or many. The row
 * stays as a failure unless the caller forgets it (success) — a refused attempt leaves none,
 * so hammering a locked key does not extend its lock.
 */
export async function takeAttempt(db: Db, limit: Limit, key: string, now: Date): Promise<Taken> {
  // Counting and recording happen under one lock per key: parallel requests, on one
  // instance or several, are counted one after the other.
  return withKeyLock(db, `attempt:${limit.scope}:${key}`, async (q) => {
    const until = await lockFrom(q, limit, key, now);
    if (until) return { taken: false, lockedUntil: until };
    return { taken: true, id: await insertAttempt(q, limit.scope, key, now) };
  });
}

export async function forgetAttempt(db: Db, id: number): Promise<void> {
  await deleteAttempt(db, id);
}

/**
 * Takes an attempt on every limit at once; when any is locked, gives back those taken and
 * returns the latest unlock time.
 */
export async function takeAttempts(
  db: Db,
  keys: [Limit, string][],
  now: Date,
): Promise<{ ok: true; ids: number[] } | { ok: false; lockedUntil: Date }> {
  const results = await Promise.all(keys.map(([limit, key]) => takeAttempt(db, limit, key, now)));
  const locks = results.flatMap((r) => (r.taken ? [] : [r.lockedUntil]));
  const ids = results.flatMap((r) => (r.taken ? [r.id] : []));
  if (locks.length === 0) return { ok: true, ids };
  await Promise.all(ids.map((id) => forgetAttempt(db, id)));
  return { ok: false, lockedUntil: new Date(Math.max(...locks.map((d) => d.getTime()))) };
}
