import type { CsvHeader, CsvRow } from './csv.ts';
import type { IssueCollector } from './import-error.ts';

/** Removes accents and case: "Président" → "president". */
export function fold(value: string): string {
  return value.normalize('NFD').replace(/\p{M}/gu, '').trim().toLowerCase();
}

/**
 * Maps a file's header onto the columns a format knows. Unknown, duplicate and
 * missing columns are reported on the header line.
 */
export class Columns<K extends string> {
  private readonly index = new Map<K, number>();
  readonly width: number;

  constructor(
    private readonly header: CsvHeader,
    known: readonly K[],
    issues: IssueCollector,
  ) {
    this.width = header.names.length;
    const knownSet = new Set<string>(known);
    header.names.forEach((name, i) => {
      const control = controlCharacterIn(name);
      if (name === '') {
        issues.add(header.line, undefined, `la colonne n° ${i + 1} n’a pas de nom.`);
      } else if (control) {
        issues.add(
          header.line,
          undefined,
          `la colonne n° ${i + 1} a dans son nom un ${control} : retirez-le du fichier.`,
        );
      } else if (!knownSet.has(name)) {
        issues.add(
          header.line,
          name,
          `colonne inconnue (séparateur « ${header.delimiter} » détecté). Colonnes possibles : ${known.join(', ')}.`,
        );
      } else if (this.index.has(name as K)) {
        issues.add(header.line, name, 'colonne en double.');
      } else {
        this.index.set(name as K, i);
      }
    });
  }

  has(column: K): boolean {
    return this.index.has(column);
  }

  require(column: K, issues: IssueCollector, reason = ''): void {
    if (!this.has(column)) {
      issues.add(this.header.line, undefined, `colonne obligatoire « ${column} » absente${reason}.`);
    }
  }

  /** The trimmed value, '' when the column is absent. */
  get(row: CsvRow, column: K): string {
    const i = this.index.get(column);
    return i === undefined ? '' : (row.values[i] ?? '');
  }

  /**
   * A row with a control character (tab, line break, NUL, DEL, C1, U+2028/2029) in any of
   * its cells is refused: such characters would break the pages, mails and PDFs that show
   * the value, or hide part of it. Each cell is reported without echoing its value (an
   * escape sequence must not reach the agency's terminal); false when any was found.
   */
  checkCharacters(row: CsvRow, issues: IssueCollector): boolean {
    let clean = true;
    for (const [column, i] of this.index) {
      const problem = controlCharacterIn(row.values[i] ?? '');
      if (problem) {
        issues.add(row.line, column, `${problem} : retirez-le du fichier.`);
        clean = false;
      }
    }
    return clean;
  }

  /** A row with fewer values than the header is refused: its columns would be shifted. */
  checkWidth(row: CsvRow, issues: IssueCollector): boolean {
    if (row.values.length === this.width) return true;
    issues.add(
      row.line,
      undefined,
      `${row.values.length} valeurs au lieu de ${this.width} (séparateur « ${this.header.delimiter} »).`,
    );
    return false;
  }
}

/** C0 controls (tab and line breaks included), DEL, C1 controls, line and paragraph separators. */
function isControl(unit: number): boolean {
  return unit <= 0x1f || (unit >= 0x7f && unit <= 0x9f) || unit === 0x2028 || unit === 0x2029;
}

const CONTROL_NAMES: Record<number, string> = {
  0x00: 'caractère nul',
  0x09: 'tabulation',
  0x0a: 'retour à la ligne',
  0x0d: 'retour à la ligne',
  0x2028: 'séparateur de ligne',
  0x2029: 'séparateur de paragraphe',
};

/**
 * The French explanation of the first control character of `value`, or null:
 * "caractère invisible interdit (tabulation, U+0009) en position 7".
 */
export function controlCharacterIn(value: string): string | null {
  // UTF-16 units suffice: every control character is in the BMP, never half of a surrogate pair.
  let index = 0;
  while (index < value.length && !isControl(value.charCodeAt(index))) index++;
  if (index === value.length) return null;
  const unit = value.charCodeAt(index);
  const code = `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;
  const name = CONTROL_NAMES[unit] ?? 'caractère de contrôle';
  // Positions count characters as a person would, from 1.
  const position = [...value.slice(0, index)].length + 1;
  return `caractère invisible interdit (${name}, ${code}) en position ${position}`;
}

const DATE_FR = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
const DATE_ISO = /^(\d{4})-(\d{2})-(\d{2})$/;

/** "31/01/2024" or "2024-01-31" → "2024-01-31"; null when not a real calendar date. */
export function parseDate(value: string): string | null {
  let y: number, m: number, d: number;
  const fr = DATE_FR.exec(value);
  const iso = fr ? null : DATE_ISO.exec(value);
  if (fr) [d, m, y] = [Number(fr[1]), Number(fr[2]), Number(fr[3])];
  else if (iso) [y, m, d] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  else return null;
  if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1) return null;
  const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (d > daysInMonth) return null;
  return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

// Thousands may be grouped by a space, a no-break space or a narrow no-break space.
const AMOUNT = /^(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,](\d{1,2}))?$/;
/** 1 000 000 000 €: far above any ledger line, far below Number.MAX_SAFE_INTEGER cents. */
const MAX_AMOUNT_CENTS = 100_000_000_000;

export type AmountResult = { cents: number } | { error: string };

/**
 * "1 378,20", "1378.20", "1378" → 137820 cents, read from the digits so no float
 * rounding can creep in. Empty means zero.
 */
export function parseAmountCents(raw: string): AmountResult {
  const value = raw.replace(/\s*€$/, '').trim();
  if (value === '') return { cents: 0 };
  if (/^[-−]/.test(value) || /-$/.test(value)) {
    return { error: `« ${raw} » : montant négatif refusé, portez-le dans l’autre colonne (débit ou crédit).` };
  }
  const m = AMOUNT.exec(value);
  if (!m) {
    return { error: `« ${raw} » n’est pas un montant valide (par exemple 1 378,20 ou 1378.20).` };
  }
  const units = Number(m[1]!.replace(/[ \u00a0\u202f]/g, ''));
  const decimals = (m[2] ?? '').padEnd(2, '0');
  const cents = units * 100 + Number(decimals);
  if (cents > MAX_AMOUNT_CENTS) return { error: `« ${raw} » : montant trop élevé.` };
  return { cents };
}

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:".]{2,}$/;

export function isValidEmail(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value);
}
