import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { TestClient, followConfirmLink, textOf } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { linkIn } from '../../../test/helpers/smtp.ts';
import { loginAs } from '../../../test/helpers/login.ts';
import { LIMITS, recordAttempt } from '../../core/security/attempts.ts';

const NEW_PASSWORD = 'Palier#Lune42';

function details(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    civility: 'Mme',
    lastName: 'MARTIN',
    firstName: 'Claire',
    phone: '06 11 22 33 44',
    address: '5 avenue Alsace-Lorraine',
    postalCode: '38000',
    city: 'Grenoble',
    ...overrides,
  };
}

/** The flash message shown after a redirect. */
async function flashAfter(client: TestClient, res: Awaited<ReturnType<TestClient['get']>>): Promise<string> {
  const page = await client.follow(res);
  return /<div class="flash[^"]*" role="(?:status|alert)">([^<]*)</.exec(page.body)?.[1] ?? '';
}

describe.each(dialects)('Profil (%s)', (dialect) => {
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
    const client = await loginAs(t.app, user.email, user.password);
    return { account, user, client };
  }
  const userRow = (id: number) => t.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const sessionsOf = (id: number) => t.db.selectFrom('sessions').select('id_hash').where('user_id', '=', id).execute();

  it('shows the person’s details, the confirmed email and the three forms', async () => {
    const { user, client } = await person();
    await t.db
      .updateTable('users')
      .set({ phone: '06 99 88 77 66', city: 'Échirolles' })
      .where('id', '=', user.id)
      .execute();
    const res = await client.get('/profil');
    expect(res.statusCode).toBe(200);
    const text = textOf(res.body);
    expect(text).toContain('Mon profil');
    expect(text).toContain(`Email : ${user.email} confirmée`);
    expect(res.body).toMatch(/<option value="Mme" selected/);
    expect(res.body).toContain('value="MARTIN"');
    expect(res.body).toContain('value="Claire"');
    expect(res.body).toContain('value="06 99 88 77 66"');
    expect(res.body).toContain('value="Échirolles"');
    for (const label of [
      'Civilité',
      'Nom',
      'Prénom',
      'Téléphone',
      'Adresse',
      'Code postal',
      'Ville',
      'Nouvelle adresse email',
      'Nouveau mot de passe',
    ]) {
      expect(text).toContain(label);
    }
    expect(res.body).toContain('action="/profil/email"');
    expect(res.body).toContain('action="/profil/mot-de-passe"');
    expect(text).not.toContain('Renvoyer l’email de confirmation');
  });

  it('saves the person’s details and says so', async () => {
    const { user, client } = await person();
    const res = await client.submit(
      '/profil',
      details({ firstName: 'Claire-Marie', city: 'Meylan', postalCode: '38240' }),
    );
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/profil');
    expect(await flashAfter(client, res)).toBe('Vos informations personnelles sont enregistrées.');
    expect(await userRow(user.id)).toMatchObject({
      first_name: 'Claire-Marie',
      city: 'Meylan',
      postal_code: '38240',
      phone: '06 11 22 33 44',
    });
    const audit = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'profile.update')
      .where('user_id', '=', user.id)
      .execute();
    expect(audit).toHaveLength(1);
    const again = await client.submit(
      '/profil',
      details({ firstName: 'Claire-Marie', city: 'Meylan', postalCode: '38240' }),
    );
    expect(await flashAfter(client, again)).toBe('Vous n’avez modifié aucune information.');
  });

  it('refuses invalid or oversized details in French and writes nothing', async () => {
    const { user, client } = await person();
    const res = await client.submit(
      '/profil',
      details({ lastName: '', phone: '12', civility: '', address: 'x'.repeat(10_240) }),
    );
    expect(res.statusCode).toBe(400);
    const text = textOf(res.body);
    expect(text).toContain('Le formulaire contient 4 erreurs');
    expect(text).toContain('Saisissez votre nom.');
    expect(text).toContain('Saisissez un numéro de téléphone valide');
    expect(text).toContain('Choisissez une civilité.');
    expect(text).toContain('L’adresse doit contenir au plus 200 caractères.');
    expect(res.body).toContain('value="Grenoble"');
    expect(await userRow(user.id)).toMatchObject({ last_name: 'MARTIN', phone: null, address: null });
  });

  it('validates the postal code by country, keeping what was typed on refusal', async () => {
    const { user, client } = await person();
    for (const postalCode of ['3800', 'ABCDE']) {
      const res = await client.submit('/profil', details({ postalCode, city: 'Grenoble', country: 'France' }));
      expect(res.statusCode).toBe(400);
      expect(textOf(res.body)).toContain('Saisissez un code postal valide : 5 chiffres en France');
      expect(res.body).toContain(`value="${postalCode}"`);
      expect(res.body).toContain('value="MARTIN"');
      expect(await userRow(user.id)).toMatchObject({ postal_code: null });
    }
    const abroad = await client.submit(
      '/profil',
      details({ postalCode: 'SW1A', city: 'London', country: 'Royaume-Uni' }),
    );
    expect(abroad.statusCode).toBe(303);
    expect(await userRow(user.id)).toMatchObject({ postal_code: 'SW1A', country: 'Royaume-Uni' });
    const page = await client.get('/profil');
    expect(page.body).toContain('value="Royaume-Uni"');
    const bad = await client.submit(
      '/profil',
      details({ postalCode: 'SW1A 1AA!', city: 'London', country: 'Royaume-Uni' }),
    );
    expect(bad.statusCode).toBe(400);
    expect(textOf(bad.body)).toContain('3 à 10 lettres, chiffres, espaces ou tirets');
    expect(bad.body).toContain('value="Royaume-Uni"');
  });

  it('changes the email only once the link sent to the new address is followed', async () => {
    const { user, client } = await person();
    const newEmail = `nouvelle-${dialect}-${user.id}@exemple.test`;
    const res = await client.submit(
      '/profil',
      { newEmail: newEmail.toUpperCase(), emailPassword: user.password },
      '/profil/email',
    );
    expect(res.statusCode).toBe(303);
    const flash = await flashAfter(client, res);
    expect(flash).toContain(`Un email de confirmation vient d’être envoyé à ${newEmail}`);
    expect((await userRow(user.id)).email).toBe(user.email);
    expect(textOf((await client.get('/profil')).body)).toContain(
      `Une demande de changement vers ${newEmail} attend votre confirmation`,
    );

    const notice = await t.smtp.waitFor(user.email, (m) => m.subject.includes('changement d’adresse'));
    expect(notice.text).toContain(newEmail);
    expect(notice.text).toContain('Si vous n’êtes pas à l’origine de cette demande');
    const mail = await t.smtp.waitFor(newEmail, (m) => m.subject.includes('Confirmez votre adresse'));
    const link = new URL(linkIn(mail, '/confirmer-email'));

    // Meanwhile: a session on another device, and a reset link mailed to the old address.
    const elsewhere = await loginAs(t.app, user.email, user.password);
    await new TestClient(t.app).submit('/mot-de-passe-oublie', { email: user.email });
    const resetMail = await t.smtp.waitFor(user.email, (m) => m.subject.includes('nouveau mot de passe'));
    const resetLink = new URL(linkIn(resetMail, '/nouveau-mot-de-passe'));
    expect((await new TestClient(t.app).get(resetLink.pathname + resetLink.search)).statusCode).toBe(200);

    // Opening the link changes nothing (a mail scanner follows links); the page's button does.
    expect((await client.get(link.pathname + link.search)).statusCode).toBe(200);
    expect((await userRow(user.id)).email).toBe(user.email);
    const confirm = await followConfirmLink(client, link);
    expect(confirm.statusCode).toBe(200);
    expect(textOf(confirm.body)).toContain('Adresse email confirmée');
    expect((await userRow(user.id)).email).toBe(newEmail);
    // The other session ended, and the link sent to the old address no longer works.
    expect((await elsewhere.get('/profil')).statusCode).toBe(303);
    const reset = await new TestClient(t.app).get(resetLink.pathname + resetLink.search);
    expect(reset.statusCode).toBe(400);
    expect(textOf(reset.body)).toContain('Ce lien n’est plus valable');

    await loginAs(t.app, newEmail, user.password);
    const old = await new TestClient(t.app).submit('/', { email: user.email, password: user.password }, '/connexion');
    expect(old.statusCode).toBe(401);
    // The browser that followed the link stays logged in.
    expect(textOf((await client.get('/profil')).body)).toContain(`Email : ${newEmail} confirmée`);
  });

  it('limits email change requests to five an hour, with a French message', async () => {
    const { user, client } = await person();
    for (let i = 1; i <= 5; i++) {
      const res = await client.submit(
        '/profil',
        { newEmail: `essai${i}-${dialect}-${user.id}@exemple.test`, emailPassword: user.password },
        '/profil/email',
      );
      expect(res.statusCode).toBe(303);
    }
    const sixth = `essai6-${dialect}-${user.id}@exemple.test`;
    const over = await client.submit('/profil', { newEmail: sixth, emailPassword: user.password }, '/profil/email');
    expect(over.statusCode).toBe(429);
    expect(textOf(over.body)).toContain('Vous avez demandé plusieurs changements d’adresse email en peu de temps');
    expect(over.body).toContain(`value="${sixth}"`);
    const pending = await t.db
      .selectFrom('user_tokens')
      .select('new_email')
      .where('user_id', '=', user.id)
      .where('purpose', '=', 'change_email')
      .execute();
    expect(pending.map((p) => p.new_email)).not.toContain(sixth);

    // An hour later, a new request goes through.
    t.clock.advance(60 * 60_000 + 1000);
    const later = await client.submit('/profil', { newEmail: sixth, emailPassword: user.password }, '/profil/email');
    expect(later.statusCode).toBe(303);
  });

  it('answers the same for an address that belongs to another space, and refuses it at confirmation', async () => {
    const { user, client } = await person();
    const other = await createUser(t.db);
    const free = `libre-${dialect}-${user.id}@exemple.test`;
    const a = await client.submit('/profil', { newEmail: free, emailPassword: user.password }, '/profil/email');
    const flashA = (await flashAfter(client, a)).replace(free, 'X');
    const b = await client.submit('/profil', { newEmail: other.email, emailPassword: user.password }, '/profil/email');
    const flashB = (await flashAfter(client, b)).replace(other.email, 'X');
    expect(a.statusCode).toBe(303);
    expect(b.statusCode).toBe(303);
    expect(b.headers.location).toBe(a.headers.location);
    expect(flashA).toContain('Un email de confirmation vient d’être envoyé à X.');
    expect(flashB).toBe(flashA);

    // The owner of the taken address gets the link; following it changes nothing, whether
    // they open it without signing in or the requester confirms it from their space.
    const mail = await t.smtp.waitFor(other.email, (m) => m.subject.includes('Confirmez votre adresse'));
    const link = new URL(linkIn(mail, '/confirmer-email'));
    const anonymous = await new TestClient(t.app).get(link.pathname + link.search);
    expect(textOf(anonymous.body)).toContain('connectez-vous d’abord à votre espace');
    expect(anonymous.body).not.toContain('name="_csrf"');
    const confirm = await followConfirmLink(client, link);
    expect(confirm.statusCode).toBe(400);
    expect(textOf(confirm.body)).toContain('Lien non valable');
    expect((await userRow(user.id)).email).toBe(user.email);
    expect((await userRow(other.id)).email).toBe(other.email);
  });

  it('refuses an email change with a wrong password, an invalid address or the same address', async () => {
    const { user, client } = await person();
    const target = `jamais-${dialect}-${user.id}@exemple.test`;
    const wrong = await client.submit('/profil', { newEmail: target, emailPassword: 'PasLeBon123' }, '/profil/email');
    expect(wrong.statusCode).toBe(400);
    expect(textOf(wrong.body)).toContain('Le mot de passe actuel est incorrect.');
    expect(wrong.body).toContain(`value="${target}"`);
    const attempts = await t.db
      .selectFrom('auth_attempts')
      .selectAll()
      .where('scope', '=', LIMITS.loginPerEmail.scope)
      .where('key', '=', user.email)
      .execute();
    expect(attempts).toHaveLength(1);

    const invalid = await client.submit(
      '/profil',
      { newEmail: 'pas une adresse', emailPassword: user.password },
      '/profil/email',
    );
    expect(invalid.statusCode).toBe(400);
    expect(textOf(invalid.body)).toContain('Saisissez une adresse email valide');
    const same = await client.submit(
      '/profil',
      { newEmail: user.email.toUpperCase(), emailPassword: user.password },
      '/profil/email',
    );
    expect(same.statusCode).toBe(400);
    expect(textOf(same.body)).toContain('Cette adresse est déjà celle de votre espace client.');

    await new Promise((r) => setTimeout(r, 300));
    expect(t.smtp.mails.filter((m) => m.to.includes(target))).toHaveLength(0);
    const tokens = await t.db.selectFrom('user_tokens').selectAll().where('user_id', '=', user.id).execute();
    expect(tokens).toHaveLength(0);
  });

  it('resends the confirmation of an unconfirmed address, which the link then confirms', async () => {
    const { user, client } = await person();
    await t.db.updateTable('users').set({ email_verified_at: null }).where('id', '=', user.id).execute();
    const page = await client.get('/profil');
    expect(textOf(page.body)).toContain(`Email : ${user.email} non confirmée`);
    const res = await client.submit('/profil', {}, '/profil/email/confirmation');
    expect(res.statusCode).toBe(303);
    expect(await flashAfter(client, res)).toContain(
      `Un nouvel email de confirmation vient d’être envoyé à ${user.email}`,
    );
    const mail = await t.smtp.waitFor(user.email, (m) => m.subject.includes('Confirmez votre adresse'));
    const link = new URL(linkIn(mail, '/confirmer-email'));
    expect((await followConfirmLink(client, link)).statusCode).toBe(200);
    expect(textOf((await client.get('/profil')).body)).toContain(`Email : ${user.email} confirmée`);
  });

  it('changes the password: other sessions end, this one continues under a new id, a mail tells the person', async () => {
    const { user, client } = await person();
    const elsewhere = await loginAs(t.app, user.email, user.password, '10.9.9.9');
    const before = client.cookies.get('palier_session');
    expect(await sessionsOf(user.id)).toHaveLength(2);

    const res = await client.submit(
      '/profil',
      { currentPassword: user.password, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD },
      '/profil/mot-de-passe',
    );
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/profil');
    const after = client.cookies.get('palier_session');
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    expect(await flashAfter(client, res)).toBe(
      'Votre mot de passe a été modifié. Vos autres sessions ouvertes ont été fermées.',
    );
    expect((await client.get('/profil')).statusCode).toBe(200);
    expect(await sessionsOf(user.id)).toHaveLength(1);

    const kicked = await elsewhere.get('/profil');
    expect(kicked.statusCode).toBe(303);
    expect(kicked.headers.location).toMatch(/^\/(\?retour=|$)/);
    // The old cookie of this browser opens nothing either.
    const replay = new TestClient(t.app);
    replay.cookies.set('palier_session', before!);
    expect((await replay.get('/profil')).statusCode).toBe(303);

    const mail = await t.smtp.waitFor(user.email, (m) => m.subject.includes('mot de passe a été modifié'));
    expect(mail.text).toContain('vos autres sessions ouvertes');
    const audit = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'password.change')
      .where('user_id', '=', user.id)
      .execute();
    expect(audit.map((a) => a.outcome)).toEqual(['success']);

    await loginAs(t.app, user.email, NEW_PASSWORD);
    const old = await new TestClient(t.app).submit('/', { email: user.email, password: user.password }, '/connexion');
    expect(old.statusCode).toBe(401);
  });

  it('refuses a weak, personal or mismatched new password', async () => {
    const { user, client } = await person();
    const weak = await client.submit(
      '/profil',
      { currentPassword: user.password, newPassword: 'azerty', confirmPassword: 'azerty' },
      '/profil/mot-de-passe',
    );
    expect(weak.statusCode).toBe(400);
    expect(textOf(weak.body)).toContain('au moins 8 caractères dont 1 majuscule et 1 chiffre');
    const personal = await client.submit(
      '/profil',
      { currentPassword: user.password, newPassword: 'Martin2024!x', confirmPassword: 'Martin2024!x' },
      '/profil/mot-de-passe',
    );
    expect(personal.statusCode).toBe(400);
    expect(textOf(personal.body)).toContain('ne doit pas reprendre votre nom');
    const mismatch = await client.submit(
      '/profil',
      { currentPassword: user.password, newPassword: NEW_PASSWORD, confirmPassword: 'Palier#Lune43' },
      '/profil/mot-de-passe',
    );
    expect(mismatch.statusCode).toBe(400);
    expect(textOf(mismatch.body)).toContain('Les deux mots de passe ne sont pas identiques.');
    const empty = await client.submit('/profil', {}, '/profil/mot-de-passe');
    expect(empty.statusCode).toBe(400);
    expect(textOf(empty.body)).toContain('Saisissez votre mot de passe actuel.');
    await loginAs(t.app, user.email, user.password);
  });

  it('refuses a wrong current password, counting it against guessing until the email is locked', async () => {
    const { user, client } = await person();
    const before = client.cookies.get('palier_session');
    const wrong = await client.submit(
      '/profil',
      { currentPassword: 'PasLeBon123', newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD },
      '/profil/mot-de-passe',
    );
    expect(wrong.statusCode).toBe(400);
    expect(textOf(wrong.body)).toContain('Le mot de passe actuel est incorrect.');
    expect(client.cookies.get('palier_session')).toBe(before);
    const audit = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'password.change')
      .where('user_id', '=', user.id)
      .execute();
    expect(audit.map((a) => a.outcome)).toEqual(['failure']);

    // The other failures of the window (here or at the login page), then the right password is refused too.
    for (let i = 2; i <= LIMITS.loginPerEmail.max; i++)
      await recordAttempt(t.db, LIMITS.loginPerEmail, user.email, t.clock.now);
    const locked = await client.submit(
      '/profil',
      { currentPassword: user.password, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD },
      '/profil/mot-de-passe',
    );
    expect(locked.statusCode).toBe(429);
    expect(textOf(locked.body)).toContain('Trop de mots de passe erronés ont été saisis');
    const login = await new TestClient(t.app).submit('/', { email: user.email, password: user.password }, '/connexion');
    expect(login.statusCode).toBe(429);
    // Nothing changed: the old password still works once the window has passed.
    t.clock.advance(LIMITS.loginPerEmail.windowMs + 60_000);
    await loginAs(t.app, user.email, user.password);
  });

  it('refuses an 11th new password within the hour, with the time to retry, changing nothing', async () => {
    const { user, client } = await person();
    for (let i = 0; i < LIMITS.newPasswordPerUser.max; i++) {
      const weak = await client.submit(
        '/profil',
        { currentPassword: user.password, newPassword: 'azerty', confirmPassword: 'azerty' },
        '/profil/mot-de-passe',
      );
      expect(weak.statusCode).toBe(400);
    }
    const eleventh = await client.submit(
      '/profil',
      { currentPassword: user.password, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD },
      '/profil/mot-de-passe',
    );
    expect(eleventh.statusCode).toBe(429);
    expect(textOf(eleventh.body)).toMatch(
      /Trop de mots de passe ont été essayés en peu de temps\. Pour votre sécurité, réessayez après \d{1,2} h \d\d\./,
    );
    await loginAs(t.app, user.email, user.password);
  });

  it('keeps anonymous visitors and forged forms out', async () => {
    const anonymous = await new TestClient(t.app).get('/profil');
    expect(anonymous.statusCode).toBe(303);
    expect(anonymous.headers.location).toMatch(/^\/(\?retour=|$)/);
    const { user, client } = await person();
    const forged = await client.post('/profil/mot-de-passe', {
      currentPassword: user.password,
      newPassword: NEW_PASSWORD,
      confirmPassword: NEW_PASSWORD,
    });
    expect(forged.statusCode).toBe(403);
    const forgedEmail = await client.post('/profil/email', {
      newEmail: 'pirate@exemple.test',
      emailPassword: user.password,
    });
    expect(forgedEmail.statusCode).toBe(403);
    await loginAs(t.app, user.email, user.password);
  });
});
