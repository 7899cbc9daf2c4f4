import { sql } from 'kysely';
import type { Db } from '../../db/db.ts';
import type { PaymentStatus } from '../../db/schema.ts';

/** The bank account of the syndicat of an account's building (either part may be missing). */
export function buildingBankOfAccount(db: Db, accountId: number) {
  return db
    .selectFrom('client_accounts')
    .innerJoin('buildings', 'buildings.id', 'client_accounts.building_id')
    .select(['buildings.iban', 'buildings.bic'])
    .where('client_accounts.id', '=', accountId)
    .executeTakeFirst();
}

export async function insertPayment(
  db: Db,
  p: { accountId: number; userId: number | null; amountCents: number; reference: string; at: string },
): Promise<number> {
  const row = await db
    .insertInto('payments')
    .values({
      account_id: p.accountId,
      user_id: p.userId,
      amount_cents: p.amountCents,
      method: 'card',
      reference: p.reference,
      provider_session_id: null,
      status: 'pending',
      created_at: p.at,
      updated_at: p.at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function setProviderSession(db: Db, id: number, sessionId: string, at: string): Promise<void> {
  await db
    .updateTable('payments')
    .set({ provider_session_id: sessionId, updated_at: at })
    .where('id', '=', id)
    .execute();
}

/**
 * Moves a payment to `to` only from one of the `from` states, so a notification delivered
 * twice, or late, changes nothing: returns the payment when this call changed it.
 */
export async function transitionPayment(
  db: Db,
  where: { sessionId: string } | { reference: string } | { id: number },
  from: PaymentStatus[],
  to: PaymentStatus,
  at: string,
) {
  let q = db.updateTable('payments').set({ status: to, updated_at: at }).where('status', 'in', from);
  if ('sessionId' in where) q = q.where('provider_session_id', '=', where.sessionId);
  else if ('reference' in where) q = q.where('reference', '=', where.reference);
  else q = q.where('id', '=', where.id);
  return q.returning(['id', 'account_id', 'user_id', 'amount_cents', 'reference']).executeTakeFirst();
}

export function findPayment(db: Db, accountId: number, reference: string) {
  return db
    .selectFrom('payments')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('reference', '=', reference)
    .executeTakeFirst();
}

/**
 * Confirmed online payments of an account that the ledger does not show yet: no line of the
 * account carries the payment's reference in its label or its piece.
 */
export function unreconciledPayments(db: Db, accountId: number) {
  return db
    .selectFrom('payments as p')
    .select(['p.reference', 'p.amount_cents', 'p.updated_at'])
    .where('p.account_id', '=', accountId)
    .where('p.status', '=', 'paid')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('ledger_entries as l')
            .select(sql`1`.as('one'))
            .whereRef('l.account_id', '=', 'p.account_id')
            .where((eb) =>
              eb.or([
                eb('l.piece', '=', eb.ref('p.reference')),
                eb(eb.fn('upper', ['l.label']), 'like', sql<string>`'%' || p.reference || '%'`),
              ]),
            ),
        ),
      ),
    )
    .orderBy('p.updated_at')
    .execute();
}
