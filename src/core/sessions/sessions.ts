import type { Ctx } from '../context.ts';
import { deleteSessionsOfUser } from './sessions.repository.ts';

/** Ends every session of a person, except optionally the one in use (password change). */
export async function endAllSessions(ctx: Ctx, userId: number, keepHash?: string | null): Promise<void> {
  await deleteSessionsOfUser(ctx.db, userId, keepHash);
}

/** The session the actor is using, kept when the others end (a password change from Profil). */
export function currentSessionHash(ctx: Ctx): string | null {
  return ctx.actor.kind === 'client' ? ctx.actor.sessionHash : null;
}
