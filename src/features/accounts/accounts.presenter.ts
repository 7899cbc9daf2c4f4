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
};

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
  const show = (v: string | null | undefined) => (v ? v : '(vide)');
  return {
    id: row.id,
    when: formatInstant(row.changed_at),
    // A closed space leaves its row without a name: say so rather than show nothing.
    who: personName(row) || 'Espace client fermé',
    changes: ACCOUNT_CONTACT_COLUMNS.filter((c) => c in after).map((c) => ({
      label: COLUMN_LABELS[c],
      before: show(before[c]),
      after: show(after[c]),
      nowrap: c === 'phone' || c === 'postal_code',
    })),
  };
}
