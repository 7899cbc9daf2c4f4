import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { TestClient, textOf } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { addLedger, createBuilding, createManager, createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { loginAs } from '../../../test/helpers/login.ts';

/** Rows of the statement table as read on screen, one string per row. */
function rowsOf(html: string, part: 'tbody' | 'tfoot' = 'tbody'): string[] {
  const section = new RegExp(`<${part}>([\\s\\S]*?)</${part}>`).exec(html);
  if (!section) return [];
  return [...section[1]!.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((m) => textOf(m[1]!));
}

/** A page without its per-request CSRF token, to compare two answers byte for byte. */
const stable = (res: LightMyRequestResponse) => res.body.replace(/name="_csrf" value="[^"]*"/g, '');

const LEDGER = [
  { date: '2024-01-15', label: 'Appel de fonds 1er trimestre', debit: 50_000 },
  { date: '2024-02-10', label: 'Virement reçu', credit: 30_000 },
  { date: '2024-04-01', label: 'Appel de fonds 2e trimestre', debit: 50_000 },
  { date: '2024-04-20', label: 'Virement reçu', credit: 50_000 },
  { date: '2024-07-01', label: 'Appel de fonds 3e trimestre', debit: 137_820 },
];

describe.each(dialects)('statement (extrait de compte) (%s)', (dialect) => {
  let t: TestApp;
  let owner: Awaited<ReturnType<typeof seedAccount>>;
  let ownerClient: TestClient;
  let base: string;

  beforeAll(async () => {
    t = await buildTestApp(dialect);
    const manager = await createManager(t.db, { name: 'ZIANE Aziza' });
    const building = await createBuilding(t.db, { name: 'Résidence Les Tilleuls' });
    owner = await seedAccount(t.db, t.config, {
      buildingId: building.id,
      managerId: manager.id,
      firstName: 'Paul',
      lastName: 'DURAND',
    });
    await addLedger(t.db, owner.id, LEDGER);
    const user = await createUser(t.db, { accountIds: [owner.id] });
    ownerClient = await loginAs(t.app, user.email, user.password);
    base = `/comptes/${owner.id}/extrait`;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists every line with the balance after each one', async () => {
    const res = await ownerClient.get(base);
    expect(res.statusCode).toBe(200);
    const text = textOf(res.body);
    expect(res.body).toMatch(/<h1>Extrait de compte<\/h1>/);
    expect(text).toContain(`Compte Copropriétaire N° ${owner.reference}`);
    expect(text).toContain('Titulaire M. Paul DURAND');
    expect(text).toContain('Immeuble Résidence Les Tilleuls, 12 rue des Alpes, 38000 Grenoble');
    expect(res.body).toContain('<th scope="col">Date</th>');
    expect(res.body).toMatch(/<caption[^>]*>Écritures du compte N° /);
    expect(rowsOf(res.body)).toEqual([
      '15/01/2024 Appel de fonds 1er trimestre 500,00 € -500,00 € débiteur',
      '10/02/2024 Virement reçu 300,00 € -200,00 € débiteur',
      '01/04/2024 Appel de fonds 2e trimestre 500,00 € -700,00 € débiteur',
      '20/04/2024 Virement reçu 500,00 € -200,00 € débiteur',
      '01/07/2024 Appel de fonds 3e trimestre 1 378,20 € -1 578,20 € débiteur',
    ]);
    expect(rowsOf(res.body, 'tfoot')).toEqual([
      'Total de la période Débits : 2 378,20 € Crédits : 800,00 €',
      'Solde au 01/07/2024 -1 578,20 € débiteur',
    ]);
    // Printable: the filters and links are hidden on paper, and the page says how to print.
    expect(res.body).toMatch(/<form[^>]*class="filters print-hide"/);
    expect(text).toContain('utilisez la fonction d’impression de votre navigateur');
    expect(res.body).not.toContain('<script');
  });

  it('filters a period and carries the balance from before it', async () => {
    const res = await ownerClient.get(`${base}?du=2024-04-01&au=2024-06-30`);
    expect(res.statusCode).toBe(200);
    expect(rowsOf(res.body)).toEqual([
      'Solde au 31/03/2024 -200,00 € débiteur',
      '01/04/2024 Appel de fonds 2e trimestre 500,00 € -700,00 € débiteur',
      '20/04/2024 Virement reçu 500,00 € -200,00 € débiteur',
    ]);
    expect(rowsOf(res.body, 'tfoot')).toEqual([
      'Total de la période Débits : 500,00 € Crédits : 500,00 €',
      'Solde au 30/06/2024 -200,00 € débiteur',
    ]);
    expect(textOf(res.body)).toContain('du 01/04/2024 au 30/06/2024');
    // The form shows the period back.
    expect(res.body).toMatch(/<input id="du" name="du" type="date" value="2024-04-01"/);
    expect(res.body).toMatch(/<input id="au" name="au" type="date" value="2024-06-30"/);

    // A date typed by hand in a browser without a date picker is understood too.
    const typed = await ownerClient.get(`${base}?du=01%2F04%2F2024&au=`);
    expect(typed.statusCode).toBe(200);
    expect(rowsOf(typed.body)[0]).toBe('Solde au 31/03/2024 -200,00 € débiteur');
    expect(rowsOf(typed.body)).toHaveLength(4);
  });

  it('says when a period has no line, and still gives the balance', async () => {
    const res = await ownerClient.get(`${base}?du=2024-05-01&au=2024-05-31`);
    expect(res.statusCode).toBe(200);
    expect(textOf(res.body)).toContain('Aucune écriture sur cette période.');
    expect(rowsOf(res.body)).toEqual(['Solde au 30/04/2024 -200,00 € débiteur']);
    expect(rowsOf(res.body, 'tfoot')).toEqual([
      'Total de la période Débits : 0,00 € Crédits : 0,00 €',
      'Solde au 31/05/2024 -200,00 € débiteur',
    ]);
  });

  it('keeps same-day lines in the order of the agency’s ledger', async () => {
    const a = await seedAccount(t.db, t.config);
    // Inserted in reverse: the position, not the insertion order, decides.
    await t.db
      .insertInto('ledger_entries')
      .values([
        {
          account_id: a.id,
          position: 2,
          entry_date: '2024-03-01',
          label: 'Deuxième',
          debit_cents: 0,
          credit_cents: 1000,
          piece: null,
        },
        {
          account_id: a.id,
          position: 1,
          entry_date: '2024-03-01',
          label: 'Première',
          debit_cents: 1000,
          credit_cents: 0,
          piece: null,
        },
        {
          account_id: a.id,
          position: 3,
          entry_date: '2024-02-01',
          label: 'Plus ancienne',
          debit_cents: 500,
          credit_cents: 0,
          piece: null,
        },
      ])
      .execute();
    const u = await createUser(t.db, { accountIds: [a.id] });
    const res = await (await loginAs(t.app, u.email, u.password)).get(`/comptes/${a.id}/extrait`);
    expect(rowsOf(res.body).map((r) => r.split(' ')[1])).toEqual(['Plus', 'Première', 'Deuxième']);
    expect(rowsOf(res.body)[2]).toBe('01/03/2024 Deuxième 10,00 € -5,00 € débiteur');
  });

  it('refuses impossible dates and reversed periods with a French message, never a 500', async () => {
    const cases: [string, string][] = [
      ['?du=2024-13-01', 'La date de début n’est pas valide'],
      ['?du=2023-02-30', 'La date de début n’est pas valide'],
      ['?au=demain', 'La date de fin n’est pas valide'],
      ['?du=2024-06-01&au=2024-01-01', 'La date de fin doit être postérieure ou égale à la date de début.'],
      ['?du=%3Cscript%3Ealert(1)%3C%2Fscript%3E', 'La date de début n’est pas valide'],
      ['?du=2024-01-01&du=2024-02-01', 'La date de début n’est pas valide'],
      [`?du=${'9'.repeat(5000)}`, 'La date de début n’est pas valide'],
      ["?du=2024-01-01'%20OR%201=1--", 'La date de début n’est pas valide'],
    ];
    for (const [q, message] of cases) {
      const res = await ownerClient.get(`${base}${q}`);
      expect(res.statusCode, q).toBe(400);
      const text = textOf(res.body);
      expect(text, q).toContain('Le formulaire contient une erreur');
      expect(text, q).toContain(message);
      expect(res.body, q).not.toContain('<script>alert');
      expect(rowsOf(res.body), q).toEqual([]);
    }
  });

  it('downloads the period as a CSV file for a spreadsheet', async () => {
    const res = await ownerClient.get(`${base}.csv?du=2024-04-01&au=2024-12-31`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="extrait-${owner.reference}-du-2024-04-01-au-2024-12-31.csv"`,
    );
    expect(res.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(res.body.slice(1).split('\r\n')).toEqual([
      'Date;Libellé;Pièce;Débit;Crédit;Solde',
      '31/03/2024;Solde au 31/03/2024;;;;-200,00',
      '01/04/2024;Appel de fonds 2e trimestre;;500,00;;-700,00',
      '20/04/2024;Virement reçu;;;500,00;-200,00',
      '01/07/2024;Appel de fonds 3e trimestre;;1378,20;;-1578,20',
      ';Total de la période;;1878,20;500,00;',
      '31/12/2024;Solde au 31/12/2024;;;;-1578,20',
      '',
    ]);
    // The page links to the download of the period it shows.
    const page = await ownerClient.get(`${base}?du=2024-04-01&au=2024-12-31`);
    expect(page.body).toContain(`href="/comptes/${owner.id}/extrait.csv?du=2024-04-01&amp;au=2024-12-31"`);

    const bad = await ownerClient.get(`${base}.csv?du=2024-02-31`);
    expect(bad.statusCode).toBe(400);
    expect(textOf(bad.body)).toContain('La date de début n’est pas valide');
  });

  it('neutralises labels that a spreadsheet would run as formulas', async () => {
    const a = await seedAccount(t.db, t.config);
    await addLedger(t.db, a.id, [{ date: '2024-01-01', label: '=HYPERLINK("http://x";"clic")', debit: 100 }]);
    const u = await createUser(t.db, { accountIds: [a.id] });
    const res = await (await loginAs(t.app, u.email, u.password)).get(`/comptes/${a.id}/extrait.csv`);
    expect(res.body).toContain(`01/01/2024;"'=HYPERLINK(""http://x"";""clic"")";;1,00;;-1,00`);
  });

  it('renders a 2 000-line statement', async () => {
    const a = await seedAccount(t.db, t.config);
    const values = Array.from({ length: 2000 }, (_, i) => ({
      account_id: a.id,
      position: i,
      entry_date: `20${String(10 + Math.floor(i / 200)).padStart(2, '0')}-${String((Math.floor(i / 16) % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`,
      label: `Écriture ${i}`,
      debit_cents: i % 2 === 0 ? 10_000 : 0,
      credit_cents: i % 2 === 1 ? 9_000 : 0,
      piece: null,
    }));
    for (let i = 0; i < values.length; i += 500)
      await t.db
        .insertInto('ledger_entries')
        .values(values.slice(i, i + 500))
        .execute();
    const u = await createUser(t.db, { accountIds: [a.id] });
    const client = await loginAs(t.app, u.email, u.password);
    const started = performance.now();
    const res = await client.get(`/comptes/${a.id}/extrait`);
    const elapsed = performance.now() - started;
    expect(res.statusCode).toBe(200);
    expect(rowsOf(res.body)).toHaveLength(2000);
    expect(rowsOf(res.body, 'tfoot')[0]).toBe('Total de la période Débits : 100 000,00 € Crédits : 90 000,00 €');
    expect(rowsOf(res.body, 'tfoot')[1]).toMatch(/ -10 000,00 € débiteur$/);
    expect(elapsed).toBeLessThan(3000);
  });

  describe('who may read it', () => {
    let other: TestClient;
    let council: TestClient;
    let tenant: TestClient;
    const paths = (id: number | string) => [
      `/comptes/${id}/extrait`,
      `/comptes/${id}/extrait.csv`,
      `/comptes/${id}/payer`,
    ];

    beforeAll(async () => {
      const ownerRow = await t.db
        .selectFrom('client_accounts')
        .select('building_id')
        .where('id', '=', owner.id)
        .executeTakeFirstOrThrow();
      const otherAccount = await seedAccount(t.db, t.config);
      const councilAccount = await seedAccount(t.db, t.config, {
        buildingId: ownerRow.building_id!,
        councilRole: 'president',
      });
      const tenantAccount = await seedAccount(t.db, t.config, { buildingId: ownerRow.building_id!, kind: 'locataire' });
      const [o, c, tn] = await Promise.all([
        createUser(t.db, { accountIds: [otherAccount.id] }),
        createUser(t.db, { accountIds: [councilAccount.id] }),
        createUser(t.db, { accountIds: [tenantAccount.id] }),
      ]);
      other = await loginAs(t.app, o.email, o.password);
      council = await loginAs(t.app, c.email, c.password);
      tenant = await loginAs(t.app, tn.email, tn.password);
    });

    it('answers the owner', async () => {
      for (const p of paths(owner.id)) expect((await ownerClient.get(p)).statusCode, p).toBe(200);
    });

    it('answers anyone else exactly as for an account that does not exist', async () => {
      for (const [who, client] of [
        ['other client', other],
        ['council member of the building', council],
        ['tenant of the building', tenant],
      ] as const) {
        const [mine, missing] = [paths(owner.id), paths(2_000_000_000)];
        for (let i = 0; i < mine.length; i++) {
          const denied = await client.get(mine[i]!);
          const absent = await client.get(missing[i]!);
          expect(denied.statusCode, `${who} ${mine[i]}`).toBe(404);
          expect(absent.statusCode).toBe(404);
          expect(stable(denied), `${who} ${mine[i]}`).toBe(stable(absent));
          expect(textOf(denied.body)).not.toContain(owner.reference);
          expect(textOf(denied.body)).toContain('Page introuvable');
        }
      }
      const denials = await t.db
        .selectFrom('audit_events')
        .select('details_json')
        .where('action', '=', 'account.read')
        .where('outcome', '=', 'denied')
        .execute();
      expect(denials.some((d) => d.details_json?.includes(`"requestedAccountId":${owner.id}`))).toBe(true);
    });

    it('sends an anonymous visitor to the login page', async () => {
      for (const p of paths(owner.id)) {
        const res = await new TestClient(t.app).get(p);
        expect(res.statusCode, p).toBe(303);
        expect(res.headers.location).toMatch(/^\/(\?retour=|$)/);
      }
    });

    it('answers 404, never 500, to hostile ids', async () => {
      for (const id of ['abc', '99999999999999', '1%27', '0', '-1', '1.5', '%00', '1%20OR%201%3D1', ' 1']) {
        for (const p of paths(id)) {
          const res = await ownerClient.get(p);
          expect(res.statusCode, p).toBe(404);
        }
      }
    });
  });
});
