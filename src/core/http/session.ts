import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { createContext, type Actor, type Ctx } from '../context.ts';
import { sha256 } from '../security/tokens.ts';
import type { DataVersions } from '../versions.ts';
import { deleteSession, findSession, touchSession } from '../sessions/sessions.repository.ts';
import { openSession, SESSION_IDLE_MS, type OpenedSession } from '../sessions/sessions.ts';

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
    /** The versions of the data as the session lookup read them (signed-in requests only). */
    dataVersions: DataVersions | null;
    /** The domain context of this request: what routes hand to services. */
    ctx: Ctx;
  }
}

const TOUCH_EVERY_MS = 60_000;

export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-palier_session' : 'palier_session';
}

/** The attributes the session cookie is set with, and cleared with: a browser only drops a cookie that matches. */
function sessionCookieOptions(secure: boolean) {
  return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure };
}

function actorOf(req: FastifyRequest): Actor {
  return req.user
    ? { kind: 'client', userId: req.user.id, ip: req.ip, sessionHash: req.sessionHash }
    : { kind: 'anonymous', ip: req.ip };
}

/** Builds the request's context once the session is known; again when the person changes (login, logout). */
function refreshContext(req: FastifyRequest): void {
  const { db, config, agency, now } = req.server.deps;
  req.ctx = createContext({ db, config, agency, now, log: req.log, actor: actorOf(req) });
}

async function sessionPlugin(app: FastifyInstance) {
  const { db, config } = app.deps;
  const cookieName = sessionCookieName(config.secureCookies);
  app.decorateRequest('user', null);
  app.decorateRequest('sessionHash', null);
  app.decorateRequest('dataVersions', null);
  app.decorateRequest('ctx', null as unknown as Ctx);

  app.addHook('onRequest', async (req) => {
    await resolveSession(req, cookieName);
    refreshContext(req);
  });

  async function resolveSession(req: FastifyRequest, name: string): Promise<void> {
    const token = req.cookies[name];
    if (!token) return;
    const hash = sha256(token);
    const row = await findSession(db, hash);
    if (!row) return;
    const now = app.deps.now();
    const idleExpired = now.getTime() - new Date(row.last_seen_at).getTime() > SESSION_IDLE_MS;
    if (idleExpired || new Date(row.expires_at) <= now) {
      await deleteSession(db, hash);
      return;
    }
    req.user = { id: row.user_id, email: row.email, firstName: row.first_name, lastName: row.last_name };
    req.sessionHash = hash;
    req.dataVersions = { ledger: row.ledger_version, clientData: row.client_data_version };
    if (now.getTime() - new Date(row.last_seen_at).getTime() > TOUCH_EVERY_MS) await touchSession(db, hash, now);
  }
}

export const sessions = fp(sessionPlugin, { name: 'palier-sessions' });

/** A new session id every time privileges change (login, claim, attach): no fixation. */
export async function startSession(req: FastifyRequest, reply: FastifyReply, userId: number): Promise<void> {
  useSession(req, reply, await openSession(req.ctx, userId, userAgentOf(req)));
}

/** The browser's name, kept with the session (the person's data export lists it). */
export function userAgentOf(req: FastifyRequest): string {
  return req.headers['user-agent'] ?? '';
}

/** Hands a session opened by a service (login) to the browser, and makes it this request's. */
export function useSession(req: FastifyRequest, reply: FastifyReply, session: OpenedSession): void {
  const { config } = req.server.deps;
  req.sessionHash = session.idHash;
  if (req.user?.id !== session.userId) req.user = null;
  req.ctx = {
    ...req.ctx,
    actor: { kind: 'client', userId: session.userId, ip: req.ip, sessionHash: session.idHash },
  };
  reply.setCookie(sessionCookieName(config.secureCookies), session.token, sessionCookieOptions(config.secureCookies));
}

export async function endSession(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { db, config } = req.server.deps;
  if (req.sessionHash) await deleteSession(db, req.sessionHash);
  req.user = null;
  req.sessionHash = null;
  req.dataVersions = null;
  refreshContext(req);
  reply.clearCookie(sessionCookieName(config.secureCookies), sessionCookieOptions(config.secureCookies));
}

/** preHandler for pages that need a logged-in person. */
export async function requireUser(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (!req.user) {
    setFlash(reply, { kind: 'info', message: 'Veuillez vous connecter pour accéder à cette page.' });
    // The page asked for is opened after signing in; only a GET can be asked again as it was.
    const back =
      req.method === 'GET' && req.url !== '/accueil' && req.url.length <= 500
        ? `/?retour=${encodeURIComponent(req.url)}`
        : '/';
    return reply.redirect(back, 303);
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
