import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { TestClient, csrfTokenOf, followConfirmLink, plainSpaces, textOf } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { loginAs } from '../../../test/helpers/login.ts';
import { linkIn } from '../../../test/helpers/smtp.ts';
import { hashAccessCode } from '../../core/security/access-code.ts';
import { LIMITS, recordAttempt, retryTime } from '../../core/security/attempts.ts';
import { PASSWORD_RULE_TEXT } from '../../core/security/password-policy.ts';
import { setAgency } from '../../core/agency/agency.repository.ts';
import type { LightMyRequestResponse } from 'fastify';

const GOOD_PASSWORD = 'Palier#Lune42';
const REFUSED = 'Identifiant ou mot de passe incorrect.';

describe.each(dialects)('Créez votre espace and Ajouter un compte (%s)', (dialect) => {
  let t: TestApp;
  let ipSeq = 0;
  let emailSeq = 0;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A visitor from an address of their own, so per-IP limits of one test do not leak into another. */
  const visitor = () => {
    ipSeq++;
    return new TestClient(t.app, { ip: `10.20.${Math.floor(ipSeq / 250)}.${(ipSeq % 250) + 1}` });
  };
  const newEmail = () => `nouveau${++emailSeq}.${Date.now()}@exemple.test`;

  const step1 = (c: TestClient, reference: string, code: string) => c.submit('/creer-mon-espace', { reference, code });

  const ticketOf = (res: LightMyRequestResponse): string => {
    expect(res.statusCode, textOf(res.body).slice(0, 400)).toBe(303);
    const location = String(res.headers.location);
    expect(location).toMatch(/^\/creer-mon-espace\/etape-2\?ticket=[A-Za-z0-9_-]+$/);
    return new URL(location, 'http://palier.test').searchParams.get('ticket')!;
  };

  const profile = (o: Record<string, string> = {}) => ({
    civility: 'M.',
    lastName: 'DURAND',
    firstName: 'Paul',
    email: newEmail(),
    password: GOOD_PASSWORD,
    confirm: GOOD_PASSWORD,
    phone: '06 12 34 56 78',
    address: '12 rue des Alpes',
    postalCode: '38000',
    city: 'Grenoble',
    ...o,
  });

  const step2 = (c: TestClient, ticket: string, fields: Record<string, string>) =>
    c.submit(`/creer-mon-espace/etape-2?ticket=${ticket}`, { ticket, ...fields }, '/creer-mon-espace/etape-2');

  const accountRow = (id: number) =>
    t.db.selectFrom('client_accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const usersWithEmail = (email: string) =>
    t.db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).execute();

  it('creates a space from the paper letter: prefilled, logged in with a new session id, email confirmed by mail', async () => {
    const account = await seedAccount(t.db, t.config, { firstName: 'Paul', lastName: 'DURAND' });
    const c = visitor();
    const page = await c.get('/creer-mon-espace');
    expect(page.statusCode).toBe(200);
    const pageText = textOf(page.body);
    expect(pageText).toContain('Création de mon espace (1/2)');
    expect(pageText).toContain('Identifiant');
    expect(pageText).toContain('appel de fonds');
    expect(page.body).toMatch(
      /<input[^>]*name="code"[^>]*autocomplete="off"|<input[^>]*autocomplete="off"[^>]*name="code"/,
    );
    expect(pageText).toContain('Étape suivante');

    // This browser still carries the cookie of an earlier session (someone else's, long idle).
    const earlier = await createUser(t.db);
    expect((await c.submit('/', { email: earlier.email, password: earlier.password }, '/connexion')).statusCode).toBe(
      303,
    );
    const staleId = c.cookies.get('palier_session')!;
    expect(staleId).toBeDefined();
    t.clock.advance(2 * 60 * 60_000 + 60_000);
    const ticket = ticketOf(await step1(c, account.reference, account.accessCode));

    const form = await c.get(`/creer-mon-espace/etape-2?ticket=${ticket}`);
    expect(form.statusCode).toBe(200);
    expect(form.headers['referrer-policy']).toBe('no-referrer');
    expect(textOf(form.body)).toContain('Création de mon espace (2/2)');
    expect(textOf(form.body)).toContain(PASSWORD_RULE_TEXT);
    expect(textOf(form.body)).toContain('Tous les champs doivent être renseignés');
    for (const v of ['DURAND', 'Paul', account.email!, '06 12 34 56 78', '12 rue des Alpes', '38000', 'GRENOBLE']) {
      expect(form.body).toContain(`value="${v}"`);
    }
    expect(form.body).toMatch(/<option value="M\." selected/);

    const fields = profile({ email: account.email!, city: 'GRENOBLE' });
    const done = await step2(c, ticket, fields);
    expect(done.statusCode, textOf(done.body).slice(0, 600)).toBe(303);
    expect(done.headers.location).toBe('/accueil');

    const sessionId = c.cookies.get('palier_session');
    expect(sessionId).toBeDefined();
    expect(sessionId).not.toBe(staleId);
    const stale = new TestClient(t.app, { ip: c.ip });
    stale.cookies.set('palier_session', staleId);
    expect((await stale.get('/accueil')).statusCode).toBe(303);
    // Logged in: a logged-in page opens, and the flash of the claim is shown there.
    const after = await c.get('/creer-mon-espace');
    expect(after.statusCode).toBe(200);
    expect(textOf(after.body)).toContain('Votre compte est désormais créé !');
    expect(textOf(after.body)).toContain('Ajouter un compte');
    expect((await c.get('/comptes/ajouter')).statusCode).toBe(200);

    const [user] = await usersWithEmail(account.email!);
    expect(user).toBeDefined();
    expect(user!.first_name).toBe('Paul');
    expect(user!.postal_code).toBe('38000');
    expect(user!.email_verified_at).toBeNull();
    const links = await t.db.selectFrom('user_accounts').selectAll().where('user_id', '=', user!.id).execute();
    expect(links.map((l) => l.account_id)).toEqual([account.id]);
    expect((await accountRow(account.id)).access_code_used_at).not.toBeNull();
    expect(await t.db.selectFrom('claim_tickets').selectAll().where('account_id', '=', account.id).execute()).toEqual(
      [],
    );

    // Never the code in the audit trail.
    const audit = await t.db.selectFrom('audit_events').selectAll().where('account_id', '=', account.id).execute();
    expect(audit.map((a) => `${a.action}:${a.outcome}`)).toEqual(
      expect.arrayContaining(['claim.code:success', 'claim:success']),
    );
    for (const a of audit) expect(a.details_json ?? '').not.toContain(account.accessCode.replace(/-/g, ''));

    // The confirmation mail arrives over SMTP and its link confirms the address.
    const mail = await t.smtp.waitFor(account.email!, (m) => m.subject.includes('Confirmez votre adresse email'));
    const link = new URL(linkIn(mail, '/confirmer-email'));
    const confirmed = await followConfirmLink(c, link);
    expect(confirmed.statusCode).toBe(200);
    expect(textOf(confirmed.body)).toContain('Adresse email confirmée');
    expect((await usersWithEmail(account.email!))[0]!.email_verified_at).not.toBeNull();

    // The chosen password opens the space; the paper code no longer does.
    await loginAs(t.app, account.email!, GOOD_PASSWORD, '10.99.0.1');
    const again = await step1(visitor(), account.reference, account.accessCode);
    expect(again.statusCode).toBe(401);
  });

  it('accepts references and codes typed in lowercase, with spaces or dashes', async () => {
    const account = await seedAccount(t.db, t.config, { reference: `ab-${Date.now()}x`, accessCode: 'K7QM-2XHP-RT9C' });
    ticketOf(await step1(visitor(), `  ${account.reference.toUpperCase()} `, ' k7qm 2xhp–rt9c '));
    const other = await seedAccount(t.db, t.config, { accessCode: 'Z8PW-4NMK-QX3D' });
    ticketOf(await step1(visitor(), other.reference.toLowerCase(), 'z8pw4nmkqx3d'));
  });

  it('gives the same answer for a wrong code, an unknown reference, a used code and a superseded one', async () => {
    const known = await seedAccount(t.db, t.config);
    const used = await seedAccount(t.db, t.config);
    await t.db
      .updateTable('client_accounts')
      .set({ access_code_used_at: new Date().toISOString() })
      .where('id', '=', used.id)
      .execute();
    const superseded = await seedAccount(t.db, t.config);
    await t.db
      .updateTable('client_accounts')
      .set({ access_code_hash: hashAccessCode(t.config.secrets.hmacKey, 'NOUVEAU-CODE-2026') })
      .where('id', '=', superseded.id)
      .execute();

    const answers = [
      await step1(visitor(), known.reference, 'MAUVAIS-CODE-1'),
      await step1(visitor(), `INCONNU${Date.now()}`, known.accessCode),
      await step1(visitor(), used.reference, used.accessCode),
      await step1(visitor(), superseded.reference, superseded.accessCode),
    ];
    for (const a of answers) {
      expect(a.statusCode).toBe(401);
      expect(textOf(a.body)).toContain(REFUSED);
      expect(textOf(a.body)).toBe(textOf(answers[0]!.body));
    }

    // The same from "Ajouter un compte".
    const person = await createUser(t.db);
    const me = await loginAs(t.app, person.email, person.password, '10.98.0.1');
    const attachAnswers = [
      await me.submit('/comptes/ajouter', { reference: known.reference, code: 'MAUVAIS-CODE-2' }),
      await me.submit('/comptes/ajouter', { reference: `INCONNU${Date.now()}`, code: known.accessCode }),
      await me.submit('/comptes/ajouter', { reference: used.reference, code: used.accessCode }),
      await me.submit('/comptes/ajouter', { reference: superseded.reference, code: superseded.accessCode }),
    ];
    for (const a of attachAnswers) {
      expect(a.statusCode).toBe(401);
      expect(textOf(a.body)).toContain(REFUSED);
      expect(textOf(a.body)).toBe(textOf(attachAnswers[0]!.body));
    }
  });

  it('locks a reference after 5 failures, even with the right code, and says when to retry; an unknown reference locks the same way', async () => {
    const account = await seedAccount(t.db, t.config);
    const unknown = `FANTOME${Date.now()}`;
    const lockOf = async (reference: string) => {
      for (let i = 1; i <= 5; i++) {
        const r = await step1(visitor(), reference, `FAUX-CODE-${i}`);
        expect(r.statusCode).toBe(i < 5 ? 401 : 429);
      }
      return step1(visitor(), reference, account.accessCode);
    };
    const lockedKnown = await lockOf(account.reference);
    const lockedUnknown = await lockOf(unknown);
    expect(lockedKnown.statusCode).toBe(429);
    expect(lockedUnknown.statusCode).toBe(429);
    const expectedTime = retryTime(new Date(t.clock.now.getTime() + 15 * 60_000));
    expect(textOf(lockedKnown.body)).toContain(`réessayez à partir de ${expectedTime}`);
    expect(textOf(lockedUnknown.body)).toBe(textOf(lockedKnown.body));
    // Typed differently, still the same reference.
    expect((await step1(visitor(), ` ${account.reference.toLowerCase()}`, account.accessCode)).statusCode).toBe(429);

    // The counters are shared with "Ajouter un compte".
    const person = await createUser(t.db);
    const me = await loginAs(t.app, person.email, person.password, '10.98.0.2');
    const attach = await me.submit('/comptes/ajouter', { reference: account.reference, code: account.accessCode });
    expect(attach.statusCode).toBe(429);
    expect(textOf(attach.body)).toContain(`réessayez à partir de ${expectedTime}`);

    // Once the window has passed, the right code works again.
    t.clock.advance(15 * 60_000 + 1000);
    ticketOf(await step1(visitor(), account.reference, account.accessCode));
  });

  it('limits one address to 20 failures across references', async () => {
    const account = await seedAccount(t.db, t.config);
    const c = visitor();
    for (let i = 1; i <= 20; i++) {
      const r = await step1(c, `SERIE${Date.now()}N${i}`, 'FAUX-CODE-0');
      expect(r.statusCode).toBe(i < 20 ? 401 : 429);
    }
    const blocked = await step1(c, account.reference, account.accessCode);
    expect(blocked.statusCode).toBe(429);
    expect(textOf(blocked.body)).toContain('réessayez à partir de');
    // Another address is not affected.
    ticketOf(await step1(visitor(), account.reference, account.accessCode));
  });

  it('points an email that already has a space to "Se connecter" then "Ajouter un compte", and consumes nothing', async () => {
    const holder = await createUser(t.db);
    const account = await seedAccount(t.db, t.config);
    const c = visitor();
    const ticket = ticketOf(await step1(c, account.reference, account.accessCode));
    const res = await step2(c, ticket, profile({ email: ` ${holder.email.toUpperCase()} ` }));
    expect(res.statusCode).toBe(409);
    const text = textOf(res.body);
    expect(text).toContain('Cette adresse email a déjà un espace client');
    expect(text).toContain('Se connecter');
    expect(text).toContain('Ajouter un compte');
    expect(res.body).toContain('href="/"');
    expect(text).not.toContain(holder.email);
    expect(c.cookies.get('palier_session')).toBeUndefined();
    expect(await usersWithEmail(holder.email)).toHaveLength(1);
    expect((await accountRow(account.id)).access_code_used_at).toBeNull();
    // The code still works: another address finishes the claim.
    const done = await step2(c, ticket, profile());
    expect(done.statusCode).toBe(303);
  });

  it('answers "already has a space" three times per ticket at most, then treats the ticket as expired', async () => {
    const holders = await Promise.all([1, 2, 3, 4].map(() => createUser(t.db)));
    const account = await seedAccount(t.db, t.config);
    const c = visitor();
    const ticket = ticketOf(await step1(c, account.reference, account.accessCode));
    for (const holder of holders.slice(0, 3)) {
      const res = await step2(c, ticket, profile({ email: holder.email }));
      expect(res.statusCode).toBe(409);
      expect(textOf(res.body)).toContain('Cette adresse email a déjà un espace client');
    }
    // A fourth address to test: the ticket is spent, whatever the address.
    const fourth = await step2(c, ticket, profile({ email: holders[3]!.email }));
    expect(fourth.statusCode).toBe(400);
    expect(textOf(fourth.body)).toContain('Recommencer la première étape');
    expect(textOf(fourth.body)).not.toContain('déjà un espace client');
    const csrf = csrfTokenOf((await c.get('/creer-mon-espace')).body);
    const free = await c.post('/creer-mon-espace/etape-2', { ticket, ...profile() }, { csrf });
    expect(free.statusCode).toBe(400);
    expect(textOf(free.body)).toContain('Recommencer la première étape');
    const denied = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'claim')
      .where('account_id', '=', account.id)
      .where('outcome', '=', 'denied')
      .execute();
    expect(denied).toHaveLength(1);
    // The paper code was not consumed: step 1 again, and the space is created.
    expect((await accountRow(account.id)).access_code_used_at).toBeNull();
    const again = ticketOf(await step1(c, account.reference, account.accessCode));
    expect((await step2(c, again, profile())).statusCode).toBe(303);
  });

  it('tells whoever already held the account that a new space now holds it', async () => {
    const account = await seedAccount(t.db, t.config, { kind: 'locataire' });
    const holder = await createUser(t.db, { accountIds: [account.id], firstName: 'Jeanne', lastName: 'ROUX' });
    const c = visitor();
    const ticket = ticketOf(await step1(c, account.reference, account.accessCode));
    const fields = profile({ firstName: 'Marc', lastName: 'LEBLANC' });
    const done = await step2(c, ticket, fields);
    expect(done.statusCode, textOf(done.body).slice(0, 600)).toBe(303);

    const mail = await t.smtp.waitFor(holder.email, (m) => m.subject.includes('Un compte a été rattaché'));
    expect(mail.text).toContain(`Locataire N° ${account.reference}`);
    expect(mail.text).toContain('Marc L.');
    expect(mail.text).not.toContain('LEBLANC');
    expect(mail.text).toContain('contactez l’agence');
    // The newcomer gets the confirmation of the address, not the notice.
    await t.smtp.waitFor(fields.email, (m) => m.subject.includes('Confirmez votre adresse email'));
    expect(
      t.smtp.mails.filter((m) => m.to.includes(fields.email.toLowerCase()) && m.subject.includes('rattaché')),
    ).toEqual([]);
  });

  it('never keeps what was typed as an identifiant in the audit trail, only the account it names', async () => {
    const account = await seedAccount(t.db, t.config);
    // People type their paper code into the Identifiant field.
    const typed = `K7QM2XHP${Date.now()}`;
    const since =
      (await t.db.selectFrom('audit_events').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst())?.id ?? 0;
    expect((await step1(visitor(), typed, 'PEU-IMPORTE-1')).statusCode).toBe(401);
    expect((await step1(visitor(), account.reference.toLowerCase(), 'FAUX-CODE-9')).statusCode).toBe(401);
    const events = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'claim.code')
      .where('id', '>', since)
      .orderBy('id')
      .execute();
    expect(events.map((e) => [e.outcome, e.account_id, JSON.parse(e.details_json ?? '{}')])).toEqual([
      ['failure', null, { reference: null }],
      ['failure', account.id, { reference: account.reference }],
    ]);
    for (const e of events) expect(e.details_json ?? '').not.toContain(typed);
  });

  it('spends a ticket on its 11th submission, creating nothing; the unused code gives a new one', async () => {
    const account = await seedAccount(t.db, t.config, { firstName: 'Paul', lastName: 'DURAND' });
    const c = visitor();
    const ticket = ticketOf(await step1(c, account.reference, account.accessCode));
    for (let i = 0; i < 10; i++) {
      const weak = await step2(c, ticket, profile({ password: 'azerty', confirm: 'azerty' }));
      expect(weak.statusCode).toBe(400);
      expect(textOf(weak.body)).toContain('au moins 8 caractères');
    }
    const fields = profile();
    const eleventh = await step2(c, ticket, fields);
    expect(eleventh.statusCode).toBe(400);
    expect(textOf(eleventh.body)).toContain('Cette page n’est plus valable');
    expect(await usersWithEmail(fields.email)).toHaveLength(0);
    expect((await accountRow(account.id)).access_code_used_at).toBeNull();
    // The person starts again with the same letter.
    const fresh = ticketOf(await step1(c, account.reference, account.accessCode));
    expect((await step2(c, fresh, fields)).statusCode).toBe(303);
  });

  it('refuses new passwords from an address past 30 an hour, with the time to retry, keeping the ticket', async () => {
    const account = await seedAccount(t.db, t.config, { firstName: 'Paul', lastName: 'DURAND' });
    const c = visitor();
    const ticket = ticketOf(await step1(c, account.reference, account.accessCode));
    // The submissions this address already made with other tickets.
    for (let i = 0; i < LIMITS.newPasswordPerIp.max; i++)
      await recordAttempt(t.db, LIMITS.newPasswordPerIp, c.ip, t.clock.now);
    const fields = profile();
    const refused = await step2(c, ticket, fields);
    expect(refused.statusCode).toBe(400);
    expect(textOf(refused.body)).toContain(
      `Trop de mots de passe ont été essayés en peu de temps. Pour votre sécurité, réessayez après ${retryTime(new Date(t.clock.now.getTime() + LIMITS.newPasswordPerIp.windowMs))}.`,
    );
    expect(await usersWithEmail(fields.email)).toHaveLength(0);
    // The ticket is not spent by the address's limit.
    expect((await c.get(`/creer-mon-espace/etape-2?ticket=${ticket}`)).statusCode).toBe(200);
    // Once the hour has passed (the ticket lasts 30 minutes: a new one), the space is created.
    t.clock.advance(LIMITS.newPasswordPerIp.windowMs + 60_000);
    const fresh = ticketOf(await step1(c, account.reference, account.accessCode));
    expect((await step2(c, fresh, fields)).statusCode).toBe(303);
  });

  it('shows every password policy failure beside the field', async () => {
    const account = await seedAccount(t.db, t.config, { firstName: 'Paul', lastName: 'DURAND' });
    const c = visitor();
    const ticket = ticketOf(await step1(c, account.reference, account.accessCode));
    const cases: [string, string][] = [
      ['court', 'au moins 8 caractères dont 1 majuscule et 1 chiffre'],
      ['sansmajuscule1', 'au moins 8 caractères dont 1 majuscule et 1 chiffre'],
      ['x'.repeat(200), 'au plus 128 caractères'],
      ['Azerty123', 'mots de passe les plus courants'],
      ['Durand2024!', 'ne doit pas reprendre votre nom'],
      [`${account.reference}Xy9`, 'ne doit pas reprendre votre nom'],
      ['aaaaaaaaaaaaaaaa', 'trop facile à deviner'],
    ];
    for (const [password, message] of cases) {
      const res = await step2(c, ticket, profile({ password, confirm: password }));
      expect(res.statusCode, password).toBe(400);
      expect(textOf(res.body), password).toContain(message);
      expect(res.body).toContain('id="password-erreur"');
      // The other fields keep what was typed; the password is never sent back.
      expect(res.body).toContain('value="DURAND"');
      expect(res.body).not.toContain(`value="${password}"`);
    }
    const mismatch = await step2(c, ticket, profile({ confirm: 'Palier#Lune43' }));
    expect(mismatch.statusCode).toBe(400);
    expect(textOf(mismatch.body)).toContain('Les deux mots de passe ne sont pas identiques.');

    // The agency's name, once configured, is refused too.
    await setAgency(t.db, { name: 'Cabinet Lumière' });
    try {
      const agencyPw = await step2(c, ticket, profile({ password: 'Lumiere2024!', confirm: 'Lumiere2024!' }));
      expect(agencyPw.statusCode).toBe(400);
      expect(textOf(agencyPw.body)).toContain('le nom de l’agence');
    } finally {
      await setAgency(t.db, { name: null });
    }
    expect((await accountRow(account.id)).access_code_used_at).toBeNull();
  });

  it('requires every field, with a French message for each', async () => {
    const account = await seedAccount(t.db, t.config);
    const c = visitor();
    const empty = await step1(c, '', '');
    expect(empty.statusCode).toBe(400);
    expect(textOf(empty.body)).toContain('Saisissez votre identifiant.');
    expect(textOf(empty.body)).toContain('Saisissez le mot de passe imprimé sur votre appel de fonds.');

    const ticket = ticketOf(await step1(c, account.reference, account.accessCode));
    const blank = Object.fromEntries(Object.keys(profile()).map((k) => [k, '']));
    const res = await step2(c, ticket, blank);
    expect(res.statusCode).toBe(400);
    const text = textOf(res.body);
    expect(text).toContain('Le formulaire contient 10 erreurs');
    for (const m of [
      'Choisissez une civilité.',
      'Saisissez votre nom.',
      'Saisissez votre prénom.',
      'Saisissez votre adresse email.',
      'Choisissez un mot de passe.',
      'Confirmez le mot de passe.',
      'Saisissez un numéro de téléphone.',
      'Saisissez votre adresse.',
      'Saisissez le code postal.',
      'Saisissez votre ville.',
    ]) {
      expect(text).toContain(m);
    }
    const bad = await step2(
      c,
      ticket,
      profile({ postalCode: '38-000', email: 'pas-une-adresse', phone: 'appelez-moi' }),
    );
    expect(bad.statusCode).toBe(400);
    expect(textOf(bad.body)).toContain('Saisissez un code postal valide : 5 chiffres en France');
    expect(textOf(bad.body)).toContain('Saisissez une adresse email valide');
    expect(textOf(bad.body)).toContain('Saisissez un numéro de téléphone valide');
    // The same rules as the profile: a phone with +33, a foreign postal code.
    const email = newEmail();
    const abroad = await step2(
      c,
      ticket,
      profile({ email, postalCode: '1000', city: 'Bruxelles', country: 'Belgique', phone: '+32 2 123 45 67' }),
    );
    expect(abroad.statusCode, textOf(abroad.body).slice(0, 600)).toBe(303);
    expect((await usersWithEmail(email))[0]).toMatchObject({ postal_code: '1000', country: 'Belgique' });
  });

  it('refuses a French postal code that is not 5 digits, keeping what was typed; abroad needs the country', async () => {
    const account = await seedAccount(t.db, t.config);
    const c = visitor();
    const ticket = ticketOf(await step1(c, account.reference, account.accessCode));
    for (const postalCode of ['3800', 'ABCDE', '2A004']) {
      const email = newEmail();
      const res = await step2(c, ticket, profile({ email, postalCode, city: 'Grenoble', country: 'France' }));
      expect(res.statusCode).toBe(400);
      expect(textOf(res.body)).toContain('Saisissez un code postal valide : 5 chiffres en France');
      expect(res.body).toContain(`value="${postalCode}"`);
      expect(res.body).toContain('value="Grenoble"');
      expect(res.body).toContain(`value="${email}"`);
      expect(await usersWithEmail(email)).toHaveLength(0);
    }
    const email = newEmail();
    const uk = await step2(
      c,
      ticket,
      profile({ email, postalCode: 'SW1A 1AA', city: 'London', country: 'Royaume-Uni' }),
    );
    expect(uk.statusCode, textOf(uk.body).slice(0, 600)).toBe(303);
    expect((await usersWithEmail(email))[0]).toMatchObject({ postal_code: 'SW1A 1AA', country: 'Royaume-Uni' });
  });

  it('answers hostile input with French messages and escapes it in the form', async () => {
    const big = 'A'.repeat(8 * 1024);
    const one = await step1(visitor(), big, big);
    expect(one.statusCode).toBe(400);
    expect(textOf(one.body)).toContain('Cet identifiant est trop long');
    expect(textOf(one.body)).toContain('Ce mot de passe est trop long');
    const sqlish = await step1(visitor(), "' OR 1=1 --", "' OR '1'='1");
    expect(sqlish.statusCode).toBe(401);
    expect(textOf(sqlish.body)).toContain(REFUSED);

    const account = await seedAccount(t.db, t.config);
    const c = visitor();
    const ticket = ticketOf(await step1(c, account.reference, account.accessCode));
    const huge = await step2(c, ticket, Object.fromEntries(Object.keys(profile()).map((k) => [k, big])));
    expect(huge.statusCode).toBe(400);
    const hugeText = textOf(huge.body);
    expect(hugeText).toContain('Le nom doit contenir au plus 100 caractères.');
    expect(hugeText).toContain('Choisissez une civilité dans la liste.');
    expect(hugeText).toContain('Cette adresse email est trop longue.');
    expect(hugeText).toContain('L’adresse doit contenir au plus 200 caractères.');

    const html = '<script>alert(1)</script>';
    const xss = await step2(
      c,
      ticket,
      profile({ lastName: html, firstName: '"><img src=x onerror=alert(1)>', postalCode: '<b>' }),
    );
    expect(xss.statusCode).toBe(400);
    expect(xss.body).not.toContain(html);
    expect(xss.body).not.toContain('<img src=x');
    expect(xss.body).toContain('&lt;script>alert(1)&lt;/script>');

    // A field sent twice (an array) is refused like a wrong value, not with a crash.
    const csrf = csrfTokenOf((await c.get(`/creer-mon-espace/etape-2?ticket=${ticket}`)).body);
    const twice = await t.app.inject({
      method: 'POST',
      url: '/creer-mon-espace/etape-2',
      payload: `_csrf=${encodeURIComponent(csrf)}&ticket=${ticket}&lastName=A&lastName=B`,
      headers: {
        cookie: [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        'content-type': 'application/x-www-form-urlencoded',
      },
      remoteAddress: c.ip,
    });
    expect(twice.statusCode).toBe(400);
    expect(textOf(twice.body)).toContain('Saisissez votre nom.');
    expect((await accountRow(account.id)).access_code_used_at).toBeNull();
  });

  it('sends an expired, unknown or malformed ticket back to step 1', async () => {
    const account = await seedAccount(t.db, t.config);
    const c = visitor();
    const ticket = ticketOf(await step1(c, account.reference, account.accessCode));
    for (const url of [
      '/creer-mon-espace/etape-2?ticket=inconnuinconnuinconnuinconnu',
      '/creer-mon-espace/etape-2',
      '/creer-mon-espace/etape-2?ticket=%3Cscript%3E',
    ]) {
      const res = await c.get(url);
      expect(res.statusCode).toBe(400);
      expect(textOf(res.body)).toContain('Cette page n’est plus valable');
      expect(res.body).toContain('href="/creer-mon-espace"');
    }
    const page = await c.get(`/creer-mon-espace/etape-2?ticket=${ticket}`);
    expect(page.statusCode).toBe(200);
    t.clock.advance(31 * 60_000);
    expect((await c.get(`/creer-mon-espace/etape-2?ticket=${ticket}`)).statusCode).toBe(400);
    const late = await c.post('/creer-mon-espace/etape-2', { ticket, ...profile() }, { csrf: csrfTokenOf(page.body) });
    expect(late.statusCode).toBe(400);
    expect(textOf(late.body)).toContain('Recommencer la première étape');
    expect((await accountRow(account.id)).access_code_used_at).toBeNull();
  });

  it('creates one person only when step 2 is submitted twice at once', async () => {
    const account = await seedAccount(t.db, t.config);
    const c = visitor();
    const ticket = ticketOf(await step1(c, account.reference, account.accessCode));
    const page = await c.get(`/creer-mon-espace/etape-2?ticket=${ticket}`);
    const csrf = csrfTokenOf(page.body);
    const first = profile();
    const second = profile();
    const results = await Promise.all([
      c.post('/creer-mon-espace/etape-2', { ticket, ...first }, { csrf }),
      c.post('/creer-mon-espace/etape-2', { ticket, ...second }, { csrf }),
    ]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([303, 400]);
    const loser = results.find((r) => r.statusCode === 400)!;
    expect(textOf(loser.body)).toContain('votre espace est peut-être déjà créé');
    const created = await t.db
      .selectFrom('users')
      .select('email')
      .where('email', 'in', [first.email, second.email])
      .execute();
    expect(created).toHaveLength(1);
    const holders = await t.db.selectFrom('user_accounts').selectAll().where('account_id', '=', account.id).execute();
    expect(holders).toHaveLength(1);
  });

  it('refuses forms without their CSRF token', async () => {
    const account = await seedAccount(t.db, t.config);
    const c = visitor();
    await c.get('/creer-mon-espace');
    const one = await c.post('/creer-mon-espace', { reference: account.reference, code: account.accessCode });
    expect(one.statusCode).toBe(403);
    expect(textOf(one.body)).toContain('Formulaire expiré');
    const ticket = ticketOf(await step1(c, account.reference, account.accessCode));
    const two = await c.post('/creer-mon-espace/etape-2', { ticket, ...profile() });
    expect(two.statusCode).toBe(403);
    expect((await accountRow(account.id)).access_code_used_at).toBeNull();

    const other = await seedAccount(t.db, t.config);
    const person = await createUser(t.db);
    const me = await loginAs(t.app, person.email, person.password, '10.98.0.3');
    const three = await me.post('/comptes/ajouter', { reference: other.reference, code: other.accessCode });
    expect(three.statusCode).toBe(403);
    expect((await accountRow(other.id)).access_code_used_at).toBeNull();
  });

  it('sends an anonymous visitor of "Ajouter un compte" to the login page', async () => {
    const c = visitor();
    const res = await c.get('/comptes/ajouter');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/?retour=%2Fcomptes%2Fajouter');
    const csrf = csrfTokenOf((await c.get('/')).body);
    const post = await c.post('/comptes/ajouter', { reference: 'X', code: 'Y' }, { csrf });
    expect(post.statusCode).toBe(303);
    expect(post.headers.location).toBe('/');
  });

  it('attaches an account with a new session id and tells the other holders, not the attacher', async () => {
    const account = await seedAccount(t.db, t.config, { kind: 'locataire' });
    // Someone already holds it (a code re-issued by the agency for a second person).
    const holder = await createUser(t.db, { accountIds: [account.id], firstName: 'Jeanne', lastName: 'ROUX' });
    const mine = await seedAccount(t.db, t.config);
    const attacher = await createUser(t.db, { accountIds: [mine.id], firstName: 'Sophie', lastName: 'BERNARD' });
    const me = await loginAs(t.app, attacher.email, attacher.password, '10.98.0.4');
    const before = me.cookies.get('palier_session')!;

    const page = await me.get('/comptes/ajouter');
    expect(page.statusCode).toBe(200);
    expect(textOf(page.body)).toContain('Ajouter ce compte');
    const res = await me.submit('/comptes/ajouter', {
      reference: account.reference.toLowerCase(),
      code: account.accessCode.toLowerCase(),
    });
    expect(res.statusCode, textOf(res.body).slice(0, 500)).toBe(303);
    expect(res.headers.location).toBe('/accueil?onglet=locataire');

    const afterId = me.cookies.get('palier_session')!;
    expect(afterId).toBeDefined();
    expect(afterId).not.toBe(before);
    const replay = new TestClient(t.app, { ip: '10.98.0.5' });
    replay.cookies.set('palier_session', before);
    expect((await replay.get('/comptes/ajouter')).statusCode).toBe(303);

    const flashPage = await me.get('/comptes/ajouter');
    expect(flashPage.statusCode).toBe(200);
    expect(textOf(flashPage.body)).toContain(`Compte Locataire N° ${account.reference} ajouté à votre espace.`);

    const links = await t.db
      .selectFrom('user_accounts')
      .select('account_id')
      .where('user_id', '=', attacher.id)
      .execute();
    expect(links.map((l) => l.account_id).sort((a, b) => a - b)).toEqual([mine.id, account.id].sort((a, b) => a - b));
    expect((await accountRow(account.id)).access_code_used_at).not.toBeNull();
    const audit = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'attach')
      .where('account_id', '=', account.id)
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.user_id).toBe(attacher.id);

    const mail = await t.smtp.waitFor(holder.email, (m) => m.subject.includes('Un compte a été rattaché'));
    expect(mail.text).toContain(`Locataire N° ${account.reference}`);
    expect(mail.text).toContain('Sophie B.');
    expect(mail.text).not.toContain('BERNARD');
    expect(plainSpaces(mail.text)).toMatch(/le \d{1,2}(er)? \p{L}+ \d{4} à \d{1,2} h \d{2}/u);
    expect(mail.text).toContain('contactez l’agence');
    expect(
      t.smtp.mails.filter((m) => m.to.includes(attacher.email.toLowerCase()) && m.subject.includes('rattaché')),
    ).toEqual([]);

    // The code served once.
    const again = await me.submit('/comptes/ajouter', { reference: account.reference, code: account.accessCode });
    expect(again.statusCode).toBe(409);
  });

  it('says clearly when the account is already in the space', async () => {
    const account = await seedAccount(t.db, t.config);
    const person = await createUser(t.db, { accountIds: [account.id] });
    const me = await loginAs(t.app, person.email, person.password, '10.98.0.6');
    const res = await me.submit('/comptes/ajouter', {
      reference: ` ${account.reference.toLowerCase()}`,
      code: 'PEU-IMPORTE-1',
    });
    expect(res.statusCode).toBe(409);
    expect(textOf(res.body)).toContain(
      `Le compte Copropriétaire N° ${account.reference} fait déjà partie de votre espace`,
    );
    // No attempt was counted for it.
    const attempts = await t.db.selectFrom('auth_attempts').selectAll().where('key', '=', account.reference).execute();
    expect(attempts).toEqual([]);
  });

  it('points a logged-in person to "Ajouter un compte" instead of a second space', async () => {
    const person = await createUser(t.db);
    const me = await loginAs(t.app, person.email, person.password, '10.98.0.7');
    for (const url of ['/creer-mon-espace', '/creer-mon-espace/etape-2?ticket=abcdefghijklmnopqrstuvwxyz']) {
      const res = await me.get(url);
      expect(res.statusCode).toBe(200);
      expect(textOf(res.body)).toContain('Vous avez déjà un espace');
      expect(res.body).toContain('href="/comptes/ajouter"');
    }
  });
});
