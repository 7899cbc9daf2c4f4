import type { Db } from '../../db/db.ts';
import type { TokenPurpose } from '../../db/schema.ts';
import { newToken, sha256 } from '../../core/security/tokens.ts';

/** Issues a one-time link token; any earlier unused token of the same purpose stops working. */
export async function issueUserToken(
  db: Db,
  userId: number,
  purpose: TokenPurpose,
  ttlMs: number,
  now: Date,
  newEmail: string | null = null,
): Promise<string> {
  const token = newToken();
  await db.deleteFrom('user_tokens').where('user_id', '=', userId).where('purpose', '=', purpose).execute();
  await db
    .insertInto('user_tokens')
    .values({
      token_hash: sha256(token),
      user_id: userId,
      purpose,
      new_email: newEmail,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + ttlMs).toISOString(),
      used_at: null,
    })
    .execute();
  return token;
}

/** The token's row if it exists, has this purpose, is unused and unexpired. */
export function findValidToken(db: Db, token: string, purpose: TokenPurpose, now: Date) {
  return db
    .selectFrom('user_tokens')
    .selectAll()
    .where('token_hash', '=', sha256(token))
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now.toISOString())
    .executeTakeFirst();
}

/** Marks a token used; false if another request used it first (single use under concurrency). */
export async function consumeToken(db: Db, token: string, now: Date): Promise<boolean> {
  const res = await db
    .updateTable('user_tokens')
    .set({ used_at: now.toISOString() })
    .where('token_hash', '=', sha256(token))
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Voids a person's links not yet followed, of the given purposes (all by default). */
export async function deleteUnusedTokens(db: Db, userId: number, purposes?: TokenPurpose[]): Promise<void> {
  let q = db.deleteFrom('user_tokens').where('user_id', '=', userId).where('used_at', 'is', null);
  if (purposes) q = q.where('purpose', 'in', purposes);
  await q.execute();
}

/** The email change a person asked for and has not confirmed yet, if any. */
export function findPendingEmailChange(db: Db, userId: number, now: Date) {
  return db
    .selectFrom('user_tokens')
    .select(['new_email', 'created_at', 'expires_at'])
    .where('user_id', '=', userId)
    .where('purpose', '=', 'change_email')
    .where('used_at', 'is', null)
    .where('expires_at', '>', now.toISOString())
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
}

/** The row of a valid token whatever its purpose among those given. */
export function findValidTokenOf(db: Db, token: string, purposes: TokenPurpose[], now: Date) {
  return db
    .selectFrom('user_tokens')
    .selectAll()
    .where('token_hash', '=', sha256(token))
    .where('purpose', 'in', purposes)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now.toISOString())
    .executeTakeFirst();
}
