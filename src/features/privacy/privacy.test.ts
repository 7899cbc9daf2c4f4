import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { TestClient, csrfTokenOf, plainSpaces, textOf } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { loginAs } from '../../../test/helpers/login.ts';
import { setAgency } from '../../core/agency/agency.repository.ts';
import { agencyIdentity } from '../../core/agency/agency.ts';
import { createContext } from '../../core/context.ts';
import { hashAccessCode } from '../../core/security/access-code.ts';
import { todayInParis } from '../../core/format.ts';
import type { PersonalData } from './privacy.presenter.ts';
import { exportPersonalData } from './privacy.service.ts';

const NEW_PASSWORD = 'Palier#Lune42';

async function flashAfter(client: TestClient, res: LightMyRequestResponse): Promise<string> {
  const page = await client.follow(res);
  return /<div class="flash[^"]*" role="(?:status|alert)">([^<]*)</.exec(page.body)?.[1] ?? '';
}

describe.each(dialects)('Mes données and Fermer mon espace client (%s)', (dialect) => {
  let t: TestApp;
  let ipSeq = 0;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
    await setAgency(t.db, { name: 'Cabinet Dauphin' });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A person with an account, a contact change, a message and a session, and another person sharing the account. */
  async function people() {
    const account = await seedAccount(t.db, t.config, { lots: [{ number: '0012', type: 'Appartement' }] });
    const user = await createUser(t.db, {
      accountIds: [account.id],
      firstName: 'Claire',
      lastName: 'MARTIN',
      email: `claire.${dialect}.${++ipSeq}.${Date.now()}@exemple.test`,
    });
    const other = await createUser(t.db, { accountIds: [account.id], firstName: 'Jeanne', lastName: 'ROUX' });
    const now = new Date().toISOString();
    await t.db
      .updateTable('users')
      .set({ phone: '06 11 22 33 44', city: 'Échirolles' })
      .where('id', '=', user.id)
      .execute();
    for (const [who, city] of [
      [user.id, 'Meylan'],
      [other.id, 'Voiron'],
    ] as const) {
      await t.db
        .insertInto('contact_changes')
        .values({
          account_id: account.id,
          user_id: who,
          changed_at: now,
          before_json: JSON.stringify({ city: 'GRENOBLE' }),
          after_json: JSON.stringify({ city }),
        })
        .execute();
      await t.db
        .insertInto('messages')
        .values({
          account_id: account.id,
          user_id: who,
          manager_id: account.managerId,
          subject: `Fuite chez ${city}`,
          body: `=HYPERLINK("x") écrit par ${city}`,
          created_at: now,
        })
        .execute();
    }
    const ip = `10.77.${dialect === 'sqlite' ? 1 : 2}.${ipSeq}`;
    const client = await loginAs(t.app, user.email, user.password, ip);
    const otherClient = await loginAs(t.app, other.email, other.password, `10.78.0.${ipSeq}`);
    return { account, user, other, client, otherClient, ip };
  }

  const userRow = (id: number) => t.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const countOf = async (table: 'sessions' | 'user_tokens' | 'user_accounts', userId: number) =>
    (await t.db.selectFrom(table).select('user_id').where('user_id', '=', userId).execute()).length;
  const eventsOf = (userId: number, action: string) =>
    t.db.selectFrom('audit_events').selectAll().where('user_id', '=', userId).where('action', '=', action).execute();

  describe('Mes données', () => {
    it('Profil links to both downloads and to closing the space', async () => {
      const { client } = await people();
      const res = await client.get('/profil');
      expect(res.body).toContain('href="/profil/mes-donnees.json"');
      expect(res.body).toContain('href="/profil/mes-donnees.csv"');
      expect(res.body).toContain('href="/profil/fermeture"');
      expect(textOf(res.body)).toContain('Fermer mon espace client');
    });

    it('downloads the person’s data as JSON: theirs only, no secret, dated file, not cached, audited', async () => {
      const { account, user, other, client, ip } = await people();
      const res = await client.get('/profil/mes-donnees.json');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-disposition']).toBe(
        `attachment; filename="mes-donnees-palier-${todayInParis(t.clock.now)}.json"`,
      );
      const data = JSON.parse(res.body) as PersonalData;
      expect(data.profil).toMatchObject({
        civilite: 'Mme',
        nom: 'MARTIN',
        prenom: 'Claire',
        email: user.email,
        telephone: '06 11 22 33 44',
        ville: 'Échirolles',
      });
      expect(data.profil.cree_le).toBeTruthy();
      expect(data.comptes).toEqual([
        expect.objectContaining({
          reference: account.reference,
          type: 'Copropriétaire',
          lots: [{ numero: '0012', type: 'Appartement', description: '4 pièces' }],
        }),
      ]);
      expect(data.comptes[0]!.immeuble?.nom).toBe('Résidence Les Tilleuls');
      expect(data.changements_de_coordonnees).toEqual([
        expect.objectContaining({ compte: account.reference, avant: { city: 'GRENOBLE' }, apres: { city: 'Meylan' } }),
      ]);
      expect(data.messages).toEqual([
        expect.objectContaining({ compte: account.reference, objet: 'Fuite chez Meylan' }),
      ]);
      expect(data.sessions).toHaveLength(1);
      expect(data.sessions[0]).toMatchObject({ adresse_ip: ip });
      expect(data.evenements_de_securite).toContainEqual(
        expect.objectContaining({ action: 'login', libelle: 'Connexion', resultat: 'réussi', adresse_ip: ip }),
      );
      // Another person on the same account: nothing of theirs.
      for (const theirs of [other.email, 'Voiron', 'ROUX', 'Jeanne', '10.78.0.'])
        expect(res.body).not.toContain(theirs);
      // Nothing that would let a reader act as the person.
      const hashes = await t.db.selectFrom('sessions').select('id_hash').where('user_id', '=', user.id).execute();
      expect(res.body).not.toContain(hashes[0]!.id_hash);
      expect(res.body).not.toContain((await userRow(user.id)).password_hash);
      expect(await eventsOf(user.id, 'personal_data.export')).toHaveLength(1);
    });

    it('downloads the same as a French CSV: categorie;element;champ;valeur, formulas neutralised', async () => {
      const { account, other, client } = await people();
      const res = await client.get('/profil/mes-donnees.csv');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-disposition']).toMatch(
        /^attachment; filename="mes-donnees-palier-\d{4}-\d{2}-\d{2}\.csv"$/,
      );
      expect(res.body.startsWith('\ufeffcategorie;element;champ;valeur\r\n')).toBe(true);
      expect(res.body).toContain('Profil;1;Nom;MARTIN\r\n');
      expect(res.body).toContain(`Comptes;1;Référence;${account.reference}\r\n`);
      expect(res.body).toContain('Comptes;1;Lot;0012 Appartement (4 pièces)\r\n');
      expect(res.body).toContain('Changements de coordonnées;1;Ville (après);Meylan\r\n');
      expect(res.body).toContain('Messages au gestionnaire;1;Texte;"\'=HYPERLINK(""x"") écrit par Meylan"\r\n');
      expect(res.body).toContain('Événements de sécurité;1;Action;Connexion\r\n');
      expect(res.body).not.toContain('Voiron');
      expect(res.body).not.toContain(other.email);
    });

    it('lets the agency export a named person’s data, audited with who ran it', async () => {
      const { user } = await people();
      const ctx = createContext({
        db: t.db,
        config: t.config,
        agency: agencyIdentity(t.db, { recheckMs: 0 }),
        actor: { kind: 'staff', name: 'cli', ip: null },
        now: () => t.clock.now,
      });
      const file = await exportPersonalData(ctx, { format: 'json', userId: user.id });
      expect((JSON.parse(file.body) as PersonalData).profil.email).toBe(user.email);
      const [event] = await eventsOf(user.id, 'personal_data.export');
      expect(JSON.parse(event!.details_json!)).toEqual({ format: 'json', by: 'cli' });
    });

    it('sends anonymous visitors to the login page', async () => {
      const anonymous = new TestClient(t.app, { ip: '10.79.0.1' });
      for (const url of ['/profil/mes-donnees.json', '/profil/mes-donnees.csv', '/profil/fermeture']) {
        const res = await anonymous.get(url);
        expect(res.statusCode).toBe(303);
        expect(String(res.headers.location)).toMatch(/^\/\?retour=/);
      }
    });
  });

  describe('Fermer mon espace client', () => {
    it('explains what goes and what stays, and asks for the password', async () => {
      const { client } = await people();
      const res = await client.get('/profil/fermeture');
      expect(res.statusCode).toBe(200);
      const text = plainSpaces(textOf(res.body));
      expect(text).toContain('Ce qui sera effacé');
      expect(text).toContain('Ce que l’agence conserve');
      expect(text).toContain('archives du syndicat des copropriétaires');
      expect(text).toContain('ne sont plus rattachés à votre nom');
      expect(res.body).toContain('action="/profil/fermeture"');
      expect(res.body).toMatch(/<input[^>]*name="password"[^>]*type="password"[^>]*autocomplete="current-password"/);
    });

    it('refuses a wrong or missing password in French, counts it, and deletes nothing', async () => {
      const { user, client } = await people();
      const wrong = await client.submit('/profil/fermeture', { password: 'pas-le-bon' });
      expect(wrong.statusCode).toBe(400);
      expect(textOf(wrong.body)).toContain('Le mot de passe actuel est incorrect.');
      const empty = await client.submit('/profil/fermeture', { password: '' });
      expect(empty.statusCode).toBe(400);
      expect(textOf(empty.body)).toContain('Saisissez votre mot de passe actuel.');
      expect((await userRow(user.id)).closed_at).toBeNull();
      expect((await userRow(user.id)).email).toBe(user.email);
      expect(await countOf('sessions', user.id)).toBe(1);
      expect(await countOf('user_accounts', user.id)).toBe(1);
      expect((await client.get('/accueil')).statusCode).toBe(200);
      // Counted like the login failures of this address.
      const attempts = await t.db
        .selectFrom('auth_attempts')
        .select('id')
        .where('scope', '=', 'login:email')
        .where('key', '=', user.email)
        .execute();
      expect(attempts).toHaveLength(1);
      const [event] = await eventsOf(user.id, 'space.close');
      expect(event).toMatchObject({ outcome: 'failure' });
    });

    it('stops after ten wrong passwords, like the login page', async () => {
      const { user, client } = await people();
      let last: LightMyRequestResponse | undefined;
      for (let i = 0; i < 11; i++) last = await client.submit('/profil/fermeture', { password: `faux-${i}` });
      expect(last!.statusCode).toBe(429);
      expect(textOf(last!.body)).toContain('Trop de mots de passe erronés');
      // Even the right one now waits.
      const right = await client.submit('/profil/fermeture', { password: user.password });
      expect(right.statusCode).toBe(429);
      expect((await userRow(user.id)).closed_at).toBeNull();
    });

    it('refuses a forged request (no CSRF token) and anonymous visitors, deleting nothing', async () => {
      const { user, client } = await people();
      const forged = await client.post('/profil/fermeture', { password: user.password });
      expect(forged.statusCode).toBe(403);
      const anonymous = new TestClient(t.app, { ip: '10.79.0.2' });
      const csrf = csrfTokenOf((await anonymous.get('/')).body);
      const res = await anonymous.post('/profil/fermeture', { password: user.password }, { csrf });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/');
      expect((await userRow(user.id)).closed_at).toBeNull();
      expect(await countOf('user_accounts', user.id)).toBe(1);
    });

    it('closes the space: logged out everywhere, login refused, accounts kept for the agency, others unaffected', async () => {
      const { account, user, other, client, otherClient } = await people();
      // A second browser of the same person, and a link not yet followed.
      const phone = await loginAs(t.app, user.email, user.password, '10.79.1.1');
      await client.submit('/profil/email', {
        newEmail: `ailleurs.${Date.now()}@exemple.test`,
        emailPassword: user.password,
      });
      expect(await countOf('user_tokens', user.id)).toBe(1);

      const res = await client.submit('/profil/fermeture', { password: user.password });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/');
      expect(await flashAfter(client, res)).toBe(
        'Votre espace client est fermé. Un email de confirmation a été envoyé à votre adresse.',
      );

      // Logged out in both browsers.
      expect((await client.get('/accueil')).statusCode).toBe(303);
      expect((await phone.get('/accueil')).statusCode).toBe(303);
      expect(await countOf('sessions', user.id)).toBe(0);
      expect(await countOf('user_tokens', user.id)).toBe(0);
      expect(await countOf('user_accounts', user.id)).toBe(0);

      // The password no longer opens anything.
      const again = new TestClient(t.app, { ip: '10.79.1.2' });
      const refused = await again.submit('/', { email: user.email, password: user.password }, '/connexion');
      expect(refused.statusCode).toBe(401);
      expect(textOf(refused.body)).toContain('Email ou mot de passe incorrect.');

      // Nothing personal left in the row.
      const row = await userRow(user.id);
      expect(row.closed_at).not.toBeNull();
      expect(row).toMatchObject({
        first_name: '',
        last_name: '',
        civility: null,
        phone: null,
        city: null,
        email_verified_at: null,
      });
      expect(row.email).not.toContain('claire');
      expect(JSON.stringify(row)).not.toContain('Échirolles');

      // The agency's records stay: account, its lots, and what was asked (unnamed now).
      expect(
        await t.db.selectFrom('client_accounts').select('id').where('id', '=', account.id).executeTakeFirst(),
      ).toBeDefined();
      const messages = await t.db.selectFrom('messages').selectAll().where('user_id', '=', user.id).execute();
      expect(messages.map((m) => m.subject)).toEqual(['Fuite chez Meylan']);

      // The other holder still has the account, and sees the change history without a name.
      expect(await countOf('user_accounts', other.id)).toBe(1);
      const page = await otherClient.get(`/comptes/${account.id}/coordonnees`);
      expect(page.statusCode).toBe(200);
      expect(textOf(page.body)).toContain('Espace client fermé');
      expect(textOf(page.body)).not.toContain('Claire');
      expect((await otherClient.get('/accueil')).statusCode).toBe(200);

      // Audited with the id and nothing personal.
      const [event] = await eventsOf(user.id, 'space.close');
      expect(event).toMatchObject({ outcome: 'success' });
      expect(event!.details_json).toBe('{"accounts":1}');

      // A neutral notice to the address: no typed name.
      const mail = await t.smtp.waitFor(user.email, (m) => m.subject.startsWith('Votre espace client est fermé'));
      expect(mail.text).toContain('Bonjour,');
      expect(mail.text).toContain('a été fermé à votre demande');
      expect(mail.text).not.toContain('Claire');
      expect(mail.text).not.toContain('MARTIN');
    });

    it('lets the agency hand the account to someone with a new code, and the address open a new space', async () => {
      const { account, user, client } = await people();
      await client.submit('/profil/fermeture', { password: user.password });
      const code = 'N3W2-C0DE-XY7Q';
      await t.db
        .updateTable('client_accounts')
        .set({ access_code_hash: hashAccessCode(t.config.secrets.hmacKey, code), access_code_used_at: null })
        .where('id', '=', account.id)
        .execute();
      const visitor = new TestClient(t.app, { ip: '10.79.2.1' });
      const step1 = await visitor.submit('/creer-mon-espace', { reference: account.reference, code });
      expect(step1.statusCode).toBe(303);
      const ticket = new URL(String(step1.headers.location), 'http://palier.test').searchParams.get('ticket')!;
      const done = await visitor.submit(
        `/creer-mon-espace/etape-2?ticket=${ticket}`,
        {
          ticket,
          civility: 'Mme',
          lastName: 'MARTIN',
          firstName: 'Claire',
          email: user.email,
          password: NEW_PASSWORD,
          confirm: NEW_PASSWORD,
          phone: '06 11 22 33 44',
          address: '5 avenue Alsace-Lorraine',
          postalCode: '38000',
          city: 'Grenoble',
        },
        '/creer-mon-espace/etape-2',
      );
      expect(done.statusCode, textOf(done.body).slice(0, 400)).toBe(303);
      expect(done.headers.location).toBe('/accueil');
      const fresh = await t.db
        .selectFrom('users')
        .selectAll()
        .where('email', '=', user.email)
        .executeTakeFirstOrThrow();
      expect(fresh.id).not.toBe(user.id);
      expect(await countOf('user_accounts', fresh.id)).toBe(1);
    });

    it('the placeholder address of a closed space gets no reset link and opens nothing', async () => {
      const { user, client } = await people();
      await client.submit('/profil/fermeture', { password: user.password });
      const placeholder = (await userRow(user.id)).email;
      const visitor = new TestClient(t.app, { ip: '10.79.4.1' });
      expect((await visitor.submit('/mot-de-passe-oublie', { email: placeholder })).statusCode).toBe(200);
      // The worker answers the request as for an unknown address.
      const deadline = Date.now() + 5000;
      let outcome: string | undefined;
      while (!outcome && Date.now() < deadline) {
        const rows = await t.db
          .selectFrom('audit_events')
          .select(['outcome', 'user_id'])
          .where('action', '=', 'reset.mail')
          .where('ip', '=', '10.79.4.1')
          .execute();
        outcome = rows[0]?.outcome;
        if (!outcome) await new Promise((r) => setTimeout(r, 50));
      }
      expect(outcome).toBe('failure');
      expect(await countOf('user_tokens', user.id)).toBe(0);
      const login = await visitor.submit('/', { email: placeholder, password: 'closed' }, '/connexion');
      expect(login.statusCode).toBe(401);
    });

    it('a closed person’s old session cookie opens nothing', async () => {
      const { user, client } = await people();
      const cookie = client.cookies.get('palier_session')!;
      await client.submit('/profil/fermeture', { password: user.password });
      const replay = new TestClient(t.app, { ip: '10.79.3.1' });
      replay.cookies.set('palier_session', cookie);
      expect((await replay.get('/profil/mes-donnees.json')).statusCode).toBe(303);
    });
  });
});
