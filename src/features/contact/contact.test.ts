import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { TestClient, csrfTokenOf, textOf } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { createBuilding, createManager, createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { loginAs } from '../../../test/helpers/login.ts';
import { LIMITS, recordAttempt } from '../../core/security/attempts.ts';
import { setAgency } from '../../core/agency/agency.repository.ts';

describe.each(dialects)('Contact gestionnaires (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
    await setAgency(t.db, {
      name: 'Cabinet Dauphin',
      tagline: 'depuis 1904',
      address: '3 place Grenette, 38000 Grenoble',
      phone: '04 76 12 34 56',
      email: `accueil-${dialect}@cabinet-dauphin.test`,
      website: 'https://www.cabinet-dauphin.test',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function owner(o: { kind?: 'coproprietaire' | 'locataire' | 'proprietaire' } = {}) {
    const manager = await createManager(t.db, { name: 'ZIANE Aziza', phone: '04 76 00 11 22' });
    const account = await seedAccount(t.db, t.config, { managerId: manager.id, kind: o.kind });
    const user = await createUser(t.db, { accountIds: [account.id], firstName: 'Claire', lastName: 'MARTIN' });
    const client = await loginAs(t.app, user.email, user.password);
    return { manager, account, user, client };
  }
  const messagesOf = (accountId: number) =>
    t.db.selectFrom('messages').selectAll().where('account_id', '=', accountId).execute();

  it('shows the gestionnaire with email and phone links, and the message form', async () => {
    const { manager, account, client } = await owner();
    const res = await client.get(`/comptes/${account.id}/contact`);
    expect(res.statusCode).toBe(200);
    const text = textOf(res.body);
    expect(text).toContain('Contacter votre gestionnaire');
    expect(text).toContain(`Copropriétaire N° ${account.reference}`);
    expect(text).toContain('ZIANE Aziza');
    expect(res.body).toContain(`href="mailto:${manager.email}"`);
    expect(res.body).toContain('href="tel:0476001122"');
    expect(res.body).toContain('<label for="subject">Objet');
    expect(res.body).toContain('<label for="body">Message');
    expect(res.body).toContain(`action="/comptes/${account.id}/contact"`);
  });

  it('stores the message, mails it to the gestionnaire with the reference and acknowledges it to the client', async () => {
    const { manager, account, user, client } = await owner();
    const res = await client.submit(`/comptes/${account.id}/contact`, {
      subject: 'Fuite au plafond',
      body: 'Bonjour,\r\nUne fuite est apparue dans la salle de bains.\r\n\r\nMerci de votre aide.',
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/comptes/${account.id}/contact`);
    const page = await client.follow(res);
    expect(textOf(page.body)).toContain('Votre message a été envoyé à ZIANE Aziza.');

    const rows = await messagesOf(account.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ user_id: user.id, manager_id: manager.id, subject: 'Fuite au plafond' });
    expect(rows[0]!.body).toBe('Bonjour,\nUne fuite est apparue dans la salle de bains.\n\nMerci de votre aide.');
    const audit = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'message.send')
      .where('account_id', '=', account.id)
      .execute();
    expect(audit).toHaveLength(1);

    const mail = await t.smtp.waitFor(manager.email, (m) => m.subject.includes(account.reference));
    expect(mail.subject).toContain('Fuite au plafond');
    expect(mail.subject).toContain(`compte ${account.reference}`);
    expect(mail.text).toContain('Bonjour ZIANE Aziza,');
    expect(mail.text).toContain(`Copropriétaire N° ${account.reference}`);
    expect(mail.text).toContain('Claire MARTIN');
    expect(mail.text).toContain(user.email);
    expect(mail.text).toContain('Une fuite est apparue dans la salle de bains.');
    expect(mail.raw).toMatch(new RegExp(`^Reply-To: ${user.email}`, 'im'));

    const ack = await t.smtp.waitFor(user.email, (m) => m.subject.includes(account.reference));
    expect(ack.text).toContain('a bien été transmis à ZIANE Aziza');
    expect(ack.text).toContain('Fuite au plafond');
    expect(ack.text).toContain('Merci de votre aide.');
  });

  it('refuses an empty or oversized message in French and stores nothing', async () => {
    const { account, client } = await owner();
    const empty = await client.submit(`/comptes/${account.id}/contact`, { subject: '  ', body: '' });
    expect(empty.statusCode).toBe(400);
    expect(textOf(empty.body)).toContain('Saisissez l’objet de votre message.');
    expect(textOf(empty.body)).toContain('Saisissez votre message.');

    const huge = await client.submit(`/comptes/${account.id}/contact`, {
      subject: 'x'.repeat(10_240),
      body: 'y'.repeat(10_240),
    });
    expect(huge.statusCode).toBe(400);
    expect(textOf(huge.body)).toContain('L’objet doit contenir au plus 200 caractères.');
    expect(textOf(huge.body)).toContain('Votre message doit contenir au plus 5 000 caractères.');

    const headerInjection = await client.submit(`/comptes/${account.id}/contact`, {
      subject: 'Bonjour\r\nBcc: pirate@exemple.test',
      body: 'Test',
    });
    expect(headerInjection.statusCode).toBe(400);
    expect(textOf(headerInjection.body)).toContain('une seule ligne');

    const nul = await client.submit(`/comptes/${account.id}/contact`, {
      subject: 'Test',
      body: 'Bonjour\u0000\u001b[31m',
    });
    expect(nul.statusCode).toBe(400);
    expect(textOf(nul.body)).toContain('Votre message contient des caractères non autorisés.');

    const missing = await client.submit(`/comptes/${account.id}/contact`, {});
    expect(missing.statusCode).toBe(400);
    expect(textOf(missing.body)).toContain('Saisissez votre message.');
    expect(await messagesOf(account.id)).toHaveLength(0);
  });

  it('keeps the typed text when refusing, and escapes HTML in the page and the mail', async () => {
    const { manager, account, client } = await owner();
    const hostile = '<img src=x onerror=alert(1)> <a href="https://pirate.test">Cliquez</a>';
    const bad = await client.submit(`/comptes/${account.id}/contact`, { subject: '', body: hostile });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).not.toContain('<img src=x');
    expect(bad.body).toContain('&lt;img src=x onerror=alert(1)>');

    const ok = await client.submit(`/comptes/${account.id}/contact`, {
      subject: '<b>Urgent</b> & important',
      body: hostile,
    });
    expect(ok.statusCode).toBe(303);
    const rows = await messagesOf(account.id);
    expect(rows[0]!.body).toBe(hostile);
    const mail = await t.smtp.waitFor(manager.email, (m) => m.subject.includes('Urgent'));
    expect(mail.html).not.toContain('<img');
    expect(mail.html).not.toContain('<a href="https://pirate.test"');
    expect(mail.html).not.toContain('<b>Urgent');
    expect(mail.html).toContain('&lt;img src=x');
    expect(mail.text).toContain(hostile);
  });

  it(`limits a person to ${LIMITS.messagePerUser.max} messages an hour, with a French message`, async () => {
    const { manager, account, user, client } = await owner();
    // The earlier messages of the hour (sent from another account's page, say), then one more through the form.
    for (let i = 1; i < LIMITS.messagePerUser.max; i++)
      await recordAttempt(t.db, LIMITS.messagePerUser, String(user.id), t.clock.now);
    const last = await client.submit(`/comptes/${account.id}/contact`, { subject: 'La dernière', body: 'Bonjour' });
    expect(last.statusCode).toBe(303);
    const over = await client.submit(`/comptes/${account.id}/contact`, {
      subject: 'Une de trop',
      body: 'Texte à garder',
    });
    expect(over.statusCode).toBe(429);
    expect(textOf(over.body)).toContain('Vous avez envoyé beaucoup de messages en peu de temps');
    expect(over.body).toContain('Texte à garder');
    expect(await messagesOf(account.id)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(t.smtp.mails.filter((m) => m.to.includes(manager.email) && m.subject.includes('Une de trop'))).toHaveLength(
      0,
    );
  });

  it('sends to the agency when the account has no gestionnaire', async () => {
    const { account, client } = await owner({ kind: 'locataire' });
    await t.db.updateTable('client_accounts').set({ manager_id: null }).where('id', '=', account.id).execute();
    const page = await client.get(`/comptes/${account.id}/contact`);
    expect(textOf(page.body)).toContain('Aucun gestionnaire n’est attribué à ce compte');
    const res = await client.submit(`/comptes/${account.id}/contact`, {
      subject: 'Quittance',
      body: 'Pouvez-vous m’envoyer ma quittance ?',
    });
    expect(res.statusCode).toBe(303);
    expect(textOf((await client.follow(res)).body)).toContain('Votre message a été envoyé à l’agence Cabinet Dauphin.');
    const mail = await t.smtp.waitFor(`accueil-${dialect}@cabinet-dauphin.test`, (m) =>
      m.subject.includes(account.reference),
    );
    expect(mail.text).toContain(`Locataire N° ${account.reference}`);
    expect((await messagesOf(account.id))[0]!.manager_id).toBeNull();
  });

  it('says plainly when neither the gestionnaire nor the agency has an email address', async () => {
    const { account, client } = await owner();
    await t.db.updateTable('client_accounts').set({ manager_id: null }).where('id', '=', account.id).execute();
    await setAgency(t.db, { email: null });
    try {
      const res = await client.submit(`/comptes/${account.id}/contact`, { subject: 'Clés', body: 'Bonjour' });
      expect(res.statusCode).toBe(303);
      expect(textOf((await client.follow(res)).body)).toContain(
        'Votre message est enregistré, mais il n’a pas pu être transmis par email : ni votre gestionnaire ni l’agence n’ont encore d’adresse email connue.',
      );
      expect(await messagesOf(account.id)).toHaveLength(1);
    } finally {
      await setAgency(t.db, { email: `accueil-${dialect}@cabinet-dauphin.test` });
    }
  });

  it('answers another client exactly like an account that does not exist, and stores nothing', async () => {
    const { account } = await owner();
    const stranger = await owner();
    const theirs = await stranger.client.get(`/comptes/${account.id}/contact`);
    const missing = await stranger.client.get('/comptes/999999999/contact');
    expect(theirs.statusCode).toBe(404);
    expect(textOf(theirs.body)).toBe(textOf(missing.body));
    expect(textOf(theirs.body)).not.toContain('ZIANE');

    const page = await stranger.client.get(`/comptes/${stranger.account.id}/contact`);
    const post = await stranger.client.post(
      `/comptes/${account.id}/contact`,
      { subject: 'Intrus', body: 'Intrus' },
      { csrf: csrfTokenOf(page.body) },
    );
    expect(post.statusCode).toBe(404);
    expect(await messagesOf(account.id)).toHaveLength(0);
  });

  it('sends an anonymous visitor to the login page', async () => {
    const { account } = await owner();
    for (const url of [`/comptes/${account.id}/contact`, '/contact']) {
      const res = await new TestClient(t.app).get(url);
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toMatch(/^\/(\?retour=|$)/);
    }
  });

  it('shows the agency and the gestionnaires of all my accounts, grouped', async () => {
    const zoe = await createManager(t.db, { name: 'BERNARD Zoé', phone: '04 76 99 88 77' });
    const aziza = await createManager(t.db, { name: 'ARNAUD Aziza' });
    const building = await createBuilding(t.db, { name: 'Les Glycines' });
    const flat = await seedAccount(t.db, t.config, { managerId: zoe.id, buildingId: building.id });
    const parking = await seedAccount(t.db, t.config, { managerId: zoe.id, buildingId: building.id });
    const rental = await seedAccount(t.db, t.config, { managerId: aziza.id, kind: 'locataire' });
    const someoneElses = await seedAccount(t.db, t.config, { managerId: aziza.id });
    const user = await createUser(t.db, { accountIds: [flat.id, parking.id, rental.id] });
    const client = await loginAs(t.app, user.email, user.password);

    const res = await client.get('/contact');
    expect(res.statusCode).toBe(200);
    const text = textOf(res.body);
    expect(text).toContain('Cabinet Dauphin');
    expect(text).toContain('depuis 1904');
    expect(text).toContain('3 place Grenette, 38000 Grenoble');
    expect(res.body).toContain('href="tel:0476123456"');
    expect(res.body).toContain(`href="mailto:accueil-${dialect}@cabinet-dauphin.test"`);
    expect(res.body).toContain('href="https://www.cabinet-dauphin.test"');

    // Gestionnaires in alphabetical order, each once, with the accounts they follow.
    const arnaud = text.indexOf('ARNAUD Aziza');
    const bernard = text.indexOf('BERNARD Zoé');
    expect(arnaud).toBeGreaterThan(-1);
    expect(bernard).toBeGreaterThan(arnaud);
    expect(text.split('BERNARD Zoé').length - 1).toBe(1);
    expect(text.slice(bernard)).toContain(`Copropriétaire N° ${flat.reference} · Les Glycines`);
    expect(text.slice(bernard)).toContain(`Copropriétaire N° ${parking.reference}`);
    expect(text.slice(arnaud, bernard)).toContain(`Locataire N° ${rental.reference}`);
    expect(res.body).toContain(`href="mailto:${zoe.email}"`);
    expect(res.body).toContain('href="tel:0476998877"');
    for (const a of [flat, parking, rental]) expect(res.body).toContain(`href="/comptes/${a.id}/contact"`);
    expect(res.body).not.toContain(someoneElses.reference);
  });
});
