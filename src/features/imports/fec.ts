import { pipeline, type Readable } from 'node:stream';
import { parse } from 'csv-parse';
import iconv from 'iconv-lite';
import type { StreamEncoding } from './csv.ts';
import { controlCharacterIn, fold } from './fields.ts';
import { ImportError, type IssueCollector } from './import-error.ts';

/**
 * The FEC (fichier des écritures comptables, article A47 A-1 of the Livre des procédures
 * fiscales): every entry of one legal entity's books, one line per ledger line. Columns are
 * found by header name, in any case; columns after the standard ones are ignored.
 */

/** Header names (lower case) of the standard columns this import reads. */
const FEC_COLUMNS = [
  'journalcode',
  'journallib',
  'ecriturenum',
  'ecrituredate',
  'comptenum',
  'comptelib',
  'compauxnum',
  'compauxlib',
  'pieceref',
  'piecedate',
  'ecriturelib',
  'debit',
  'credit',
  'ecriturelet',
  'datelet',
  'validdate',
  'montantdevise',
  'idevise',
  'montant',
  'sens',
] as const;
type FecColumn = (typeof FEC_COLUMNS)[number];

/** What the import needs; the other standard columns may be missing. */
const REQUIRED: readonly FecColumn[] = [
  'journalcode',
  'journallib',
  'ecriturenum',
  'ecrituredate',
  'comptenum',
  'compauxnum',
  'pieceref',
  'ecriturelib',
];

/** Names as the specification writes them, for messages. */
const DISPLAY: Record<FecColumn, string> = {
  journalcode: 'JournalCode',
  journallib: 'JournalLib',
  ecriturenum: 'EcritureNum',
  ecrituredate: 'EcritureDate',
  comptenum: 'CompteNum',
  comptelib: 'CompteLib',
  compauxnum: 'CompAuxNum',
  compauxlib: 'CompAuxLib',
  pieceref: 'PieceRef',
  piecedate: 'PieceDate',
  ecriturelib: 'EcritureLib',
  debit: 'Debit',
  credit: 'Credit',
  ecriturelet: 'EcritureLet',
  datelet: 'DateLet',
  validdate: 'ValidDate',
  montantdevise: 'Montantdevise',
  idevise: 'Idevise',
  montant: 'Montant',
  sens: 'Sens',
};

export type FecDelimiter = '\t' | '|' | ';';

/** How to split the file, decided from its first line. */
export interface FecFormat {
  encoding: StreamEncoding['encoding'];
  delimiter: FecDelimiter;
  /** Some exports quote every value; most never do, and then a `"` in a label is just a character. */
  quoted: boolean;
}

const DELIMITER_NAMES: Record<FecDelimiter, string> = { '\t': 'tabulation', '|': '|', ';': ';' };

/** The separator is whichever of tab, `|` and `;` the header line holds most. */
export function fecFormat(detected: StreamEncoding): FecFormat {
  const header = iconv.decode(detected.firstLine, detected.encoding);
  const count = (c: string) => header.split(c).length - 1;
  const candidates: FecDelimiter[] = ['\t', '|', ';'];
  const delimiter = candidates.reduce((best, c) => (count(c) > count(best) ? c : best), '\t' as FecDelimiter);
  return { encoding: detected.encoding, delimiter, quoted: header.trimStart().startsWith('"') };
}

export interface FecRow {
  line: number;
  values: string[];
}

/** The file's records, decoded and split as they stream in: memory stays flat whatever the size. */
export async function* readFecRows(source: () => Readable, format: FecFormat): AsyncGenerator<FecRow> {
  const parser = parse({
    delimiter: format.delimiter,
    quote: format.quoted ? '"' : false,
    relax_quotes: true,
    relax_column_count: true,
    // CRLF, LF and CR alike, even mixed in one file.
    record_delimiter: ['\r\n', '\n', '\r'],
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
    info: true,
  });
  // pipeline() closes the file when reading stops early (a refused header) or fails.
  pipeline(source(), iconv.decodeStream(format.encoding), parser, () => {});
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      yield { line: info.lines, values: record };
    }
  } catch (err) {
    const e = err as { code?: string; lines?: number };
    if (e.code?.startsWith('CSV_') && e.lines !== undefined) {
      throw new ImportError([{ line: e.lines, message: 'guillemet mal placé ou jamais refermé.' }]);
    }
    throw err;
  }
}

