import { stringify } from 'csv-stringify/sync';

/**
 * A column of a CSV file that Palier writes: free text, or an amount given in cents. The
 * type decides how a cell is written, so no amount can be neutralised as a formula and no
 * text can escape neutralisation by passing for an amount.
 */
export interface CsvColumn {
  header: string;
  type: 'text' | 'amount';
}

type CsvCell<C extends CsvColumn> = (C['type'] extends 'amount' ? number : string) | null | undefined;

/** One line of the file: text for text columns, cents for amount columns; missing or null is empty. */
export type CsvRecord<Columns extends Record<string, CsvColumn>> = { [K in keyof Columns]?: CsvCell<Columns[K]> };

/**
 * Cells starting like this are run as formulas by spreadsheets (CSV injection); the full-width
 * forms are those Apple Numbers normalises to the ASCII ones.
 */
const FORMULA_START = /^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]/;

/** "=HYPERLINK(…)" → "'=HYPERLINK(…)": shown as text, never evaluated. */
export function neutraliseFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** -137820 → "-1378,20": no thousands separator, so French spreadsheets read a number. */
export function csvAmount(cents: number): string {
  if (!Number.isSafeInteger(cents)) throw new RangeError(`not a number of cents: ${cents}`);
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)},${String(abs % 100).padStart(2, '0')}`;
}

/**
 * Neutralised here rather than with csv-stringify's `escape_formulas`: that option sees every
 * cell as text, so it would also quote-prefix a negative amount and spreadsheets would read
 * "-1378,20" as words instead of a number.
 */
function cell(type: CsvColumn['type'], value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  return type === 'amount' ? csvAmount(value as number) : neutraliseFormula(String(value));
}

/**
 * A CSV as French Excel and LibreOffice open it with a double click: UTF-8 with a BOM,
 * `;` between cells, CRLF line ends, decimal commas, and a header line from the columns.
 */
export function frenchCsv<const Columns extends Record<string, CsvColumn>>(
  rows: Iterable<CsvRecord<Columns>>,
  columns: Columns,
): string {
  const keys = Object.keys(columns);
  const records: string[][] = [];
  for (const row of rows) {
    const values = row as Record<string, string | number | null | undefined>;
    records.push(keys.map((k) => cell(columns[k]!.type, values[k])));
  }
  return stringify(records, {
    bom: true,
    delimiter: ';',
    record_delimiter: '\r\n',
    header: true,
    columns: keys.map((k, i) => ({ key: String(i), header: columns[k]!.header })),
  });
}
