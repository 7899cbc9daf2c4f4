import { readFileSync } from 'node:fs';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeCsv, detectDelimiter, normalizeHeaderName, readCsv, type CsvRow } from './csv.ts';
import { parseEcritures } from './ecritures.ts';
import { controlCharacterIn, parseAmountCents, parseDate } from './fields.ts';
import { ImportError, MAX_REPORTED_ISSUES } from './import-error.ts';
import { parseReferentiel } from './referentiel.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

/** The French lines of the ImportError thrown by `fn`. */
function errorLines(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ImportError);
    expect((err as ImportError).code).toBe('import_invalid');
    return (err as ImportError).lines;
  }
  throw new Error('expected an ImportError');
}

function rowsOf(buffer: Buffer) {
  const rows: CsvRow[] = [];
  let names: string[] = [];
  readCsv(buffer, { header: (h) => (names = h.names), row: (r) => rows.push(r) });
  return { names, rows };
}

describe('csv reading', () => {
  it('decodes UTF-8, UTF-8 with BOM and Windows-1252', () => {
    expect(decodeCsv(Buffer.from('é;à', 'utf8'))).toBe('é;à');
    expect(decodeCsv(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('é', 'utf8')]))).toBe('é');
    expect(decodeCsv(iconv.encode('Référence;Élise;€', 'win1252'))).toBe('Référence;Élise;€');
  });

  it('reads the single-byte charset it is given when the file has no UTF-8 character', () => {
    // 0xA4 is « € » in ISO-8859-15 (a FEC export) and « ¤ » in Windows-1252.
    const file = Buffer.from([0x52, 0xe9, 0x66, 0x3b, 0xa4]);
    expect(decodeCsv(file, { singleByteCharset: 'iso-8859-15' })).toBe('Réf;€');
    expect(decodeCsv(file)).toBe('Réf;¤');
    // Overlong forms and surrogates are not UTF-8 characters: such a file is single-byte text.
    expect(decodeCsv(Buffer.from([0xc0, 0x80, 0x3b, 0xed, 0xa0, 0x80]))).toBe('À€;í\u00a0€');
  });

  it('refuses a file mixing UTF-8 and another encoding, naming the line and position of the first stray byte', () => {
    const mixed = (...parts: (string | number[])[]) =>
      errorLines(() => decodeCsv(Buffer.concat(parts.map((p) => Buffer.from(p)))));
    const message = (line: number, position: number) =>
      `Ligne ${line} : le fichier mélange deux encodages, octet invalide en position ${position}. Enregistrez-le en UTF-8 (format « CSV UTF-8 »).`;
    // The UTF-8 character may come after the stray byte; CR, LF and CRLF all end a line.
    expect(mixed('a;b\r\nc;d\re;', [0xe9], '\nf;€')).toEqual([message(3, 3)]);
    // Positions count characters, four-byte ones included.
    expect(mixed('a;b\nÉté 😀 ', [0xe8, 0x72], '\n')).toEqual([message(2, 7)]);
    // A truncated sequence at the very end of the file.
    expect(mixed('é;', [0xe2, 0x82])).toEqual([message(1, 3)]);
  });

  it('refuses UTF-16 with a French explanation', () => {
    const lines = errorLines(() => decodeCsv(Buffer.from([0xff, 0xfe, 0x41, 0x00])));
    expect(lines[0]).toMatch(/^Ligne 1 : le fichier est en UTF-16/);
  });

  it('detects the separator from the header line, ignoring quoted ones', () => {
    expect(detectDelimiter('a;b;c')).toBe(';');
    expect(detectDelimiter('a,b,c')).toBe(',');
    expect(detectDelimiter('"a;b",c,d')).toBe(',');
    expect(detectDelimiter('"x,y";z')).toBe(';');
    expect(detectDelimiter('seule')).toBe(';');
  });

  it('normalizes header names', () => {
    expect(normalizeHeaderName(' Libellé ')).toBe('libelle');
    expect(normalizeHeaderName('Code  Postal')).toBe('code_postal');
    expect(normalizeHeaderName('TANTIÈMES')).toBe('tantiemes');
  });

  it('gives every row its file line, skipping blank lines and counting quoted line breaks', () => {
    const { names, rows } = rowsOf(Buffer.from('A;B\r\n1;2\r\n\r\n;\r\n"x\r\ny";3\r\n4;5;;\r\n'));
    expect(names).toEqual(['a', 'b']);
    expect(rows).toEqual([
      { line: 2, values: ['1', '2'] },
      { line: 5, values: ['x\ny', '3'] },
      { line: 7, values: ['4', '5'] },
    ]);
  });

  it('names the line of an unclosed quote', () => {
    expect(errorLines(() => rowsOf(Buffer.from('a;b\n1;2\n"3;4\n5;6\n')))[0]).toMatch(/^Ligne \d+ : un guillemet/);
  });
});

