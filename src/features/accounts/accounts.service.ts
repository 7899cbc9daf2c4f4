import { securityEvent } from '../../core/audit.ts';
import { clientId, type Ctx } from '../../core/context.ts';
import { notFound } from '../../core/errors.ts';
import type { ClientAccount } from '../../db/schema.ts';
import { findAccountContext } from './accounts.repository.ts';
import { canOnAccount, type AccountAction } from './accounts.policies.ts';
import type { AccountSummary } from './accounts.views.tsx';

/** An account with what its pages show around it: its building and its gestionnaire. */
export interface AccountContext {
  account: ClientAccount;
  building: {
    name: string;
    address: string | null;
    postalCode: string | null;
    city: string | null;
    /** The syndicate's bank account, for « Payer » (référentiel columns immeuble_iban / immeuble_bic). */
    iban: string | null;
    bic: string | null;
  } | null;
  manager: { name: string; email: string; phone: string | null } | null;
  /** Changes whenever ledger lines are written: what is kept in memory about the ledger is keyed by it. */
  ledgerVersion: string;
  /** Whether the account has online payments: the statement then lists those not yet in the ledger. */
  paidOnline: boolean;
}

/**
 * The account a client asks for, with its building and gestionnaire, in one query — if
 * the policy lets this person do the action on it. Otherwise the same 404 as an id that
 * does not exist, so ids of others reveal nothing; a refused id is a security event.
 * Every page about one account loads it through here.
 */
export async function loadAccount(ctx: Ctx, accountId: number, action: AccountAction): Promise<AccountContext> {
  const row = await findAccountContext(ctx.db, clientId(ctx), accountId);
  if (!row || !canOnAccount(action, { holds: true, kind: row.kind })) {
    // The id goes in the details: it may not exist, so it cannot be a foreign key.
    await securityEvent(ctx, {
      action: 'account.read',
      outcome: 'denied',
      details: { requestedAccountId: accountId, action },
    });
    throw notFound();
  }
  const {
    building_name,
    building_address,
    building_postal_code,
    building_city,
    manager_name,
    manager_email,
    manager_phone,
    ledger_version,
    building_iban,
    building_bic,
    paid_online,
    ...account
  } = row;
  return {
    account,
    building:
      building_name === null
        ? null
        : {
            name: building_name,
            address: building_address,
            postalCode: building_postal_code,
            city: building_city,
            iban: building_iban,
            bic: building_bic,
          },
    // A gestionnaire always has an email (the référentiel requires it); the join only makes it optional.
    manager: manager_name === null ? null : { name: manager_name, email: manager_email ?? '', phone: manager_phone },
    ledgerVersion: ledger_version ?? 'initial',
    paidOnline: Number(paid_online ?? 0) > 0,
  };
}

/** What the account pages show to say which account they are about. */
export function accountSummary(c: AccountContext): AccountSummary {
  const { account } = c;
  return { id: account.id, kind: account.kind, reference: account.reference, buildingName: c.building?.name ?? null };
}
