import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { TestClient, csrfTokenOf, textOf } from '../helpers/client.ts';
import { dialects } from '../helpers/db.ts';
import { createManager, createUser, seedAccount } from '../helpers/factories.ts';
import { loginAs } from '../helpers/login.ts';
import { drainOutbox, expectMailFreeOf, mailsTo } from './support.ts';

const GOOD_PASSWORD = 'Palier#Lune42';

/** What a phisher types as their name: mailed by the agency, it would read as the agency's words. */
const LAST_NAME = 'Bonjour M. Durand, réglez votre solde sur https://evil.example';
const FIRST_NAME = 'Urgent virement sous 48 h vers https://evil.example/iban';
/** Words of those names that must not reach an address nobody has proved. */
const PHISHING = ['evil.example', 'réglez', 'Urgent', 'virement', 'Durand,'];

/**
 * An address not confirmed yet may belong to someone else: whoever typed it must not get
 * their own words mailed there under the agency's name. Mails to such an address carry the
 * agency's text only — no name, no message typed by the requester.
 */
describe.each(dialects)('Security: no requester text in mails to unconfirmed addresses (%s)', (dialect) => {
  let t: TestApp;
  let seq = 0;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => {
    await t?.close();
  });

  const victim = () => `victime-${dialect}-${++seq}-${Date.now()}@exemple.test`;

  /** A person claims a space with the printed code, a phishing name and an address they do not control. */
  async function claimAsPhisher(): Promise<{ c: TestClient; to: string }> {
    const account = await seedAccount(t.db, t.config);
    const c = new TestClient(t.app, { ip: `10.40.${dialect === 'sqlite' ? 1 : 2}.${seq + 1}` });
    const step1 = await c.submit('/creer-mon-espace', { reference: account.reference, code: account.accessCode });
    expect(step1.statusCode).toBe(303);
    const ticket = new URL(String(step1.headers.location), 'http://palier.test').searchParams.get('ticket')!;
    const to = victim();
    const done = await c.submit(
      `/creer-mon-espace/etape-2?ticket=${ticket}`,
      {
        ticket,
        civility: 'M.',
        lastName: LAST_NAME,
        firstName: FIRST_NAME,
        email: to,
        password: GOOD_PASSWORD,
        confirm: GOOD_PASSWORD,
        phone: '06 12 34 56 78',
        address: '12 rue des Alpes',
        postalCode: '38000',
        city: 'Grenoble',
      },
      '/creer-mon-espace/etape-2',
    );
    expect(done.statusCode, textOf(done.body).slice(0, 400)).toBe(303);
    return { c, to };
  }

  it('claim: the confirmation mail to the typed address holds none of the typed name', async () => {
    const { to } = await claimAsPhisher();
    const mail = await t.smtp.waitFor(to, (m) => m.subject.includes('Confirmez votre adresse'));
    expectMailFreeOf(mail, PHISHING);
    await drainOutbox(t);
    for (const m of mailsTo(t, to)) expectMailFreeOf(m, PHISHING);
  });

  it('the « Mot de passe oublié ? » mail to an unconfirmed address does not hold the typed name', async () => {
    const { to } = await claimAsPhisher();
    // Anyone can ask for it, the phisher included, as often as the limits allow.
    expect((await new TestClient(t.app).submit('/mot-de-passe-oublie', { email: to })).statusCode).toBe(200);
    const mail = await t.smtp.waitFor(to, (m) => m.subject.includes('nouveau mot de passe'));
    expectMailFreeOf(mail, PHISHING);
  });

  it('the notice of a password change to an unconfirmed address does not hold the typed name', async () => {
    const { c, to } = await claimAsPhisher();
    const res = await c.submit(
      '/profil',
      { currentPassword: GOOD_PASSWORD, newPassword: 'Autre#Soleil57', confirmPassword: 'Autre#Soleil57' },
      '/profil/mot-de-passe',
    );
    expect(res.statusCode).toBe(303);
    const mail = await t.smtp.waitFor(to, (m) => m.subject.includes('mot de passe a été modifié'));
    expectMailFreeOf(mail, PHISHING);
  });

  it('the notice of an email change to an unconfirmed old address does not hold the typed name', async () => {
    const { c, to } = await claimAsPhisher();
    const res = await c.submit('/profil', { newEmail: victim(), emailPassword: GOOD_PASSWORD }, '/profil/email');
    expect(res.statusCode).toBe(303);
    const mail = await t.smtp.waitFor(to, (m) => m.subject.includes('changement d’adresse'));
    expectMailFreeOf(mail, PHISHING);
  });

  it('email change: the confirmation mail to the new address holds none of the person’s name', async () => {
    const account = await seedAccount(t.db, t.config);
    const user = await createUser(t.db, { accountIds: [account.id] });
    const me = await loginAs(t.app, user.email, user.password);
    const named = await me.submit('/profil', {
      civility: 'M.',
      lastName: LAST_NAME,
      firstName: FIRST_NAME,
      phone: '06 12 34 56 78',
      address: '12 rue des Alpes',
      postalCode: '38000',
      city: 'Grenoble',
    });
    expect(named.statusCode).toBe(303);
    const to = victim();
    const asked = await me.submit('/profil', { newEmail: to, emailPassword: user.password }, '/profil/email');
    expect(asked.statusCode).toBe(303);

    const mail = await t.smtp.waitFor(to, (m) => m.subject.includes('Confirmez votre adresse'));
    expectMailFreeOf(mail, PHISHING);
  });

  it('contact: the acknowledgement to an unconfirmed address does not echo the message', async () => {
    const manager = await createManager(t.db, { email: `gestion-${dialect}-${Date.now()}@agence.test` });
    const account = await seedAccount(t.db, t.config, { managerId: manager.id });
    const to = victim();
    const user = await createUser(t.db, {
      email: to,
      accountIds: [account.id],
      firstName: FIRST_NAME,
      lastName: LAST_NAME,
    });
    await t.db.updateTable('users').set({ email_verified_at: null }).where('id', '=', user.id).execute();
    const me = await loginAs(t.app, user.email, user.password);
    const url = `/comptes/${account.id}/contact`;
    const subject = 'Relance impayé : réglez sous 48 h';
    const body = 'Madame, Monsieur,\nVotre solde est à régler sur https://evil.example/payer avant vendredi.';
    const sent = await me.post(url, { subject, body }, { csrf: csrfTokenOf((await me.get(url)).body) });
    expect(sent.statusCode).toBe(303);

    // The gestionnaire gets the message (their address is the agency's own).
    const toManager = await t.smtp.waitFor(manager.email, (m) => m.subject.includes(account.reference));
    expect(toManager.text).toContain('https://evil.example/payer');

    const ack = await t.smtp.waitFor(to, (m) => m.subject.includes('Votre message'));
    expectMailFreeOf(ack, [...PHISHING, 'Relance', 'régler', 'vendredi', 'Madame, Monsieur']);
  });
});
