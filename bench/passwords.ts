/**
 * The "passwords" part of the bench: people with a password-reset link each, so that
 * clients can post new passwords to /nouveau-mot-de-passe as a browser would (CSRF cookie
 * and token from the page the link opens).
 */
import { RESET_TTL_MS } from '../src/features/auth/auth.service.ts';
import { issueUserToken } from '../src/features/users/tokens.repository.ts';
import { insertUser } from '../src/features/users/users.repository.ts';
import { createDb } from '../src/db/db.ts';
import { cookieHeader, cookiesFrom } from './http.ts';

/**
 * 128 characters of a dictionary word with substitutions: among the costliest passwords
 * for zxcvbn (about 0.7 s of CPU for the whole of it), and refused, so a link takes
 * many posts (up to its limit of 10) without being used up by a success.
 */
export const ADVERSARIAL_PASSWORD = 'P4$$w0rd'.repeat(16);

/** The most new passwords one reset link takes (LIMITS.newPasswordPerLink). */
export const POSTS_PER_LINK = 10;

export interface ResetForm {
  cookie: string;
  body: string;
}

/** `count` people, each with a fresh reset link; returns the links' tokens. */
export async function createResetLinks(databaseUrl: string, count: number, passwordHash: string): Promise<string[]> {
  const db = createDb(databaseUrl);
  try {
    const now = new Date();
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      const userId = await insertUser(db, {
        email: `banc.reinit${i}.${now.getTime()}@exemple.test`,
        email_verified_at: now.toISOString(),
        password_hash: passwordHash,
        civility: 'Mme',
        last_name: 'BANC',
        first_name: 'Camille',
        phone: null,
        address: null,
        postal_code: null,
        city: null,
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
      });
      tokens.push(await issueUserToken(db, userId, 'reset_password', RESET_TTL_MS, now));
    }
    return tokens;
  } finally {
    await db.destroy();
  }
}

/** What a browser holds after opening a reset link: its CSRF cookie, and the form filled in. */
export async function resetForm(base: string, token: string, password: string): Promise<ResetForm> {
  const res = await fetch(`${base}/nouveau-mot-de-passe?jeton=${token}`, { redirect: 'manual' });
  const html = await res.text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (res.status !== 200 || !csrf)
    throw new Error(`reset page: status ${res.status}, CSRF token ${csrf ? 'found' : 'missing'}`);
  return {
    cookie: cookieHeader(cookiesFrom(res, new Map())),
    body: new URLSearchParams({ _csrf: csrf, token, password, confirm: password }).toString(),
  };
}

/** Posts the form; null when answered as expected (the password refused as too easy to guess). */
export async function postResetForm(base: string, form: ResetForm): Promise<string | null> {
  try {
    const res = await fetch(`${base}/nouveau-mot-de-passe`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: form.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.body,
    });
    const html = await res.text();
    if (res.status !== 400) return `status ${res.status}, expected 400`;
    if (!html.includes('trop facile à deviner')) return 'no « trop facile à deviner »';
    return null;
  } catch (err) {
    return `connection error: ${describe(err)}`;
  }
}

/** One GET /sante; its latency in ms, or the problem. */
export async function health(base: string): Promise<number | string> {
  const start = performance.now();
  try {
    const res = await fetch(`${base}/sante`);
    const body = await res.text();
    const ms = performance.now() - start;
    if (res.status !== 200 || !body.includes('ok')) return `/sante: status ${res.status}`;
    return ms;
  } catch (err) {
    return `/sante: connection error after ${Math.round(performance.now() - start)} ms: ${describe(err)}`;
  }
}

/** undici hides the socket's error in `cause`. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${err.message}${cause}`;
}
