import { auditOperation } from '../../core/audit.ts';
import type { Ctx } from '../../core/context.ts';
import { AppError } from '../../core/errors.ts';
import type { AccountKind } from '../../db/schema.ts';
import { countAccounts, findBuildingByCode, lastSignIns, listHoldings } from './spaces.repository.ts';

/** One person holding one account: who created (or attached) which space, and when. */
export interface Holding {
  reference: string;
  kind: AccountKind;
  building: { code: string; name: string } | null;
  person: { civility: string | null; firstName: string; lastName: string; email: string; confirmed: boolean };
  linkedAt: string;
  /** Null when the audit log has no sign-in of this person. */
  lastSignInAt: string | null;
}

export interface SpacesReport {
  building: { code: string; name: string } | null;
  /** Client accounts in scope, with a space or not. */
  accounts: number;
  holdings: Holding[];
}

/** For the agency (`npx palier espaces`): the accounts people have created spaces for. */
export async function listSpaces(ctx: Ctx, input: { buildingCode?: string }): Promise<SpacesReport> {
  const code = input.buildingCode?.trim();
  let building: { id: number; code: string; name: string } | null = null;
  if (code !== undefined) {
    building = (await findBuildingByCode(ctx.db, code)) ?? null;
    if (!building) {
      throw new AppError(
        'unknown_building',
        'no building with this code',
        `Aucun immeuble ne porte le code «\u00a0${code}\u00a0» (colonne immeuble_code du référentiel).`,
        404,
      );
    }
  }
  const rows = await listHoldings(ctx.db, building?.id ?? null);
  const signIns = await lastSignIns(ctx.db, [...new Set(rows.map((r) => r.user_id))]);
  await auditOperation(ctx, {
    action: 'spaces.list',
    outcome: 'success',
    details: { building: building?.code ?? null, count: rows.length },
  });
  return {
    building: building && { code: building.code, name: building.name },
    accounts: await countAccounts(ctx.db, building?.id ?? null),
    holdings: rows.map((r) => ({
      reference: r.reference,
      kind: r.kind,
      building:
        r.building_code !== null && r.building_name !== null ? { code: r.building_code, name: r.building_name } : null,
      person: {
        civility: r.civility,
        firstName: r.first_name,
        lastName: r.last_name,
        email: r.email,
        confirmed: r.email_verified_at !== null,
      },
      linkedAt: r.linked_at,
      lastSignInAt: signIns.get(r.user_id) ?? null,
    })),
  };
}
