import { frenchCsv, type CsvColumn, type CsvRecord } from '../../core/csv.ts';
import { formatAddress, formatDate, formatMoney, todayInParis } from '../../core/format.ts';
import type { AccountKind } from '../../db/schema.ts';
import { accountTitle, personName } from '../accounts/accounts.presenter.ts';
import type { Period } from './statements.schemas.ts';
import type { StatementLine } from './statements.repository.ts';

export interface StatementAccount {
  id: number;
  reference: string;
  kind: AccountKind;
  civility: string | null;
  first_name: string | null;
  last_name: string | null;
}

export interface StatementPlace {
  name: string;
  address: string | null;
  postalCode: string | null;
  city: string | null;
}

/** The figures of a statement, before any formatting: shared by the page and the CSV. */
export interface ComputedStatement {
  opening: { date: string; cents: number } | null;
  lines: (StatementLine & { balance_cents: number })[];
  totalDebitCents: number;
  totalCreditCents: number;
  closing: { date: string; cents: number };
}

/** The day before an ISO date: the balance "au 31/12" is the one before the lines of 01/01. */
export function dayBefore(iso: string): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

/**
 * Running balance in one pass. Balance = credits − debits cumulated from the account's first
 * line, so a filtered period starts from the balance carried over from before it. An
 * à-nouveau carries the balance of everything dated before it: at the first à-nouveau of a
 * day (listed before that day's other lines) the balance starts again from zero, so a past
 * already summed up is never counted twice.
 */
export function computeStatement(
  lines: StatementLine[],
  period: Period,
  openingCents: number,
  now: Date,
): ComputedStatement {
  let balance = openingCents;
  let debits = 0;
  let credits = 0;
  const out = new Array<ComputedStatement['lines'][number]>(lines.length);
  let openingDate = '';
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.opening && l.entry_date !== openingDate) {
      openingDate = l.entry_date;
      balance = 0;
    }
    debits += l.debit_cents;
    credits += l.credit_cents;
    balance += l.credit_cents - l.debit_cents;
    // Named fields rather than a spread: one object shape for every line, built faster.
    out[i] = {
      entry_date: l.entry_date,
      label: l.label,
      debit_cents: l.debit_cents,
      credit_cents: l.credit_cents,
      piece: l.piece,
      balance_cents: balance,
    };
  }
  const closingDate = period.au ?? lines[lines.length - 1]?.entry_date ?? todayInParis(now);
  return {
    opening: period.du ? { date: dayBefore(period.du), cents: openingCents } : null,
    lines: out,
    totalDebitCents: debits,
    totalCreditCents: credits,
    closing: { date: closingDate, cents: balance },
  };
}

/** "du 01/01/2024 au 31/12/2024", "depuis le 01/01/2024", "jusqu’au 31/12/2024", or the whole account. */
export function describePeriod(p: Period): string {
  if (p.du && p.au) return `du ${formatDate(p.du)} au ${formatDate(p.au)}`;
  if (p.du) return `depuis le ${formatDate(p.du)}`;
  if (p.au) return `jusqu’au ${formatDate(p.au)}`;
  return 'depuis l’ouverture du compte';
}

export interface SignedAmountView {
  /** "-1 378,20 €", sign kept. */
  amount: string;
  /** Spoken after the amount by screen readers: the sign alone is easy to miss. */
  word: 'débiteur' | 'créditeur' | null;
}

function signed(cents: number): SignedAmountView {
  return { amount: formatMoney(cents), word: cents < 0 ? 'débiteur' : cents > 0 ? 'créditeur' : null };
}

/** Débit and crédit columns show amounts without a sign, and nothing for zero. */
function unsigned(cents: number): string {
  return cents === 0 ? '' : formatMoney(Math.abs(cents));
}

export interface StatementRowView {
  date: string;
  label: string;
  debit: string;
  credit: string;
  balance: SignedAmountView;
}

export interface StatementHeaderView {
  id: number;
  reference: string;
  numberLabel: string;
  holder: string;
  buildingName: string | null;
  buildingAddress: string;
}

