import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { TestClient } from '../helpers/client.ts';
import { dialects } from '../helpers/db.ts';
import { createUser } from '../helpers/factories.ts';
import { loginAs } from '../helpers/login.ts';

const COOKIE = '__Host-palier_session';

/** The Set-Cookie header lines of a response naming this cookie. */
function setCookiesOf(headers: Record<string, unknown>, name: string): string[] {
  const raw = headers['set-cookie'];
  const all = Array.isArray(raw) ? raw.map(String) : raw ? [String(raw)] : [];
  return all.filter((c) => c.startsWith(`${name}=`));
}

function attributesOf(setCookie: string): Map<string, string> {
  const [, ...attrs] = setCookie.split(';');
  return new Map(
    attrs.map((a) => {
      const [k, ...v] = a.trim().split('=');
      return [k!.toLowerCase(), v.join('=')];
    }),
  );
}

/**
 * Browsers refuse a `__Host-` cookie set without `Secure` (and `Path=/`): a logout that
 * clears it without them is ignored, and the dead session id stays in the browser. The
 * clearing must carry the attributes the cookie was set with.
 */
describe.each(dialects)('Security: logout clears the __Host- session cookie (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { baseUrl: 'https://palier.test', secureCookies: true });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('sets and clears it with Secure, Path=/, HttpOnly and SameSite=Lax', async () => {
    const user = await createUser(t.db);
    const login = new TestClient(t.app);
    const signedIn = await login.submit('/', { email: user.email, password: user.password }, '/connexion');
    expect(signedIn.statusCode).toBe(303);
    const [set] = setCookiesOf(signedIn.headers, COOKIE);
    expect(set, 'the login sets the session cookie').toBeDefined();

    const me = await loginAs(t.app, user.email, user.password);
    const sessionId = me.cookies.get(COOKIE)!;
    expect(sessionId).toBeTruthy();
    const out = await me.submit('/accueil', {}, '/deconnexion');
    expect(out.statusCode).toBe(303);
    const cleared = setCookiesOf(out.headers, COOKIE);
    expect(cleared).toHaveLength(1);

    for (const header of [set!, cleared[0]!]) {
      const attrs = attributesOf(header);
      expect(attrs.has('secure'), header).toBe(true);
      expect(attrs.get('path'), header).toBe('/');
      expect(attrs.has('httponly'), header).toBe(true);
      expect(attrs.get('samesite')?.toLowerCase(), header).toBe('lax');
      expect(attrs.has('domain'), header).toBe(false);
    }
    // The clearing empties the cookie and expires it now.
    expect(cleared[0]).toMatch(new RegExp(`^${COOKIE}=;`));
    const expires = attributesOf(cleared[0]!).get('expires');
    expect(expires && new Date(expires).getTime() <= Date.now()).toBe(true);

    // And the session is gone on the server: the old id opens nothing.
    const replay = new TestClient(t.app);
    replay.cookies.set(COOKIE, sessionId);
    const res = await replay.get('/accueil');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/');
  });
});
