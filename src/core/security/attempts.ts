import type { Db } from '../../db/db.ts';
import {
  deleteAttempt,
  deleteAttemptsAndKeys,
  deleteAttemptsOfKey,
  insertAttempt,
  insertAttemptsUnlessLocked,
  recentAttempts,
  withKeyLocks,
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
  const r = await takeAttempts(db, [[limit, key]], now);
  return r.ok ? { taken: true, id: r.ids[0]! } : { taken: false, lockedUntil: r.lockedUntil };
}

export async function forgetAttempt(db: Db, id: number): Promise<void> {
  await deleteAttempt(db, id);
}

/**
 * Takes an attempt on every limit at once, or none when any is locked (then returns the
 * latest unlock time). Counting and recording are one statement run under a lock per key:
 * parallel requests, on one instance or several, are counted one after the other.
 */
export async function takeAttempts(
  db: Db,
  keys: [Limit, string][],
  now: Date,
): Promise<{ ok: true; ids: number[] } | { ok: false; lockedUntil: Date }> {
  const names = keys.map(([limit, key]) => `attempt:${limit.scope}:${key}`);
  const wanted = keys.map(([limit, key]) => ({
    scope: limit.scope,
    key,
    since: new Date(now.getTime() - limit.windowMs),
    max: limit.max,
  }));
  // A lock can end between the refusal and the reading of when it ends (an attempt leaving
  // its window, a success clearing the key): then the attempt is taken again.
  for (let tries = 0; ; tries++) {
    const ids = await withKeyLocks(db, names, (q) => insertAttemptsUnlessLocked(q, wanted, now));
    if (ids) return { ok: true, ids };
    const locks = (await Promise.all(keys.map(([limit, key]) => lockFrom(db, limit, key, now)))).flatMap((d) =>
      d ? [d] : [],
    );
    if (locks.length > 0 || tries >= 2) {
      const latest = Math.max(now.getTime(), ...locks.map((d) => d.getTime()));
      return { ok: false, lockedUntil: new Date(latest) };
    }
  }
}

/**
 * After a success: forgets the attempts it took and every failure of the keys it clears
 * (the email's failed logins once the right password is given), in one statement.
 */
export async function releaseAttempts(db: Db, ids: number[], clear: [Limit, string][] = []): Promise<void> {
  await deleteAttemptsAndKeys(
    db,
    ids,
    clear.map(([limit, key]) => ({ scope: limit.scope, key })),
  );
}
