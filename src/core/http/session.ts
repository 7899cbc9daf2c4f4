import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../../db/db.ts';
import { newToken, sha256 } from '../security/tokens.ts';

export interface SessionUser {
  id: number;
  email: string;
  firstName: string;
  lastName: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    user: SessionUser | null;
    sessionHash: string | null;
  }
}

/** Idle and absolute limits: an elderly owner reading a statement is not cut off, a stolen cookie does not live forever. */
export const SESSION_IDLE_MS = 2 * 60 * 60_000;
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60_000;
const TOUCH_EVERY_MS = 60_000;

export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-palier_session' : 'palier_session';
}

async function sessionPlugin(app: FastifyInstance) {
  const { db, config } = app.deps;
  const cookieName = sessionCookieName(config.secureCookies);
  app.decorateRequest('user', null);
  app.decorateRequest('sessionHash', null);

  app.addHook('onRequest', async (req) => {
    const token = req.cookies[cookieName];
    if (!token) return;
    const hash = sha256(token);
    const row = await db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select([
        'sessions.user_id',
        'sessions.last_seen_at',
        'sessions.expires_at',
        'users.email',
        'users.first_name',
        'users.last_name',
      ])
      .where('sessions.id_hash', '=', hash)
      .executeTakeFirst();
    if (!row) return;
    const now = app.deps.now();
    const idleExpired = now.getTime() - new Date(row.last_seen_at).getTime() > SESSION_IDLE_MS;
    if (idleExpired || new Date(row.expires_at) <= now) {
      await db.deleteFrom('sessions').where('id_hash', '=', hash).execute();
      return;
    }
    req.user = { id: row.user_id, email: row.email, firstName: row.first_name, lastName: row.last_name };
    req.sessionHash = hash;
    if (now.getTime() - new Date(row.last_seen_at).getTime() > TOUCH_EVERY_MS) {
      await db.updateTable('sessions').set({ last_seen_at: now.toISOString() }).where('id_hash', '=', hash).execute();
    }
  });
}

export const sessions = fp(sessionPlugin, { name: 'palier-sessions' });

/** A new session id every time privileges change (login, claim, attach): no fixation. */
export async function startSession(
  app: FastifyInstance,
  req: FastifyRequest,
  reply: FastifyReply,
  userId: number,
): Promise<void> {
  const { db, config } = app.deps;
  if (req.sessionHash) await db.deleteFrom('sessions').where('id_hash', '=', req.sessionHash).execute();
  const token = newToken();
  const now = app.deps.now();
  await db
    .insertInto('sessions')
    .values({
      id_hash: sha256(token),
      user_id: userId,
      created_at: now.toISOString(),
      last_seen_at: now.toISOString(),
      expires_at: new Date(now.getTime() + SESSION_ABSOLUTE_MS).toISOString(),
      ip: req.ip,
      user_agent: (req.headers['user-agent'] ?? '').slice(0, 300),
    })
    .execute();
  req.sessionHash = sha256(token);
  reply.setCookie(sessionCookieName(config.secureCookies), token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: config.secureCookies,
  });
}

export async function endSession(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (req.sessionHash) await app.deps.db.deleteFrom('sessions').where('id_hash', '=', req.sessionHash).execute();
  req.user = null;
  req.sessionHash = null;
  reply.clearCookie(sessionCookieName(app.deps.config.secureCookies), { path: '/' });
}

/** Ends every session of a person, except optionally the one in use (password change). */
export async function endAllSessions(db: Db, userId: number, keepHash?: string | null): Promise<void> {
  let q = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (keepHash) q = q.where('id_hash', '!=', keepHash);
  await q.execute();
}

/** preHandler for pages that need a logged-in person. */
export async function requireUser(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (!req.user) {
    setFlash(reply, { kind: 'info', message: 'Veuillez vous connecter pour accéder à cette page.' });
    return reply.redirect('/', 303);
  }
}

export function setFlash(reply: FastifyReply, flash: { kind: 'success' | 'error' | 'info'; message: string }): void {
  reply.setCookie('palier_flash', JSON.stringify(flash), {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    signed: true,
    secure: reply.server.deps.config.secureCookies,
  });
}