describe('amounts', () => {
  it.each([
    ['1 378,20', 137820],
    ['1\u00a0378,20', 137820],
    ['1\u202f378,20', 137820],
    ['1378,20', 137820],
    ['1378.20', 137820],
    ['1378', 137800],
    ['1378,2', 137820],
    ['0,01', 1],
    ['0.29', 29],
    ['1 000 000,00', 100000000],
    ['12,34 €', 1234],
    ['', 0],
    ['  ', 0],
  ])('« %s » → %i cents', (raw, cents) => {
    expect(parseAmountCents(raw)).toEqual({ cents });
  });

  it.each(['-12,00', '12,00-', '1,378', '1.378,20', '12,345', 'abc', '1 37,20', '12,', ',50', '1e3'])(
    '« %s » is refused',
    (raw) => {
      expect(parseAmountCents(raw)).toHaveProperty('error');
    },
  );

  it('says a negative amount belongs in the other column', () => {
    expect(parseAmountCents('-5')).toEqual({ error: expect.stringContaining('portez-le dans l’autre colonne') });
  });
});

describe('dates', () => {
  it.each([
    ['31/01/2024', '2024-01-31'],
    ['1/2/2024', '2024-02-01'],
    ['29/02/2024', '2024-02-29'],
    ['2024-12-31', '2024-12-31'],
  ])('« %s » → %s', (raw, iso) => expect(parseDate(raw)).toBe(iso));

  it.each(['31/02/2024', '29/02/2023', '2024-13-01', '00/01/2024', '2024/01/31', '31-01-2024', '01/01/24', ''])(
    '« %s » is refused',
    (raw) => expect(parseDate(raw)).toBeNull(),
  );
});

