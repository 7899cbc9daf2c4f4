import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDb, dialects, type TestDb } from '../../../test/helpers/db.ts';
import type { Config } from '../../config.ts';
import { agencyIdentity } from '../../core/agency/agency.ts';
import { createContext, type Ctx } from '../../core/context.ts';
import type { Db } from '../../db/db.ts';
import { balancesOf } from '../accounts/accounts.repository.ts';
import { computeStatement } from '../statements/statements.presenter.ts';
import { balanceBefore, statementLines } from '../statements/statements.repository.ts';
import { importFec, type FecSummary } from './fec.service.ts';
import { parseFecAmount, parseFecDate } from './fec.ts';
import { ImportError } from './import-error.ts';
import { importReferentiel } from './imports.service.ts';

const config = { secrets: { hmacKey: 'test-hmac-key', encryptionKey: 'test-encryption-key' } };

const REFERENTIEL = [
  'type;reference;nom;immeuble_code;immeuble_nom;compte_comptable',
  'copropriétaire;10001;Dupont;IMM1;Les Tilleuls;',
  'copropriétaire;10002;Martin;IMM1;Les Tilleuls;',
  'copropriétaire;10003;Bernard;IMM1;Les Tilleuls;45010003',
  'locataire;30001;Petit;IMM1;Les Tilleuls;',
  'copropriétaire;20001;Roux;IMM2;Le Parc;',
].join('\n');

const HEADER = [
  'JournalCode',
  'JournalLib',
  'EcritureNum',
  'EcritureDate',
  'CompteNum',
  'CompteLib',
  'CompAuxNum',
  'CompAuxLib',
  'PieceRef',
  'PieceDate',
  'EcritureLib',
  'Debit',
  'Credit',
  'EcritureLet',
  'DateLet',
  'ValidDate',
  'Montantdevise',
  'Idevise',
];

interface L {
  j: string;
  num: string;
  date: string;
  compte: string;
  aux?: string;
  lib: string;
  debit?: string;
  credit?: string;
  piece?: string;
}

const JOURNALS: Record<string, string> = {
  AN: 'A nouveaux',
  AC: 'Appels de fonds',
  BQ: 'Banque',
  OD: 'Opérations diverses',
};

function values(l: L): string[] {
  return [
    l.j,
    JOURNALS[l.j] ?? l.j,
    l.num,
    l.date,
    l.compte,
    `Compte ${l.compte}`,
    l.aux ?? '',
    l.aux ? `Client ${l.aux}` : '',
    l.piece ?? '',
    l.date,
    l.lib,
    l.debit ?? '0,00',
    l.credit ?? '0,00',
    '',
    '',
    l.date,
    '',
    '',
  ];
}

function fecText(lines: L[], o: { sep?: string; eol?: string } = {}): string {
  const sep = o.sep ?? '\t';
  const eol = o.eol ?? '\r\n';
  return [HEADER.join(sep), ...lines.map((l) => values(l).join(sep))].join(eol) + eol;
}

