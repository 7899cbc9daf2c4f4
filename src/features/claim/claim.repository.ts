import { sql, type Kysely } from 'kysely';
import { referenceKey } from '../../db/reference-key.ts';
import type { Database } from '../../db/schema.ts';
import { newToken, sha256 } from '../../core/security/tokens.ts';

type Q = Kysely<Database>;

/** References are typed from paper: compared without regard to case or surrounding spaces. */
export function normalizeReference(reference: string): string {
  return referenceKey(reference);
}

/**
 * The account a person means by the reference they typed: one lookup of the indexed
 * reference_key, as quick for a reference that exists as for one that does not. Stored
 * references that differ only by case share a key: the one typed exactly wins, then the
 * oldest, as before the key existed.
 */
export function typedReferenceQuery(db: Q, typed: string) {
  const trimmed = typed.trim();
  return db
    .selectFrom('client_accounts')
    .selectAll()
    .where('reference_key', '=', referenceKey(typed))
    .orderBy(sql`case when reference = ${trimmed} then 0 else 1 end`)
    .orderBy('id')
    .limit(1);
}

export function findAccountByTypedReference(db: Q, typed: string) {
  return typedReferenceQuery(db, typed).executeTakeFirst();
}

/** Proof that step 1 succeeded; only its SHA-256 is stored. Returns the token to carry to step 2. */
export async function createClaimTicket(db: Q, accountId: number, now: Date, ttlMs: number): Promise<string> {
  const token = newToken();
  await db.deleteFrom('claim_tickets').where('expires_at', '<=', now.toISOString()).execute();
  await db
    .insertInto('claim_tickets')
    .values({
      token_hash: sha256(token),
      account_id: accountId,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + ttlMs).toISOString(),
    })
    .execute();
  return token;
}

/** The ticket's account, if the ticket is unexpired and the account's code is still unused. */
export function findTicketAccount(db: Q, token: string, now: Date) {
  return db
    .selectFrom('claim_tickets')
    .innerJoin('client_accounts', 'client_accounts.id', 'claim_tickets.account_id')
    .selectAll('client_accounts')
    .where('claim_tickets.token_hash', '=', sha256(token))
    .where('claim_tickets.expires_at', '>', now.toISOString())
    .where('client_accounts.access_code_used_at', 'is', null)
    .where('client_accounts.access_code_hash', 'is not', null)
    .executeTakeFirst();
}

export async function deleteTicket(db: Q, token: string): Promise<void> {
  await db.deleteFrom('claim_tickets').where('token_hash', '=', sha256(token)).execute();
}

/**
 * Marks the access code used. Conditional, so that of two concurrent submissions only one
 * wins; with `codeHash`, also fails when a newer code replaced the one just checked.
 */
export async function markCodeUsed(db: Q, accountId: number, now: Date, codeHash?: string): Promise<boolean> {
  let q = db
    .updateTable('client_accounts')
    .set({ access_code_used_at: now.toISOString() })
    .where('id', '=', accountId)
    .where('access_code_used_at', 'is', null)
    .where('access_code_hash', 'is not', null);
  if (codeHash) q = q.where('access_code_hash', '=', codeHash);
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function userHoldsAccount(db: Q, userId: number, accountId: number): Promise<boolean> {
  const row = await db
    .selectFrom('user_accounts')
    .select('account_id')
    .where('user_id', '=', userId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  return !!row;
}
