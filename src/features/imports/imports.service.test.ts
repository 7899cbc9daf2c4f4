import { parse as parseCsv } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dialects, createTestDb, type TestDb } from '../../../test/helpers/db.ts';
import { hashAccessCode } from '../../core/security/access-code.ts';
import { decrypt } from '../../core/security/tokens.ts';
import type { Db } from '../../db/db.ts';
import { getAgency } from '../../core/agency/agency.repository.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createStorage } from '../../adapters/storage/storage.ts';
import { agencyIdentity } from '../../core/agency/agency.ts';
import { createContext } from '../../core/context.ts';
import type { Config } from '../../config.ts';
import { updateAgency, type AgencyInput } from '../agency/agency.service.ts';
import { loadDemo } from './demo.ts';
import { ImportError } from './import-error.ts';
import { codesToCsv, exportCodes, importEcritures, importReferentiel } from './imports.service.ts';

const config = { secrets: { hmacKey: 'test-hmac-key', encryptionKey: 'test-encryption-key' } };
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const csv = (text: string) => Buffer.from(text);
/** UTF-8 text with raw bytes among it, as when a Windows-1252 value is pasted into a UTF-8 file. */
const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => Buffer.from(p)));
const MIXED = (line: number, position: number) =>
  `Ligne ${line} : le fichier mélange deux encodages, octet invalide en position ${position}. Enregistrez-le en UTF-8 (format « CSV UTF-8 »).`;

const TABLES = ['managers', 'buildings', 'lots', 'client_accounts', 'account_lots', 'ledger_entries'] as const;

/** Every business row, to prove an import changed nothing. */
async function snapshot(db: Db) {
  const out: Record<string, unknown[]> = {};
  for (const t of TABLES) {
    const rows = await db.selectFrom(t).selectAll().execute();
    out[t] = rows
      .map((r) => {
        const { id: _id, ...rest } = r as Record<string, unknown>;
        // Ledger ids change when lines are replaced by the same lines.
        return t === 'ledger_entries' ? rest : r;
      })
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  }
  return out;
}

async function account(db: Db, reference: string) {
  return db.selectFrom('client_accounts').selectAll().where('reference', '=', reference).executeTakeFirstOrThrow();
}

async function lotsOf(db: Db, reference: string) {
  const rows = await db
    .selectFrom('account_lots')
    .innerJoin('client_accounts', 'client_accounts.id', 'account_lots.account_id')
    .innerJoin('lots', 'lots.id', 'account_lots.lot_id')
    .innerJoin('buildings', 'buildings.id', 'lots.building_id')
    .select(['buildings.code', 'lots.number', 'lots.type', 'lots.description', 'lots.shares'])
    .where('client_accounts.reference', '=', reference)
    .orderBy('lots.number')
    .execute();
  return rows;
}

async function balance(db: Db, reference: string) {
  const rows = await db
    .selectFrom('ledger_entries')
    .innerJoin('client_accounts', 'client_accounts.id', 'ledger_entries.account_id')
    .select(['debit_cents', 'credit_cents'])
    .where('client_accounts.reference', '=', reference)
    .execute();
  return rows.reduce((s, r) => s + r.credit_cents - r.debit_cents, 0);
}

/** The ImportError of a refused import, after checking the database did not move. */
async function refused(t: TestDb, run: () => Promise<unknown>): Promise<ImportError> {
  const before = await snapshot(t.db);
  const audits = await t.db.selectFrom('audit_events').select('id').execute();
  const err = await run().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImportError);
  expect(await snapshot(t.db)).toEqual(before);
  expect(await t.db.selectFrom('audit_events').select('id').execute()).toHaveLength(audits.length);
  return err as ImportError;
}

