import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { TestClient, csrfTokenOf, plainSpaces, textOf } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { createManager, createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { loginAs } from '../../../test/helpers/login.ts';
import { formatInstant } from '../../core/format.ts';
import { setAgency } from '../../core/agency/agency.repository.ts';

/** The form as the page shows it (the agency's values), with some fields changed. */
function form(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    civility: 'M.',
    lastName: 'DURAND',
    firstName: 'Paul',
    email: 'paul.durand@exemple.test',
    phone: '06 12 34 56 78',
    address: '12 rue des Alpes',
    postalCode: '38000',
    city: 'GRENOBLE',
    ...overrides,
  };
}

const settle = () => new Promise((r) => setTimeout(r, 300));

describe.each(dialects)('Mes coordonnées (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function owner() {
    const manager = await createManager(t.db, { name: 'ZIANE Aziza' });
    const account = await seedAccount(t.db, t.config, { managerId: manager.id, email: 'paul.durand@exemple.test' });
    const user = await createUser(t.db, { accountIds: [account.id] });
    const client = await loginAs(t.app, user.email, user.password);
    return { manager, account, user, client };
  }

  const accountRow = (id: number) =>
    t.db.selectFrom('client_accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const changesOf = (id: number) =>
    t.db.selectFrom('contact_changes').selectAll().where('account_id', '=', id).execute();

  it('shows the details the agency holds for the account, and an empty history', async () => {
    const { account, client } = await owner();
    const res = await client.get(`/comptes/${account.id}/coordonnees`);
    expect(res.statusCode).toBe(200);
    const text = textOf(res.body);
    expect(text).toContain('Mes coordonnées');
    expect(text).toContain(`Copropriétaire N° ${account.reference}`);
    expect(text).toContain('Résidence Les Tilleuls');
    expect(res.body).toContain('value="DURAND"');
    expect(res.body).toContain('value="paul.durand@exemple.test"');
    expect(res.body).toContain('value="06 12 34 56 78"');
    expect(res.body).toContain('value="38000"');
    expect(res.body).toMatch(/<option value="M\." selected/);
    expect(text).toContain('Historique des modifications');
    expect(text).toContain('Aucune modification n’a encore été faite');
  });

  it('saves a correction, keeps it in the history and mails the gestionnaire the old and new values', async () => {
    const { manager, account, user, client } = await owner();
    const res = await client.submit(
      `/comptes/${account.id}/coordonnees`,
      form({ phone: '07 11 22 33 44', city: 'Meylan', postalCode: '38240' }),
    );
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/comptes/${account.id}/coordonnees`);
    const page = await client.follow(res);
    const text = textOf(page.body);
    expect(text).toContain('Vos coordonnées ont été transmises à votre gestionnaire');

    const row = await accountRow(account.id);
    expect(row).toMatchObject({ phone: '07 11 22 33 44', city: 'Meylan', postal_code: '38240', last_name: 'DURAND' });
    const changes = await changesOf(account.id);
    expect(changes).toHaveLength(1);
    expect(changes[0]!.user_id).toBe(user.id);
    expect(JSON.parse(changes[0]!.before_json)).toEqual({
      phone: '06 12 34 56 78',
      postal_code: '38000',
      city: 'GRENOBLE',
    });
    expect(JSON.parse(changes[0]!.after_json)).toEqual({
      phone: '07 11 22 33 44',
      postal_code: '38240',
      city: 'Meylan',
    });
    const audit = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'account.contact_change')
      .where('account_id', '=', account.id)
      .execute();
    expect(audit).toHaveLength(1);

    // The history, newest first: when, who, what.
    expect(text).toContain(formatInstant(t.clock.now.toISOString()));
    expect(text).toContain('Mme Claire MARTIN');
    expect(text).toContain('Téléphone : 06 12 34 56 78 → 07 11 22 33 44');
    expect(text).toContain('Ville : GRENOBLE → Meylan');
    expect(text).not.toContain('Aucune modification n’a encore été faite');

    const mail = await t.smtp.waitFor(manager.email, (m) => m.subject.includes(account.reference));
    expect(mail.subject).toContain('Coordonnées corrigées');
    expect(plainSpaces(mail.text)).toContain('Bonjour ZIANE Aziza,');
    expect(plainSpaces(mail.text)).toContain(`Copropriétaire N° ${account.reference}`);
    expect(plainSpaces(mail.text)).toContain('Claire MARTIN');
    expect(plainSpaces(mail.text)).toContain('Téléphone : 06 12 34 56 78 → 07 11 22 33 44');
    expect(plainSpaces(mail.text)).toContain('Code postal : 38000 → 38240');
    expect(plainSpaces(mail.text)).toContain('Ville : GRENOBLE → Meylan');
    expect(plainSpaces(mail.text)).not.toContain('Nom :');
    expect(mail.raw).toMatch(new RegExp(`Reply-To: ${user.email}`, 'i'));
  });

  it('says so when nothing changed: no history line, no mail', async () => {
    const { manager, account, client } = await owner();
    const res = await client.submit(`/comptes/${account.id}/coordonnees`, form({ city: '  GRENOBLE ' }));
    expect(res.statusCode).toBe(303);
    const page = await client.follow(res);
    expect(textOf(page.body)).toContain('Vous n’avez modifié aucune coordonnée');
    expect(await changesOf(account.id)).toHaveLength(0);
    await settle();
    expect(t.smtp.mails.filter((m) => m.to.includes(manager.email))).toHaveLength(0);
  });

  it('mails the agency when the account has no gestionnaire', async () => {
    const { account, client } = await owner();
    await t.db.updateTable('client_accounts').set({ manager_id: null }).where('id', '=', account.id).execute();
    await setAgency(t.db, { name: 'Cabinet Dauphin', email: `agence-${t.dialect}@cabinet.test` });
    try {
      const res = await client.submit(`/comptes/${account.id}/coordonnees`, form({ firstName: 'Paul-Henri' }));
      expect(res.statusCode).toBe(303);
      const mail = await t.smtp.waitFor(`agence-${t.dialect}@cabinet.test`, (m) =>
        m.subject.includes(account.reference),
      );
      expect(plainSpaces(mail.text)).toContain('Prénom : Paul → Paul-Henri');
      expect(mail.subject).toContain('Cabinet Dauphin');
    } finally {
      await setAgency(t.db, { name: null, email: null });
    }
  });

  it('says plainly when there is nobody to mail the correction to', async () => {
    const { account, client } = await owner();
    await t.db.updateTable('client_accounts').set({ manager_id: null }).where('id', '=', account.id).execute();
    const res = await client.submit(`/comptes/${account.id}/coordonnees`, form({ city: 'Échirolles' }));
    expect(res.statusCode).toBe(303);
    const page = await client.follow(res);
    expect(textOf(page.body)).toContain(
      'Vos coordonnées sont enregistrées, mais elles n’ont pas pu être transmises par email : ni votre gestionnaire ni l’agence n’ont encore d’adresse email connue.',
    );
    expect((await accountRow(account.id)).city).toBe('Échirolles');
  });

  it('refuses invalid values with French messages beside each field, and writes nothing', async () => {
    const { account, client } = await owner();
    const res = await client.submit(
      `/comptes/${account.id}/coordonnees`,
      form({ lastName: '   ', email: 'pas-une-adresse', phone: 'appelez-moi', postalCode: '38', city: '' }),
    );
    expect(res.statusCode).toBe(400);
    const text = textOf(res.body);
    expect(text).toContain('Le formulaire contient 5 erreurs');
    expect(text).toContain('Saisissez le nom.');
    expect(text).toContain('Saisissez une adresse email valide');
    expect(text).toContain('Saisissez un numéro de téléphone valide');
    expect(text).toContain('Saisissez un code postal valide');
    expect(text).toContain('Saisissez la ville.');
    // What was typed is kept.
    expect(res.body).toContain('value="pas-une-adresse"');
    expect(res.body).toContain('aria-invalid="true"');
    const row = await accountRow(account.id);
    expect(row).toMatchObject({ last_name: 'DURAND', email: 'paul.durand@exemple.test', city: 'GRENOBLE' });
    expect(await changesOf(account.id)).toHaveLength(0);
  });

  it('accepts a foreign postal code and refuses a civility outside the list', async () => {
    const { account, client } = await owner();
    const bad = await client.submit(`/comptes/${account.id}/coordonnees`, form({ civility: 'Sa Majesté' }));
    expect(bad.statusCode).toBe(400);
    expect(textOf(bad.body)).toContain('Choisissez une civilité dans la liste.');
    const ok = await client.submit(
      `/comptes/${account.id}/coordonnees`,
      form({ postalCode: 'SW1A 1AA', city: 'London', country: 'Royaume-Uni' }),
    );
    expect(ok.statusCode).toBe(303);
    expect(await accountRow(account.id)).toMatchObject({
      postal_code: 'SW1A 1AA',
      city: 'London',
      country: 'Royaume-Uni',
    });
    const page = await client.get(`/comptes/${account.id}/coordonnees`);
    expect(page.body).toContain('value="Royaume-Uni"');
    expect(textOf(page.body)).toContain('France → Royaume-Uni');
  });

  it('refuses 3800 and ABCDE as French postal codes, keeping what was typed and writing nothing', async () => {
    const { account, client } = await owner();
    for (const postalCode of ['3800', 'ABCDE']) {
      const res = await client.submit(
        `/comptes/${account.id}/coordonnees`,
        form({ postalCode, phone: '07 99 88 77 66', country: 'France' }),
      );
      expect(res.statusCode).toBe(400);
      expect(textOf(res.body)).toContain('Saisissez un code postal valide : 5 chiffres en France');
      expect(res.body).toContain(`value="${postalCode}"`);
      expect(res.body).toContain('value="07 99 88 77 66"');
      expect(res.body).toContain('value="France"');
    }
    expect(await accountRow(account.id)).toMatchObject({ postal_code: '38000', phone: '06 12 34 56 78' });
    expect(await changesOf(account.id)).toHaveLength(0);
  });

  it('refuses 10 KB fields cleanly, and keeps HTML and SQL characters inert', async () => {
    const { manager, account, client } = await owner();
    const huge = await client.submit(
      `/comptes/${account.id}/coordonnees`,
      form({ address: 'x'.repeat(10_000), lastName: 'y'.repeat(10_000) }),
    );
    expect(huge.statusCode).toBe(400);
    expect(textOf(huge.body)).toContain('L’adresse doit contenir au plus 200 caractères.');
    expect(textOf(huge.body)).toContain('Le nom doit contenir au plus 100 caractères.');
    expect(await changesOf(account.id)).toHaveLength(0);

    const multiLine = await client.submit(
      `/comptes/${account.id}/coordonnees`,
      form({ city: 'Grenoble\r\nBcc: pirate@exemple.test' }),
    );
    expect(multiLine.statusCode).toBe(400);
    expect(textOf(multiLine.body)).toContain('une seule ligne');

    const hostile = form({
      lastName: "O'BRIEN'); DROP TABLE users;--",
      address: '<script>alert("x")</script> rue <b>Haute</b>',
    });
    const res = await client.submit(`/comptes/${account.id}/coordonnees`, hostile);
    expect(res.statusCode).toBe(303);
    const row = await accountRow(account.id);
    expect(row.last_name).toBe("O'BRIEN'); DROP TABLE users;--");
    expect(row.address).toBe('<script>alert("x")</script> rue <b>Haute</b>');
    const page = await client.follow(res);
    expect(page.body).not.toContain('<script>alert');
    expect(page.body).toContain('&lt;script>alert');
    const mail = await t.smtp.waitFor(manager.email, (m) => m.text.includes('DROP TABLE'));
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).not.toContain('<b>Haute');
    expect(mail.html).toContain('&lt;script');
  });

  it('lets a tenant correct the details of a locataire account', async () => {
    const account = await seedAccount(t.db, t.config, { kind: 'locataire' });
    const user = await createUser(t.db, { accountIds: [account.id] });
    const client = await loginAs(t.app, user.email, user.password);
    const res = await client.get(`/comptes/${account.id}/coordonnees`);
    expect(res.statusCode).toBe(200);
    expect(textOf(res.body)).toContain(`Locataire N° ${account.reference}`);
  });

  it('answers another client exactly like an account that does not exist, and writes nothing', async () => {
    const { account } = await owner();
    const stranger = await owner();
    const theirs = await stranger.client.get(`/comptes/${account.id}/coordonnees`);
    const missing = await stranger.client.get('/comptes/999999999/coordonnees');
    const garbage = await stranger.client.get('/comptes/1%20OR%201=1/coordonnees');
    expect(theirs.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect(garbage.statusCode).toBe(404);
    expect(textOf(theirs.body)).toBe(textOf(missing.body));
    expect(textOf(theirs.body)).not.toContain(account.reference);
    // Staff can see the attempt: who asked for which account, refused.
    const denials = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'account.read')
      .where('user_id', '=', stranger.user.id)
      .execute();
    expect(denials.map((d) => [d.outcome, JSON.parse(d.details_json ?? '{}')])).toEqual(
      expect.arrayContaining([
        ['denied', { requestedAccountId: account.id, action: 'coordinates' }],
        ['denied', { requestedAccountId: 999999999, action: 'coordinates' }],
      ]),
    );

    const page = await stranger.client.get(`/comptes/${stranger.account.id}/coordonnees`);
    const post = await stranger.client.post(`/comptes/${account.id}/coordonnees`, form({ city: 'Volée' }), {
      csrf: csrfTokenOf(page.body),
    });
    expect(post.statusCode).toBe(404);
    expect((await accountRow(account.id)).city).toBe('GRENOBLE');
    expect(await changesOf(account.id)).toHaveLength(0);
  });

  it('sends an anonymous visitor to the login page', async () => {
    const { account } = await owner();
    const res = await new TestClient(t.app).get(`/comptes/${account.id}/coordonnees`);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toMatch(/^\/(\?retour=|$)/);
  });

  it('refuses a correction without the form’s CSRF token', async () => {
    const { account, client } = await owner();
    const res = await client.post(`/comptes/${account.id}/coordonnees`, form({ city: 'Sans jeton' }));
    expect(res.statusCode).toBe(403);
    expect((await accountRow(account.id)).city).toBe('GRENOBLE');
  });
});
