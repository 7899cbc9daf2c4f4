import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setAgency } from '../../core/agency/agency.repository.ts';
import { createDb, type Db } from '../../db/db.ts';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { csrfTokenOf, textOf, type TestClient } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { addLedger, createLot, createUser, seedAccount, TEST_PASSWORD } from '../../../test/helpers/factories.ts';
import { loginAs } from '../../../test/helpers/login.ts';

/*
 * The home page is kept in memory per person and tab, under the versions of what it shows.
 * Whoever changes that data — an import, a claim, the CLI, another instance, a hand-run
 * UPDATE — the next page shows it: every write below goes through a connection of its own,
 * as another process would, and the page must change at once.
 */
describe.each(dialects)('home page kept in memory (%s)', (dialect) => {
  let t: TestApp;
  let other: Db;
  let client: TestClient;
  let account: Awaited<ReturnType<typeof seedAccount>>;
  let userId: number;
  let email: string;

  const home = async () => {
    const res = await client.get('/accueil');
    expect(res.statusCode).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    t = await buildTestApp(dialect);
    other = createDb(t.config.databaseUrl);
    account = await seedAccount(t.db, t.config, { lots: [{ number: '0042', description: '3 pièces' }] });
    await addLedger(t.db, account.id, [{ date: '2026-01-15', label: 'Appel de fonds T1', debit: 45_000 }]);
    const user = await createUser(t.db, { accountIds: [account.id], firstName: 'Claire' });
    userId = user.id;
    email = user.email;
    client = await loginAs(t.app, user.email, user.password);
  });

  afterAll(async () => {
    await other?.destroy();
    await t?.close();
  });

  it('serves the same page again with a fresh CSRF token that works', async () => {
    const first = await home();
    const second = await home();
    const [a, b] = [csrfTokenOf(first), csrfTokenOf(second)];
    expect(a).not.toBe(b);
    expect(second.replace(b, a)).toBe(first);
    // The token of the kept page is a real one: « Déconnexion » works with it.
    const out = await client.post('/deconnexion', {}, { csrf: b });
    expect(out.statusCode).toBe(303);
    expect((await client.get('/accueil')).statusCode).toBe(303);
    client = await loginAs(t.app, email, TEST_PASSWORD);
  });

  it('shows a new building name, lot, council role and holder at once', async () => {
    expect(textOf(await home())).toContain('Résidence Les Tilleuls');
    await other.updateTable('buildings').set({ name: 'Le Belvédère' }).where('id', '=', account.buildingId).execute();
    expect(textOf(await home())).toContain('Le Belvédère');

    await other.updateTable('lots').set({ description: 'Duplex rénové' }).where('number', '=', '0042').execute();
    expect(textOf(await home())).toContain('Duplex rénové');

    const lot = await createLot(other, account.buildingId, { number: '0077', type: 'Cave' });
    await other.insertInto('account_lots').values({ account_id: account.id, lot_id: lot.id }).execute();
    expect(textOf(await home())).toContain('0077');

    expect(await home()).not.toContain('/documents/conseil');
    await other.updateTable('client_accounts').set({ council_role: 'membre' }).where('id', '=', account.id).execute();
    expect(await home()).toContain(`/comptes/${account.id}/documents/conseil`);

    const second = await seedAccount(other, t.config, { reference: 'C-KEPT-2' });
    expect(textOf(await home())).not.toContain('C-KEPT-2');
    await other
      .insertInto('user_accounts')
      .values({ user_id: userId, account_id: second.id, linked_at: new Date().toISOString() })
      .execute();
    expect(textOf(await home())).toContain('C-KEPT-2');
    await other.deleteFrom('user_accounts').where('account_id', '=', second.id).execute();
    expect(textOf(await home())).not.toContain('C-KEPT-2');
  });

  it('shows a new document count, balance, name and agency at once', async () => {
    expect(textOf(await home())).toContain('0 document privé');
    await other
      .insertInto('documents')
      .values({
        building_id: account.buildingId,
        scope: 'account',
        account_id: account.id,
        for_tenants: 0,
        category: 'appel_de_fonds',
        title: 'Appel de fonds',
        document_date: '2026-01-01',
        size_bytes: 10,
        sha256: '0'.repeat(64),
        storage_key: 'kept-test',
        content_type: 'application/pdf',
        original_name: 'appel.pdf',
        published_by: 'test',
        published_at: new Date().toISOString(),
        withdrawn_at: null,
        replaces_id: null,
      })
      .execute();
    expect(textOf(await home())).toContain('1 document privé');

    const before = textOf(await home());
    await addLedger(other, account.id, [{ date: '2026-02-01', label: 'Règlement', credit: 45_000 }]);
    const after = textOf(await home());
    expect(after).not.toBe(before);
    expect(after).toMatch(/0,00\s€/);

    await other.updateTable('users').set({ first_name: 'Clémence' }).where('id', '=', userId).execute();
    expect(textOf(await home())).toContain('Clémence');

    await setAgency(other, { name: 'Cabinet Mistral' });
    expect(textOf(await home())).toContain('Cabinet Mistral');
  });

  it('keeps one page per tab', async () => {
    const owner = await home();
    expect(textOf(owner)).not.toContain('L-KEPT-1');
    const tenant = await seedAccount(other, t.config, { kind: 'locataire', reference: 'L-KEPT-1' });
    await other
      .insertInto('user_accounts')
      .values({ user_id: userId, account_id: tenant.id, linked_at: new Date().toISOString() })
      .execute();
    const tab = await client.get('/accueil?onglet=locataire');
    expect(textOf(tab.body)).toContain('L-KEPT-1');
    expect(textOf((await client.get('/accueil?onglet=coproprietaire')).body)).not.toContain('L-KEPT-1');
    // The default tab now offers the other one.
    expect(owner).not.toContain('onglet=locataire');
    expect(await home()).toContain('onglet=locataire');
  });

  it('shows a flash message once, and never keeps it', async () => {
    await home();
    const flash = t.app.signCookie(JSON.stringify({ kind: 'success', message: 'Compte ajouté à votre espace.' }));
    client.cookies.set('palier_flash', flash);
    expect(textOf(await home())).toContain('Compte ajouté à votre espace.');
    expect(textOf(await home())).not.toContain('Compte ajouté à votre espace.');
  });

  it('moves the version once per transaction, when it commits', async () => {
    const version = async () =>
      (await t.db.selectFrom('settings').select('value').where('key', '=', 'client_data_version').executeTakeFirst())
        ?.value;
    const start = await version();
    let during: string | undefined;
    await other.transaction().execute(async (trx) => {
      await trx.updateTable('buildings').set({ name: 'Le Mistral' }).where('id', '=', account.buildingId).execute();
      await trx.updateTable('lots').set({ description: 'Studio' }).where('number', '=', '0042').execute();
      // Another connection still reads the committed version (SQLite's WAL readers too).
      if (dialect === 'postgres') during = await version();
    });
    if (dialect === 'postgres') expect(during).toBe(start);
    const end = await version();
    expect(end).toBeTruthy();
    expect(end).not.toBe(start);
    expect(textOf(await home())).toContain('Le Mistral');
    // Reading writes nothing: the version stays while nothing changes.
    await home();
    expect(await version()).toBe(end);
  });
});