export interface StatementView {
  account: StatementHeaderView;
  periodText: string;
  opening: { label: string; balance: SignedAmountView } | null;
  rows: StatementRowView[];
  totals: { debit: string; credit: string };
  closing: { label: string; balance: SignedAmountView };
  csvHref: string;
  pdfHref: string;
}

export function presentStatementHeader(account: StatementAccount, place: StatementPlace | null): StatementHeaderView {
  return {
    id: account.id,
    reference: account.reference,
    numberLabel: accountTitle(account),
    holder: personName(account),
    buildingName: place?.name ?? null,
    buildingAddress: place ? formatAddress(place.address, place.postalCode, place.city) : '',
  };
}

export function periodQuery(p: Period): string {
  const q = new URLSearchParams();
  if (p.du) q.set('du', p.du);
  if (p.au) q.set('au', p.au);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// A computed statement does not change once made (statements are kept in memory between
// reads): its formatted rows are made once too.
const presentedRows = new WeakMap<ComputedStatement, StatementRowView[]>();

function rowsOf(s: ComputedStatement): StatementRowView[] {
  let rows = presentedRows.get(s);
  if (!rows) {
    rows = s.lines.map((l) => ({
      date: formatDate(l.entry_date),
      label: l.label,
      debit: unsigned(l.debit_cents),
      credit: unsigned(l.credit_cents),
      balance: signed(l.balance_cents),
    }));
    presentedRows.set(s, rows);
  }
  return rows;
}

export function presentStatement(header: StatementHeaderView, period: Period, s: ComputedStatement): StatementView {
  return {
    account: header,
    periodText: describePeriod(period),
    opening: s.opening ? { label: `Solde au ${formatDate(s.opening.date)}`, balance: signed(s.opening.cents) } : null,
    rows: rowsOf(s),
    totals: { debit: formatMoney(s.totalDebitCents), credit: formatMoney(s.totalCreditCents) },
    closing: { label: `Solde au ${formatDate(s.closing.date)}`, balance: signed(s.closing.cents) },
    csvHref: `/comptes/${header.id}/extrait.csv${periodQuery(period)}`,
    pdfHref: `/comptes/${header.id}/extrait.pdf${periodQuery(period)}`,
  };
}

// ---- CSV (for spreadsheets)

const STATEMENT_CSV_COLUMNS = {
  date: { header: 'Date', type: 'text' },
  label: { header: 'Libellé', type: 'text' },
  piece: { header: 'Pièce', type: 'text' },
  debit: { header: 'Débit', type: 'amount' },
  credit: { header: 'Crédit', type: 'amount' },
  balance: { header: 'Solde', type: 'amount' },
} as const satisfies Record<string, CsvColumn>;

type StatementCsvRecord = CsvRecord<typeof STATEMENT_CSV_COLUMNS>;

function balanceRecord(b: { date: string; cents: number }): StatementCsvRecord {
  return { date: formatDate(b.date), label: `Solde au ${formatDate(b.date)}`, balance: b.cents };
}

function* statementCsvRecords(s: ComputedStatement): Generator<StatementCsvRecord> {
  if (s.opening) yield balanceRecord(s.opening);
  for (const l of s.lines) {
    yield {
      date: formatDate(l.entry_date),
      label: l.label,
      piece: l.piece,
      // Débit and crédit cells stay empty rather than zero, as on the page.
      debit: l.debit_cents || null,
      credit: l.credit_cents || null,
      balance: l.balance_cents,
    };
  }
  yield { label: 'Total de la période', debit: s.totalDebitCents, credit: s.totalCreditCents };
  yield balanceRecord(s.closing);
}

export function statementCsv(s: ComputedStatement): string {
  return frenchCsv(statementCsvRecords(s), STATEMENT_CSV_COLUMNS);
}

/** "extrait-C0042-2024-01-01-2024-12-31.csv": only safe characters reach the header. */
export function statementFileName(reference: string, p: Period, ext: 'csv' | 'pdf' = 'csv'): string {
  const parts = ['extrait', reference.replace(/[^A-Za-z0-9_-]/g, '_')];
  if (p.du) parts.push(`du-${p.du}`);
  if (p.au) parts.push(`au-${p.au}`);
  return `${parts.join('-')}.${ext}`;
}
