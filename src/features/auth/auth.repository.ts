import type { Kysely } from 'kysely';
import type { Database, TokenPurpose } from '../../db/schema.ts';

type Q = Kysely<Database>;

/** Voids a person's links of one purpose not yet followed (a reset link sent to an old address). */
export async function deleteUnusedTokens(db: Q, userId: number, purpose: TokenPurpose): Promise<void> {
  await db
    .deleteFrom('user_tokens')
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .execute();
}
