import type { Insertable } from 'kysely';
import type { LedgerEntriesTable } from '../../db/schema.ts';
import { readCsv, type CsvRow } from './csv.ts';
import { Columns, parseAmountCents, parseDate } from './fields.ts';
import { IssueCollector } from './import-error.ts';

/**
 * The "écritures" file: the ledger lines of client accounts. Columns in any order:
 * `reference`, `date`, `libelle`, `debit`, `credit` are required, `piece` is optional.
 * Each line has either a debit or a credit (never both, never neither); amounts are
 * positive.
 */
export const ECRITURES_COLUMNS = ['reference', 'date', 'libelle', 'debit', 'credit', 'piece'] as const;
export type EcrituresColumn = (typeof ECRITURES_COLUMNS)[number];

const MAX_LENGTH = 255;

export type NewLedgerEntry = Insertable<LedgerEntriesTable>;

export interface ParsedEcritures {
  rows: number;
  /** Accounts present in the file, in order of first appearance: their ledger is replaced. */
  accountIds: number[];
  /** Ready to insert; `position` is the line's order in the file. */
  entries: NewLedgerEntry[];
}

/** `accountIds` maps every known reference to its account id; other references are refused. */
export function parseEcritures(buffer: Buffer, accountIds: ReadonlyMap<string, number>): ParsedEcritures {
  const issues = new IssueCollector();
  let cols!: Columns<EcrituresColumn>;
  const entries: NewLedgerEntry[] = [];
  const present = new Set<number>();
  let rows = 0;

  const onRow = (row: CsvRow) => {
    rows++;
    if (!cols.checkWidth(row, issues) || !cols.checkCharacters(row, issues)) return;
    const before = issues.total;
    const get = (c: EcrituresColumn) => cols.get(row, c);
    const err = (c: EcrituresColumn, message: string) => issues.add(row.line, c, message);

    const reference = get('reference');
    const accountId = accountIds.get(reference);
    if (reference === '') err('reference', 'valeur obligatoire.');
    else if (accountId === undefined) {
      err('reference', `le compte « ${reference} » est inconnu : importez d’abord le référentiel qui le décrit.`);
    }

    const rawDate = get('date');
    const date = parseDate(rawDate);
    if (rawDate === '') err('date', 'valeur obligatoire (JJ/MM/AAAA ou AAAA-MM-JJ).');
    else if (date === null) err('date', `« ${rawDate} » n’est pas une date valide (JJ/MM/AAAA ou AAAA-MM-JJ).`);

    const label = get('libelle');
    if (label === '') err('libelle', 'valeur obligatoire.');
    else if (label.length > MAX_LENGTH) err('libelle', `valeur trop longue (${MAX_LENGTH} caractères au plus).`);

    const piece = get('piece');
    if (piece.length > MAX_LENGTH) err('piece', `valeur trop longue (${MAX_LENGTH} caractères au plus).`);

    const debit = parseAmountCents(get('debit'));
    const credit = parseAmountCents(get('credit'));
    if ('error' in debit) err('debit', debit.error);
    if ('error' in credit) err('credit', credit.error);
    if ('cents' in debit && 'cents' in credit) {
      if (debit.cents > 0 && credit.cents > 0) {
        err('credit', 'une écriture a un débit ou un crédit, pas les deux.');
      } else if (debit.cents === 0 && credit.cents === 0) {
        err('debit', 'une écriture doit avoir un montant au débit ou au crédit.');
      }
    }

    if (issues.total > before || accountId === undefined || date === null) return;
    present.add(accountId);
    entries.push({
      account_id: accountId,
      position: entries.length + 1,
      entry_date: date,
      label,
      debit_cents: (debit as { cents: number }).cents,
      credit_cents: (credit as { cents: number }).cents,
      piece: piece || null,
    });
  };

  readCsv(buffer, {
    header(header) {
      cols = new Columns(header, ECRITURES_COLUMNS, issues);
      for (const c of ['reference', 'date', 'libelle', 'debit', 'credit'] as const) cols.require(c, issues);
      issues.throwIfAny();
    },
    row: onRow,
  });
  if (rows === 0) issues.add(1, undefined, 'le fichier ne contient aucune ligne de données.');
  issues.throwIfAny();
  return { rows, accountIds: [...present], entries };
}