/** One line of the FEC, checked. Amounts are cents, from the books' side (debit, credit). */
export interface FecLine {
  line: number;
  journalCode: string;
  ecritureNum: string;
  /** AAAA-MM-JJ. */
  date: string;
  compteNum: string;
  compAuxNum: string;
  label: string;
  piece: string | null;
  debitCents: number;
  creditCents: number;
  /** A line of the à-nouveaux journal. */
  opening: boolean;
}

/** The header of a FEC file, mapped to the standard columns. */
export class FecColumns {
  private readonly index = new Map<FecColumn, number>();
  /** A FEC repeats the same few dates and journals on every line: each is worked out once. */
  private readonly dates = new Map<string, string | null>();
  private readonly openings = new Map<string, boolean>();
  /** Values a line must have: up to the last named column. */
  readonly width: number;
  readonly amounts: 'debit-credit' | 'montant-sens';

  constructor(
    header: FecRow,
    private readonly format: FecFormat,
    issues: IssueCollector,
  ) {
    const names = header.values.map((v) => v.trim().toLowerCase());
    let width = names.length;
    while (width > 0 && names[width - 1] === '') width--;
    this.width = width;
    const known = new Set<string>(FEC_COLUMNS);
    names.slice(0, width).forEach((name, i) => {
      if (!known.has(name)) return;
      if (this.index.has(name as FecColumn)) issues.add(header.line, DISPLAY[name as FecColumn], 'colonne en double.');
      else this.index.set(name as FecColumn, i);
    });
    const sep = DELIMITER_NAMES[format.delimiter];
    if (!this.index.has('journalcode') && !this.index.has('comptenum')) {
      issues.add(
        header.line,
        undefined,
        `la première ligne n’est pas l’en-tête d’un FEC (séparateur « ${sep} » détecté) : attendu JournalCode, JournalLib, EcritureNum, EcritureDate, CompteNum…`,
      );
      this.amounts = 'debit-credit';
      return;
    }
    for (const c of REQUIRED) {
      if (!this.index.has(c)) issues.add(header.line, undefined, `colonne obligatoire « ${DISPLAY[c]} » absente.`);
    }
    const debitCredit = this.index.has('debit') || this.index.has('credit');
    this.amounts = debitCredit ? 'debit-credit' : 'montant-sens';
    const needed: FecColumn[] = debitCredit ? ['debit', 'credit'] : ['montant', 'sens'];
    for (const c of needed) {
      if (!this.index.has(c)) {
        issues.add(
          header.line,
          undefined,
          `colonne obligatoire « ${DISPLAY[c]} » absente (montants en colonnes Debit et Credit, ou Montant et Sens).`,
        );
      }
    }
  }

  /** The écriture a line belongs to, read even when the line has errors. */
  ecritureOf(row: FecRow): [journal: string, num: string] {
    return [this.get(row, 'journalcode'), this.get(row, 'ecriturenum')];
  }

  get(row: FecRow, column: FecColumn): string {
    const i = this.index.get(column);
    return i === undefined ? '' : (row.values[i] ?? '').trim();
  }

  /**
   * A short line would shift its values into the wrong columns; values past the header are
   * tolerated only when empty (a trailing separator). False when the line is refused.
   */
  checkWidth(row: FecRow, issues: IssueCollector): boolean {
    const n = row.values.length;
    let extra = this.width;
    while (extra < n && row.values[extra]!.trim() === '') extra++;
    if (n >= this.width && extra === n) return true;
    const sep = DELIMITER_NAMES[this.format.delimiter];
    issues.add(row.line, undefined, `${n} valeurs au lieu de ${this.width} (séparateur « ${sep} »).`);
    return false;
  }

