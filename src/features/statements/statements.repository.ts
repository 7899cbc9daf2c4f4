import { sql } from 'kysely';
import type { Db } from '../../db/db.ts';
import { LEDGER_VERSION_KEY } from '../../core/versions.ts';

/**
 * Balance (credits − debits, cents) of the lines dated before `before`: the opening balance
 * of a period. An à-nouveau carries the balance of everything dated before it, so only the
 * lines from the last à-nouveau before `before` count (all of them when there is none).
 */
export async function balanceBefore(db: Db, accountId: number, before: string): Promise<number> {
  const row = await db
    .selectFrom('ledger_entries')
    .select(sql<number | string | null>`sum(credit_cents - debit_cents)`.as('balance'))
    .where('account_id', '=', accountId)
    .where('entry_date', '<', before)
    .where((eb) =>
      eb(
        'entry_date',
        '>=',
        eb.fn.coalesce(
          eb
            .selectFrom('ledger_entries as an')
            .select((e) => e.fn.max('an.entry_date').as('since'))
            .where('an.account_id', '=', accountId)
            .where('an.opening', '=', 1)
            .where('an.entry_date', '<', before),
          eb.val(''),
        ),
      ),
    )
    .executeTakeFirst();
  return Number(row?.balance ?? 0);
}

export interface StatementLine {
  entry_date: string;
  label: string;
  debit_cents: number;
  credit_cents: number;
  piece: string | null;
  /** 1 for an à-nouveau (absent: 0): the running balance starts again from it. */
  opening?: number;
}

/**
 * The lines of one account in a period (bounds included), in the order the agency's ledger
 * lists them; on the day of an à-nouveau, the à-nouveau comes first.
 */
export function statementLines(
  db: Db,
  accountId: number,
  period: { from?: string; to?: string },
): Promise<StatementLine[]> {
  let q = db
    .selectFrom('ledger_entries')
    .select(['entry_date', 'label', 'debit_cents', 'credit_cents', 'piece', 'opening'])
    .where('account_id', '=', accountId);
  if (period.from) q = q.where('entry_date', '>=', period.from);
  if (period.to) q = q.where('entry_date', '<=', period.to);
  return q.orderBy('entry_date').orderBy('opening', 'desc').orderBy('position').orderBy('id').execute();
}

/**
 * Marks every ledger as changed: statements and balances kept in memory by any instance
 * are recomputed at their next read. Call it in the transaction that writes the lines.
 */
export async function bumpLedgerVersion(db: Db): Promise<void> {
  const value = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  await db.deleteFrom('settings').where('key', '=', LEDGER_VERSION_KEY).execute();
  await db.insertInto('settings').values({ key: LEDGER_VERSION_KEY, value }).execute();
}