describe('parseReferentiel', () => {
  it('reads the reference fixture: one account per reference, its lots, buildings and gestionnaires', () => {
    const r = parseReferentiel(fixture('referentiel.csv'));
    expect(r.rows).toBe(6);
    expect([...r.accounts.keys()]).toEqual(['10001', '10002', '30001', '40001']);
    const dupont = r.accounts.get('10001')!;
    expect(dupont).toMatchObject({
      kind: 'coproprietaire',
      councilRole: 'president',
      lastName: 'Dupont',
      accessCode: null,
    });
    expect(dupont.lotKeys).toHaveLength(3);
    expect(r.accounts.get('10002')).toMatchObject({
      email: 'sophie.bernard@example.com',
      accessCode: 'ABCD-2345-EFGH',
      councilRole: 'membre',
    });
    expect(r.accounts.get('30001')).toMatchObject({
      kind: 'locataire',
      address: '5 quai Stéphane-Jay; 3e étage',
      councilRole: null,
    });
    expect(r.accounts.get('40001')!.kind).toBe('proprietaire');
    expect(r.buildings.get('BASTILLE')).toEqual({
      code: 'BASTILLE',
      name: 'Résidence Bastille',
      address: '5 quai Stéphane-Jay',
      postalCode: '38000',
      city: 'Grenoble',
      iban: null,
      bic: null,
    });
    expect(r.lots.size).toBe(5);
    expect(r.managers.get('claire.martin@cabinet.example')).toEqual({
      email: 'claire.martin@cabinet.example',
      name: 'Claire Martin',
      phone: '04 76 00 00 01',
    });
  });

  it('reads a Windows-1252 file separated by commas with accented headers', () => {
    const r = parseReferentiel(fixture('referentiel-windows-1252.csv'));
    expect(r.accounts.get('20001')).toMatchObject({
      lastName: 'Lefèvre',
      firstName: 'Éloïse',
      address: "12, rue de l'Église",
      councilRole: 'president',
    });
    expect(r.lots.size).toBe(2);
  });

  it('reads a UTF-8 file with a BOM', () => {
    const r = parseReferentiel(fixture('referentiel-bom.csv'));
    expect(r.accounts.get('30002')).toMatchObject({ kind: 'locataire', firstName: 'Léa' });
  });

  const header = 'type;reference;nom;immeuble_code;lot_numero;tantiemes;conseil_syndical;code_acces;email';

  it('takes an access code of six distinct characters as it is', () => {
    const r = parseReferentiel(Buffer.from(`${header}\nlocataire;1;A;;;;;abc-def-ABC-DEF;`));
    expect(r.accounts.get('1')!.accessCode).toBe('abc-def-ABC-DEF');
  });

  it.each([
    [
      'an unknown column',
      'type;reference;nom;surnom\nlocataire;1;A;B',
      'Ligne 1, colonne « surnom » : colonne inconnue',
    ],
    ['a missing required column', 'type;nom\nlocataire;A', 'Ligne 1 : colonne obligatoire « reference » absente.'],
    [
      'a lot column without immeuble_code',
      'type;reference;nom;lot_numero\nlocataire;1;A;2',
      'Ligne 1 : colonne obligatoire « immeuble_code » absente (nécessaire avec « lot_numero »).',
    ],
    [
      'a bad type',
      `${header}\nbailleur;1;A;;;;;;`,
      'Ligne 2, colonne « type » : « bailleur » n’est pas un type de compte valide',
    ],
    ['a missing name', `${header}\nlocataire;1;;;;;;;`, 'Ligne 2, colonne « nom » : valeur obligatoire.'],
    [
      'bad tantièmes',
      `${header}\ncopropriétaire;1;A;B;3;-4;;;`,
      'Ligne 2, colonne « tantiemes » : « -4 » n’est pas un nombre entier',
    ],
    [
      'a type named like an object property',
      `${header}\nconstructor;1;A;;;;;;\n__proto__;2;B;;;;;;`,
      'Ligne 2, colonne « type » : « constructor » n’est pas un type de compte valide',
    ],
    [
      'a council role named like an object property',
      `${header}\ncopropriétaire;1;A;B;3;4;constructor;;`,
      'Ligne 2, colonne « conseil_syndical » : « constructor » n’est pas valide',
    ],
    [
      'a bad council role',
      `${header}\ncopropriétaire;1;A;B;3;4;trésorier;;`,
      'Ligne 2, colonne « conseil_syndical » : « trésorier » n’est pas valide',
    ],
    [
      'a tenant on the council',
      `${header}\nlocataire;1;A;B;3;4;membre;;`,
      'Ligne 2, colonne « conseil_syndical » : seul un copropriétaire',
    ],
    [
      'a short access code',
      `${header}\nlocataire;1;A;;;;;AB-12;`,
      'Ligne 2, colonne « code_acces » : code d’accès trop court',
    ],
    [
      'an access code of one repeated character',
      `${header}\nlocataire;1;A;;;;;;\nlocataire;2;B;;;;;11111111;`,
      'Ligne 3, colonne « code_acces » : code d’accès trop simple (au moins 6 caractères différents).',
    ],
    [
      'an access code of two alternating characters, whatever their case and separators',
      `${header}\nlocataire;1;A;;;;;abAB-abAB-ab;`,
      'Ligne 2, colonne « code_acces » : code d’accès trop simple',
    ],
    [
      'an access code of five distinct characters',
      `${header}\nlocataire;1;A;;;;;ABCDE-EDCBA;`,
      'Ligne 2, colonne « code_acces » : code d’accès trop simple',
    ],
    [
      'a bad email',
      `${header}\nlocataire;1;A;;;;;;jean@`,
      'Ligne 2, colonne « email » : « jean@ » n’est pas une adresse email valide.',
    ],
    [
      'a lot without building',
      `${header}\nlocataire;1;A;;3;;;;`,
      'Ligne 2, colonne « immeuble_code » : valeur obligatoire quand « lot_numero » est renseigné.',
    ],
    ['a short row', `${header}\nlocataire;1;A`, 'Ligne 2 : 3 valeurs au lieu de 9'],
    ['no data', header, 'Ligne 1 : le fichier ne contient aucune ligne de données.'],
  ])('refuses %s, naming the line', (_what, csv, expected) => {
    const lines = errorLines(() => parseReferentiel(Buffer.from(csv)));
    expect(lines.join('\n')).toContain(expected);
  });

  it('refuses rows of the same account that contradict each other, naming both lines', () => {
    const csv = `${header}\ncopropriétaire;1;Dupont;B;1;10;;;\ncopropriétaire;2;Martin;B;2;10;;;\ncopropriétaire;1;Durand;B;3;10;;;`;
    expect(errorLines(() => parseReferentiel(Buffer.from(csv)))).toEqual([
      'Ligne 4, colonne « nom » : « Durand » contredit la ligne 2 pour le compte « 1 » (« Dupont »).',
    ]);
  });

  it('never echoes an access code in a contradiction', () => {
    const csv = `${header}\nlocataire;1;A;;;;;SECRET-CODE-1;\nlocataire;1;A;;;;;SECRET-CODE-2;`;
    const lines = errorLines(() => parseReferentiel(Buffer.from(csv)));
    expect(lines).toEqual([
      'Ligne 3, colonne « code_acces » : le code d’accès contredit la ligne 2 pour le compte « 1 ».',
    ]);
  });

  it('accepts the same account written with different accents and case in type and role', () => {
    const csv = `${header}\nCopropriétaire;1;A;B;1;10;Président;;\ncoproprietaire;1;A;B;2;10;president;;`;
    expect(parseReferentiel(Buffer.from(csv)).accounts.get('1')!.lotKeys).toHaveLength(2);
  });

  it('refuses a lot described differently on two rows', () => {
    const csv = `${header}\ncopropriétaire;1;A;B;7;98;;;\nlocataire;2;C;B;7;99;;;`;
    expect(errorLines(() => parseReferentiel(Buffer.from(csv)))).toEqual([
      'Ligne 3, colonne « tantiemes » : « 99 » contredit la ligne 2 pour le lot « 7 » de l’immeuble « B » (« 98 »).',
    ]);
  });

  it('refuses building details that differ between rows', () => {
    const csv =
      'type;reference;nom;immeuble_code;immeuble_nom\nlocataire;1;A;B;Les Tilleuls\nlocataire;2;C;B;Les Marronniers';
    expect(errorLines(() => parseReferentiel(Buffer.from(csv)))[0]).toBe(
      'Ligne 3, colonne « immeuble_nom » : « Les Marronniers » contredit la ligne 2 pour l’immeuble « B » (« Les Tilleuls »).',
    );
  });

  it('reads the syndicat’s IBAN and BIC of a building, normalized, and refuses invalid ones in French', () => {
    const head = 'type;reference;nom;immeuble_code;immeuble_iban;immeuble_bic';
    const ok = `${head}\ncopropriétaire;1;A;B;fr76 3000 6000 0112 3456 7890 189;agri fr pp\ncopropriétaire;2;C;B;FR7630006000011234567890189;`;
    expect(parseReferentiel(Buffer.from(ok)).buildings.get('B')).toMatchObject({
      iban: 'FR7630006000011234567890189',
      bic: 'AGRIFRPP',
    });
    const bad = `${head}\ncopropriétaire;1;A;B;FR7630006000011234567890188;AGRI\ncopropriétaire;2;C;B;FR1420041010050500013M02606;`;
    expect(errorLines(() => parseReferentiel(Buffer.from(bad)))).toEqual([
      'Ligne 2, colonne « immeuble_iban » : « FR7630006000011234567890188 » n’est pas un IBAN valide (pays de la zone SEPA, longueur et clé de contrôle).',
      'Ligne 2, colonne « immeuble_bic » : « AGRI » n’est pas un BIC valide (8 ou 11 caractères).',
    ]);
    const contradicting = `${head}\ncopropriétaire;1;A;B;FR7630006000011234567890189;\ncopropriétaire;2;C;B;FR1420041010050500013M02606;`;
    expect(errorLines(() => parseReferentiel(Buffer.from(contradicting)))).toEqual([
      'Ligne 3, colonne « immeuble_iban » : « FR1420041010050500013M02606 » contredit la ligne 2 pour l’immeuble « B » (« FR7630006000011234567890189 »).',
    ]);
    expect(
      errorLines(() =>
        parseReferentiel(Buffer.from('type;reference;nom;immeuble_iban\nlocataire;1;A;FR7630006000011234567890189')),
      ),
    ).toEqual(['Ligne 1 : colonne obligatoire « immeuble_code » absente (nécessaire avec « immeuble_iban »).']);
  });

  it('collects every error, reporting at most 50', () => {
    const rows = Array.from({ length: 80 }, (_, i) => `bailleur;${i};A;;;;;;`);
    try {
      parseReferentiel(Buffer.from([header, ...rows].join('\n')));
      throw new Error('expected an ImportError');
    } catch (err) {
      const e = err as ImportError;
      expect(e.total).toBe(80);
      expect(e.issues).toHaveLength(MAX_REPORTED_ISSUES);
      expect(e.userMessage).toMatch(/^Le fichier contient 80 erreurs ; rien n’a été importé\./);
      expect(e.lines.at(-1)).toBe('… et 30 autres erreurs.');
    }
  });
});

