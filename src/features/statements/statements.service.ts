import type { Ctx } from '../../core/context.ts';
import type { Agency } from '../../core/agency/agency.repository.ts';
import { balancesOf } from '../accounts/accounts.repository.ts';
import { loadAccount, type AccountContext } from '../accounts/accounts.service.ts';
import { computeStatement, type ComputedStatement } from './statements.presenter.ts';
import { balanceBefore, statementLines } from './statements.repository.ts';
import type { Period } from './statements.schemas.ts';

/** The statement of one of the client's accounts over a period, with a running balance. */
export async function accountStatement(
  ctx: Ctx,
  accountId: number,
  period: Period,
): Promise<{ context: AccountContext; statement: ComputedStatement }> {
  const context = await loadAccount(ctx, accountId, 'statement');
  // Two queries whatever the length: the balance carried from before the period, then its lines.
  const [opening, lines] = await Promise.all([
    period.du ? balanceBefore(ctx.db, accountId, period.du) : Promise.resolve(0),
    statementLines(ctx.db, accountId, { from: period.du, to: period.au }),
  ]);
  return { context, statement: computeStatement(lines, period, opening, ctx.now()) };
}

/** What "Payer" needs: the account, its balance and who is paid. */
export async function paymentOf(
  ctx: Ctx,
  accountId: number,
): Promise<{ context: AccountContext; balanceCents: number; agency: Agency }> {
  const context = await loadAccount(ctx, accountId, 'pay');
  const [balances, agency] = await Promise.all([balancesOf(ctx.db, [accountId]), ctx.agency.get()]);
  return { context, balanceCents: balances.get(accountId) ?? 0, agency };
}
