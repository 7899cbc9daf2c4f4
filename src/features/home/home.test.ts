import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { TestClient, textOf } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { addLedger, createBuilding, createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { loginAs } from '../../../test/helpers/login.ts';

/** The tabs as a person sees them: label and whether it is the current one. */
function tabsOf(html: string): { label: string; current: boolean; href: string }[] {
  const nav = /<nav class="tabs"[^>]*>([\s\S]*?)<\/nav>/.exec(html);
  if (!nav) return [];
  return [...nav[1]!.matchAll(/<a ([^>]*)>([\s\S]*?)<\/a>/g)].map((m) => ({
    label: textOf(m[2]!),
    current: m[1]!.includes('aria-current="page"'),
    href: /href="([^"]*)"/.exec(m[1]!)![1]!.replace(/&amp;/g, '&'),
  }));
}

/** Accessible names of links (visible text plus visually-hidden text). */
function linkNames(html: string): { href: string; name: string }[] {
  return [...html.matchAll(/<a [^>]*href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/g)].map((m) => ({
    href: m[1]!,
    name: textOf(m[2]!),
  }));
}

describe.each(dialects)('home page (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('welcomes a copropriétaire with their lots, number, documents and debtor balance', async () => {
    const building = await createBuilding(t.db, { name: 'Résidence Les Tilleuls' });
    const account = await seedAccount(t.db, t.config, {
      buildingId: building.id,
      lots: [
        { number: '0012', type: 'Cave', description: 'Cave n° 12' },
        { number: '0006', type: 'Appartement', description: '4 pièces' },
      ],
    });
    await addLedger(t.db, account.id, [
      { date: '2024-01-01', label: 'Appel de fonds 1er trimestre 2024', debit: 200_000 },
      { date: '2024-02-03', label: 'Virement', credit: 62_180 },
    ]);
    const user = await createUser(t.db, { firstName: 'Claire', lastName: 'MARTIN', accountIds: [account.id] });
    const client = await loginAs(t.app, user.email, user.password);

    const res = await client.get('/accueil');
    expect(res.statusCode).toBe(200);
    const text = textOf(res.body);
    expect(text).toContain('Bienvenue, Claire MARTIN');
    expect(res.body).toMatch(/<h1>Bienvenue, Claire MARTIN<\/h1>/);
    expect(text).toContain('Ajouter un compte');
    expect(res.body).toContain('href="/comptes/ajouter"');
    // Lots one per line, by lot number, then the building.
    expect(text).toContain(
      '4 pièces (Lot 0006) - Appartement Cave n° 12 (Lot 0012) - Cave Résidence Les Tilleuls 12 rue des Alpes, 38000 Grenoble',
    );
    expect(text).toContain(`Copropriétaire N° ${account.reference}`);
    expect(text).toContain('0 document privé');
    expect(text).toContain('0 document public');
    expect(text).toContain('-1 378,20 € Solde débiteur');
    // The page shows the amount exactly as the formatter writes it, non-breaking spaces included.
    expect(res.body.replace(/[\u00a0\u202f]/g, ' ')).toContain('-1 378,20 €');

    const links = linkNames(res.body);
    const byHref = (href: string) => links.find((l) => l.href === href);
    expect(byHref(`/comptes/${account.id}/extrait`)?.name).toBe(`Détail – compte N° ${account.reference}`);
    expect(byHref(`/comptes/${account.id}/payer`)?.name).toBe(`Payer – compte N° ${account.reference}`);
    expect(byHref(`/comptes/${account.id}/coordonnees`)?.name).toContain('Mes coordonnées');
    expect(byHref(`/comptes/${account.id}/conseil-syndical`)?.name).toContain('Membres du conseil syndical');
    expect(byHref(`/comptes/${account.id}/contact`)?.name).toContain('Contact gestionnaires');
    expect(tabsOf(res.body)).toEqual([
      { label: 'Comptes copropriétaires', current: true, href: '/accueil?onglet=coproprietaire' },
    ]);
  });

  it('says "Solde créditeur" and "Solde nul"', async () => {
    const credit = await seedAccount(t.db, t.config, { reference: `CR${Date.now()}` });
    await addLedger(t.db, credit.id, [{ date: '2024-01-01', label: 'Trop-perçu', credit: 137_820 }]);
    const zero = await seedAccount(t.db, t.config, { reference: `ZR${Date.now()}` });
    const user = await createUser(t.db, { accountIds: [credit.id, zero.id] });
    const text = textOf((await (await loginAs(t.app, user.email, user.password)).get('/accueil')).body);
    expect(text).toContain('1 378,20 € Solde créditeur');
    expect(text).not.toContain('-1 378,20');
    expect(text).toContain('0,00 € Solde nul');
  });

  it('shows one tab per kind held and switches with ?onglet= without JavaScript', async () => {
    const building = await createBuilding(t.db);
    const owner = await seedAccount(t.db, t.config, { buildingId: building.id, kind: 'coproprietaire' });
    const tenant = await seedAccount(t.db, t.config, {
      buildingId: building.id,
      kind: 'locataire',
      lots: [{ number: '0101', type: 'Appartement', description: '2 pièces' }],
    });
    await addLedger(t.db, tenant.id, [{ date: '2024-03-01', label: 'Loyer mars', debit: 65_000 }]);
    const user = await createUser(t.db, { accountIds: [tenant.id, owner.id] });
    const client = await loginAs(t.app, user.email, user.password);

    const first = await client.get('/accueil');
    expect(tabsOf(first.body)).toEqual([
      { label: 'Comptes copropriétaires', current: true, href: '/accueil?onglet=coproprietaire' },
      { label: 'Comptes locataires', current: false, href: '/accueil?onglet=locataire' },
    ]);
    expect(textOf(first.body)).toContain(`Copropriétaire N° ${owner.reference}`);
    expect(textOf(first.body)).not.toContain(`Locataire N° ${tenant.reference}`);

    const second = await client.get('/accueil?onglet=locataire');
    expect(second.statusCode).toBe(200);
    expect(tabsOf(second.body).map((tab) => tab.current)).toEqual([false, true]);
    const text = textOf(second.body);
    expect(text).toContain(`Locataire N° ${tenant.reference}`);
    expect(text).toContain('2 pièces (Lot 0101) - Appartement');
    expect(text).toContain('-650,00 € Solde débiteur');
    expect(text).not.toContain(`Copropriétaire N° ${owner.reference}`);
    // The council belongs to copropriétaires only.
    expect(second.body).not.toContain(`/comptes/${tenant.id}/conseil-syndical`);
    expect(second.body).toContain(`/comptes/${tenant.id}/contact`);

    // A kind not held, a made-up value or a repeated parameter fall back to the first tab.
    for (const q of [
      '?onglet=proprietaire',
      '?onglet=%3Cscript%3E',
      '?onglet=locataire&onglet=coproprietaire',
      '?onglet=',
    ]) {
      const res = await client.get(`/accueil${q}`);
      expect(res.statusCode, q).toBe(200);
      expect(tabsOf(res.body).find((tab) => tab.current)?.label, q).toBe('Comptes copropriétaires');
      expect(res.body).not.toContain('<script>');
    }
  });

  it('shows every account of the tab with its own figures', async () => {
    const accounts = [];
    for (let i = 0; i < 12; i++) {
      const a = await seedAccount(t.db, t.config, {
        kind: 'proprietaire',
        lots: [{ number: `9${String(i).padStart(3, '0')}`, type: 'Parking', description: `Place ${i}` }],
      });
      await addLedger(t.db, a.id, [{ date: '2024-01-01', label: 'Reversement', credit: (i + 1) * 100 }]);
      accounts.push(a);
    }
    const user = await createUser(t.db, { accountIds: accounts.map((a) => a.id) });
    const single = await createUser(t.db, { accountIds: [accounts[0]!.id] });
    const [many, one] = [
      await loginAs(t.app, user.email, user.password),
      await loginAs(t.app, single.email, single.password),
    ];

    // The page costs the same number of queries for 1 account as for 12: nothing is loaded per account.
    const spy = vi.spyOn(t.db.getExecutor(), 'executeQuery');
    const countQueries = async (client: TestClient) => {
      spy.mockClear();
      const res = await client.get('/accueil');
      expect(res.statusCode).toBe(200);
      return { res, queries: spy.mock.calls.length };
    };
    const forOne = await countQueries(one);
    const forMany = await countQueries(many);
    spy.mockRestore();
    expect(forOne.queries).toBeGreaterThan(0);
    expect(forMany.queries).toBe(forOne.queries);

    const text = textOf(forMany.res.body);
    for (const [i, a] of accounts.entries()) {
      expect(text).toContain(
        `Propriétaire N° ${a.reference} Place ${i} (Lot 9${String(i).padStart(3, '0')}) - Parking`,
      );
      expect(text).toContain(`${i + 1},00 € Solde créditeur Détail – compte N° ${a.reference}`);
    }
    expect(text).toContain('Comptes propriétaires');
  });

  it('guides a person who holds no account yet to "Ajouter un compte"', async () => {
    const user = await createUser(t.db, { firstName: 'Jean', lastName: 'NOUVEAU' });
    const res = await (await loginAs(t.app, user.email, user.password)).get('/accueil');
    expect(res.statusCode).toBe(200);
    const text = textOf(res.body);
    expect(text).toContain('Bienvenue, Jean NOUVEAU');
    expect(text).toContain('Aucun compte n’est rattaché à votre espace');
    expect(res.body).toContain('href="/comptes/ajouter"');
    expect(tabsOf(res.body)).toEqual([]);
    expect(text).not.toContain('Solde');
  });

  it('sends an anonymous visitor to the login page', async () => {
    const res = await new TestClient(t.app).get('/accueil');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toMatch(/^\/(\?retour=|$)/);
  });
});
