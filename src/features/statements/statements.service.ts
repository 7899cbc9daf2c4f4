import { isStorageKey, type Storage } from '../../adapters/storage/storage.ts';
import type { Ctx } from '../../core/context.ts';
import type { Agency } from '../../core/agency/agency.repository.ts';
import { balancesOf, lotsOfAccounts } from '../accounts/accounts.repository.ts';
import { loadAccount, type AccountContext } from '../accounts/accounts.service.ts';
import { computeStatement, type ComputedStatement } from './statements.presenter.ts';
import { balanceBefore, statementLines } from './statements.repository.ts';
import type { Period } from './statements.schemas.ts';
import { buildingBankOfAccount, unreconciledPayments } from './payments.repository.ts';

/** The statement of one of the client's accounts over a period, with a running balance. */
export async function accountStatement(
  ctx: Ctx,
  accountId: number,
  period: Period,
): Promise<{ context: AccountContext; statement: ComputedStatement; unreconciled: UnreconciledPayment[] }> {
  const context = await loadAccount(ctx, accountId, 'statement');
  // Two queries whatever the length: the balance carried from before the period, then its lines;
  // and the online payments the ledger does not show yet, listed apart from it.
  const [opening, lines, unreconciled] = await Promise.all([
    period.du ? balanceBefore(ctx.db, accountId, period.du) : Promise.resolve(0),
    statementLines(ctx.db, accountId, { from: period.du, to: period.au }),
    unreconciledPayments(ctx.db, accountId),
  ]);
  return { context, statement: computeStatement(lines, period, opening, ctx.now()), unreconciled };
}

export interface UnreconciledPayment {
  reference: string;
  amount_cents: number;
  updated_at: string;
}

/** What "Payer" needs: the account, its balance, who is paid, and the bank account of its building's syndicat. */
export async function paymentOf(
  ctx: Ctx,
  accountId: number,
): Promise<{
  context: AccountContext;
  balanceCents: number;
  agency: Agency;
  syndicateBank: { iban: string | null; bic: string | null } | null;
}> {
  const context = await loadAccount(ctx, accountId, 'pay');
  const [balances, agency, bank] = await Promise.all([
    balancesOf(ctx.db, [accountId]),
    ctx.agency.get(),
    buildingBankOfAccount(ctx.db, accountId),
  ]);
  return { context, balanceCents: balances.get(accountId) ?? 0, agency, syndicateBank: bank ?? null };
}

/** Larger than any logo updateAgency accepts: a bigger file is not ours and is left out. */
const MAX_LOGO_BYTES = 4 * 1024 * 1024;

export interface StatementDocumentData {
  context: AccountContext;
  statement: ComputedStatement;
  unreconciled: UnreconciledPayment[];
  agency: Agency;
  /** The agency's logo bytes, null when there is none (or it cannot be read). */
  logo: Uint8Array | null;
  lots: { number: string; type: string | null; description: string | null }[];
}

/** Everything the printable statement shows: the statement, plus the agency, its logo and the account's lots. */
export async function statementDocument(
  ctx: Ctx,
  accountId: number,
  period: Period,
  storage: Storage,
): Promise<StatementDocumentData> {
  const { context, statement, unreconciled } = await accountStatement(ctx, accountId, period);
  const [agency, lots] = await Promise.all([ctx.agency.get(), lotsOfAccounts(ctx.db, [accountId])]);
  return { context, statement, unreconciled, agency, logo: await readLogo(ctx, storage, agency.logo), lots };
}

async function readLogo(ctx: Ctx, storage: Storage, key: string | null): Promise<Uint8Array | null> {
  if (!key || !isStorageKey(key)) return null;
  try {
    const stream = await storage.get(key);
    if (!stream) return null;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > MAX_LOGO_BYTES) {
        stream.destroy();
        return null;
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  } catch (err) {
    // A statement without its logo is better than no statement.
    ctx.log.warn({ key, err: (err as Error).message }, 'agency logo not read for a statement');
    return null;
  }
}
