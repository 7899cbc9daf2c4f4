import type { Kysely } from 'kysely';
import { withId } from './util.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await withId(db, db.schema.createTable('managers'))
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('phone', 'text')
    .execute();

  await withId(db, db.schema.createTable('buildings'))
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('address', 'text')
    .addColumn('postal_code', 'text')
    .addColumn('city', 'text')
    .execute();

  await withId(db, db.schema.createTable('lots'))
    .addColumn('building_id', 'integer', (c) => c.notNull().references('buildings.id'))
    .addColumn('number', 'text', (c) => c.notNull())
    .addColumn('type', 'text')
    .addColumn('description', 'text')
    .addColumn('shares', 'integer')
    .addUniqueConstraint('lots_building_number_unique', ['building_id', 'number'])
    .execute();

  await withId(db, db.schema.createTable('client_accounts'))
    .addColumn('reference', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('building_id', 'integer', (c) => c.references('buildings.id'))
    .addColumn('manager_id', 'integer', (c) => c.references('managers.id'))
    .addColumn('civility', 'text')
    .addColumn('last_name', 'text')
    .addColumn('first_name', 'text')
    .addColumn('email', 'text')
    .addColumn('phone', 'text')
    .addColumn('address', 'text')
    .addColumn('postal_code', 'text')
    .addColumn('city', 'text')
    .addColumn('council_role', 'text')
    .addColumn('access_code_hash', 'text')
    .addColumn('access_code_encrypted', 'text')
    .addColumn('access_code_origin', 'text')
    .addColumn('access_code_issued_at', 'text')
    .addColumn('access_code_used_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('client_accounts_building_idx').on('client_accounts').column('building_id').execute();

  await db.schema
    .createTable('account_lots')
    .addColumn('account_id', 'integer', (c) => c.notNull().references('client_accounts.id'))
    .addColumn('lot_id', 'integer', (c) => c.notNull().references('lots.id'))
    .addPrimaryKeyConstraint('account_lots_pk', ['account_id', 'lot_id'])
    .execute();

  await withId(db, db.schema.createTable('ledger_entries'))
    .addColumn('account_id', 'integer', (c) => c.notNull().references('client_accounts.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('entry_date', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('debit_cents', 'integer', (c) => c.notNull())
    .addColumn('credit_cents', 'integer', (c) => c.notNull())
    .addColumn('piece', 'text')
    .execute();
  await db.schema
    .createIndex('ledger_entries_account_date_idx')
    .on('ledger_entries')
    .columns(['account_id', 'entry_date', 'position'])
    .execute();

  await withId(db, db.schema.createTable('users'))
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('email_verified_at', 'text')
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('civility', 'text')
    .addColumn('last_name', 'text', (c) => c.notNull())
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('phone', 'text')
    .addColumn('address', 'text')
    .addColumn('postal_code', 'text')
    .addColumn('city', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('user_accounts')
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('account_id', 'integer', (c) => c.notNull().references('client_accounts.id'))
    .addColumn('linked_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_accounts_pk', ['user_id', 'account_id'])
    .execute();
  await db.schema.createIndex('user_accounts_account_idx').on('user_accounts').column('account_id').execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('user_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('new_email', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();
  await db.schema.createIndex('user_tokens_user_idx').on('user_tokens').column('user_id').execute();

  await db.schema
    .createTable('claim_tickets')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'integer', (c) => c.notNull().references('client_accounts.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();

  await withId(db, db.schema.createTable('auth_attempts'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('auth_attempts_lookup_idx')
    .on('auth_attempts')
    .columns(['scope', 'key', 'created_at'])
    .execute();

  await withId(db, db.schema.createTable('contact_changes'))
    .addColumn('account_id', 'integer', (c) => c.notNull().references('client_accounts.id'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('changed_at', 'text', (c) => c.notNull())
    .addColumn('before_json', 'text', (c) => c.notNull())
    .addColumn('after_json', 'text', (c) => c.notNull())
    .execute();

  await withId(db, db.schema.createTable('messages'))
    .addColumn('account_id', 'integer', (c) => c.notNull().references('client_accounts.id'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('manager_id', 'integer', (c) => c.references('managers.id'))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await withId(db, db.schema.createTable('audit_events'))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('user_id', 'integer')
    .addColumn('account_id', 'integer')
    .addColumn('ip', 'text')
    .addColumn('details_json', 'text')
    .execute();
  await db.schema.createIndex('audit_events_at_idx').on('audit_events').column('at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of [
    'audit_events',
    'messages',
    'contact_changes',
    'auth_attempts',
    'claim_tickets',
    'user_tokens',
    'sessions',
    'user_accounts',
    'users',
    'ledger_entries',
    'account_lots',
    'client_accounts',
    'lots',
    'buildings',
    'managers',
    'settings',
  ]) {
    await db.schema.dropTable(t).execute();
  }
}
