import type { LightMyRequestResponse } from 'fastify';
import { PDFParse } from 'pdf-parse';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { type TestClient, textOf } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { addLedger, createBuilding, createManager, createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { loginAs } from '../../../test/helpers/login.ts';
import { setAgency } from '../../core/agency/agency.repository.ts';
import { todayInParis, formatDate } from '../../core/format.ts';

/** The text of a PDF as a reader extracts it, one string per page, spaces (incl. narrow ones) collapsed per line. */
async function pdfPages(res: LightMyRequestResponse): Promise<string[][]> {
  const parser = new PDFParse({ data: new Uint8Array(res.rawPayload) });
  try {
    const { pages } = await parser.getText();
    return pages.map((p) =>
      p.text
        .split('\n')
        .map((l) => l.replace(/[\s\u00a0\u202f]+/g, ' ').trim())
        .filter(Boolean),
    );
  } finally {
    await parser.destroy();
  }
}

/** Rows of the page's statement table as read on screen, without the words only screen readers hear. */
function pageRows(html: string): string[] {
  const body = /<tbody[^>]*>([\s\S]*?)<\/tbody>/.exec(html)![1]!;
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((m) =>
    textOf(m[1]!.replace(/<span class="visually-hidden">[^<]*<\/span>/g, '')),
  );
}

const LEDGER = [
  { date: '2024-01-15', label: 'Appel de fonds 1er trimestre', debit: 50_000 },
  { date: '2024-02-10', label: 'Virement reçu', credit: 30_000 },
  { date: '2024-04-01', label: 'Appel de fonds 2e trimestre', debit: 50_000 },
  { date: '2024-04-20', label: 'Virement reçu', credit: 50_000 },
  { date: '2024-07-01', label: 'Appel de fonds 3e trimestre – travaux d’étanchéité', debit: 137_820 },
];

describe.each(dialects)('statement as PDF (%s)', (dialect) => {
  let t: TestApp;
  let owner: Awaited<ReturnType<typeof seedAccount>>;
  let client: TestClient;

  beforeAll(async () => {
    t = await buildTestApp(dialect);
    const manager = await createManager(t.db, { name: 'ZIANE Aziza' });
    const building = await createBuilding(t.db, { name: 'Résidence Les Tilleuls' });
    owner = await seedAccount(t.db, t.config, {
      buildingId: building.id,
      managerId: manager.id,
      firstName: 'Paul',
      lastName: 'DURAND',
      lots: [
        { number: '12', type: 'Cave', description: 'Cave n° 3' },
        { number: '6', type: 'Appartement', description: '4 pièces' },
      ],
    });
    await addLedger(t.db, owner.id, LEDGER);
    const user = await createUser(t.db, { accountIds: [owner.id] });
    client = await loginAs(t.app, user.email, user.password);
    await setAgency(t.db, {
      name: 'Cabinet Exemple',
      address: '1 place Victor-Hugo, 38000 Grenoble',
      phone: '04 76 00 00 00',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is offered on « Détail » for the period shown', async () => {
    const page = await client.get(`/comptes/${owner.id}/extrait?du=2024-04-01&au=2024-12-31`);
    expect(page.body).toContain(`href="/comptes/${owner.id}/extrait.pdf?du=2024-04-01&amp;au=2024-12-31"`);
    expect(textOf(page.body)).toContain('Télécharger l’extrait (PDF)');
  });

  it('prints the same lines, amounts and balances as the page, with the agency, the account and its lots', async () => {
    const q = '?du=2024-04-01&au=2024-12-31';
    const [page, res] = await Promise.all([
      client.get(`/comptes/${owner.id}/extrait${q}`),
      client.get(`/comptes/${owner.id}/extrait.pdf${q}`),
    ]);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="extrait-${owner.reference}-du-2024-04-01-au-2024-12-31.pdf"`,
    );
    expect(res.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    // The font is embedded, so accents and « » read back as written.
    expect(res.rawPayload.toString('latin1')).toMatch(/\/FontFile2/);

    const pages = await pdfPages(res);
    expect(pages).toHaveLength(1);
    const lines = pages[0]!;
    const text = lines.join('\n');
    expect(lines[0]).toBe('Cabinet Exemple');
    expect(text).toContain('1 place Victor-Hugo, 38000 Grenoble');
    expect(text).toContain('M. Paul DURAND\n12 rue des Alpes\n38000 GRENOBLE');
    expect(text).toContain(`Compte Copropriétaire N° ${owner.reference}`);
    expect(text).toContain(`Référence ${owner.reference}`);
    expect(text).toContain('Immeuble Résidence Les Tilleuls, 12 rue des Alpes, 38000 Grenoble');
    expect(text).toContain('Lots 4 pièces (Lot 6) - Appartement ; Cave n° 3 (Lot 12) - Cave');
    expect(text).toContain('Période Du 01/04/2024 au 31/12/2024');
    expect(text).toContain('Date Libellé Débit Crédit Solde');

    // Every row of the page's table, in order, is a line of the PDF.
    const rows = pageRows(page.body);
    expect(rows).toEqual([
      'Solde au 31/03/2024 -200,00 €',
      '01/04/2024 Appel de fonds 2e trimestre 500,00 € -700,00 €',
      '20/04/2024 Virement reçu 500,00 € -200,00 €',
      '01/07/2024 Appel de fonds 3e trimestre – travaux d’étanchéité 1 378,20 € -1 578,20 €',
    ]);
    // Long labels wrap inside their cell: read the rows as one text.
    expect(lines.join(' ')).toContain(rows.join(' '));
    expect(text).toContain('Total de la période 1 878,20 € 500,00 €\nSolde au 31/12/2024 -1 578,20 €');
    expect(text).toContain(`Édité le ${formatDate(todayInParis(t.clock.now))} par Cabinet Exemple.`);
    expect(lines.at(-1)).toBe('1/1');
  });

  it('numbers every page « n/total » and repeats the column headers', async () => {
    const a = await seedAccount(t.db, t.config, { firstName: 'Léa', lastName: 'MARTIN' });
    await addLedger(
      t.db,
      a.id,
      Array.from({ length: 70 }, (_, i) => ({
        date: `2024-${String((i % 12) + 1).padStart(2, '0')}-10`,
        label: i === 3 ? `Régularisation des charges ${'très longue '.repeat(12)}` : `Écriture n° ${i}`,
        debit: 10_000 + i,
      })),
    );
    const u = await createUser(t.db, { accountIds: [a.id] });
    const c = await loginAs(t.app, u.email, u.password);
    const [page, res] = await Promise.all([c.get(`/comptes/${a.id}/extrait`), c.get(`/comptes/${a.id}/extrait.pdf`)]);
    const pages = await pdfPages(res);
    expect(pages).toHaveLength(2);
    expect(pages[0]!.at(-1)).toBe('1/2');
    expect(pages[1]!.at(-1)).toBe('2/2');
    expect(pages[1]![0]).toBe(`Extrait de compte N° ${a.reference}, depuis l’ouverture du compte (suite)`);
    expect(pages[1]![1]).toBe('Date Libellé Débit Crédit Solde');
    // Every amount and balance of the page is in the PDF, in the same order (long labels wrap).
    const pdfText = pages.flat().join(' ');
    const amounts = pageRows(page.body).flatMap((r) => r.match(/-?\d{1,3}(?: \d{3})*,\d{2} €/g) ?? []);
    expect(amounts).toHaveLength(140);
    let from = 0;
    for (const amount of amounts) {
      const at = pdfText.indexOf(amount, from);
      expect(at, amount).toBeGreaterThanOrEqual(0);
      from = at + amount.length;
    }
    expect(pdfText).toContain('Solde au 10/12/2024 -7 024,15 €');
  });

  it('prints the agency’s logo when there is one', async () => {
    const png = new PNG({ width: 4, height: 2 });
    png.data.fill(0x80);
    const stored = await t.app.deps.storage.put(PNG.sync.write(png), { ext: 'png', prefix: 'logo' });
    await setAgency(t.db, { logo: stored.key });
    try {
      const res = await client.get(`/comptes/${owner.id}/extrait.pdf`);
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload.toString('latin1')).toMatch(/\/Subtype \/Image/);
      expect((await pdfPages(res))[0]![0]).toBe('Cabinet Exemple');
    } finally {
      await setAgency(t.db, { logo: null });
    }
  });

  it('lists a confirmed online payment not yet in the ledger apart from the lines, as the page does', async () => {
    const now = new Date().toISOString();
    await t.db
      .insertInto('payments')
      .values({
        account_id: owner.id,
        user_id: null,
        amount_cents: 50_000,
        method: 'card',
        reference: 'PLPDFTEST2',
        provider_session_id: 'cs_pdf',
        status: 'paid',
        created_at: now,
        updated_at: now,
      })
      .execute();
    try {
      const lines = (await pdfPages(await client.get(`/comptes/${owner.id}/extrait.pdf`))).flat();
      const text = lines.join(' ');
      expect(text).toMatch(
        /En cours Paiement en ligne \(en cours de rapprochement\) : 500,00 € le \d{2}\/\d{2}\/\d{4}, référence PLPDFTEST2/,
      );
      // Not a line of the table: the closing balance is the ledger's.
      expect(text).toContain('Solde au 01/07/2024 -1 578,20 €');
    } finally {
      await t.db.deleteFrom('payments').where('reference', '=', 'PLPDFTEST2').execute();
    }
  });

  it('answers someone else’s account exactly as an account that does not exist', async () => {
    const other = await seedAccount(t.db, t.config);
    const u = await createUser(t.db, { accountIds: [other.id] });
    const stranger = await loginAs(t.app, u.email, u.password);
    const denied = await stranger.get(`/comptes/${owner.id}/extrait.pdf`);
    const absent = await stranger.get(`/comptes/2000000000/extrait.pdf`);
    expect(denied.statusCode).toBe(404);
    expect(absent.statusCode).toBe(404);
    const stable = (r: LightMyRequestResponse) => r.body.replace(/name="_csrf" value="[^"]*"/g, '');
    expect(stable(denied)).toBe(stable(absent));
    expect(textOf(denied.body)).not.toContain(owner.reference);
    // Even with a bad period: the account is judged first.
    expect((await stranger.get(`/comptes/${owner.id}/extrait.pdf?du=2024-02-31`)).statusCode).toBe(404);
  });

  it('refuses a bad period in French', async () => {
    for (const [q, message] of [
      ['du=2024-02-31', 'La date de début n’est pas valide'],
      ['au=31/13/2024', 'La date de fin n’est pas valide'],
      ['du=2024-05-01&au=2024-04-01', 'La date de fin doit être postérieure ou égale à la date de début.'],
    ] as const) {
      const res = await client.get(`/comptes/${owner.id}/extrait.pdf?${q}`);
      expect(res.statusCode, q).toBe(400);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(textOf(res.body)).toContain(message);
    }
  });

  it('prints a 2 000-line statement quickly', async () => {
    const a = await seedAccount(t.db, t.config);
    const values = Array.from({ length: 2000 }, (_, i) => ({
      account_id: a.id,
      position: i,
      entry_date: `20${String(10 + Math.floor(i / 200))}-${String((Math.floor(i / 16) % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`,
      label:
        i % 5 === 0 ? `Régularisation des charges de l’exercice ${i}, selon l’assemblée générale` : `Écriture ${i}`,
      debit_cents: i % 2 === 0 ? 10_000 + i : 0,
      credit_cents: i % 2 === 1 ? 9_000 : 0,
      piece: null,
    }));
    for (let i = 0; i < values.length; i += 500) {
      await t.db
        .insertInto('ledger_entries')
        .values(values.slice(i, i + 500))
        .execute();
    }
    const u = await createUser(t.db, { accountIds: [a.id] });
    const c = await loginAs(t.app, u.email, u.password);
    await c.get(`/comptes/${a.id}/extrait.pdf?au=2010-01-31`); // warm-up: font loading, JIT
    const started = performance.now();
    const res = await c.get(`/comptes/${a.id}/extrait.pdf`);
    const elapsed = performance.now() - started;
    expect(res.statusCode).toBe(200);
    const pages = await pdfPages(res);
    expect(pages.at(-1)!.at(-1)).toBe(`${pages.length}/${pages.length}`);
    expect(pages.flat().join(' ')).toContain('Total de la période 109 990,00 € 90 000,00 €');
    console.info(`PDF of 2 000 lines: ${elapsed.toFixed(0)} ms, ${pages.length} pages, ${res.rawPayload.length} bytes`);
    // Generous bound: the test machine is shared; the figure above is what to read.
    expect(elapsed).toBeLessThan(3000);
  });
});
