import { describe, expect, it } from 'vitest';
import type { AccountKind, CouncilRole } from '../../db/schema.ts';
import {
  canOnAccount,
  canSeeCouncil,
  isCouncilMember,
  type AccountAccess,
  type AccountAction,
} from './accounts.policies.ts';

/*
 * The role × action matrix of the account policies, one row per role as the person stands
 * towards account A, a copropriétaire account of building 1 (or towards the account they
 * hold, for the tenant and the landlord). The policy only sees whether the person's space
 * holds the account and its kind: neighbours, council members and strangers all reach it
 * as "does not hold". Staff does not exist yet (no back office, no staff session): when it
 * does, it gets its own row here.
 *
 * The HTTP counterpart, every route × every role on both databases, is test/policies.test.ts.
 */

/** Every action; the check below makes the compiler refuse a new action left out of this list. */
const ACTIONS = ['statement', 'pay', 'coordinates', 'contact', 'council'] as const;
type Listed = (typeof ACTIONS)[number];
const everyActionListed: [Exclude<AccountAction, Listed>] extends [never] ? true : false = true;

type Role =
  | 'owner'
  | 'coOwnerSameBuilding'
  | 'coOwnerOtherBuilding'
  | 'councilMemberOfBuilding'
  | 'tenantOwnAccount'
  | 'landlordOwnAccount'
  | 'tenantOnOwnersAccount'
  | 'landlordOnOwnersAccount'
  | 'anonymous';

const ALL = { statement: true, pay: true, coordinates: true, contact: true, council: true };
const NONE = { statement: false, pay: false, coordinates: false, contact: false, council: false };

/** What each role asks with, and what it may do: a Record over AccountAction, so every action has a cell. */
const MATRIX: Record<Role, { access: AccountAccess | null; may: Record<AccountAction, boolean> }> = {
  // The copropriétaire whose space holds account A.
  owner: { access: { holds: true, kind: 'coproprietaire' }, may: ALL },
  // Another copropriétaire of the same building does not hold A: nothing, not even its council page.
  coOwnerSameBuilding: { access: { holds: false, kind: 'coproprietaire' }, may: NONE },
  coOwnerOtherBuilding: { access: { holds: false, kind: 'coproprietaire' }, may: NONE },
  // A council member holds their own account, not A: the seat gives no right on other accounts.
  councilMemberOfBuilding: { access: { holds: false, kind: 'coproprietaire' }, may: NONE },
  // A locataire holding their locataire account: everything but a council, which belongs to copropriétaires.
  tenantOwnAccount: { access: { holds: true, kind: 'locataire' }, may: { ...ALL, council: false } },
  // A propriétaire bailleur holding their propriétaire (gérance) account: same.
  landlordOwnAccount: { access: { holds: true, kind: 'proprietaire' }, may: { ...ALL, council: false } },
  tenantOnOwnersAccount: { access: { holds: false, kind: 'coproprietaire' }, may: NONE },
  landlordOnOwnersAccount: { access: { holds: false, kind: 'coproprietaire' }, may: NONE },
  anonymous: { access: null, may: NONE },
};

describe('canOnAccount: role × action', () => {
  it('lists every action', () => {
    expect(everyActionListed).toBe(true);
    for (const row of Object.values(MATRIX)) expect(Object.keys(row.may).sort()).toEqual([...ACTIONS].sort());
  });

  const cells = Object.entries(MATRIX).flatMap(([role, row]) =>
    ACTIONS.map((action) => ({ role, action, access: row.access, expected: row.may[action] })),
  );

  it.each(cells)('$role → $action: $expected', ({ action, access, expected }) => {
    // A strict boolean: an action the switch forgets would answer undefined.
    expect(canOnAccount(action, access)).toBe(expected);
  });

  it('refuses whatever the kind when the account is not held, and everything to nobody', () => {
    for (const kind of ['coproprietaire', 'locataire', 'proprietaire'] as const) {
      for (const action of ACTIONS) {
        expect(canOnAccount(action, { holds: false, kind }), `${kind} ${action}`).toBe(false);
        expect(canOnAccount(action, null), action).toBe(false);
      }
    }
  });
});

describe('canSeeCouncil', () => {
  it.each<[AccountKind, boolean]>([
    ['coproprietaire', true],
    ['locataire', false],
    ['proprietaire', false],
  ])('%s → %s', (kind, expected) => {
    expect(canSeeCouncil({ kind })).toBe(expected);
  });

  it('agrees with canOnAccount("council") for a held account of each kind', () => {
    for (const kind of ['coproprietaire', 'locataire', 'proprietaire'] as const) {
      expect(canOnAccount('council', { holds: true, kind })).toBe(canSeeCouncil({ kind }));
    }
  });
});

describe('isCouncilMember', () => {
  it.each<[string, AccountKind, CouncilRole | null, boolean]>([
    ['a copropriétaire without a seat (the owner, a neighbour)', 'coproprietaire', null, false],
    ['a council member', 'coproprietaire', 'membre', true],
    ['the président', 'coproprietaire', 'president', true],
    // Bad import data: a role on a tenant's or a landlord's account gives no seat.
    ['a locataire with a role', 'locataire', 'membre', false],
    ['a locataire without a role', 'locataire', null, false],
    ['a propriétaire bailleur with a role', 'proprietaire', 'president', false],
    ['a propriétaire bailleur without a role', 'proprietaire', null, false],
  ])('%s → %s/%s: %s', (_who, kind, council_role, expected) => {
    expect(isCouncilMember({ kind, council_role })).toBe(expected);
  });
});
