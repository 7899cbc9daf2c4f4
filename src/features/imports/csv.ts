import { isUtf8 } from 'node:buffer';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { ImportError } from './import-error.ts';

/** One data row of a CSV file, with the file line it starts on (the header is line 1 in most files). */
export interface CsvRow {
  line: number;
  /** Trimmed values, one per header column. */
  values: string[];
}

export interface CsvHeader {
  line: number;
  /** Normalized names: "Libellé " → "libelle", "Code postal" → "code_postal". */
  names: string[];
  delimiter: ';' | ',';
}

export interface CsvVisitor {
  /** Called once, before any row; may throw an ImportError to stop reading. */
  header(header: CsvHeader): void;
  row(row: CsvRow): void;
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Agencies' accounting software exports UTF-8 (often with a BOM, from Excel) or
 * Windows-1252; a file that is not valid UTF-8 can only be the latter.
 */
export function decodeCsv(buffer: Buffer): string {
  if (buffer.subarray(0, 3).equals(UTF8_BOM)) return buffer.subarray(3).toString('utf8');
  if ((buffer[0] === 0xff && buffer[1] === 0xfe) || (buffer[0] === 0xfe && buffer[1] === 0xff)) {
    throw new ImportError([
      {
        line: 1,
        message:
          'le fichier est en UTF-16 : enregistrez-le au format « CSV UTF-8 » ou « CSV (séparateur : point-virgule) ».',
      },
    ]);
  }
  if (isUtf8(buffer)) return buffer.toString('utf8');
  return iconv.decode(buffer, 'win1252');
}

/** "Libellé de l'écriture " → "libelle_de_l'ecriture". */
export function normalizeHeaderName(name: string): string {
  return name.normalize('NFD').replace(/\p{M}/gu, '').trim().toLowerCase().replace(/\s+/g, '_');
}

/** The separator is whichever of `;` and `,` appears most in the header line, outside quotes. */
export function detectDelimiter(headerLine: string): ';' | ',' {
  let semicolons = 0;
  let commas = 0;
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === ';') semicolons++;
    else if (!quoted && ch === ',') commas++;
  }
  return commas > semicolons ? ',' : ';';
}

function firstNonEmptyLine(text: string): string {
  for (const line of text.split(/\r\n|\n|\r/, 50)) {
    if (line.trim() !== '') return line;
  }
  return '';
}

const CSV_ERRORS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'un guillemet ouvert n’est jamais refermé.',
  CSV_INVALID_CLOSING_QUOTE: 'guillemet mal placé.',
  INVALID_OPENING_QUOTE: 'guillemet mal placé.',
  CSV_RECORD_INCONSISTENT_FIELDS_LENGTH: 'nombre de colonnes incohérent.',
};

/**
 * Reads a CSV file row by row without keeping the parsed rows in memory (a ledger
 * export can have a million lines). Blank lines and lines made only of separators are
 * skipped; trailing unnamed header columns (a spreadsheet's stray `;`) are ignored.
 */
export function readCsv(buffer: Buffer, visitor: CsvVisitor): void {
  // csv-parse miscounts lines after a CRLF inside a quoted value; plain LF keeps line numbers exact.
  const text = decodeCsv(buffer).replace(/\r\n?/g, '\n');
  const delimiter = detectDelimiter(firstNonEmptyLine(text));
  let header: CsvHeader | null = null;
  let width = 0;
  try {
    parse(text, {
      delimiter,
      relax_quotes: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      on_record: (record: string[], context: { lines: number }) => {
        // context.lines is the line the record ends on; a quoted value may span lines.
        let newlines = 0;
        for (const v of record) for (let i = v.indexOf('\n'); i !== -1; i = v.indexOf('\n', i + 1)) newlines++;
        const line = context.lines - newlines;
        if (header === null) {
          const names = record.map(normalizeHeaderName);
          while (names.length > 0 && names[names.length - 1] === '') names.pop();
          width = names.length;
          header = { line, names, delimiter };
          visitor.header(header);
        } else {
          const values = record.map((v) => v.trim());
          // Values beyond the header are tolerated only when empty (trailing separators).
          if (values.length > width && values.slice(width).every((v) => v === '')) values.length = width;
          visitor.row({ line, values });
        }
        return null;
      },
    });
  } catch (err) {
    if (err instanceof ImportError) throw err;
    const e = err as { code?: string; lines?: number; message?: string };
    if (e.code && e.lines !== undefined) {
      throw new ImportError([{ line: e.lines, message: CSV_ERRORS[e.code] ?? 'ligne CSV illisible.' }]);
    }
    throw err;
  }
  if (header === null) throw new ImportError([{ line: 1, message: 'le fichier est vide.' }]);
}
