import { frenchCsv } from '../../core/csv.ts';
import { formatInstant } from '../../core/format.ts';
import type { AccountKind } from '../../db/schema.ts';
import { ACCOUNT_CONTACT_COLUMNS, type AccountContactColumn } from './accounts.repository.ts';

const KIND_LABELS: Record<AccountKind, string> = {
  coproprietaire: 'Copropriétaire',
  locataire: 'Locataire',
  proprietaire: 'Propriétaire',
};

/** "Copropriétaire", "Locataire", "Propriétaire". */
export function kindLabel(kind: AccountKind): string {
  return KIND_LABELS[kind];
}

/** "Copropriétaire N° C0042", as printed on the agency's letters. */
export function accountTitle(a: { kind: AccountKind; reference: string }): string {
  return `${kindLabel(a.kind)} N° ${a.reference}`;
}

/** "M. Paul DURAND": civility, first name, last name, whichever are known. */
export function personName(p: {
  civility?: string | null;
  first_name?: string | null;
  last_name?: string | null;
}): string {
  return [p.civility, p.first_name, p.last_name].filter((s) => s && s.trim()).join(' ');
}

/** The home page tab of an account, to come back to the right place. */
export function homeTabUrl(kind: AccountKind): string {
  return `/accueil?onglet=${kind}`;
}

export const COLUMN_LABELS: Record<AccountContactColumn, string> = {
  civility: 'Civilité',
  last_name: 'Nom',
  first_name: 'Prénom',
  email: 'Email',
  phone: 'Téléphone',
  address: 'Adresse',
  postal_code: 'Code postal',
  city: 'Ville',
  country: 'Pays',
};

/** A contact value as people read it: "(vide)" for none, France for no country. */
export function contactValue(column: AccountContactColumn, value: string | null | undefined): string {
  if (column === 'country') return value ? value : 'France';
  return value ? value : '(vide)';
}

export interface ContactChangeView {
  id: number;
  when: string;
  who: string;
  /** nowrap: a value that must not break across lines (phone number, postal code). */
  changes: { label: string; before: string; after: string; nowrap: boolean }[];
}

function parseJson(raw: string): Record<string, string | null> {
  try {
    const v: unknown = JSON.parse(raw);
    return v && typeof v === 'object' ? (v as Record<string, string | null>) : {};
  } catch {
    return {};
  }
}

/** One history line: when, who, and each field's old → new value ("(vide)" for none). */
export function presentContactChange(row: {
  id: number;
  changed_at: string;
  before_json: string;
  after_json: string;
  civility: string | null;
  first_name: string;
  last_name: string;
}): ContactChangeView {
  const before = parseJson(row.before_json);
  const after = parseJson(row.after_json);
  return {
    id: row.id,
    when: formatInstant(row.changed_at),
    // A closed space leaves its row without a name: say so rather than show nothing.
    who: personName(row) || 'Espace client fermé',
    changes: ACCOUNT_CONTACT_COLUMNS.filter((c) => c in after).map((c) => ({
      label: COLUMN_LABELS[c],
      before: contactValue(c, before[c]),
      after: contactValue(c, after[c]),
      nowrap: c === 'phone' || c === 'postal_code',
    })),
  };
}

const PENDING_CSV_COLUMNS = {
  reference: { header: 'reference', type: 'text' },
  field: { header: 'champ', type: 'text' },
  oldValue: { header: 'ancienne_valeur', type: 'text' },
  newValue: { header: 'nouvelle_valeur', type: 'text' },
  date: { header: 'date', type: 'text' },
  client: { header: 'client', type: 'text' },
} as const;

/**
 * One line per pending correction, for the agency to carry into its software: the field's
 * label, the agency's value and the client's, the date in Paris time ("03/12/2026 09:15").
 */
export function pendingChangesToCsv(
  changes: {
    reference: string;
    field: AccountContactColumn;
    oldValue: string | null;
    newValue: string | null;
    changedAt: string;
    client: string;
  }[],
): string {
  return frenchCsv(
    changes.map((c) => ({
      reference: c.reference,
      field: COLUMN_LABELS[c.field],
      oldValue: c.field === 'country' ? contactValue(c.field, c.oldValue) : c.oldValue,
      newValue: c.field === 'country' ? contactValue(c.field, c.newValue) : c.newValue,
      date: formatInstant(c.changedAt).replace(' à ', ' '),
      client: c.client,
    })),
    PENDING_CSV_COLUMNS,
  );
}