describe('control characters in cells', () => {
  const head =
    'type;reference;nom;prenom;adresse;ville;immeuble_code;immeuble_nom;lot_numero;lot_description;gestionnaire_email;gestionnaire_nom';
  const ok = 'locataire;1;Dupont;Jean;1 rue Haute;Lyon;B;Les Tilleuls;7;Studio;g@cabinet.example;Claire Martin';
  const refusedWith = (csv: string) => errorLines(() => parseReferentiel(Buffer.from(csv)));

  it('accepts the same cells without control characters', () => {
    expect(parseReferentiel(Buffer.from(`${head}\n${ok}`)).accounts.get('1')!.address).toBe('1 rue Haute');
  });

  it('refuses a tab inside a quoted field, naming the line, the column and the position', () => {
    const csv = `${head}\n${ok}\nlocataire;2;"Du\tPont";Léa;2 rue Basse;Lyon;B;;7;;;`;
    expect(refusedWith(csv)).toEqual([
      'Ligne 3, colonne « nom » : caractère invisible interdit (tabulation, U+0009) en position 3 : retirez-le du fichier.',
    ]);
  });

  it('refuses a NUL, without echoing the value', () => {
    const lines = refusedWith(`${head}\nlocataire;1;Dupont;Jean;1 rue\u0000Haute;Lyon;B;;7;;;`);
    expect(lines).toEqual([
      'Ligne 2, colonne « adresse » : caractère invisible interdit (caractère nul, U+0000) en position 6 : retirez-le du fichier.',
    ]);
  });

  it('refuses a line or paragraph separator in building and lot fields', () => {
    const csv = `${head}\nlocataire;1;Dupont;Jean;1 rue Haute;Lyon;B;Les\u2028Tilleuls;7;Studio\u2029meublé;;`;
    expect(refusedWith(csv)).toEqual([
      'Ligne 2, colonne « immeuble_nom » : caractère invisible interdit (séparateur de ligne, U+2028) en position 4 : retirez-le du fichier.',
      'Ligne 2, colonne « lot_description » : caractère invisible interdit (séparateur de paragraphe, U+2029) en position 7 : retirez-le du fichier.',
    ]);
  });

  it('refuses a line break inside a quoted field, on the line where the row starts', () => {
    const csv = `${head}\nlocataire;1;Dupont;Jean;"1 rue Haute\nBâtiment A";Lyon;B;;7;;;\nbailleur;2;Petit;;;;;;;;;`;
    expect(refusedWith(csv)).toEqual([
      'Ligne 2, colonne « adresse » : caractère invisible interdit (retour à la ligne, U+000A) en position 12 : retirez-le du fichier.',
      'Ligne 4, colonne « type » : « bailleur » n’est pas un type de compte valide (copropriétaire, locataire ou propriétaire).',
    ]);
  });

  it('refuses DEL, C1 controls and terminal escapes in reference, city and gestionnaire cells, each reported', () => {
    const csv = `${head}\nlocataire;1\u007f;Dupont;Jean;1 rue Haute;Ly\u0085on;B;;7;;g@cabinet.example;\u001b[31mClaire`;
    const lines = refusedWith(csv);
    expect(lines).toEqual([
      'Ligne 2, colonne « reference » : caractère invisible interdit (caractère de contrôle, U+007F) en position 2 : retirez-le du fichier.',
      'Ligne 2, colonne « ville » : caractère invisible interdit (caractère de contrôle, U+0085) en position 3 : retirez-le du fichier.',
      'Ligne 2, colonne « gestionnaire_nom » : caractère invisible interdit (caractère de contrôle, U+001B) en position 1 : retirez-le du fichier.',
    ]);
    expect(controlCharacterIn(lines.join(''))).toBeNull();
  });

  it('refuses a header name holding a control character without echoing it', () => {
    const lines = refusedWith('type;reference;nom;\u001b]0;x\nlocataire;1;A;B');
    expect(lines.join('\n')).toContain(
      'Ligne 1 : la colonne n° 4 a dans son nom un caractère invisible interdit (caractère de contrôle, U+001B) en position 1 : retirez-le du fichier.',
    );
    expect(lines.join('')).not.toContain('\u001b');
  });

  it('refuses control characters in a ledger libellé and piece', () => {
    const lines = errorLines(() =>
      parseEcritures(
        Buffer.from('reference;date;libelle;debit;credit;piece\n10001;01/02/2024;"Appel\tT1";10;;AF\u00001'),
        new Map([['10001', 1]]),
      ),
    );
    expect(lines).toEqual([
      'Ligne 2, colonne « libelle » : caractère invisible interdit (tabulation, U+0009) en position 6 : retirez-le du fichier.',
      'Ligne 2, colonne « piece » : caractère invisible interdit (caractère nul, U+0000) en position 3 : retirez-le du fichier.',
    ]);
  });
});

