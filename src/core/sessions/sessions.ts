import type { Ctx } from '../context.ts';
import { newToken, sha256 } from '../security/tokens.ts';
import { deleteSession, deleteSessionsOfUser, insertSession } from './sessions.repository.ts';

/** Idle and absolute limits: an elderly owner reading a statement is not cut off, a stolen cookie does not live forever. */
export const SESSION_IDLE_MS = 2 * 60 * 60_000;
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60_000;

/** A session just opened: its token goes in the cookie, only its hash is stored. */
export interface OpenedSession {
  token: string;
  idHash: string;
  userId: number;
}

/**
 * Opens a session for a person, ending the one in use: a new id every time privileges
 * change (login, claim, attach), so no session id can be fixed beforehand.
 */
export async function openSession(ctx: Ctx, userId: number, userAgent: string): Promise<OpenedSession> {
  const replaced = currentSessionHash(ctx);
  if (replaced) await deleteSession(ctx.db, replaced);
  const token = newToken();
  const idHash = sha256(token);
  const now = ctx.now();
  await insertSession(ctx.db, {
    idHash,
    userId,
    now,
    expiresAt: new Date(now.getTime() + SESSION_ABSOLUTE_MS),
    ip: ctx.actor.ip ?? '',
    userAgent: userAgent.slice(0, 300),
  });
  return { token, idHash, userId };
}

/** Ends every session of a person, except optionally the one in use (password change). */
export async function endAllSessions(ctx: Ctx, userId: number, keepHash?: string | null): Promise<void> {
  await deleteSessionsOfUser(ctx.db, userId, keepHash);
}

/** The session the actor is using, kept when the others end (a password change from Profil). */
export function currentSessionHash(ctx: Ctx): string | null {
  return ctx.actor.kind === 'client' ? ctx.actor.sessionHash : null;
}
