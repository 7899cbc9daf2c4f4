import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { textOf } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { addLedger, createBuilding, createManager, createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { loginAs } from '../../../test/helpers/login.ts';
import { setAgency } from '../../core/agency/agency.repository.ts';

describe.each(dialects)('Payer (%s)', (dialect) => {
  let t: TestApp;
  let buildingId: number;
  let managerId: number;

  beforeAll(async () => {
    t = await buildTestApp(dialect);
    buildingId = (await createBuilding(t.db, { name: 'Résidence Les Tilleuls' })).id;
    managerId = (
      await createManager(t.db, { name: 'ZIANE Aziza', email: 'aziza.ziane@agence.test', phone: '04 76 12 34 56' })
    ).id;
  });
  afterAll(async () => {
    await t?.close();
  });

  async function pageOf(o: { kind?: 'coproprietaire' | 'locataire'; debit?: number; credit?: number }) {
    const account = await seedAccount(t.db, t.config, {
      buildingId,
      managerId,
      kind: o.kind,
      firstName: 'Paul',
      lastName: 'DURAND',
    });
    await addLedger(t.db, account.id, [
      { date: '2024-01-01', label: 'Appel de fonds', debit: o.debit ?? 0, credit: o.credit ?? 0 },
    ]);
    const user = await createUser(t.db, { accountIds: [account.id] });
    const res = await (await loginAs(t.app, user.email, user.password)).get(`/comptes/${account.id}/payer`);
    expect(res.statusCode).toBe(200);
    return { account, res, text: textOf(res.body) };
  }

  it('gives the amount due and, without bank details in Palier, points to the appel de fonds and the gestionnaire', async () => {
    const { account, res, text } = await pageOf({ debit: 137_820 });
    expect(res.body).toMatch(/<h1>Payer<\/h1>/);
    expect(text).toContain('Montant à régler 1 378,20 € Solde débiteur : -1 378,20 €');
    expect(text).toContain('Les coordonnées bancaires à utiliser figurent sur votre appel de fonds');
    expect(text).toContain(`Référence à indiquer : ${account.reference}`);
    expect(text).toContain(
      'votre gestionnaire ZIANE Aziza vous répond au 04 76 12 34 56 ou par email à aziza.ziane@agence.test',
    );
    expect(text).toContain('à l’ordre de Syndicat des copropriétaires Résidence Les Tilleuls');
    expect(text).toContain(
      `Nom M. Paul DURAND Référence ${account.reference} Gestionnaire ZIANE Aziza Montant 1 378,20 €`,
    );
    expect(text).not.toMatch(/bientôt|prochainement/i);
    expect(text).not.toContain('IBAN');
  });

  it('says there is nothing to pay when the balance is not debtor', async () => {
    const { text } = await pageOf({ credit: 5_000 });
    expect(text).toContain('Votre compte ne présente pas de somme à régler.');
    expect(text).toContain('Solde créditeur : 50,00 €');
    expect(text).toContain('Montant le montant de votre versement');
  });

  it('shows the agency’s IBAN, BIC and holder with the reference for the transfer', async () => {
    await setAgency(t.db, {
      name: 'Cabinet Exemple',
      iban: 'FR7630006000011234567890189',
      bic: 'AGRIFRPP',
      address: '1 place Victor Hugo, 38000 Grenoble',
    });
    const { account, text } = await pageOf({ debit: 10_000 });
    expect(text).toContain('Titulaire du compte Cabinet Exemple IBAN FR76 3000 6000 0112 3456 7890 189 BIC AGRIFRPP');
    expect(text).toContain(`Référence à indiquer : ${account.reference}`);
    expect(text).not.toContain('figurent sur votre appel de fonds');
    expect(text).toContain('et envoyez-le à Cabinet Exemple, 1 place Victor Hugo, 38000 Grenoble');
  });

  it('has a tenant pay the agency, with the avis d’échéance', async () => {
    const { text } = await pageOf({ kind: 'locataire', debit: 65_000 });
    expect(text).toContain('à l’ordre de Cabinet Exemple');
    expect(text).not.toContain('Syndicat des copropriétaires');
    expect(text).toContain('vignette de votre avis d’échéance');
    expect(text).toContain('Locataire N°');
  });
});
