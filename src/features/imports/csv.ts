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
 * The one-byte-per-character charset a file is read in when it is not UTF-8: Windows-1252 for
 * spreadsheets and the agencies' software, ISO-8859-15 for some FEC exports.
 */
export type SingleByteCharset = 'windows-1252' | 'iso-8859-15';

export interface DecodeOptions {
  singleByteCharset?: SingleByteCharset;
}

/**
 * The encoding is decided on the whole file, never guessed from its start: valid UTF-8 (with
 * or without a BOM) is read as UTF-8, and a file with no UTF-8 multibyte character at all as
 * the single-byte charset. A file holding both UTF-8 characters and bytes that are not UTF-8
 * has had values pasted from another encoding; read either way, some of its accents would be
 * stored garbled ("Saint-Ã‰grÃ¨ve"), so it is refused.
 */
export function decodeCsv(buffer: Buffer, options: DecodeOptions = {}): string {
  if (isUtf16(buffer)) throw utf16Error();
  if (isUtf8(buffer)) {
    const bom = buffer.subarray(0, 3).equals(UTF8_BOM) ? 3 : 0;
    return buffer.subarray(bom).toString('utf8');
  }
  const { firstInvalid, multibyte } = scanUtf8(buffer);
  if (multibyte) throw mixedError(locate(buffer, firstInvalid));
  return iconv.decode(buffer, options.singleByteCharset ?? 'windows-1252');
}

function isUtf16(b: Uint8Array): boolean {
  return (b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff);
}

function utf16Error(): ImportError {
  return new ImportError([
    {
      line: 1,
      message:
        'le fichier est en UTF-16 : enregistrez-le au format « CSV UTF-8 » ou « CSV (séparateur : point-virgule) ».',
    },
  ]);
}

function mixedError({ line, position }: { line: number; position: number }): ImportError {
  return new ImportError([
    {
      line,
      message: `le fichier mélange deux encodages, octet invalide en position ${position}. Enregistrez-le en UTF-8 (format « CSV UTF-8 »).`,
    },
  ]);
}

/** The encoding a streamed file is decoded with, and its first line's bytes (to find the separator). */
export interface StreamEncoding {
  encoding: 'utf8' | SingleByteCharset;
  /** Bytes of the first line, BOM excluded (at most 64 KiB). */
  firstLine: Buffer;
}

/** Bytes a UTF-8 sequence starting with this lead byte takes (1 for ASCII and invalid leads). */
function expectedLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 1;
}

/**
 * The same whole-file decision as decodeCsv, for a file too large to hold in memory: one
 * pass over its bytes, chunk by chunk (a character cut between two chunks is carried over),
 * before any of it is decoded. `open` is called again only to locate a mixing error.
 */
export async function detectEncoding(
  open: () => AsyncIterable<Uint8Array>,
  options: DecodeOptions = {},
): Promise<StreamEncoding> {
  let carry: Buffer = Buffer.alloc(0);
  let consumed = 0;
  let started = false;
  let firstInvalid = -1;
  let multibyte = false;
  let firstLine: Buffer | null = null;
  let head: Buffer = Buffer.alloc(0);
  for await (const chunk of open()) {
    // Bytes already seen by the first-line search (carried over from the previous chunk).
    const seen = started ? carry.length : 0;
    let b = carry.length > 0 ? Buffer.concat([carry, chunk]) : Buffer.from(chunk);
    if (!started) {
      if (b.length < 3) {
        carry = b;
        continue;
      }
      started = true;
      if (isUtf16(b)) throw utf16Error();
      if (b.subarray(0, 3).equals(UTF8_BOM)) {
        b = b.subarray(3);
        consumed = 3;
      }
    }
    if (firstLine === null) {
      head = Buffer.concat([head, b.subarray(seen, seen + 65_536 - head.length)]);
      const end = head.findIndex((x) => x === 0x0a || x === 0x0d);
      if (end !== -1 || head.length >= 65_536) firstLine = end === -1 ? head : head.subarray(0, end);
    }
    let i = 0;
    while (i < b.length) {
      const lead = b[i]!;
      if (lead < 0x80) {
        i++;
        continue;
      }
      // A sequence cut by the end of the chunk is read with the next one.
      if (i + expectedLength(lead) > b.length) break;
      const length = utf8SequenceLength(b, i);
      if (length === 0 && firstInvalid === -1) firstInvalid = consumed + i;
      if (length > 1) multibyte = true;
      i += Math.max(length, 1);
    }
    carry = b.subarray(i);
    consumed += i;
    if (firstInvalid !== -1 && multibyte) break;
  }
  if (!started && isUtf16(carry)) throw utf16Error();
  if (!started && carry.subarray(0, 3).equals(UTF8_BOM)) carry = carry.subarray(3);
  // Whatever is left at the end is a truncated sequence: not UTF-8.
  if (carry.length > 0 && firstInvalid === -1 && carry.some((x) => x >= 0x80)) {
    const { firstInvalid: fi, multibyte: mb } = scanUtf8(carry);
    if (fi !== -1) firstInvalid = consumed + fi;
    multibyte ||= mb;
  }
  firstLine ??= head.length > 0 ? head : carry;
  if (firstInvalid === -1) return { encoding: 'utf8', firstLine };
  if (multibyte) throw mixedError(await locateInStream(open, firstInvalid));
  return { encoding: options.singleByteCharset ?? 'windows-1252', firstLine };
}

