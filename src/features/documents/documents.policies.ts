import type { AccountKind, CouncilRole, DocumentScope } from '../../db/schema.ts';
import { isCouncilMember } from '../accounts/accounts.policies.ts';

/*
 * Who may see which document: pure predicates, the single source of these rules for the
 * repository's candidates, the routes, the home counts, the notices and the tests (a role ×
 * space matrix). A person sees documents through an account their space holds:
 * - the account's own private documents, whatever its kind;
 * - a copropriétaire account: the documents of its building;
 * - a copropriétaire account with a council role: also its building's council documents;
 * - a locataire account: the building documents the agency marked for tenants;
 * - a propriétaire bailleur (gérance) account: its private documents only.
 * Withdrawn documents are nobody's (clients'). Anonymous people see nothing: there is no
 * viewer without a held account.
 */

/** The account a person looks through, as far as documents care. */
export interface DocumentViewer {
  /** Whether the person's space holds this account: false means nothing at all. */
  holds: boolean;
  id: number;
  kind: AccountKind;
  building_id: number | null;
  council_role: CouncilRole | null;
}

export interface DocumentAccessFacts {
  scope: DocumentScope;
  building_id: number;
  account_id: number | null;
  for_tenants: number | boolean;
  withdrawn_at: string | null;
}

/** Whether this account has a page for this space at all (the council space is for its members). */
export function canSeeSpace(space: DocumentScope, viewer: DocumentViewer | null): boolean {
  if (!viewer?.holds) return false;
  switch (space) {
    case 'account':
      return true;
    case 'building':
      return viewer.kind === 'coproprietaire' || viewer.kind === 'locataire';
    case 'council':
      return isCouncilMember(viewer);
  }
}

export function canSeeDocument(viewer: DocumentViewer | null, doc: DocumentAccessFacts): boolean {
  if (!viewer?.holds || doc.withdrawn_at !== null) return false;
  if (!canSeeSpace(doc.scope, viewer)) return false;
  switch (doc.scope) {
    case 'account':
      return doc.account_id === viewer.id;
    case 'building':
      if (doc.building_id !== viewer.building_id) return false;
      return viewer.kind === 'coproprietaire' || Boolean(doc.for_tenants);
    case 'council':
      return doc.building_id === viewer.building_id;
  }
}
