import type { AccountKind } from '../../db/schema.ts';

/*
 * Who may see what about one account, once findAccountOfUser has proved the person holds
 * it (anyone else gets the same 404 as for an id that does not exist).
 */

/** The conseil syndical belongs to a copropriété: only its copropriétaires see its members. */
export function canSeeCouncil(account: { kind: AccountKind }): boolean {
  return account.kind === 'coproprietaire';
}
