import { clientId, type Ctx } from '../../core/context.ts';
import type { AccountKind } from '../../db/schema.ts';
import { accountsWithBuildingOfUser, lotsOfAccounts } from '../accounts/accounts.repository.ts';
import { documentCounts } from '../documents/documents.service.ts';
import { balancesAt } from '../statements/statements.service.ts';
import { selectedKind } from './home.presenter.ts';

/**
 * What the home page shows of the signed-in person's accounts: all of them (for the tabs),
 * and the lots, balances and document counts of those the selected tab shows. Three queries
 * whatever the number of accounts (the accounts, their lots, their documents), plus one for
 * balances not in memory. `ledgerVersion` is the one the session lookup read.
 */
export async function homeOf(ctx: Ctx, requestedKind: AccountKind | undefined, ledgerVersion: string | null) {
  const accounts = await accountsWithBuildingOfUser(ctx.db, clientId(ctx));
  const kind = selectedKind(accounts, requestedKind);
  const shown = accounts.filter((a) => a.kind === kind);
  const ids = shown.map((a) => a.id);
  const version = ledgerVersion ?? 'initial';
  const [lots, balances, counts] = await Promise.all([
    lotsOfAccounts(ctx.db, ids),
    balancesAt(ctx, ids, version),
    documentCounts(ctx, shown),
  ]);
  return { accounts, lots, balances, counts };
}
