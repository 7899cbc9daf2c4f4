import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { TestClient, csrfTokenOf, followConfirmLink, textOf } from '../helpers/client.ts';
import { dialects } from '../helpers/db.ts';
import { createUser, seedAccount } from '../helpers/factories.ts';
import { loginAs } from '../helpers/login.ts';
import { linkIn } from '../helpers/smtp.ts';
import { emailOf } from './support.ts';

/**
 * Mail scanners (and link previews) open every link of a mail. Opening a confirmation link
 * must change nothing; only the button of the page it opens (a POST carrying the page's
 * CSRF token) confirms.
 */
describe.each(dialects)('Security: /confirmer-email changes nothing on GET (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => {
    await t?.close();
  });

  const verifiedAt = async (userId: number) =>
    (await t.db.selectFrom('users').select('email_verified_at').where('id', '=', userId).executeTakeFirstOrThrow())
      .email_verified_at;

  it('a first address: opening the link does not confirm it, the button does (with its CSRF token)', async () => {
    const account = await seedAccount(t.db, t.config);
    const user = await createUser(t.db, { accountIds: [account.id] });
    await t.db.updateTable('users').set({ email_verified_at: null }).where('id', '=', user.id).execute();
    const me = await loginAs(t.app, user.email, user.password);
    expect((await me.submit('/profil', {}, '/profil/email/confirmation')).statusCode).toBe(303);
    const mail = await t.smtp.waitFor(user.email, (m) => m.subject.includes('Confirmez votre adresse'));
    const link = new URL(linkIn(mail, '/confirmer-email'));
    const path = link.pathname + link.search;

    // The scanner opens it (twice, as some do), without cookies; then the person opens it.
    const scanner = new TestClient(t.app, { ip: '192.0.2.10' });
    for (const who of [scanner, scanner, me]) {
      const res = await who.get(path);
      expect(await verifiedAt(user.id)).toBeNull();
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('action="/confirmer-email"');
    }
    // A POST without the page's CSRF token is refused.
    const forged = await scanner.post('/confirmer-email', { token: link.searchParams.get('jeton')! });
    expect(forged.statusCode).toBe(403);
    expect(await verifiedAt(user.id)).toBeNull();

    const ok = await followConfirmLink(me, link);
    expect(ok.statusCode).toBe(200);
    expect(textOf(ok.body)).toContain('Adresse email confirmée');
    expect(await verifiedAt(user.id)).not.toBeNull();
  });

  it('a change of address: opening the link, with or without the owner’s session, changes nothing', async () => {
    const account = await seedAccount(t.db, t.config);
    const user = await createUser(t.db, { accountIds: [account.id] });
    const me = await loginAs(t.app, user.email, user.password);
    const target = `scan-${dialect}-${user.id}@exemple.test`;
    await me.submit('/profil', { newEmail: target, emailPassword: user.password }, '/profil/email');
    const mail = await t.smtp.waitFor(target, (m) => m.subject.includes('Confirmez votre adresse'));
    const link = new URL(linkIn(mail, '/confirmer-email'));
    const path = link.pathname + link.search;

    for (const who of [new TestClient(t.app, { ip: '192.0.2.11' }), me, me]) {
      expect((await who.get(path)).statusCode).toBe(200);
      expect(await emailOf(t, user.id)).toBe(user.email);
    }
    // The owner's session, but a form posted from elsewhere: no token, or the token of
    // another browser (what a forging site could obtain).
    expect((await me.post('/confirmer-email', { token: link.searchParams.get('jeton')! })).statusCode).toBe(403);
    const wrong = csrfTokenOf((await new TestClient(t.app).get('/')).body);
    const forged = await me.post('/confirmer-email', { token: link.searchParams.get('jeton')! }, { csrf: wrong });
    expect(forged.statusCode).toBe(403);
    expect(await emailOf(t, user.id)).toBe(user.email);

    expect((await followConfirmLink(me, link)).statusCode).toBe(200);
    expect(await emailOf(t, user.id)).toBe(target);
  });
});
