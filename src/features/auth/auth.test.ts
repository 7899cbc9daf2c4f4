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
    await client.get('/');
    client.cookies.set('palier_session', 'attacker-chosen-session-id');
    const res = await client.submit('/', { email: user.email.toUpperCase(), password: user.password }, '/connexion');
    expect(res.statusCode).toBe(303);
    const sessionId = client.cookies.get('palier_session');
    expect(sessionId).toBeDefined();
    expect(sessionId).not.toBe('attacker-chosen-session-id');
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
    const msg = (body: string) => textOf(body).match(/Email ou mot de passe incorrect\./)?.[0];
    expect(msg(a.body)).toBe('Email ou mot de passe incorrect.');
    expect(msg(b.body)).toBe(msg(a.body));
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
});
