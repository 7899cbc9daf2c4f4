import { LRUCache } from 'lru-cache';
import { isStorageKey, type Storage } from '../../adapters/storage/storage.ts';
import type { Agency } from '../../core/agency/agency.repository.ts';
import type { Ctx } from '../../core/context.ts';
import { todayInParis } from '../../core/format.ts';
import type { Db } from '../../db/db.ts';
import { balancesOf, lotsOfAccounts } from '../accounts/accounts.repository.ts';
import { loadAccount, type AccountContext } from '../accounts/accounts.service.ts';
import { unreconciledPayments } from './payments.repository.ts';
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

export interface UnreconciledPayment {
  reference: string;
  amount_cents: number;
  updated_at: string;
}

/**
 * The statement of one of the client's accounts over a period, with a running balance, and
 * the online payments the ledger does not show yet (asked only when the account has paid
 * online: the account's own query says so).
 */
export async function accountStatement(
  ctx: Ctx,
  accountId: number,
  period: Period,
): Promise<{ context: AccountContext; statement: ComputedStatement; unreconciled: UnreconciledPayment[] }> {
  const context = await loadAccount(ctx, accountId, 'statement');
  const [statement, unreconciled] = await Promise.all([
    statementOf(ctx, context, period),
    context.paidOnline ? unreconciledPayments(ctx.db, accountId) : Promise.resolve([]),
  ]);
  return { context, statement, unreconciled };
}

async function statementOf(ctx: Ctx, context: AccountContext, period: Period): Promise<ComputedStatement> {
  const accountId = context.account.id;
  const now = ctx.now();
  // Today's date is part of the key: an open-ended period closes on it when the account has no line.
  const key = `${accountId}|${context.ledgerVersion}|${period.du ?? ''}|${period.au ?? ''}|${todayInParis(now)}`;
  const cache = cachesOf(ctx.db).statements;
  const cached = cache.get(key);
  if (cached) return cached;
  // Two queries whatever the length: the balance carried from before the period, then its lines.
  const [opening, lines] = await Promise.all([
    period.du ? balanceBefore(ctx.db, accountId, period.du) : Promise.resolve(0),
    statementLines(ctx.db, accountId, { from: period.du, to: period.au }),
  ]);
  const statement = computeStatement(lines, period, opening, now);
  cache.set(key, statement);
  return statement;
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
  const [balances, agency] = await Promise.all([balancesAt(ctx, [accountId], context.ledgerVersion), ctx.agency.get()]);
  return {
    context,
    balanceCents: balances.get(accountId) ?? 0,
    agency,
    syndicateBank: context.building ? { iban: context.building.iban, bic: context.building.bic } : null,
  };
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
