import type { Readable } from 'node:stream';
import { renderReport, type PdfColumn, type PdfRow } from '../../adapters/pdf/pdf.ts';
import type { Agency } from '../../core/agency/agency.repository.ts';
import { lotLine } from '../home/home.presenter.ts';
import type { PendingPaymentView } from './payment.presenter.ts';
import type { StatementView } from './statements.presenter.ts';

/** What the printed statement shows beyond the page's own view model. */
export interface StatementPdfInput {
  /** The very view model the « Détail » page renders: same lines, same amounts, same balances. */
  view: StatementView;
  agency: Agency;
  logo: Uint8Array | null;
  /** The addressee block: name, then postal address lines. */
  recipient: string[];
  /** "4 pièces (Lot 0006) - Appartement", as on the home page. */
  lots: string[];
  /** "03/12/2026". */
  issuedOn: string;
  /** Confirmed online payments the ledger does not show yet, as on the page: apart from the lines. */
  pending: PendingPaymentView[];
}

// Lot numbers are text: "6" comes before "12" even when the agency does not pad them.
const lotOrder = new Intl.Collator('fr', { numeric: true });

/** The account's lots, in number order, each as one line. */
export function lotLines(lots: { number: string; type: string | null; description: string | null }[]): string[] {
  return [...lots].sort((x, y) => lotOrder.compare(x.number, y.number)).map(lotLine);
}

const COLUMNS: PdfColumn[] = [
  { header: 'Date', width: 62 },
  { header: 'Libellé', width: 213 },
  { header: 'Débit', width: 78, align: 'right' },
  { header: 'Crédit', width: 78, align: 'right' },
  { header: 'Solde', width: 84, align: 'right' },
];

function rowsOf(v: StatementView): PdfRow[] {
  const rows: PdfRow[] = [];
  if (v.opening) rows.push({ cells: ['', v.opening.label, '', '', v.opening.balance.amount], emphasis: true });
  for (const r of v.rows) rows.push({ cells: [r.date, r.label, r.debit, r.credit, r.balance.amount] });
  rows.push({ cells: ['', 'Total de la période', v.totals.debit, v.totals.credit, ''], emphasis: true });
  rows.push({ cells: ['', v.closing.label, '', '', v.closing.balance.amount], emphasis: true });
  return rows;
}

function letterhead(a: Agency): string[] {
  return [a.name, a.tagline, a.address, a.phone ? `Tél. ${a.phone}` : null, a.email, a.website].filter(
    (l): l is string => !!l,
  );
}

/** The statement as a PDF stream: letterhead, account, period, lines with running balance, "1/3" on every page. */
export function statementPdf(input: StatementPdfInput): Readable {
  const { view: v, agency } = input;
  const a = v.account;
  const facts: [string, string][] = [['Compte', a.numberLabel]];
  facts.push(['Référence', a.reference]);
  if (a.holder) facts.push(['Titulaire', a.holder]);
  if (a.buildingName) {
    facts.push(['Immeuble', a.buildingAddress ? `${a.buildingName}, ${a.buildingAddress}` : a.buildingName]);
  }
  if (input.lots.length > 0) facts.push([input.lots.length > 1 ? 'Lots' : 'Lot', input.lots.join('\u202f; ')]);
  facts.push(['Période', v.periodText.charAt(0).toUpperCase() + v.periodText.slice(1)]);
  for (const p of input.pending) {
    facts.push(['En cours', `${p.label}\u00a0: ${p.amount} le ${p.date}, référence ${p.reference}`]);
  }
  return renderReport({
    info: {
      title: `Extrait de compte N° ${a.reference}, ${v.periodText}`,
      author: agency.name,
      subject: 'Extrait de compte',
    },
    letterhead: { logo: input.logo, lines: letterhead(agency) },
    recipient: input.recipient,
    title: 'Extrait de compte',
    facts,
    table: { columns: COLUMNS, rows: rowsOf(v), emptyText: 'Aucune écriture sur cette période.' },
    closingNote: `Édité le ${input.issuedOn} par ${agency.name}.`,
    runningTitle: `Extrait de compte N° ${a.reference}, ${v.periodText} (suite)`,
    pageLabel: (page, pages) => `${page}/${pages}`,
  });
}
