import type { Ctx } from '../../core/context.ts';
import type { CouncilRole } from '../../db/schema.ts';
import { personName } from './accounts.presenter.ts';
import { councilAccountsOfBuilding } from './accounts.repository.ts';
import type { AccountContext } from './accounts.service.ts';

/** The members of the conseil syndical of the account's building (names and roles only). */
export function councilOf(ctx: Ctx, target: AccountContext) {
  const buildingId = target.account.building_id;
  return buildingId === null ? Promise.resolve([]) : councilAccountsOfBuilding(ctx.db, buildingId);
}

export interface CouncilMember {
  name: string;
  role: CouncilRole;
  roleLabel: string;
}

const ROLE_LABELS: Record<CouncilRole, string> = {
  president: 'Président du conseil syndical',
  membre: 'Membre',
};

function fold(s: string | null | undefined): string {
  return (s ?? '').normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

const collator = new Intl.Collator('fr', { sensitivity: 'base' });

/**
 * The council as co-owners should read it: one line per person (someone holding a flat
 * and a parking space has two accounts but one seat), the président first, then the
 * members in alphabetical order of last name. Names and roles only (décret 2019-502).
 */
export function presentCouncil(
  rows: {
    civility: string | null;
    first_name: string | null;
    last_name: string | null;
    council_role: CouncilRole | null;
  }[],
): CouncilMember[] {
  const byPerson = new Map<string, { row: (typeof rows)[number]; role: CouncilRole }>();
  for (const row of rows) {
    if (!row.council_role) continue;
    const key = `${fold(row.last_name)}|${fold(row.first_name)}`;
    const seen = byPerson.get(key);
    if (!seen) {
      byPerson.set(key, { row, role: row.council_role });
      continue;
    }
    if (row.council_role === 'president') seen.role = 'president';
    if (!seen.row.civility && row.civility) seen.row = row;
  }
  return [...byPerson.values()]
    .sort(
      (a, b) =>
        Number(b.role === 'president') - Number(a.role === 'president') ||
        collator.compare(a.row.last_name ?? '', b.row.last_name ?? '') ||
        collator.compare(a.row.first_name ?? '', b.row.first_name ?? ''),
    )
    .map(({ row, role }) => ({ name: personName(row), role, roleLabel: ROLE_LABELS[role] }));
}