  /** The checked line, or null when it has errors (added to `issues`). */
  read(row: FecRow, issues: IssueCollector): FecLine | null {
    if (!this.checkWidth(row, issues)) return null;
    const before = issues.total;
    const err = (c: FecColumn, message: string) => issues.add(row.line, DISPLAY[c], message);
    const need = (c: FecColumn) => {
      const v = this.get(row, c);
      if (v === '') err(c, 'valeur obligatoire.');
      return v;
    };
    const journalCode = need('journalcode');
    const ecritureNum = need('ecriturenum');
    const rawDate = need('ecrituredate');
    let date = rawDate === '' ? null : this.dates.get(rawDate);
    if (date === undefined) {
      date = parseFecDate(rawDate);
      if (this.dates.size < 100_000) this.dates.set(rawDate, date);
    }
    if (rawDate !== '' && date === null) err('ecrituredate', `« ${rawDate} » n’est pas une date valide (AAAAMMJJ).`);
    const compteNum = need('comptenum');
    if (compteNum !== '' && !/^\d{3}/.test(compteNum)) {
      err('comptenum', `« ${compteNum} » : un numéro de compte commence par 3 chiffres.`);
    }
    const journalLib = this.get(row, 'journallib');
    const label = this.get(row, 'ecriturelib') || journalLib;
    const piece = this.get(row, 'pieceref');
    const compAuxNum = this.get(row, 'compauxnum');
    checkText('ecriturelib', label, err);
    checkText('pieceref', piece, err);
    checkText('compauxnum', compAuxNum, err);
    const amounts = this.readAmounts(row, err);
    if (issues.total > before || date === null || amounts === null) return null;
    const opening = this.isOpening(journalCode, journalLib);
    return {
      line: row.line,
      journalCode,
      ecritureNum,
      date,
      compteNum,
      compAuxNum,
      label: opening ? 'Solde à nouveau' : label,
      piece: piece || null,
      debitCents: amounts.debit,
      creditCents: amounts.credit,
      opening,
    };
  }

  private lastJournal = { code: '', lib: '', opening: false };

  /** Lines of one journal follow each other: the last answer is kept, others cached. */
  private isOpening(code: string, lib: string): boolean {
    const last = this.lastJournal;
    if (code === last.code && lib === last.lib) return last.opening;
    const key = `${code}\u0000${lib}`;
    let opening = this.openings.get(key);
    if (opening === undefined) {
      opening = isOpeningJournal(code, lib);
      if (this.openings.size < 10_000) this.openings.set(key, opening);
    }
    this.lastJournal = { code, lib, opening };
    return opening;
  }

  /** Debit and credit in cents; a negative amount counts on the other side. */
  private readAmounts(
    row: FecRow,
    err: (c: FecColumn, message: string) => void,
  ): { debit: number; credit: number } | null {
    if (this.amounts === 'montant-sens') {
      const amount = parseFecAmount(this.get(row, 'montant'));
      if ('error' in amount) err('montant', amount.error);
      const rawSens = this.get(row, 'sens');
      const sens = rawSens.toUpperCase();
      if (sens !== 'D' && sens !== 'C') err('sens', `« ${rawSens} » : le sens est D (débit) ou C (crédit).`);
      if ('error' in amount || (sens !== 'D' && sens !== 'C')) return null;
      return sided(sens === 'D' ? amount.cents : 0, sens === 'C' ? amount.cents : 0);
    }
    const debit = parseFecAmount(this.get(row, 'debit'));
    const credit = parseFecAmount(this.get(row, 'credit'));
    if ('error' in debit) err('debit', debit.error);
    if ('error' in credit) err('credit', credit.error);
    if ('error' in debit || 'error' in credit) return null;
    return sided(debit.cents, credit.cents);
  }
}

/** A label, pièce or reference with a control character or too long is refused. */
function checkText(c: FecColumn, v: string, err: (c: FecColumn, message: string) => void): void {
  if (v.length > 255) err(c, 'valeur trop longue (255 caractères au plus).');
  else {
    const control = controlCharacterIn(v);
    if (control) err(c, `${control} : retirez-le du fichier.`);
  }
}

/** A negative debit is a credit and the other way round: the balance is the same, amounts stay positive. */
function sided(debit: number, credit: number): { debit: number; credit: number } {
  return {
    debit: Math.max(debit, 0) + Math.max(-credit, 0),
    credit: Math.max(credit, 0) + Math.max(-debit, 0),
  };
}

