import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { textOf } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { addLedger, createBuilding, createManager, createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { loginAs } from '../../../test/helpers/login.ts';
import { decodeQrDataUrl } from '../../../test/helpers/qr.ts';
import { setAgency } from '../../core/agency/agency.repository.ts';

const SYNDIC_IBAN = 'FR7630006000011234567890189';
const AGENCY_IBAN = 'FR1420041010050500013M02606';

function qrOf(html: string): string | null {
  const m = /<img src="(data:image\/png;base64,[^"]+)"/.exec(html);
  return m ? decodeQrDataUrl(m[1]!) : null;
}

describe.each(dialects)('Payer (%s)', (dialect) => {
  let t: TestApp;
  let buildingId: number;
  let bankBuildingId: number;
  let managerId: number;

  beforeAll(async () => {
    t = await buildTestApp(dialect);
    buildingId = (await createBuilding(t.db, { name: 'Résidence Les Tilleuls' })).id;
    bankBuildingId = (await createBuilding(t.db, { name: 'Le Belvédère' })).id;
    await t.db
      .updateTable('buildings')
      .set({ iban: SYNDIC_IBAN, bic: 'AGRIFRPP' })
      .where('id', '=', bankBuildingId)
      .execute();
    managerId = (
      await createManager(t.db, { name: 'ZIANE Aziza', email: 'aziza.ziane@agence.test', phone: '04 76 12 34 56' })
    ).id;
  });
  beforeEach(async () => {
    await setAgency(t.db, {
      name: 'Cabinet Exemple',
      iban: AGENCY_IBAN,
      bic: 'PSSTFRPPGRE',
      address: '1 place Victor Hugo, 38000 Grenoble',
      paymentLimit: null,
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function pageOf(o: {
    kind?: 'coproprietaire' | 'locataire' | 'proprietaire';
    building?: number;
    debit?: number;
    credit?: number;
    query?: string;
    status?: number;
  }) {
    const account = await seedAccount(t.db, t.config, {
      buildingId: o.building ?? buildingId,
      managerId,
      kind: o.kind,
      firstName: 'Paul',
      lastName: 'DURAND',
    });
    await addLedger(t.db, account.id, [
      { date: '2024-01-01', label: 'Appel de fonds', debit: o.debit ?? 0, credit: o.credit ?? 0 },
    ]);
    const user = await createUser(t.db, { accountIds: [account.id] });
    const client = await loginAs(t.app, user.email, user.password);
    const res = await client.get(`/comptes/${account.id}/payer${o.query ?? ''}`);
    expect(res.statusCode).toBe(o.status ?? 200);
    return { account, client, res, text: textOf(res.body) };
  }

  it('proposes the amount due in a form, and pays the building’s syndicat, with a QR code for the transfer', async () => {
    const { account, res, text } = await pageOf({ building: bankBuildingId, debit: 137_820 });
    expect(res.body).toMatch(/<h1>Payer<\/h1>/);
    expect(text).toContain('Montant à régler 1 378,20 € Solde débiteur : -1 378,20 €');
    expect(res.body).toMatch(/<input id="montant" name="montant" type="text" value="1378,20"/);
    expect(text).toContain('10 000,00 € au plus en un paiement');
    expect(text).toContain(
      'Bénéficiaire Syndicat des copropriétaires Le Belvédère IBAN FR76 3000 6000 0112 3456 7890 189 BIC AGRIFRPP Montant 1 378,20 €',
    );
    expect(text).toContain(`Référence à indiquer : ${account.reference}`);
    // The agency's own account is never offered to a copropriétaire: one payee everywhere.
    expect(text).not.toContain('FR14 2004');
    expect(text).toContain('à l’ordre de Syndicat des copropriétaires Le Belvédère');
    expect(qrOf(res.body)).toBe(
      `BCD\n002\n1\nSCT\nAGRIFRPP\nSyndicat des copropriétaires Le Belvédère\n${SYNDIC_IBAN}\nEUR1378.20\n\n\n${account.reference}`,
    );
    expect(res.body).toMatch(
      /<img src="data:image\/png;base64,[^"]+" width="200" height="200" alt="Code QR de virement/,
    );
    // Without a payment provider configured, no card payment is offered.
    expect(text).not.toContain('Par carte bancaire');
    expect(res.body).not.toContain('<script');
    expect(text.match(/Retour à l’accueil/g)).toHaveLength(1);
  });

  it('without the syndicat’s bank details, points to the appel de fonds and the gestionnaire', async () => {
    const { account, text, res } = await pageOf({ debit: 137_820 });
    expect(text).toContain(
      'Les coordonnées bancaires de Syndicat des copropriétaires Résidence Les Tilleuls figurent sur votre appel de fonds',
    );
    expect(text).toContain(`Référence à indiquer : ${account.reference}`);
    expect(text).toContain(
      'votre gestionnaire ZIANE Aziza vous répond au 04 76 12 34 56 ou par email à aziza.ziane@agence.test',
    );
    expect(text).toContain('à l’ordre de Syndicat des copropriétaires Résidence Les Tilleuls');
    expect(text).toContain(
      `Nom M. Paul DURAND Référence ${account.reference} Gestionnaire ZIANE Aziza Montant 1 378,20 €`,
    );
    expect(text).not.toContain('IBAN');
    expect(qrOf(res.body)).toBeNull();
  });

  it('says there is nothing to pay when the balance is nil or in credit, and proposes nothing', async () => {
    for (const o of [{ credit: 5_000 }, {}]) {
      const { text, res } = await pageOf({ building: bankBuildingId, ...o });
      expect(text).toContain('Votre compte ne présente pas de somme à régler.');
      expect(text).toContain(o.credit ? 'Solde créditeur : 50,00 €' : ': 0,00 €');
      expect(res.body).not.toContain('name="montant"');
      expect(text).not.toMatch(/Par virement|Par chèque|Par carte|IBAN/);
      expect(qrOf(res.body)).toBeNull();
    }
  });

  it('has a tenant or a landlord pay the agency’s client account', async () => {
    for (const [kind, paper] of [
      ['locataire', 'avis d’échéance'],
      ['proprietaire', 'relevé de gérance'],
    ] as const) {
      const { account, res, text } = await pageOf({ kind, building: bankBuildingId, debit: 65_000 });
      expect(text).toContain(
        'Bénéficiaire Cabinet Exemple IBAN FR14 2004 1010 0505 0001 3M02 606 BIC PSSTFRPPGRE Montant 650,00 €',
      );
      expect(text).toContain('à l’ordre de Cabinet Exemple');
      expect(text).not.toContain('Syndicat des copropriétaires');
      expect(text).toContain(`vignette de votre ${paper}`);
      expect(qrOf(res.body)).toBe(
        `BCD\n002\n1\nSCT\nPSSTFRPPGRE\nCabinet Exemple\n${AGENCY_IBAN}\nEUR650.00\n\n\n${account.reference}`,
      );
    }
  });

  it('takes another amount from the form, into the QR code and the cheque slip', async () => {
    const { account, res, text } = await pageOf({ building: bankBuildingId, debit: 137_820, query: '?montant=500' });
    expect(res.body).toMatch(/name="montant" type="text" value="500,00"/);
    expect(text).toContain('Montant 500,00 €');
    expect(qrOf(res.body)).toBe(
      `BCD\n002\n1\nSCT\nAGRIFRPP\nSyndicat des copropriétaires Le Belvédère\n${SYNDIC_IBAN}\nEUR500.00\n\n\n${account.reference}`,
    );
    const spaced = await pageOf({ building: bankBuildingId, debit: 137_820, query: '?montant=1%C2%A0000.5' });
    expect(spaced.text).toContain('Montant 1 000,50 €');
  });

  it('refuses an amount of zero, a negative or unreadable one, or one above the limit, in French', async () => {
    for (const [query, message] of [
      ['?montant=0', 'Le montant doit être supérieur à 0,00 €.'],
      ['?montant=-5', 'Saisissez un montant en euros, par exemple 1378,20.'],
      ['?montant=douze', 'Saisissez un montant en euros, par exemple 1378,20.'],
      ['?montant=10000,01', 'Le montant ne peut pas dépasser 10 000,00 € en un paiement.'],
    ] as const) {
      const { res, text } = await pageOf({ building: bankBuildingId, debit: 137_820, query, status: 400 });
      expect(text, query).toContain(message);
      expect(res.body).toMatch(/aria-invalid="true"/);
      // Nothing to scan while the amount is wrong.
      expect(qrOf(res.body)).toBeNull();
    }
  });

  it('proposes at most the limit the agency sets', async () => {
    await setAgency(t.db, { paymentLimit: '500000' });
    const { text, res } = await pageOf({ building: bankBuildingId, debit: 700_000 });
    expect(text).toContain('Montant à régler 7 000,00 €');
    expect(res.body).toMatch(/name="montant" type="text" value="5000,00"/);
    expect(text).toContain('5 000,00 € au plus en un paiement');
    const over = await pageOf({ building: bankBuildingId, debit: 700_000, query: '?montant=6000', status: 400 });
    expect(over.text).toContain('Le montant ne peut pas dépasser 5 000,00 € en un paiement.');
  });

  it('offers no card payment without a payment provider: the form’s address does not exist', async () => {
    const { account, client, res } = await pageOf({ building: bankBuildingId, debit: 10_000 });
    expect(res.body).not.toContain('/payer/carte');
    const token = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1];
    const post = await client.post(`/comptes/${account.id}/payer/carte`, { montant: '100' }, { csrf: token ?? null });
    expect(post.statusCode).toBe(404);
    expect(await t.db.selectFrom('payments').selectAll().execute()).toEqual([]);
  });
});