describe('parseEcritures', () => {
  const known = new Map([
    ['10001', 1],
    ['10002', 2],
    ['30001', 3],
  ]);

  it('reads the fixture into cents and ISO dates, in file order', () => {
    const r = parseEcritures(fixture('ecritures.csv'), known);
    expect(r.entries).toHaveLength(19);
    expect(r.accountIds).toEqual([1, 2, 3]);
    expect(r.entries[0]).toEqual({
      account_id: 1,
      position: 1,
      entry_date: '2024-01-01',
      label: 'Appel de fonds T1 2024',
      debit_cents: 68910,
      credit_cents: 0,
      piece: 'AF20241',
    });
    const balance = r.entries.filter((e) => e.account_id === 1).reduce((s, e) => s + e.credit_cents - e.debit_cents, 0);
    expect(balance).toBe(-137820);
  });

  const head = 'reference;date;libelle;debit;credit;piece';
  it.each([
    [
      'a bad date',
      `${head}\n10001;31/02/2024;Appel;10;;`,
      'Ligne 2, colonne « date » : « 31/02/2024 » n’est pas une date valide (JJ/MM/AAAA ou AAAA-MM-JJ).',
    ],
    [
      'a bad amount',
      `${head}\n10001;01/02/2024;Appel;12,345;;`,
      'Ligne 2, colonne « debit » : « 12,345 » n’est pas un montant valide',
    ],
    [
      'a negative amount',
      `${head}\n10001;01/02/2024;Appel;;-5;`,
      'Ligne 2, colonne « credit » : « -5 » : montant négatif refusé',
    ],
    [
      'both debit and credit',
      `${head}\n10001;01/02/2024;Appel;5;5;`,
      'Ligne 2, colonne « credit » : une écriture a un débit ou un crédit, pas les deux.',
    ],
    [
      'no amount',
      `${head}\n10001;01/02/2024;Appel;0;;`,
      'Ligne 2, colonne « debit » : une écriture doit avoir un montant',
    ],
    ['no label', `${head}\n10001;01/02/2024;;5;;`, 'Ligne 2, colonne « libelle » : valeur obligatoire.'],
    [
      'an unknown reference',
      `${head}\n10001;01/02/2024;A;5;;\n99999;01/02/2024;A;5;;`,
      'Ligne 3, colonne « reference » : le compte « 99999 » est inconnu',
    ],
    [
      'a missing column',
      'reference;date;libelle;debit\n10001;01/02/2024;A;5',
      'Ligne 1 : colonne obligatoire « credit » absente.',
    ],
  ])('refuses %s, naming the line and column', (_what, csv, expected) => {
    expect(errorLines(() => parseEcritures(Buffer.from(csv), known)).join('\n')).toContain(expected);
  });
});