/** AN, RAN, ANO, "A-nouveaux"…, or a journal named "… à nouveau …". */
export function isOpeningJournal(code: string, label: string): boolean {
  const c = fold(code).replace(/[^a-z0-9]/g, '');
  return ['an', 'ran', 'ano', 'anouveau', 'anouveaux'].includes(c) || fold(label).includes('nouveau');
}

/** "20240131" → "2024-01-31"; null when not a real calendar date. */
export function parseFecDate(value: string): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1900 || y > 2199 || mo < 1 || mo > 12 || d < 1) return null;
  if (d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return null;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

const MAX_AMOUNT_CENTS = 100_000_000_000;

/**
 * "0000000069,60", "69.60", "-12,5", "" → cents, from the digits (no float rounding).
 * Decimals past the cent are accepted only when zero ("69,600").
 */
export function parseFecAmount(raw: string): { cents: number } | { error: string } {
  if (raw === '') return { cents: 0 };
  const m = /^([+-]?)(\d+)(?:[.,](\d*))?$/.exec(raw);
  if (!m) {
    return { error: `« ${raw} » n’est pas un montant valide (par exemple 1378,20, sans séparateur de milliers).` };
  }
  const decimals = m[3] ?? '';
  if (/[1-9]/.test(decimals.slice(2))) return { error: `« ${raw} » : montant au-delà du centime.` };
  const cents = Number(m[2]) * 100 + Number(decimals.slice(0, 2).padEnd(2, '0'));
  if (cents > MAX_AMOUNT_CENTS) return { error: `« ${raw} » : montant trop élevé.` };
  return { cents: m[1] === '-' ? -cents : cents };
}

/** Accounts whose lines are a client's: copropriétaires (450…, 4501–4505 included) and locataires (411…). */
export function isClientAccount(compteNum: string): boolean {
  return compteNum.startsWith('450') || compteNum.startsWith('411');
}

/**
 * Every écriture (EcritureNum within its journal) must balance: debits = credits. Only the
 * écritures not balanced so far are kept: one that comes back to zero is forgotten (sums
 * add up, so lines of it further down are still checked), so memory stays small whatever
 * the file's size. An imbalance is reported on the first line since it was last balanced.
 */
export class BalanceCheck {
  private readonly open = new Map<string, { line: number; journal: string; num: string; sum: number }>();
  /** Écritures with a line in error: that error is reported, an imbalance would only repeat it. */
  private readonly spoiled = new Set<string>();
  /** The écriture of the previous line: its lines usually follow each other. */
  private current = { journal: '', num: '', line: 0, sum: 0 };

  spoil(journal: string, num: string): void {
    this.spoiled.add(`${journal}\u0000${num}`);
  }

  add(l: FecLine): void {
    const c = this.current;
    const amount = l.debitCents - l.creditCents;
    if (l.journalCode === c.journal && l.ecritureNum === c.num && c.line !== 0) {
      c.sum += amount;
      return;
    }
    this.settle();
    this.current = { journal: l.journalCode, num: l.ecritureNum, line: l.line, sum: amount };
  }

  /** Adds the lines just read to their écriture's sum, kept only while it is not balanced. */
  private settle(): void {
    const c = this.current;
    if (c.line === 0) return;
    const key = `${c.journal}\u0000${c.num}`;
    const e = this.open.get(key);
    if (!e) {
      if (c.sum !== 0) this.open.set(key, { ...c });
    } else if ((e.sum += c.sum) === 0) {
      this.open.delete(key);
    }
    this.current = { journal: '', num: '', line: 0, sum: 0 };
  }

  report(issues: IssueCollector, money: (cents: number) => string): void {
    this.settle();
    for (const [key, e] of this.open) {
      if (this.spoiled.has(key)) continue;
      issues.add(
        e.line,
        undefined,
        `l’écriture « ${e.num} » du journal « ${e.journal} » n’est pas équilibrée (écart entre débits et crédits : ${money(Math.abs(e.sum))}).`,
      );
    }
  }
}
