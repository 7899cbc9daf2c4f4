import { LRUCache } from 'lru-cache';
import type { Agency } from '../../core/agency/agency.repository.ts';
import type { Ctx } from '../../core/context.ts';
import { todayInParis } from '../../core/format.ts';
import type { Db } from '../../db/db.ts';
import { balancesOf } from '../accounts/accounts.repository.ts';
import { loadAccount, type AccountContext } from '../accounts/accounts.service.ts';
import { computeStatement, type ComputedStatement } from './statements.presenter.ts';
import { balanceBefore, statementLines } from './statements.repository.ts';
import type { Period } from './statements.schemas.ts';

/*
 * A ledger only changes when the agency imports: until then, the statement of a period is
 * the same at every read. Each instance keeps recent statements and balances in memory,
 * keyed by the ledger version read with the account (no extra query), so a client paging
 * through periods, or reloading, costs no ledger query and no recomputation; an import
 * changes the version and every instance recomputes at its next read.
 */
const STATEMENT_CACHE_LINES = 400_000;
const BALANCE_CACHE_ENTRIES = 100_000;

interface LedgerCaches {
  statements: LRUCache<string, ComputedStatement>;
  balances: LRUCache<string, number>;
}

// One set per database: test apps on different databases in one process never share.
const caches = new WeakMap<Db, LedgerCaches>();

function cachesOf(db: Db): LedgerCaches {
  let c = caches.get(db);
  if (!c) {
    c = {
      statements: new LRUCache({
        maxSize: STATEMENT_CACHE_LINES,
        sizeCalculation: (s: ComputedStatement) => s.lines.length + 1,
      }),
      balances: new LRUCache({ max: BALANCE_CACHE_ENTRIES }),
    };
    caches.set(db, c);
  }
  return c;
}

/** The statement of one of the client's accounts over a period, with a running balance. */
export async function accountStatement(
  ctx: Ctx,
  accountId: number,
  period: Period,
): Promise<{ context: AccountContext; statement: ComputedStatement }> {
  const context = await loadAccount(ctx, accountId, 'statement');
  const now = ctx.now();
  // Today's date is part of the key: an open-ended period closes on it when the account has no line.
  const key = `${accountId}|${context.ledgerVersion}|${period.du ?? ''}|${period.au ?? ''}|${todayInParis(now)}`;
  const cache = cachesOf(ctx.db).statements;
  const cached = cache.get(key);
  if (cached) return { context, statement: cached };
  // Two queries whatever the length: the balance carried from before the period, then its lines.
  const [opening, lines] = await Promise.all([
    period.du ? balanceBefore(ctx.db, accountId, period.du) : Promise.resolve(0),
    statementLines(ctx.db, accountId, { from: period.du, to: period.au }),
  ]);
  const statement = computeStatement(lines, period, opening, now);
  cache.set(key, statement);
  return { context, statement };
}

/**
 * Balances of several accounts (credits − debits, cents) as of the ledger version the
 * caller read with them; only those not in memory are asked of the database, in one query.
 */
export async function balancesAt(ctx: Ctx, accountIds: number[], ledgerVersion: string): Promise<Map<number, number>> {
  const cache = cachesOf(ctx.db).balances;
  const out = new Map<number, number>();
  const missing: number[] = [];
  for (const id of accountIds) {
    const hit = cache.get(`${id}|${ledgerVersion}`);
    if (hit === undefined) missing.push(id);
    else out.set(id, hit);
  }
  if (missing.length) {
    for (const [id, cents] of await balancesOf(ctx.db, missing)) {
      cache.set(`${id}|${ledgerVersion}`, cents);
      out.set(id, cents);
    }
  }
  return out;
}

/** What "Payer" needs: the account, its balance and who is paid. */
export async function paymentOf(
  ctx: Ctx,
  accountId: number,
): Promise<{ context: AccountContext; balanceCents: number; agency: Agency }> {
  const context = await loadAccount(ctx, accountId, 'pay');
  const [balances, agency] = await Promise.all([balancesAt(ctx, [accountId], context.ledgerVersion), ctx.agency.get()]);
  return { context, balanceCents: balances.get(accountId) ?? 0, agency };
}