/** Exercise 2024: à-nouveaux, a quarterly call on 450 and its 4501/4502 sub-accounts, payments, a tenant. */
const Y2024: L[] = [
  { j: 'AN', num: '1', date: '20240101', compte: '450000', aux: '10001', lib: 'Report', debit: '120,50' },
  { j: 'AN', num: '1', date: '20240101', compte: '450000', aux: '10002', lib: 'Report', credit: '30,00' },
  { j: 'AN', num: '1', date: '20240101', compte: '890000', lib: 'Bilan d’ouverture', debit: '30,00', credit: '120,50' },
  { j: 'AC', num: '12', date: '20240115', compte: '450000', aux: '10001', lib: 'Appel de fonds T1', debit: '500,00' },
  { j: 'AC', num: '12', date: '20240115', compte: '4501', aux: '10001', lib: 'Avance de trésorerie', debit: '69,60' },
  { j: 'AC', num: '12', date: '20240115', compte: '4502', aux: '10002', lib: 'Fonds travaux', debit: '25,05' },
  { j: 'AC', num: '12', date: '20240115', compte: '45010003', lib: 'Appel de fonds T1', debit: '410,00' },
  { j: 'AC', num: '12', date: '20240115', compte: '701000', lib: 'Appel de fonds T1', credit: '1004,65' },
  { j: 'BQ', num: '7', date: '20240210', compte: '512000', lib: 'Virement Dupont', debit: '300,00' },
  { j: 'BQ', num: '7', date: '20240210', compte: '450000', aux: '10001', lib: 'Virement reçu', credit: '300,00' },
  { j: 'BQ', num: '8', date: '20240305', compte: '512000', lib: 'Loyer', debit: '750,00' },
  { j: 'BQ', num: '8', date: '20240305', compte: '411000', aux: '30001', lib: 'Loyer mars', credit: '750,00' },
  { j: 'OD', num: '3', date: '20241231', compte: '401000', lib: 'Facture ascenseur', credit: '99,99' },
  { j: 'OD', num: '3', date: '20241231', compte: '615000', lib: 'Facture ascenseur', debit: '99,99' },
];

/** Credits − debits of the client lines, per reference, as the books say. */
function expectedBalances(lines: L[]): Record<string, number> {
  const cents = (v?: string) => Math.round(Number((v ?? '0').replace(',', '.')) * 100);
  const out: Record<string, number> = {};
  for (const l of lines) {
    const ref = l.aux ?? (l.compte === '45010003' ? '10003' : null);
    if (!ref || !/^(450|411)/.test(l.compte)) continue;
    out[ref] = (out[ref] ?? 0) + cents(l.credit) - cents(l.debit);
  }
  return out;
}

const source = (content: string | Buffer) => () =>
  // Small chunks, so characters and line ends are cut between two reads as in a large file.
  Readable.from(
    (function* () {
      const b = Buffer.from(content);
      for (let i = 0; i < b.length; i += 7) yield b.subarray(i, i + 7);
    })(),
  );

async function clientLines(db: Db) {
  const rows = await db
    .selectFrom('ledger_entries')
    .innerJoin('client_accounts', 'client_accounts.id', 'ledger_entries.account_id')
    .select([
      'client_accounts.reference',
      'entry_date',
      'label',
      'debit_cents',
      'credit_cents',
      'piece',
      'opening',
      'position',
    ])
    .orderBy('client_accounts.reference')
    .orderBy('entry_date')
    .orderBy('position')
    .execute();
  return rows;
}

async function balances(db: Db): Promise<Record<string, number>> {
  const accounts = await db.selectFrom('client_accounts').select(['id', 'reference']).execute();
  const b = await balancesOf(
    db,
    accounts.map((a) => a.id),
  );
  return Object.fromEntries(accounts.filter((a) => b.get(a.id) !== 0).map((a) => [a.reference, b.get(a.id)!]));
}

async function idOf(db: Db, reference: string): Promise<number> {
  const r = await db
    .selectFrom('client_accounts')
    .select('id')
    .where('reference', '=', reference)
    .executeTakeFirstOrThrow();
  return r.id;
}

describe('FEC values', () => {
  it('reads padded amounts with a comma or a point, and AAAAMMJJ dates', () => {
    expect(parseFecAmount('0000000069,60')).toEqual({ cents: 6960 });
    expect(parseFecAmount('69.6')).toEqual({ cents: 6960 });
    expect(parseFecAmount('-12,50')).toEqual({ cents: -1250 });
    expect(parseFecAmount('1378,200')).toEqual({ cents: 137820 });
    expect(parseFecAmount('')).toEqual({ cents: 0 });
    expect(parseFecAmount('1 378,20')).toHaveProperty('error');
    expect(parseFecAmount('12,345')).toHaveProperty('error');
    expect(parseFecDate('20240229')).toBe('2024-02-29');
    expect(parseFecDate('20230229')).toBeNull();
    expect(parseFecDate('2024-01-01')).toBeNull();
  });
});