/** locate() for a streamed file: counts lines up to the byte, keeping only the bytes of its line. */
async function locateInStream(
  open: () => AsyncIterable<Uint8Array>,
  offset: number,
): Promise<{ line: number; position: number }> {
  let line = 1;
  let read = 0;
  let lineBytes: Buffer[] = [];
  let previous = -1;
  for await (const chunk of open()) {
    const c = Buffer.from(chunk);
    const end = Math.min(c.length, offset - read);
    let start = 0;
    for (let i = 0; i < end; i++) {
      const x = c[i]!;
      // CRLF, LF and CR each end a line, as for the rows.
      if (x === 0x0d || (x === 0x0a && previous !== 0x0d)) line++;
      if (x === 0x0d || x === 0x0a) {
        start = i + 1;
        lineBytes = [];
      }
      previous = x;
    }
    lineBytes.push(c.subarray(start, end));
    read += c.length;
    if (read >= offset) break;
  }
  let bytes = Buffer.concat(lineBytes);
  if (line === 1 && bytes.subarray(0, 3).equals(UTF8_BOM)) bytes = bytes.subarray(3);
  return { line, position: [...bytes.toString('utf8')].length + 1 };
}

/**
 * Length of the well-formed UTF-8 sequence starting at `i` (Unicode, table 3-7), 0 when the
 * byte there starts none: overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
 */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const lead = b[i]!;
  if (lead < 0x80) return 1;
  const continues = (k: number, min = 0x80, max = 0xbf) => i + k < b.length && b[i + k]! >= min && b[i + k]! <= max;
  if (lead >= 0xc2 && lead <= 0xdf) return continues(1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    const second = continues(1, lead === 0xe0 ? 0xa0 : 0x80, lead === 0xed ? 0x9f : 0xbf);
    return second && continues(2) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    const second = continues(1, lead === 0xf0 ? 0x90 : 0x80, lead === 0xf4 ? 0x8f : 0xbf);
    return second && continues(2) && continues(3) ? 4 : 0;
  }
  return 0;
}

/** Offset of the first byte that is not UTF-8 (-1 if none), and whether any multibyte character occurs. */
function scanUtf8(b: Uint8Array): { firstInvalid: number; multibyte: boolean } {
  let firstInvalid = -1;
  let multibyte = false;
  let i = 0;
  while (i < b.length && (firstInvalid === -1 || !multibyte)) {
    // Most bytes of a ledger are ASCII: skipped without a call, a large file is scanned quickly.
    if (b[i]! < 0x80) {
      i++;
      continue;
    }
    const length = utf8SequenceLength(b, i);
    if (length === 0 && firstInvalid === -1) firstInvalid = i;
    if (length > 1) multibyte = true;
    i += Math.max(length, 1);
  }
  return { firstInvalid, multibyte };
}

/**
 * The file line of a byte (CRLF, LF or CR ends a line, as for the rows) and its position in
 * that line, counted in characters as an editor shows them: everything before the first invalid
 * byte is UTF-8, so it decodes exactly. The BOM, invisible, is not counted.
 */
function locate(b: Buffer, offset: number): { line: number; position: number } {
  let line = 1;
  let start = b.subarray(0, 3).equals(UTF8_BOM) ? 3 : 0;
  for (let i = 0; i < offset; i++) {
    if (b[i] === 0x0a || (b[i] === 0x0d && b[i + 1] !== 0x0a)) {
      line++;
      start = i + 1;
    }
  }
  return { line, position: [...b.toString('utf8', start, offset)].length + 1 };
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
export function readCsv(buffer: Buffer, visitor: CsvVisitor, options: DecodeOptions = {}): void {
  // csv-parse miscounts lines after a CRLF inside a quoted value; plain LF keeps line numbers exact.
  const text = decodeCsv(buffer, options).replace(/\r\n?/g, '\n');
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
