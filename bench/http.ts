/**
 * HTTP as a browser does it, for the bench: the CSRF cookie and token from the login page,
 * then the session cookie from POST /connexion.
 */
import type { BenchPerson } from './generate.ts';

/** Meets the password policy; every generated person shares it (and its hash). */
export const PASSWORD = 'Banc-D3ssai-Palier';

export function cookiesFrom(res: Response, jar: Map<string, string>): Map<string, string> {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq).trim();
    const value = pair!.slice(eq + 1).trim();
    if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name);
    else jar.set(name, value);
  }
  return jar;
}

export const cookieHeader = (jar: Map<string, string>) => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

export interface LoginForm {
  cookie: string;
  body: string;
}

/** What a browser holds after opening the login page: the CSRF cookie, and the form filled in. */
export async function loginForm(base: string, email: string): Promise<LoginForm> {
  const res = await fetch(`${base}/`, { redirect: 'manual' });
  const html = await res.text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (res.status !== 200 || !token)
    throw new Error(`login page: status ${res.status}, CSRF token ${token ? 'found' : 'missing'}`);
  return {
    cookie: cookieHeader(cookiesFrom(res, new Map())),
    body: new URLSearchParams({ _csrf: token, email, password: PASSWORD }).toString(),
  };
}

/** Logs a person in through POST /connexion; returns the Cookie header of the session. */
export async function logIn(base: string, person: BenchPerson): Promise<string> {
  const form = await loginForm(base, person.email);
  const res = await fetch(`${base}/connexion`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: form.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: form.body,
  });
  await res.arrayBuffer();
  if (res.status !== 303 || res.headers.get('location') !== '/accueil') {
    throw new Error(`login of ${person.email}: status ${res.status}, location ${res.headers.get('location')}`);
  }
  const jar = cookiesFrom(res, new Map(form.cookie.split('; ').map((c) => c.split('=', 2) as [string, string])));
  if (![...jar.keys()].some((k) => k.endsWith('palier_session')))
    throw new Error(`login of ${person.email}: no session cookie`);
  return cookieHeader(jar);
}

/** One GET as the person, checked like a reader would: 200, and the content that must be there. */
export async function fetchPage(
  base: string,
  cookie: string,
  url: string,
  check: (html: string) => string | null,
): Promise<number> {
  const res = await fetch(`${base}${url}`, { headers: { cookie }, redirect: 'manual' });
  const buf = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`GET ${url}: status ${res.status}, expected 200`);
  const problem = check(buf.toString('utf8'));
  if (problem) throw new Error(`GET ${url}: ${problem}`);
  return buf.length;
}

/** The full statement of an account, as the page shows it by default (no period). */
export const statementPath = (accountId: number) => `/comptes/${accountId}/extrait`;

/** A statement page shows at least one table row per ledger line. */
export function statementRowsCheck(lines: number): (html: string) => string | null {
  return (html) => {
    const rows = html.match(/<tr[\s>]/g)?.length ?? 0;
    return rows >= lines ? null : `${rows} table rows, expected at least ${lines} (the full statement)`;
  };
}

export const homeCheck = (html: string) => (html.includes('Bienvenue') ? null : 'no « Bienvenue »');
