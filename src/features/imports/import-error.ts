import { AppError } from '../../core/errors.ts';

/** One problem in an imported file: the file line (1 = header) and, when known, the column. */
export interface ImportIssue {
  line: number;
  column?: string;
  message: string;
}

/** Enough to fix a file in one pass without flooding the terminal or the page. */
export const MAX_REPORTED_ISSUES = 50;

/** "Ligne 14, colonne « date » : « 31/02/2024 » n’est pas une date valide (JJ/MM/AAAA ou AAAA-MM-JJ)." */
export function formatImportIssue(issue: ImportIssue): string {
  const where = issue.column ? `Ligne ${issue.line}, colonne « ${issue.column} »` : `Ligne ${issue.line}`;
  return `${where} : ${issue.message}`;
}

/** An import refused as a whole: nothing was written. */
export class ImportError extends AppError {
  constructor(
    readonly issues: ImportIssue[],
    readonly total: number = issues.length,
  ) {
    const more = total - issues.length;
    const lines = issues.map(formatImportIssue);
    if (more > 0) lines.push(`… et ${more} autre${more > 1 ? 's' : ''} erreur${more > 1 ? 's' : ''}.`);
    const head =
      total > 1
        ? `Le fichier contient ${total} erreurs ; rien n’a été importé.`
        : 'Le fichier contient une erreur ; rien n’a été importé.';
    super('import_invalid', `import refused: ${total} issue(s)`, [head, ...lines].join('\n'), 422);
    this.name = 'ImportError';
  }

  /** The French lines naming each problem, as shown to the agency. */
  get lines(): string[] {
    return this.userMessage.split('\n').slice(1);
  }
}

/** Collects every problem of a file before failing, so the agency fixes them all at once. */
export class IssueCollector {
  readonly issues: ImportIssue[] = [];
  total = 0;

  add(line: number, column: string | undefined, message: string): void {
    this.total++;
    if (this.issues.length < MAX_REPORTED_ISSUES) {
      this.issues.push(column === undefined ? { line, message } : { line, column, message });
    }
  }

  get empty(): boolean {
    return this.total === 0;
  }

  throwIfAny(): void {
    if (this.total > 0)
      throw new ImportError(
        [...this.issues].sort((a, b) => a.line - b.line),
        this.total,
      );
  }
}
