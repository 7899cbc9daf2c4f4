import type { Db } from '../../db/db.ts';
import { CLIENT_DATA_VERSION_KEY, LEDGER_VERSION_KEY } from '../versions.ts';

export interface SessionRow {
  user_id: number;
  last_seen_at: string;
  expires_at: string;
  email: string;
  first_name: string;
  last_name: string;
  ledger_version: string | null;
  client_data_version: string | null;
}

/**
 * The session of a cookie, with what every page shows of its person and the versions of the
 * data pages are kept in memory by: one query per request.
 */
export function findSession(db: Db, idHash: string): Promise<SessionRow | undefined> {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.user_id',
      'sessions.last_seen_at',
      'sessions.expires_at',
      'users.email',
      'users.first_name',
      'users.last_name',
      (eb) => eb.selectFrom('settings').select('value').where('key', '=', LEDGER_VERSION_KEY).as('ledger_version'),
      (eb) =>
        eb.selectFrom('settings').select('value').where('key', '=', CLIENT_DATA_VERSION_KEY).as('client_data_version'),
    ])
    .where('sessions.id_hash', '=', idHash)
    .executeTakeFirst();
}

export async function insertSession(
  db: Db,
  s: { idHash: string; userId: number; now: Date; expiresAt: Date; ip: string; userAgent: string },
): Promise<void> {
  await db
    .insertInto('sessions')
    .values({
      id_hash: s.idHash,
      user_id: s.userId,
      created_at: s.now.toISOString(),
      last_seen_at: s.now.toISOString(),
      expires_at: s.expiresAt.toISOString(),
      ip: s.ip,
      user_agent: s.userAgent,
    })
    .execute();
}

export async function touchSession(db: Db, idHash: string, now: Date): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now.toISOString() }).where('id_hash', '=', idHash).execute();
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}

/** Ends every session of a person, except optionally the one in use (password change). */
export async function deleteSessionsOfUser(db: Db, userId: number, keepHash?: string | null): Promise<void> {
  let q = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (keepHash) q = q.where('id_hash', '!=', keepHash);
  await q.execute();
}

/** Sessions past their absolute end or idle too long; purged on a schedule. */
export async function deleteExpiredSessions(db: Db, now: Date, idleBefore: Date): Promise<number> {
  const r = await db
    .deleteFrom('sessions')
    .where((eb) =>
      eb.or([eb('expires_at', '<=', now.toISOString()), eb('last_seen_at', '<', idleBefore.toISOString())]),
    )
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