describe.each(dialects)('imports on %s', (dialect) => {
  let t: TestDb;
  beforeEach(async () => {
    t = await createTestDb(dialect);
  });
  afterEach(async () => {
    await t.destroy();
  });

  describe('importReferentiel', () => {
    it('creates accounts, buildings, lots, gestionnaires and links from a good file', async () => {
      const s = await importReferentiel(t.db, config, fixture('referentiel.csv'));
      expect(s).toMatchObject({
        rows: 6,
        accounts: 4,
        accountsCreated: 4,
        accountsUpdated: 0,
        buildingsCreated: 2,
        lotsCreated: 5,
        managersCreated: 2,
        linksAdded: 6,
        codesCreated: 3,
        codesImported: 1,
      });

      const dupont = await account(t.db, '10001');
      expect(dupont).toMatchObject({
        kind: 'coproprietaire',
        civility: 'M.',
        last_name: 'Dupont',
        first_name: 'Jean',
        email: 'jean.dupont@example.com',
        phone: '06 12 34 56 78',
        address: '5 quai Stéphane-Jay',
        postal_code: '38000',
        city: 'Grenoble',
        council_role: 'president',
        access_code_origin: 'palier',
        access_code_used_at: null,
      });
      expect(await lotsOf(t.db, '10001')).toEqual([
        { code: 'BASTILLE', number: '0006', type: 'Appartement', description: '4 pièces', shares: 123 },
        { code: 'BASTILLE', number: '0031', type: 'Cave', description: null, shares: 5 },
        { code: 'BASTILLE', number: '0052', type: 'Parking', description: null, shares: 8 },
      ]);
      // The tenant and the owner of lot 0007 share the same lot row.
      expect(await lotsOf(t.db, '30001')).toEqual(await lotsOf(t.db, '10002'));

      const building = await t.db
        .selectFrom('buildings')
        .selectAll()
        .where('code', '=', 'BASTILLE')
        .executeTakeFirstOrThrow();
      expect(building).toMatchObject({ name: 'Résidence Bastille', address: '5 quai Stéphane-Jay', city: 'Grenoble' });
      expect(dupont.building_id).toBe(building.id);
      const manager = await t.db
        .selectFrom('managers')
        .selectAll()
        .where('id', '=', dupont.manager_id!)
        .executeTakeFirstOrThrow();
      expect(manager).toMatchObject({
        name: 'Claire Martin',
        email: 'claire.martin@cabinet.example',
        phone: '04 76 00 00 01',
      });

      // A generated code is stored hashed, and encrypted so it can be printed again.
      const code = decrypt(config.secrets.encryptionKey, dupont.access_code_encrypted!);
      expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
      expect(dupont.access_code_hash).toBe(hashAccessCode(config.secrets.hmacKey, code));
      // An imported code is only hashed: the agency's software prints it.
      const bernard = await account(t.db, '10002');
      expect(bernard).toMatchObject({
        email: 'sophie.bernard@example.com',
        council_role: 'membre',
        access_code_origin: 'import',
        access_code_encrypted: null,
        access_code_hash: hashAccessCode(config.secrets.hmacKey, 'abcd 2345 efgh'),
      });

      const audit = await t.db
        .selectFrom('audit_events')
        .selectAll()
        .where('action', '=', 'import.referentiel')
        .execute();
      expect(audit).toHaveLength(1);
      expect(JSON.parse(audit[0]!.details_json!)).toMatchObject({ accountsCreated: 4 });
      expect(audit[0]!.details_json).not.toContain('ABCD');
    });

    it('reads Windows-1252 files separated by commas and UTF-8 files with a BOM', async () => {
      await importReferentiel(t.db, config, fixture('referentiel-windows-1252.csv'));
      await importReferentiel(t.db, config, fixture('referentiel-bom.csv'));
      expect(await account(t.db, '20001')).toMatchObject({
        last_name: 'Lefèvre',
        first_name: 'Éloïse',
        address: "12, rue de l'Église",
        council_role: 'president',
      });
      expect(await lotsOf(t.db, '20001')).toHaveLength(2);
      expect(await account(t.db, '30002')).toMatchObject({ kind: 'locataire', first_name: 'Léa' });
    });

    it('refuses a UTF-8 file holding a Windows-1252 byte, naming its line and position, and writes nothing', async () => {
      await importReferentiel(t.db, config, fixture('referentiel.csv'));
      const file = bytes(
        'type;reference;nom;ville\nlocataire;7001;Petit;Saint-Égrève\nlocataire;7002;Roux;Saint-',
        [0xc9],
        'grève\n',
      );
      const err = await refused(t, () => importReferentiel(t.db, config, file));
      expect(err.lines).toEqual([MIXED(3, 27)]);
      // With a BOM too, and counting characters rather than bytes before the stray one.
      const withBom = bytes(
        [0xef, 0xbb, 0xbf],
        'type;reference;nom;ville\r\nlocataire;7001;Pétît;Gi',
        [0xe8],
        'res\r\n',
      );
      expect((await refused(t, () => importReferentiel(t.db, config, withBom))).lines).toEqual([MIXED(2, 24)]);
    });

    it('changes nothing when the same file is imported twice', async () => {
      await importReferentiel(t.db, config, fixture('referentiel.csv'));
      const before = await snapshot(t.db);
      await new Promise((r) => setTimeout(r, 5));
      const s = await importReferentiel(t.db, config, fixture('referentiel.csv'));
      expect(s).toMatchObject({
        accountsCreated: 0,
        accountsUpdated: 0,
        buildingsCreated: 0,
        buildingsUpdated: 0,
        lotsCreated: 0,
        lotsUpdated: 0,
        managersCreated: 0,
        managersUpdated: 0,
        linksAdded: 0,
        linksRemoved: 0,
        codesCreated: 0,
        codesImported: 0,
      });
      expect(await snapshot(t.db)).toEqual(before);
    });

    it('updates what changed, removes lots no longer listed and keeps accounts absent from the file', async () => {
      await importReferentiel(t.db, config, fixture('referentiel.csv'));
      const dupontBefore = await account(t.db, '10001');
      const bernardBefore = await account(t.db, '10002');
      await new Promise((r) => setTimeout(r, 5));
      const s = await importReferentiel(
        t.db,
        config,
        csv(
          [
            'type;reference;nom;prenom;email;immeuble_code;immeuble_nom;lot_numero;lot_type;tantiemes;conseil_syndical;gestionnaire_email;gestionnaire_nom',
            'copropriétaire;10001;Dupont-Martin;Jean;jean.dupont@example.com;BASTILLE;Résidence La Bastille;0006;Appartement;125;membre;julien.roux@cabinet.example;',
            'copropriétaire;10001;Dupont-Martin;Jean;jean.dupont@example.com;BASTILLE;;0031;Cave;5;membre;julien.roux@cabinet.example;',
            'copropriétaire;10003;Benali;Karim;;BASTILLE;;0008;Appartement;87;;claire.martin@cabinet.example;Claire Martin-Roche',
          ].join('\n'),
        ),
      );
      expect(s).toMatchObject({
        accountsCreated: 1,
        accountsUpdated: 1,
        buildingsUpdated: 1,
        lotsCreated: 1,
        lotsUpdated: 1,
        managersUpdated: 1,
        linksAdded: 1,
        linksRemoved: 1,
        codesCreated: 1,
      });
      const dupont = await account(t.db, '10001');
      expect(dupont).toMatchObject({ last_name: 'Dupont-Martin', council_role: 'membre', phone: '06 12 34 56 78' });
      expect(dupont.updated_at > dupontBefore.updated_at).toBe(true);
      expect(dupont.created_at).toBe(dupontBefore.created_at);
      expect(dupont.access_code_hash).toBe(dupontBefore.access_code_hash);
      expect((await lotsOf(t.db, '10001')).map((l) => [l.number, l.shares])).toEqual([
        ['0006', 125],
        ['0031', 5],
      ]);
      const julien = await t.db
        .selectFrom('managers')
        .selectAll()
        .where('email', '=', 'julien.roux@cabinet.example')
        .executeTakeFirstOrThrow();
      expect(dupont.manager_id).toBe(julien.id);
      // Absent from the file: kept as it was.
      expect(await account(t.db, '10002')).toEqual(bernardBefore);
      const building = await t.db
        .selectFrom('buildings')
        .selectAll()
        .where('code', '=', 'BASTILLE')
        .executeTakeFirstOrThrow();
      // Columns absent from the file leave stored values alone.
      expect(building).toMatchObject({ name: 'Résidence La Bastille', address: '5 quai Stéphane-Jay' });
      const claire = await t.db
        .selectFrom('managers')
        .selectAll()
        .where('email', '=', 'claire.martin@cabinet.example')
        .executeTakeFirstOrThrow();
      expect(claire).toMatchObject({ name: 'Claire Martin-Roche', phone: '04 76 00 00 01' });
    });

    it('replaces an access code with a new one from the file, and leaves it alone when unchanged', async () => {
      const file = (code: string) => csv(`type;reference;nom;code_acces\nlocataire;5001;Petit;${code}`);
      await importReferentiel(t.db, config, file('ANCIEN-CODE-01'));
      const first = await account(t.db, '5001');
      await t.db
        .updateTable('client_accounts')
        .set({ access_code_used_at: '2025-01-01T00:00:00.000Z' })
        .where('id', '=', first.id)
        .execute();

      const same = await importReferentiel(t.db, config, file('ancien code 01'));
      expect(same).toMatchObject({ accountsUpdated: 0, codesImported: 0 });
      expect((await account(t.db, '5001')).access_code_used_at).toBe('2025-01-01T00:00:00.000Z');

      const replaced = await importReferentiel(t.db, config, file('NOUVEAU-CODE-02'));
      expect(replaced).toMatchObject({ accountsUpdated: 1, codesImported: 1 });
      expect(await account(t.db, '5001')).toMatchObject({
        access_code_hash: hashAccessCode(config.secrets.hmacKey, 'NOUVEAU-CODE-02'),
        access_code_origin: 'import',
        access_code_used_at: null,
        access_code_encrypted: null,
      });
      // An empty code_acces never removes the current code.
      await importReferentiel(t.db, config, file(''));
      expect((await account(t.db, '5001')).access_code_hash).toBe(
        hashAccessCode(config.secrets.hmacKey, 'NOUVEAU-CODE-02'),
      );
    });

    it('creates a code once for an account without one, and an imported code supersedes it', async () => {
      const file = csv('type;reference;nom\nlocataire;5002;Petit');
      await importReferentiel(t.db, config, file);
      const first = await account(t.db, '5002');
      expect(first.access_code_origin).toBe('palier');
      const again = await importReferentiel(t.db, config, file);
      expect(again.codesCreated).toBe(0);
      expect((await account(t.db, '5002')).access_code_hash).toBe(first.access_code_hash);

      await importReferentiel(t.db, config, csv('type;reference;nom;code_acces\nlocataire;5002;Petit;CODE-LOGICIEL-7'));
      expect(await account(t.db, '5002')).toMatchObject({ access_code_origin: 'import', access_code_encrypted: null });
    });

    it('exports the unused codes created by Palier', async () => {
      await importReferentiel(t.db, config, fixture('referentiel.csv'));
      const codes = await exportCodes(t.db, config);
      expect(codes.map((c) => c.reference)).toEqual(['10001', '30001', '40001']);
      for (const c of codes) {
        expect((await account(t.db, c.reference)).access_code_hash).toBe(
          hashAccessCode(config.secrets.hmacKey, c.code),
        );
      }
      await t.db
        .updateTable('client_accounts')
        .set({ access_code_used_at: new Date().toISOString() })
        .where('reference', '=', '30001')
        .execute();
      const after = await exportCodes(t.db, config);
      expect(after.map((c) => c.reference)).toEqual(['10001', '40001']);
      // What a mail merge addresses the letter with comes along with each code.
      expect(codesToCsv(after)).toBe(
        '\uFEFFreference;code_acces;civilite;nom;prenom;adresse;code_postal;ville;immeuble_code;immeuble_nom;gestionnaire_nom\r\n' +
          `10001;${after[0]!.code};M.;Dupont;Jean;5 quai Stéphane-Jay;38000;Grenoble;BASTILLE;Résidence Bastille;Claire Martin\r\n` +
          `40001;${after[1]!.code};Mme;Morel;Anne;2 rue Lesdiguières;38000;Grenoble;VERCORS;Le Vercors;Julien Roux\r\n`,
      );
    });

    it('exports references that look like formulas as text, and round-trips through a CSV parser', async () => {
      const references = ['=HYPERLINK("http://x";"clic")', '-42', '+33', '@A1', 'C;1', 'Ré "2"'];
      const quoted = (v: string) => `"${v.replace(/"/g, '""')}"`;
      const file = ['type;reference;nom', ...references.map((r) => `locataire;${quoted(r)};Petit`)].join('\n');
      await importReferentiel(t.db, config, csv(file));
      const codes = await exportCodes(t.db, config);
      const rows = parseCsv(codesToCsv(codes), { bom: true, delimiter: ';', columns: true }) as Record<
        string,
        string
      >[];
      const neutralised = (r: string) => (/^[=+\-@]/.test(r) ? `'${r}` : r);
      expect(rows.map((r) => r.reference).sort()).toEqual(references.map(neutralised).sort());
      expect(rows.map((r) => [r.reference, r.code_acces])).toEqual(
        codes.map((c) => [neutralised(c.reference), c.code]),
      );
    });

    it.each([
      ['a wrong header', 'type;reference;name\nlocataire;9;Petit', 'Ligne 1, colonne « name » : colonne inconnue'],
      ['a bad type', 'type;reference;nom\nlocataire;9;Petit\nbailleur;10;Roux', 'Ligne 3, colonne « type »'],
      [
        'lines contradicting each other',
        'type;reference;nom;immeuble_code;lot_numero\ncopropriétaire;10001;Dupont;BASTILLE;0006\ncopropriétaire;10001;Dupond;BASTILLE;0031',
        'Ligne 3, colonne « nom » : « Dupond » contredit la ligne 2 pour le compte « 10001 » (« Dupont »).',
      ],
      [
        'an access code of two alternating characters',
        'type;reference;nom;code_acces\nlocataire;10001;Dupont;\nlocataire;9;Petit;abababab',
        'Ligne 3, colonne « code_acces » : code d’accès trop simple (au moins 6 caractères différents).',
      ],
      [
        'a control character after valid lines',
        'type;reference;nom;adresse\nlocataire;10001;Dupont;1 rue Haute\nlocataire;9;Petit;"2 rue\tBasse"',
        'Ligne 3, colonne « adresse » : caractère invisible interdit (tabulation, U+0009) en position 6',
      ],
    ])('writes nothing for %s and names the line', async (_what, text, expected) => {
      await importReferentiel(t.db, config, fixture('referentiel.csv'));
      const err = await refused(t, () => importReferentiel(t.db, config, csv(text)));
      expect(err.lines.join('\n')).toContain(expected);
    });
  });

  describe('loadDemo', () => {
    /** The identity service as `palier demo` calls it, storing the logo in a fresh folder. */
    const setIdentity = (db: Db) => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'palier-demo-'));
      const ctx = createContext({
        db,
        config: { ...config, dataDir } as unknown as Config,
        agency: agencyIdentity(db),
        actor: { kind: 'staff', name: 'cli', ip: null },
      });
      return (input: AgencyInput) => updateAgency(ctx, input, createStorage({ dataDir }));
    };

    it('loads a realistic demonstration once and gives a code to try', async () => {
      const first = await loadDemo(t.db, config, setIdentity(t.db));
      expect(first.referentiel).toMatchObject({ accounts: 9, accountsCreated: 9, buildings: 2, managers: 2 });
      expect(first.agencySet).toBe(true);
      expect(first.tryAccount).toMatchObject({ reference: '10001', name: 'Jean Dupont' });
      expect(await balance(t.db, '10001')).toBe(-137820);
      expect((await getAgency(t.db)).name).toBe('Cabinet Démo');
      expect(await account(t.db, '30001')).toMatchObject({ kind: 'locataire', council_role: null });
      const councils = await t.db
        .selectFrom('client_accounts')
        .select('reference')
        .where('council_role', 'is not', null)
        .execute();
      expect(councils.length).toBeGreaterThanOrEqual(3);

      const before = await snapshot(t.db);
      const second = await loadDemo(t.db, config, setIdentity(t.db));
      expect(second.agencySet).toBe(false);
      expect(second.tryAccount).toEqual(first.tryAccount);
      expect(await snapshot(t.db)).toEqual(before);
    });
  });

  describe('importEcritures', () => {
    beforeEach(async () => {
      await importReferentiel(t.db, config, fixture('referentiel.csv'));
    });

    it('imports lines in cents and gives each account its balance', async () => {
      const s = await importEcritures(t.db, fixture('ecritures.csv'));
      expect(s).toEqual({ rows: 19, accounts: 3, lines: 19 });
      expect(await balance(t.db, '10001')).toBe(-137820);
      expect(await balance(t.db, '10002')).toBe(7520);
      expect(await balance(t.db, '30001')).toBe(0);
      const first = await t.db.selectFrom('ledger_entries').selectAll().orderBy('position').executeTakeFirstOrThrow();
      expect(first).toMatchObject({
        position: 1,
        entry_date: '2024-01-01',
        label: 'Appel de fonds T1 2024',
        debit_cents: 68910,
        credit_cents: 0,
        piece: 'AF20241',
      });
      const audit = await t.db
        .selectFrom('audit_events')
        .select('details_json')
        .where('action', '=', 'import.ecritures')
        .executeTakeFirstOrThrow();
      expect(JSON.parse(audit.details_json!)).toEqual({ rows: 19, accounts: 3, lines: 19 });
    });

    it('replaces the whole ledger of the accounts in the file only, and twice changes nothing', async () => {
      await importEcritures(t.db, fixture('ecritures.csv'));
      const before = await snapshot(t.db);
      await importEcritures(t.db, fixture('ecritures.csv'));
      expect(await snapshot(t.db)).toEqual(before);

      await importEcritures(
        t.db,
        csv('reference;date;libelle;debit;credit\n10001;2025-11-02;Régularisation;;1 378,20'),
      );
      expect(await balance(t.db, '10001')).toBe(137820);
      expect(
        await t.db
          .selectFrom('ledger_entries')
          .innerJoin('client_accounts', 'client_accounts.id', 'account_id')
          .select('label')
          .where('reference', '=', '10001')
          .execute(),
      ).toEqual([{ label: 'Régularisation' }]);
      expect(await balance(t.db, '10002')).toBe(7520);
    });

    it('refuses a UTF-8 file holding a Windows-1252 byte, naming its line and position, and writes nothing', async () => {
      await importEcritures(t.db, fixture('ecritures.csv'));
      const file = bytes(
        'reference;date;libelle;debit;credit\n10001;01/01/2025;Régularisation;1;\n10001;02/01/2025;Relevé d',
        [0x92],
        'eau;1;\n',
      );
      const err = await refused(t, () => importEcritures(t.db, file));
      expect(err.lines).toEqual([MIXED(3, 26)]);
    });

    it.each([
      [
        'a bad date',
        'reference;date;libelle;debit;credit\n10001;01/01/2025;A;1;\n10001;31/02/2024;B;1;',
        'Ligne 3, colonne « date » : « 31/02/2024 » n’est pas une date valide (JJ/MM/AAAA ou AAAA-MM-JJ).',
      ],
      [
        'a bad amount',
        'reference;date;libelle;debit;credit\n10001;01/01/2025;A;12,5x;',
        'Ligne 2, colonne « debit » : « 12,5x » n’est pas un montant valide',
      ],
      [
        'an unknown reference',
        'reference;date;libelle;debit;credit\n10001;01/01/2025;A;1;\n77777;01/01/2025;A;1;',
        'Ligne 3, colonne « reference » : le compte « 77777 » est inconnu',
      ],
      [
        'a wrong header',
        'reference;date;libelle;montant\n10001;01/01/2025;A;1',
        'Ligne 1, colonne « montant » : colonne inconnue',
      ],
      [
        'a control character in a libellé',
        'reference;date;libelle;debit;credit\n10001;01/01/2025;A;1;\n10001;02/01/2025;Appel\u0000;1;',
        'Ligne 3, colonne « libelle » : caractère invisible interdit (caractère nul, U+0000) en position 6',
      ],
    ])('writes nothing for %s and names the line', async (_what, text, expected) => {
      await importEcritures(t.db, fixture('ecritures.csv'));
      const err = await refused(t, () => importEcritures(t.db, csv(text)));
      expect(err.lines.join('\n')).toContain(expected);
    });
  });
});
