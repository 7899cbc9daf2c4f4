import type { Db } from '../../db/db.ts';
import type { UsersTable } from '../../db/schema.ts';

export type UserDetails = Pick<
  UsersTable,
  'civility' | 'last_name' | 'first_name' | 'phone' | 'address' | 'postal_code' | 'city' | 'country'
>;

export async function updateUserDetails(
  db: Db,
  userId: number,
  values: Partial<UserDetails>,
  now: Date,
): Promise<void> {
  await db
    .updateTable('users')
    .set({ ...values, updated_at: now.toISOString() })
    .where('id', '=', userId)
    .execute();
}

/** The address waiting for confirmation, if a change was asked and its link is still valid. */
export function pendingEmailChange(db: Db, userId: number, now: Date) {
  return db
    .selectFrom('user_tokens')
    .select(['new_email', 'expires_at'])
    .where('user_id', '=', userId)
    .where('purpose', '=', 'change_email')
    .where('used_at', 'is', null)
    .where('expires_at', '>', now.toISOString())
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
}
