import type { AccountKind, CouncilRole } from '../../db/schema.ts';

/*
 * Who may do what about one client account: small pure predicates, the single source of
 * these rules for the routes, the presenters and the tests (a role × action matrix).
 * "holds" is whether the person's space holds the account; nobody sees an account they do
 * not hold (staff will, once the back office exists), and a refusal answers exactly like
 * an id that does not exist.
 */

export type AccountAction = 'statement' | 'pay' | 'coordinates' | 'contact' | 'council';

export interface AccountAccess {
  holds: boolean;
  kind: AccountKind;
}

/** The conseil syndical belongs to a copropriété: only its copropriétaires see its members. */
export function canSeeCouncil(account: { kind: AccountKind }): boolean {
  return account.kind === 'coproprietaire';
}

export function canOnAccount(action: AccountAction, access: AccountAccess | null): boolean {
  if (!access || !access.holds) return false;
  switch (action) {
    case 'statement':
    case 'pay':
    case 'coordinates':
    case 'contact':
      return true;
    case 'council':
      return canSeeCouncil(access);
  }
}

/** A council member sits for their building: the seat comes with a copropriétaire account holding a role. */
export function isCouncilMember(account: { kind: AccountKind; council_role: CouncilRole | null }): boolean {
  return account.kind === 'coproprietaire' && account.council_role !== null;
}
