import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { TestClient, followConfirmLink, textOf } from '../helpers/client.ts';
import { dialects } from '../helpers/db.ts';
import { createUser, seedAccount } from '../helpers/factories.ts';
import { loginAs } from '../helpers/login.ts';
import { linkIn } from '../helpers/smtp.ts';
import { emailOf, tryToConfirm } from './support.ts';

/**
 * Account takeover through a pending email change: someone who knows the password (a
 * relative, a shared computer, a leaked password) asks to move the login address to their
 * own and keeps the confirmation link. Whatever the owner then does to take the space
 * back — change the password, reset it, cancel — that link must stop working, and no link
 * may move the address without the owner's own signed-in session.
 */
describe.each(dialects)('Security: pending email change (%s)', (dialect) => {
  let t: TestApp;
  let seq = 0;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => {
    await t?.close();
  });

  const NEW_PASSWORD = 'Palier#Lune42';

  async function owner() {
    const account = await seedAccount(t.db, t.config);
    return createUser(t.db, { accountIds: [account.id] });
  }

  /** The intruder signs in with the known password, asks for the change and reads the link in their own mailbox. */
  async function intruderAsksForChange(user: { id: number; email: string; password: string }) {
    const intruder = await loginAs(t.app, user.email, user.password, `10.66.${dialect === 'sqlite' ? 1 : 2}.${++seq}`);
    const evil = `intrus-${dialect}-${user.id}@evil.example`;
    const res = await intruder.submit('/profil', { newEmail: evil, emailPassword: user.password }, '/profil/email');
    expect(res.statusCode).toBe(303);
    const mail = await t.smtp.waitFor(evil, (m) => m.subject.includes('Confirmez votre adresse'));
    return { intruder, evil, link: linkIn(mail, '/confirmer-email') };
  }

  it('a password change from Profil voids the intruder’s link', async () => {
    const user = await owner();
    const { intruder, link } = await intruderAsksForChange(user);

    const me = await loginAs(t.app, user.email, user.password);
    const changed = await me.submit(
      '/profil',
      { currentPassword: user.password, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD },
      '/profil/mot-de-passe',
    );
    expect(changed.statusCode).toBe(303);

    // The intruder (whose session ended), someone without a session, and even the owner's
    // own session: none of them can use the link any more.
    for (const who of [intruder, new TestClient(t.app), me]) {
      const res = await tryToConfirm(who, link);
      expect(res.statusCode).not.toBe(200);
      expect(await emailOf(t, user.id)).toBe(user.email);
    }
    const page = await me.get(new URL(link).pathname + new URL(link).search);
    expect(page.statusCode).toBe(400);
    expect(textOf(page.body)).toContain('Ce lien de confirmation n’est plus valable');
    await loginAs(t.app, user.email, NEW_PASSWORD);
  });

  it('a reset through « Mot de passe oublié ? » voids the intruder’s link', async () => {
    const user = await owner();
    const { intruder, link } = await intruderAsksForChange(user);

    const me = new TestClient(t.app);
    expect((await me.submit('/mot-de-passe-oublie', { email: user.email })).statusCode).toBe(200);
    const resetMail = await t.smtp.waitFor(user.email, (m) => m.subject.includes('nouveau mot de passe'));
    const reset = new URL(linkIn(resetMail, '/nouveau-mot-de-passe'));
    const done = await me.submit(
      reset.pathname + reset.search,
      { token: reset.searchParams.get('jeton')!, password: NEW_PASSWORD, confirm: NEW_PASSWORD },
      '/nouveau-mot-de-passe',
    );
    expect(done.statusCode).toBe(303);

    for (const who of [intruder, new TestClient(t.app), await loginAs(t.app, user.email, NEW_PASSWORD)]) {
      const res = await tryToConfirm(who, link);
      expect(res.statusCode).not.toBe(200);
      expect(await emailOf(t, user.id)).toBe(user.email);
    }
  });

  it('confirming needs the owner’s session: not without one, not from another person’s', async () => {
    const user = await owner();
    const me = await loginAs(t.app, user.email, user.password);
    const target = `nouvelle-${dialect}-${user.id}@exemple.test`;
    await me.submit('/profil', { newEmail: target, emailPassword: user.password }, '/profil/email');
    const mail = await t.smtp.waitFor(target, (m) => m.subject.includes('Confirmez votre adresse'));
    const link = new URL(linkIn(mail, '/confirmer-email'));

    // Without a session: the page asks to sign in first and offers no button; a forged POST
    // is sent to the login page, coming back to the link afterwards.
    const stranger = new TestClient(t.app);
    const page = await stranger.get(link.pathname + link.search);
    expect(page.statusCode).toBe(200);
    expect(textOf(page.body)).toContain('connectez-vous d’abord à votre espace');
    expect(page.body).not.toContain('action="/confirmer-email"');
    const forged = await tryToConfirm(stranger, link);
    expect(forged.statusCode).toBe(303);
    expect(forged.headers.location).toBe(`/?retour=${encodeURIComponent(link.pathname + link.search)}`);
    expect(await emailOf(t, user.id)).toBe(user.email);

    // From another person's space: refused.
    const other = await createUser(t.db);
    const otherClient = await loginAs(t.app, other.email, other.password);
    expect(textOf((await otherClient.get(link.pathname + link.search)).body)).toContain(
      'Ce lien concerne un autre espace client',
    );
    const refused = await tryToConfirm(otherClient, link);
    expect(refused.statusCode).toBe(400);
    expect(await emailOf(t, user.id)).toBe(user.email);
    expect(await emailOf(t, other.id)).toBe(other.email);

    // The owner signs in from the link's page, comes back to it, and confirms.
    const rightful = new TestClient(t.app);
    const signIn = await rightful.submit(
      `/?retour=${encodeURIComponent(link.pathname + link.search)}`,
      { email: user.email, password: user.password, retour: link.pathname + link.search },
      '/connexion',
    );
    expect(signIn.headers.location).toBe(link.pathname + link.search);
    const ok = await followConfirmLink(rightful, link);
    expect(ok.statusCode).toBe(200);
    expect(await emailOf(t, user.id)).toBe(target);
  });

  it('Profil shows the pending change; « Annuler ce changement » voids the link; the old address is told how', async () => {
    const user = await owner();
    const { intruder, evil, link } = await intruderAsksForChange(user);

    // The mail to the current address says how to cancel.
    const notice = await t.smtp.waitFor(user.email, (m) => m.subject.includes('changement d’adresse'));
    expect(notice.text).toContain(evil);
    expect(notice.text.includes('Annuler ce changement') || /https?:\/\/[^\s]+\/profil\b/.test(notice.text)).toBe(true);

    const me = await loginAs(t.app, user.email, user.password);
    const profil = await me.get('/profil');
    expect(textOf(profil.body)).toContain(`Une demande de changement vers ${evil} attend votre confirmation`);
    expect(profil.body).toContain('action="/profil/email/annulation"');
    expect(textOf(profil.body)).toContain('Annuler ce changement');

    const cancel = await me.submit('/profil', {}, '/profil/email/annulation');
    expect(cancel.statusCode).toBe(303);
    expect(textOf((await me.follow(cancel)).body)).toContain('La demande de changement d’adresse email est annulée');
    expect(textOf((await me.get('/profil')).body)).not.toContain(evil);

    // The intruder still has a session of this space (the password did not change): the
    // link is dead all the same.
    const res = await tryToConfirm(intruder, link);
    expect(res.statusCode).toBe(400);
    expect(await emailOf(t, user.id)).toBe(user.email);
  });
});
