import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { TestClient, textOf } from '../helpers/client.ts';
import { dialects } from '../helpers/db.ts';
import { createUser, seedAccount } from '../helpers/factories.ts';

/** The value of the login form's hidden `retour` field, if the page has one. */
function hiddenReturn(html: string): string | null {
  const m = /<input type="hidden" name="retour" value="([^"]*)"/.exec(html);
  return m ? m[1]!.replace(/&amp;/g, '&') : null;
}

/**
 * After signing in, a person goes back to the page they asked for — a page of this site
 * only: `retour` values that browsers read as another site (`//host`, `/\host`, an
 * absolute URL) land on /accueil, never elsewhere (no open redirect through the login).
 */
describe.each(dialects)('Security: return after login, no open redirect (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function person() {
    const account = await seedAccount(t.db, t.config);
    const user = await createUser(t.db, { accountIds: [account.id] });
    return { account, user };
  }

  /** Signs in from the login page opened with this `retour`, posting the field as the page holds it. */
  async function signInFrom(retour: string, user: { email: string; password: string }) {
    const c = new TestClient(t.app);
    const page = `/?retour=${encodeURIComponent(retour)}`;
    const held = hiddenReturn((await c.get(page)).body);
    const res = await c.submit(page, { email: user.email, password: user.password, retour: held ?? '' }, '/connexion');
    return { c, res, held };
  }

  it('an anonymous visit to /comptes/:id/payer goes to the login page', async () => {
    const { account } = await person();
    const res = await new TestClient(t.app).get(`/comptes/${account.id}/payer`);
    expect(res.statusCode).toBe(303);
    expect(new URL(String(res.headers.location), 'http://palier.test').pathname).toBe('/');
  });

  it('the redirect to the login page carries the page asked for', async () => {
    const { account } = await person();
    const res = await new TestClient(t.app).get(`/comptes/${account.id}/payer`);
    expect(res.headers.location).toBe(`/?retour=${encodeURIComponent(`/comptes/${account.id}/payer`)}`);
  });

  it('with ?retour=/comptes/:id/payer, the login lands there', async () => {
    const { account, user } = await person();
    const target = `/comptes/${account.id}/payer`;
    const { c, res, held } = await signInFrom(target, user);
    expect(held).toBe(target);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(target);
    const landed = await c.get(target);
    expect(landed.statusCode).toBe(200);
    expect(textOf(landed.body)).toContain(account.reference);
  });

  for (const evil of [
    '//evil.example',
    '/\\evil.example',
    'https://evil.example',
    '/\\/evil.example',
    '///evil.example',
  ]) {
    it(`retour=${evil} lands on /accueil`, async () => {
      const { user } = await person();
      // Through the login page (the field it would hold) …
      const { c, res, held } = await signInFrom(evil, user);
      expect(held).toBeNull();
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/accueil');
      // … through a forged form posting the value directly …
      const forged = await new TestClient(t.app).submit(
        '/',
        { email: user.email, password: user.password, retour: evil },
        '/connexion',
      );
      expect(forged.statusCode).toBe(303);
      expect(forged.headers.location).toBe('/accueil');
      // … and when already signed in.
      const again = await c.get(`/?retour=${encodeURIComponent(evil)}`);
      expect(again.statusCode).toBe(303);
      expect(again.headers.location).toBe('/accueil');
    });
  }
});
