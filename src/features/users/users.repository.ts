import type { Db } from '../../db/db.ts';
import type { Insertable } from 'kysely';
import type { UsersTable } from '../../db/schema.ts';

/** Emails are compared without regard to case or surrounding spaces. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The open space with this login; a closed one is nobody's, whatever its placeholder address (no reset, no login). */
export function findUserByEmail(db: Db, email: string) {
  return db
    .selectFrom('users')
    .selectAll()
    .where('email', '=', normalizeEmail(email))
    .where('closed_at', 'is', null)
    .executeTakeFirst();
}

export function findUserById(db: Db, id: number) {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertUser(db: Db, values: Insertable<UsersTable>): Promise<number> {
  const row = await db
    .insertInto('users')
    .values({ ...values, email: normalizeEmail(values.email) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function setPassword(db: Db, userId: number, passwordHash: string, now: Date): Promise<void> {
  await db
    .updateTable('users')
    .set({ password_hash: passwordHash, updated_at: now.toISOString() })
    .where('id', '=', userId)
    .execute();
}

export async function linkAccount(db: Db, userId: number, accountId: number, now: Date): Promise<void> {
  await db
    .insertInto('user_accounts')
    .values({ user_id: userId, account_id: accountId, linked_at: now.toISOString() })
    .execute();
}

/** The people who already hold an account: told by mail when someone else attaches it. */
export function holdersOfAccount(db: Db, accountId: number) {
  return db
    .selectFrom('user_accounts')
    .innerJoin('users', 'users.id', 'user_accounts.user_id')
    .select([
      'users.id',
      'users.email',
      'users.civility',
      'users.first_name',
      'users.last_name',
      'users.email_verified_at',
    ])
    .where('user_accounts.account_id', '=', accountId)
    .execute();
}

/** The references of the accounts a person holds (a password may not be built from them). */
export async function referencesOfUser(db: Db, userId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('user_accounts')
    .innerJoin('client_accounts', 'client_accounts.id', 'user_accounts.account_id')
    .select('client_accounts.reference')
    .where('user_accounts.user_id', '=', userId)
    .execute();
  return rows.map((r) => r.reference);
}

export async function markEmailVerified(db: Db, userId: number, now: Date): Promise<void> {
  await db.updateTable('users').set({ email_verified_at: now.toISOString() }).where('id', '=', userId).execute();
}

/** The address becomes the login, confirmed by the link just followed. */
export async function switchEmail(db: Db, userId: number, email: string, now: Date): Promise<void> {
  await db
    .updateTable('users')
    .set({ email: normalizeEmail(email), email_verified_at: now.toISOString(), updated_at: now.toISOString() })
    .where('id', '=', userId)
    .execute();
}