describe.each(dialects)('import fec on %s', (dialect) => {
  let t: TestDb;
  let ctx: Ctx;
  beforeEach(async () => {
    t = await createTestDb(dialect);
    ctx = createContext({
      db: t.db,
      config: config as unknown as Config,
      agency: agencyIdentity(t.db),
      actor: { kind: 'staff', name: 'cli', ip: null },
    });
    await importReferentiel(t.db, config, Buffer.from(REFERENTIEL));
  });
  afterEach(async () => {
    await t.destroy();
  });

  const run = (content: string | Buffer, o: { building?: string; ignoreUnknown?: boolean } = {}) =>
    importFec(ctx, { open: source(content), buildingCode: o.building ?? 'IMM1', ignoreUnknown: o.ignoreUnknown });

  /** The French lines of a refused import, after checking nothing was written. */
  async function refusal(content: string | Buffer, o: { building?: string } = {}): Promise<string[]> {
    const before = await clientLines(t.db);
    const audits = await t.db.selectFrom('audit_events').select('id').execute();
    const err = await run(content, o).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ImportError);
    expect(await clientLines(t.db)).toEqual(before);
    expect(await t.db.selectFrom('audit_events').select('id').execute()).toHaveLength(audits.length);
    return (err as ImportError).lines;
  }

  it('imports the client lines of a tab-separated FEC, balances equal to the lines to the cent', async () => {
    const s = await run(fecText(Y2024));
    expect(s).toMatchObject<Partial<FecSummary>>({
      rows: Y2024.length,
      period: { from: '2024-01-01', to: '2024-12-31' },
      clientLines: 8,
      openingLines: 2,
      accounts: 4,
      replaced: 0,
      ignored: [],
    });
    expect(await balances(t.db)).toEqual(expectedBalances(Y2024));
    expect(await balances(t.db)).toEqual({ '10001': -39_010, '10002': 495, '10003': -41_000, '30001': 75_000 });
    const lines = await clientLines(t.db);
    expect(lines.filter((l) => l.reference === '10001')).toEqual([
      expect.objectContaining({ entry_date: '2024-01-01', label: 'Solde à nouveau', debit_cents: 12_050, opening: 1 }),
      expect.objectContaining({ entry_date: '2024-01-15', label: 'Appel de fonds T1', debit_cents: 50_000 }),
      expect.objectContaining({ entry_date: '2024-01-15', label: 'Avance de trésorerie', debit_cents: 6_960 }),
      expect.objectContaining({ entry_date: '2024-02-10', label: 'Virement reçu', credit_cents: 30_000 }),
    ]);
    // The statement shows the à-nouveau first and ends on the same balance.
    const id = await idOf(t.db, '10001');
    const st = computeStatement(await statementLines(t.db, id, {}), {}, 0, new Date());
    expect(st.lines[0]).toMatchObject({ label: 'Solde à nouveau', balance_cents: -12_050 });
    expect(st.closing.cents).toBe(-39_010);
    const audit = await t.db.selectFrom('audit_events').selectAll().where('action', '=', 'import.fec').execute();
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.details_json!)).toMatchObject({ by: 'cli', clientLines: 8 });
  });

  it('changes nothing when the same file is imported twice', async () => {
    await run(fecText(Y2024));
    const first = await clientLines(t.db);
    const again = await run(fecText(Y2024));
    expect(again.replaced).toBe(8);
    expect(await clientLines(t.db)).toEqual(first);
  });

  it('reads a pipe-separated ISO-8859-15 file with CR line ends, padded values and extra columns', async () => {
    const header = [
      ...HEADER.slice(0, 16),
      'MontantDevise',
      'IDevise',
      'DateRglt',
      'ModeRglt',
      'NatOp',
      'IdClient',
      '',
    ];
    const row = (v: string[]) => [...v, '', '', '', '', ''].join('|');
    const text =
      [
        header.join('|'),
        row(
          values({
            j: 'AC',
            num: '1',
            date: '20240401',
            compte: '450000',
            aux: '10001',
            lib: 'Régul. eau €',
            debit: '0000000069,60',
          }).map((v, i) => (i === 11 ? `  ${v}  ` : v)),
        ),
        row(values({ j: 'AC', num: '1', date: '20240401', compte: '701000  ', lib: 'Régul. eau €', credit: '69,60' })),
      ].join('\r') + '\r';
    const s = await run(iconv.encode(text, 'iso-8859-15'));
    expect(s.clientLines).toBe(1);
    expect(await clientLines(t.db)).toEqual([
      expect.objectContaining({ reference: '10001', label: 'Régul. eau €', debit_cents: 6_960, credit_cents: 0 }),
    ]);
  });

  it('reads an export that quotes every value', async () => {
    const quoted = (l: string[]) => l.map((x) => `"${x.replace(/"/g, '""')}"`).join(';');
    const rows = [
      values({
        j: 'AC',
        num: '1',
        date: '20240115',
        compte: '450000',
        aux: '10001',
        lib: 'Appel "T1"; lot 4',
        debit: '10,00',
      }),
      values({ j: 'AC', num: '1', date: '20240115', compte: '701000', lib: 'Appel', credit: '10,00' }),
    ];
    await run([quoted(HEADER), ...rows.map(quoted)].join('\n'));
    expect(await clientLines(t.db)).toEqual([
      expect.objectContaining({ label: 'Appel "T1"; lot 4', debit_cents: 1_000 }),
    ]);
  });

  it('reads a UTF-8 file with a BOM, semicolons, mixed line ends and the Montant / Sens variant', async () => {
    const header = HEADER.filter((h) => h !== 'Debit' && h !== 'Credit');
    header.splice(11, 0, 'Montant', 'Sens');
    const row = (l: L, montant: string, sens: string) => {
      const v = values(l);
      v.splice(11, 2, montant, sens);
      return v.join(';');
    };
    const text =
      '\uFEFF' +
      header.join(';') +
      '\n' +
      row({ j: 'RAN', num: 'A1', date: '20240101', compte: '450000', aux: '10002', lib: 'À nouveau' }, '45,00', 'C') +
      '\r\n' +
      row({ j: 'RAN', num: 'A1', date: '20240101', compte: '890000', lib: 'À nouveau' }, '45,00', 'D') +
      '\r' +
      row({ j: 'AC', num: '2', date: '20240115', compte: '450000', aux: ' 10002 ', lib: 'Appel' }, '100,00', 'd') +
      '\n' +
      row({ j: 'AC', num: '2', date: '20240115', compte: '701000', lib: 'Appel' }, '100,00', 'c') +
      '\n';
    const s = await run(text);
    expect(s).toMatchObject({ clientLines: 2, openingLines: 1, period: { from: '2024-01-01', to: '2024-01-15' } });
    expect(await balances(t.db)).toEqual({ '10002': -5_500 });
  });

  it('does not count the past twice when several exercises with à-nouveaux are imported', async () => {
    await run(fecText(Y2024));
    const closing2024 = expectedBalances(Y2024);
    // The 2025 FEC opens with the 2024 closing balances, as accounting software writes them.
    const Y2025: L[] = [
      { j: 'AN', num: '1', date: '20250101', compte: '450000', aux: '10001', lib: 'Report', debit: '390,10' },
      { j: 'AN', num: '1', date: '20250101', compte: '890000', lib: 'Report', credit: '390,10' },
      {
        j: 'AC',
        num: '4',
        date: '20250115',
        compte: '450000',
        aux: '10001',
        lib: 'Appel de fonds T1 2025',
        debit: '100,00',
      },
      { j: 'AC', num: '4', date: '20250115', compte: '701000', lib: 'Appel de fonds T1 2025', credit: '100,00' },
    ];
    await run(fecText(Y2025));
    const id = await idOf(t.db, '10001');
    expect(closing2024['10001']).toBe(-39_010);
    expect((await balancesOf(t.db, [id])).get(id)).toBe(-49_010);
    // Whole statement: the running balance starts again at the à-nouveau and ends on the same figure.
    const all = computeStatement(await statementLines(t.db, id, {}), {}, 0, new Date());
    expect(all.lines.map((l) => [l.entry_date, l.balance_cents])).toEqual([
      ['2024-01-01', -12_050],
      ['2024-01-15', -62_050],
      ['2024-01-15', -69_010],
      ['2024-02-10', -39_010],
      ['2025-01-01', -39_010],
      ['2025-01-15', -49_010],
    ]);
    expect(all.closing.cents).toBe(-49_010);
    // From a date: the balance carried over counts from the last à-nouveau before it.
    for (const [du, opening] of [
      ['2024-06-01', -39_010],
      ['2025-01-01', -39_010],
      ['2025-01-02', -39_010],
      ['2025-02-01', -49_010],
    ] as const) {
      expect(await balanceBefore(t.db, id, du)).toBe(opening);
      const period = { du };
      const s = computeStatement(await statementLines(t.db, id, { from: du }), period, opening, new Date());
      expect(s.closing.cents).toBe(-49_010);
    }
    // Re-importing 2024 replaces 2024 only.
    const s = await run(fecText(Y2024));
    expect(s.replaced).toBe(8);
    expect((await balancesOf(t.db, [id])).get(id)).toBe(-49_010);
  });

  it('replaces only the period the file covers, and only this building', async () => {
    await run(fecText(Y2024));
    const other = await run(
      fecText([
        { j: 'AC', num: '1', date: '20240115', compte: '450000', aux: '20001', lib: 'Appel Le Parc', debit: '10,00' },
        { j: 'AC', num: '1', date: '20240115', compte: '701000', lib: 'Appel Le Parc', credit: '10,00' },
      ]),
      { building: 'IMM2' },
    );
    expect(other.replaced).toBe(0);
    // A corrected March file: the 2024-03-05 line is replaced, the others stay.
    const march = await run(
      fecText([
        { j: 'BQ', num: '8', date: '20240305', compte: '512000', lib: 'Loyer', debit: '700,00' },
        { j: 'BQ', num: '8', date: '20240305', compte: '411000', aux: '30001', lib: 'Loyer mars', credit: '700,00' },
      ]),
    );
    expect(march.replaced).toBe(1);
    expect(await balances(t.db)).toEqual({ ...expectedBalances(Y2024), '30001': 70_000, '20001': -1_000 });
  });

  it('refuses an unbalanced écriture, a bad date, a short line and a bad account, naming the lines', async () => {
    const lines = fecText([
      { j: 'AC', num: '1', date: '20240115', compte: '450000', aux: '10001', lib: 'Appel', debit: '100,00' },
      { j: 'AC', num: '1', date: '20240115', compte: '701000', lib: 'Appel', credit: '99,99' },
      { j: 'AC', num: '2', date: '20240231', compte: '450000', aux: '10001', lib: 'Appel', debit: '1,00' },
      { j: 'AC', num: '2', date: '20240201', compte: '70', lib: 'Appel', credit: '1,00' },
    ]).split('\r\n');
    lines.splice(3, 0, 'AC\tAppels de fonds\t9\t20240115\t450000');
    expect(await refusal(lines.join('\r\n'))).toEqual([
      'Ligne 2 : l’écriture « 1 » du journal « AC » n’est pas équilibrée (écart entre débits et crédits : 0,01\u00a0€).',
      'Ligne 4 : 5 valeurs au lieu de 18 (séparateur « tabulation »).',
      'Ligne 5, colonne « EcritureDate » : « 20240231 » n’est pas une date valide (AAAAMMJJ).',
      'Ligne 6, colonne « CompteNum » : « 70 » : un numéro de compte commence par 3 chiffres.',
    ]);
  });

  it('checks the balance of écritures whose lines are not next to each other', async () => {
    const interleaved: L[] = [
      { j: 'AC', num: '1', date: '20240115', compte: '450000', aux: '10001', lib: 'Appel', debit: '10,00' },
      { j: 'BQ', num: '1', date: '20240115', compte: '512000', lib: 'Virement', debit: '5,00' },
      { j: 'AC', num: '1', date: '20240115', compte: '701000', lib: 'Appel', credit: '10,00' },
      { j: 'BQ', num: '1', date: '20240115', compte: '450000', aux: '10001', lib: 'Virement', credit: '4,00' },
    ];
    expect(await refusal(fecText(interleaved))).toEqual([
      'Ligne 3 : l’écriture « 1 » du journal « BQ » n’est pas équilibrée (écart entre débits et crédits : 1,00\u00a0€).',
    ]);
    interleaved[3]!.credit = '5,00';
    expect((await run(fecText(interleaved))).clientLines).toBe(2);
  });

  it('refuses a bad amount, a missing column and a file mixing two encodings', async () => {
    expect(
      await refusal(
        fecText([
          { j: 'AC', num: '1', date: '20240115', compte: '450000', aux: '10001', lib: 'Appel', debit: '1 000,00' },
          { j: 'AC', num: '1', date: '20240115', compte: '701000', lib: 'Appel', credit: '1000,00' },
        ]),
      ),
    ).toEqual([
      'Ligne 2, colonne « Debit » : « 1 000,00 » n’est pas un montant valide (par exemple 1378,20, sans séparateur de milliers).',
    ]);
    expect(await refusal(HEADER.filter((h) => h !== 'EcritureNum').join('\t') + '\n')).toEqual([
      'Ligne 1 : colonne obligatoire « EcritureNum » absente.',
    ]);
    const mixed = Buffer.concat([
      Buffer.from(fecText([{ j: 'AC', num: '1', date: '20240115', compte: '450000', aux: '10001', lib: 'Régul.' }])),
      Buffer.from('AC\tAppels\t1\t20240115\t701000\t\t\t\tR\xe9gul.\t\t\t0\t0\t\t\t\t\t\n', 'latin1'),
    ]);
    expect(await refusal(mixed)).toEqual([
      'Ligne 3 : le fichier mélange deux encodages, octet invalide en position 33. Enregistrez-le en UTF-8 (format « CSV UTF-8 »).',
    ]);
  });

  it('refuses an empty file, a file that is not a FEC and a wrong Sens', async () => {
    expect(await refusal('')).toEqual(['Ligne 1 : le fichier est vide.']);
    expect(await refusal(`${HEADER.join('\t')}\r\n`)).toEqual([
      'Ligne 1 : le fichier ne contient aucune ligne d’écriture.',
    ]);
    expect(await refusal('reference;date;libelle;debit;credit\n10001;01/01/2024;Appel;10;\n')).toEqual([
      'Ligne 1 : la première ligne n’est pas l’en-tête d’un FEC (séparateur « ; » détecté) : attendu JournalCode, JournalLib, EcritureNum, EcritureDate, CompteNum…',
    ]);
    const header = HEADER.map((h) => (h === 'Debit' ? 'Montant' : h === 'Credit' ? 'Sens' : h));
    const v = values({ j: 'AC', num: '1', date: '20240115', compte: '450000', aux: '10001', lib: 'Appel' });
    v.splice(11, 2, '10,00', 'X');
    expect(await refusal(`${header.join('|')}\n${v.join('|')}\n`)).toEqual([
      'Ligne 2, colonne « Sens » : « X » : le sens est D (débit) ou C (crédit).',
    ]);
    // An export that quotes its values must close every quote.
    const quoted = (l: string[]) => l.map((x) => `"${x}"`).join(';');
    expect(await refusal(`${quoted(HEADER)}\n${quoted(v).slice(0, -1)}\n`)).toEqual([
      'Ligne 2 : guillemet mal placé ou jamais refermé.',
    ]);
  });

  it('refuses a compte_comptable that is not an account number in the référentiel', async () => {
    const err = await importReferentiel(
      t.db,
      config,
      Buffer.from('type;reference;nom;immeuble_code;compte_comptable\ncopropriétaire;10009;Blanc;IMM1;DUPONT\n'),
    ).catch((e: unknown) => e);
    expect((err as ImportError).lines).toEqual([
      'Ligne 2, colonne « compte_comptable » : « DUPONT » n’est pas un numéro de compte (3 chiffres puis des chiffres ou des lettres, par exemple 4501002).',
    ]);
  });

  it('refuses unknown client references, listing them, or skips them with ignoreUnknown', async () => {
    const file = fecText([
      { j: 'AC', num: '1', date: '20240115', compte: '450000', aux: '10001', lib: 'Appel', debit: '10,00' },
      { j: 'AC', num: '1', date: '20240115', compte: '450000', aux: '99999', lib: 'Appel', debit: '10,00' },
      { j: 'AC', num: '1', date: '20240115', compte: '450000', aux: '20001', lib: 'Appel', debit: '10,00' },
      { j: 'AC', num: '1', date: '20240115', compte: '45019999', lib: 'Appel', debit: '10,00' },
      { j: 'AC', num: '1', date: '20240115', compte: '701000', lib: 'Appel', credit: '40,00' },
    ]);
    expect(await refusal(file)).toEqual([
      'Ligne 3, colonne « CompAuxNum » : compte client « 99999 » inconnu dans l’immeuble « IMM1 » (1 ligne) : importez d’abord le référentiel qui le décrit, ou relancez avec --ignorer-inconnus pour ignorer ses lignes.',
      // A client of another building is not one of this building's.
      'Ligne 4, colonne « CompAuxNum » : compte client « 20001 » inconnu dans l’immeuble « IMM1 » (1 ligne) : importez d’abord le référentiel qui le décrit, ou relancez avec --ignorer-inconnus pour ignorer ses lignes.',
      'Ligne 5, colonne « CompAuxNum » : compte client « compte 45019999 sans CompAuxNum » inconnu dans l’immeuble « IMM1 » (1 ligne) : importez d’abord le référentiel qui le décrit, ou relancez avec --ignorer-inconnus pour ignorer ses lignes.',
    ]);
    const s = await run(file, { ignoreUnknown: true });
    expect(s.clientLines).toBe(1);
    expect(s.ignored).toEqual([
      { reference: '99999', line: 3, lines: 1 },
      { reference: '20001', line: 4, lines: 1 },
      { reference: 'compte 45019999 sans CompAuxNum', line: 5, lines: 1 },
    ]);
    expect(await balances(t.db)).toEqual({ '10001': -1_000 });
  });

  it('refuses a line whose sub-account is the compte_comptable of two accounts', async () => {
    await importReferentiel(
      t.db,
      config,
      Buffer.from('type;reference;nom;immeuble_code;compte_comptable\ncopropriétaire;10002;Martin;IMM1;45010003\n'),
    );
    expect(await refusal(fecText(Y2024))).toEqual([
      'Ligne 8, colonne « CompteNum » : le compte « 45010003 » est le compte_comptable de plusieurs comptes du référentiel (10002, 10003) : corrigez le référentiel.',
    ]);
  });

  it('reports its progress phase by phase', async () => {
    const phases: string[] = [];
    await importFec(ctx, {
      open: source(fecText(Y2024)),
      buildingCode: 'IMM1',
      onProgress: (p) => phases.push(p.phase),
    });
    expect(phases).toEqual(['encodage', 'verification', 'ecriture']);
  });

  it('refuses an unknown building before reading the file', async () => {
    const err = await run(fecText(Y2024), { building: 'NOPE' }).catch((e: unknown) => e);
    expect((err as Error & { userMessage: string }).userMessage).toBe(
      'Immeuble « NOPE » inconnu : importez d’abord le référentiel qui le décrit (colonne immeuble_code).',
    );
  });
});
