import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { TestClient, csrfTokenOf, textOf } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { linkIn } from '../../../test/helpers/smtp.ts';
import { loginAs } from '../../../test/helpers/login.ts';

describe.each(dialects)('login, logout and password reset (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('shows the login page with the first-connection path', async () => {
    const res = await new TestClient(t.app).get('/');
    expect(res.statusCode).toBe(200);
    const text = textOf(res.body);
    expect(text).toContain('Se connecter');
    expect(text).toContain('Mot de passe oublié ?');
    expect(text).toContain('Créez votre espace');
  });

  it('logs in with a new session id and logs out for good', async () => {
    const account = await seedAccount(t.db, t.config);
    const user = await createUser(t.db, { accountIds: [account.id] });
    const client = new TestClient(t.app);
    const first = await client.submit('/', { email: user.email.toUpperCase(), password: user.password }, '/connexion');
    expect(first.statusCode).toBe(303);
    const firstId = client.cookies.get('palier_session');
    expect(firstId).toBeDefined();
    // Logging in again from the same browser (the login page itself now leads home, so the
    // form is sent from another page) gives a new id and deletes the session it replaces.
    const second = await client.submit(
      '/mot-de-passe-oublie',
      { email: user.email, password: user.password },
      '/connexion',
    );
    expect(second.statusCode).toBe(303);
    const sessionId = client.cookies.get('palier_session');
    expect(sessionId).toBeDefined();
    expect(sessionId).not.toBe(firstId);
    const previous = new TestClient(t.app);
    previous.cookies.set('palier_session', firstId!);
    const reused = await previous.get('/accueil');
    expect(reused.statusCode).toBe(303);
    expect(reused.headers.location).toBe('/');

    const stolen = sessionId!;
    expect((await client.get('/accueil')).statusCode).toBe(200);
    const home = await client.get('/accueil');
    const out = await client.post('/deconnexion', {}, { csrf: csrfTokenOf(home.body) });
    expect(out.statusCode).toBe(303);
    // The old cookie no longer opens anything.
    const replay = new TestClient(t.app);
    replay.cookies.set('palier_session', stolen);
    const after = await replay.get('/accueil');
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toBe('/');
  });

  it('answers the same for an unknown email and a wrong password', async () => {
    const user = await createUser(t.db);
    const a = await new TestClient(t.app, { ip: '10.0.0.1' }).submit(
      '/',
      { email: user.email, password: 'Mauvais123' },
      '/connexion',
    );
    const b = await new TestClient(t.app, { ip: '10.0.0.2' }).submit(
      '/',
      { email: 'inconnu@exemple.test', password: 'Mauvais123' },
      '/connexion',
    );
    expect(a.statusCode).toBe(401);
    expect(b.statusCode).toBe(401);
    expect(textOf(a.body)).toContain('Email ou mot de passe incorrect.');
    // The whole visible page is the same (the form's token differs, and the typed email is
    // only in the field's value, not in the text).
    const visible = (body: string) => textOf(body.replace(/name="_csrf" value="[^"]*"/g, ''));
    expect(visible(b.body)).toBe(visible(a.body));
  });

  it('gives an overlong password its own message', async () => {
    const res = await new TestClient(t.app, { ip: '10.0.0.3' }).submit(
      '/',
      { email: 'quelquun@exemple.test', password: 'x'.repeat(1025) },
      '/connexion',
    );
    expect(res.statusCode).toBe(400);
    expect(textOf(res.body)).toContain('Ce mot de passe est trop long');
    expect(textOf(res.body)).not.toContain('Saisissez votre mot de passe.');
  });

  it('locks an email after 10 failures, even with the right password', async () => {
    const user = await createUser(t.db);
    for (let i = 0; i < 10; i++) {
      await new TestClient(t.app, { ip: `10.1.0.${i}` }).submit(
        '/',
        { email: user.email, password: `Faux${i}xyzAB` },
        '/connexion',
      );
    }
    const res = await new TestClient(t.app, { ip: '10.1.1.1' }).submit(
      '/',
      { email: user.email, password: user.password },
      '/connexion',
    );
    expect(res.statusCode).toBe(429);
    expect(textOf(res.body)).toContain('Trop de tentatives');
  });

  it('refuses a form without its CSRF token', async () => {
    const user = await createUser(t.db);
    const client = new TestClient(t.app);
    await client.get('/');
    const res = await client.post('/connexion', { email: user.email, password: user.password });
    expect(res.statusCode).toBe(403);
    expect(textOf(res.body)).toContain('Formulaire expiré');
    expect(client.cookies.get('palier_session')).toBeUndefined();
  });

  it('resets a forgotten password by mail, once, and ends every session', async () => {
    const user = await createUser(t.db);
    const other = await loginAs(t.app, user.email, user.password);
    const forgot = await new TestClient(t.app).submit('/mot-de-passe-oublie', { email: user.email });
    expect(forgot.statusCode).toBe(200);
    const unknown = await new TestClient(t.app).submit('/mot-de-passe-oublie', { email: 'personne@inconnu.test' });
    expect(textOf(unknown.body).replace('personne@inconnu.test', 'X')).toBe(
      textOf(forgot.body).replace(user.email, 'X'),
    );

    const mail = await t.smtp.waitFor(user.email, (m) => m.subject.includes('nouveau mot de passe'));
    const link = new URL(linkIn(mail, '/nouveau-mot-de-passe'));
    const browser = new TestClient(t.app);
    const page = await browser.get(link.pathname + link.search);
    expect(page.statusCode).toBe(200);
    const weak = await browser.post(
      '/nouveau-mot-de-passe',
      { token: link.searchParams.get('jeton')!, password: 'azerty', confirm: 'azerty' },
      { csrf: csrfTokenOf(page.body) },
    );
    expect(weak.statusCode).toBe(400);
    expect(textOf(weak.body)).toContain('au moins 8 caractères');
    const ok = await browser.post(
      '/nouveau-mot-de-passe',
      { token: link.searchParams.get('jeton')!, password: 'Palier#Lune42', confirm: 'Palier#Lune42' },
      { csrf: csrfTokenOf(page.body) },
    );
    expect(ok.statusCode).toBe(303);
    // The session opened before the reset is gone.
    expect((await other.get('/accueil')).statusCode).toBe(303);
    // The link works once.
    expect((await browser.get(link.pathname + link.search)).statusCode).toBe(400);
    await loginAs(t.app, user.email, 'Palier#Lune42');
  });

  it('refuses a reset link after one hour', async () => {
    const user = await createUser(t.db);
    await new TestClient(t.app).submit('/mot-de-passe-oublie', { email: user.email });
    const mail = await t.smtp.waitFor(user.email);
    const link = new URL(linkIn(mail, '/nouveau-mot-de-passe'));
    t.clock.advance(61 * 60_000);
    const res = await new TestClient(t.app).get(link.pathname + link.search);
    expect(res.statusCode).toBe(400);
    expect(textOf(res.body)).toContain('n’est plus valable');
  });

  /** Audit events of this action newer than `afterId`, oldest first. */
  const eventsAfter = (action: string, afterId: number) =>
    t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', action)
      .where('id', '>', afterId)
      .orderBy('id')
      .execute();
  const lastEventId = async () =>
    (await t.db.selectFrom('audit_events').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst())?.id ?? 0;
  async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const v = await read();
      if (done(v) || Date.now() > deadline) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('does the same work for a known and an unknown address; the worker mails only the known one', async () => {
    const user = await createUser(t.db);
    const unknownEmail = `personne-${dialect}-${Date.now()}@inconnu.test`;
    const since = await lastEventId();
    const known = await new TestClient(t.app, { ip: '10.3.0.1' }).submit('/mot-de-passe-oublie', { email: user.email });
    const unknown = await new TestClient(t.app, { ip: '10.3.0.2' }).submit('/mot-de-passe-oublie', {
      email: unknownEmail,
    });
    expect(known.statusCode).toBe(200);
    expect(unknown.statusCode).toBe(200);
    // What the answers wrote is the same for both: a request without any person attached.
    const requests = await eventsAfter('reset.request', since);
    expect(requests.map((r) => [r.outcome, r.user_id, r.ip])).toEqual([
      ['success', null, '10.3.0.1'],
      ['success', null, '10.3.0.2'],
    ]);

    await t.smtp.waitFor(user.email, (m) => m.subject.includes('nouveau mot de passe'));
    const handled = await eventually(
      () => eventsAfter('reset.mail', since),
      (rows) => rows.length >= 2,
    );
    expect(handled.map((r) => [r.outcome, r.user_id, r.ip]).sort()).toEqual(
      [
        ['failure', null, '10.3.0.2'],
        ['success', user.id, '10.3.0.1'],
      ].sort(),
    );
    expect(t.smtp.mails.some((m) => m.to.includes(unknownEmail))).toBe(false);
  });

  it('mails at most three links an hour to one address, with the same answer every time', async () => {
    const user = await createUser(t.db);
    const since = await lastEventId();
    const answers = [];
    for (let i = 1; i <= 4; i++) {
      answers.push(
        await new TestClient(t.app, { ip: `10.4.0.${i}` }).submit('/mot-de-passe-oublie', { email: user.email }),
      );
    }
    for (const a of answers) {
      expect(a.statusCode).toBe(200);
      expect(textOf(a.body)).toBe(textOf(answers[0]!.body));
    }
    const requests = await eventsAfter('reset.request', since);
    expect(requests.map((r) => r.outcome)).toEqual(['success', 'success', 'success', 'denied']);
    const mailed = await eventually(
      () => eventsAfter('reset.mail', since),
      (rows) => rows.length >= 3,
    );
    expect(mailed.map((r) => [r.outcome, r.user_id])).toEqual([
      ['success', user.id],
      ['success', user.id],
      ['success', user.id],
    ]);
  });

  it('treats a missing, mangled or overlong reset token as a link that no longer works', async () => {
    const browser = new TestClient(t.app);
    for (const url of ['/nouveau-mot-de-passe', `/nouveau-mot-de-passe?jeton=${'a'.repeat(300)}`]) {
      const page = await browser.get(url);
      expect(page.statusCode).toBe(400);
      expect(textOf(page.body)).toContain('Ce lien n’est plus valable');
    }
    const csrf = csrfTokenOf((await browser.get('/mot-de-passe-oublie')).body);
    const password = { password: 'Palier#Lune42', confirm: 'Palier#Lune42' };
    for (const fields of [password, { token: 'x'.repeat(500), ...password }, { token: '<script>', ...password }]) {
      const res = await browser.post('/nouveau-mot-de-passe', fields, { csrf });
      expect(res.statusCode).toBe(400);
      const text = textOf(res.body);
      expect(text).toContain('Ce lien n’est plus valable');
      expect(text).not.toMatch(/invalid|too big|expected/i);
    }
  });
});
