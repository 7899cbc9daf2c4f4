import type { Db } from '../../db/db.ts';

/** The accounts a person holds, with building and link date (lots read apart: one row per account here). */
export function linkedAccountsOf(db: Db, userId: number) {
  return db
    .selectFrom('user_accounts')
    .innerJoin('client_accounts', 'client_accounts.id', 'user_accounts.account_id')
    .leftJoin('buildings', 'buildings.id', 'client_accounts.building_id')
    .select([
      'client_accounts.id',
      'client_accounts.reference',
      'client_accounts.kind',
      'buildings.code as building_code',
      'buildings.name as building_name',
      'user_accounts.linked_at',
    ])
    .where('user_accounts.user_id', '=', userId)
    .orderBy('client_accounts.reference')
    .execute();
}

/** The contact details changes this person made, on any account, oldest first. */
export function contactChangesBy(db: Db, userId: number) {
  return db
    .selectFrom('contact_changes')
    .innerJoin('client_accounts', 'client_accounts.id', 'contact_changes.account_id')
    .select([
      'contact_changes.id',
      'client_accounts.reference',
      'contact_changes.changed_at',
      'contact_changes.before_json',
      'contact_changes.after_json',
    ])
    .where('contact_changes.user_id', '=', userId)
    .orderBy('contact_changes.changed_at')
    .orderBy('contact_changes.id')
    .execute();
}

/** The messages this person wrote to a gestionnaire, oldest first. */
export function messagesBy(db: Db, userId: number) {
  return db
    .selectFrom('messages')
    .innerJoin('client_accounts', 'client_accounts.id', 'messages.account_id')
    .select(['messages.id', 'client_accounts.reference', 'messages.subject', 'messages.body', 'messages.created_at'])
    .where('messages.user_id', '=', userId)
    .orderBy('messages.created_at')
    .orderBy('messages.id')
    .execute();
}

/** The person's sessions; never the token hash, which would let a reader of the file act as them. */
export function sessionsOf(db: Db, userId: number) {
  return db
    .selectFrom('sessions')
    .select(['created_at', 'last_seen_at', 'expires_at', 'ip', 'user_agent'])
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .execute();
}

/** Security events about the person; their details may name other things (fields, reasons) and stay out. */
export function auditEventsOf(db: Db, userId: number) {
  return db
    .selectFrom('audit_events')
    .select(['at', 'action', 'outcome', 'ip'])
    .where('user_id', '=', userId)
    .orderBy('at')
    .orderBy('id')
    .execute();
}

/**
 * Empties a person's row of everything that identifies them and makes it unusable to log in.
 * Conditional on the space being open, so two concurrent closings do the work (and mail) once.
 * The row itself stays: contact_changes and messages reference it (NOT NULL), and they are
 * the agency's records of what was asked.
 */
export async function anonymiseUser(db: Db, userId: number, now: Date): Promise<boolean> {
  const at = now.toISOString();
  const res = await db
    .updateTable('users')
    .set({
      // Unique like any login, on a reserved domain (RFC 2606) nobody can receive mail at.
      email: `espace-ferme-${userId}@palier.invalid`,
      email_verified_at: null,
      // Not an argon2 hash: no password verifies against it.
      password_hash: 'closed',
      civility: null,
      last_name: '',
      first_name: '',
      phone: null,
      address: null,
      postal_code: null,
      city: null,
      // No more document notices to an address that is gone.
      document_notice_since: null,
      document_notice_sent_at: null,
      updated_at: at,
      closed_at: at,
    })
    .where('id', '=', userId)
    .where('closed_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Every link of a person, used or not (a used one still holds an address they asked for). */
export async function deleteAllTokens(db: Db, userId: number): Promise<void> {
  await db.deleteFrom('user_tokens').where('user_id', '=', userId).execute();
}

/** Unlinks the person from their accounts; returns how many, for the audit event. */
export async function unlinkAccounts(db: Db, userId: number): Promise<number> {
  const res = await db.deleteFrom('user_accounts').where('user_id', '=', userId).executeTakeFirst();
  return Number(res.numDeletedRows);
}
