import type { Kysely } from 'kysely';
import { withId } from './util.ts';

/**
 * Online payments (card, through the payment provider): one row per attempt, created
 * pending before the person leaves for the provider's page, then marked paid, failed or
 * abandoned by the provider's signed notifications. Amounts in cents.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await withId(db, db.schema.createTable('payments'))
    .addColumn('account_id', 'integer', (c) => c.notNull().references('client_accounts.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('amount_cents', 'integer', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.notNull().unique())
    .addColumn('provider_session_id', 'text', (c) => c.unique())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // The statement asks for an account's confirmed payments not yet in the ledger.
  await db.schema.createIndex('payments_account_status_idx').on('payments').columns(['account_id', 'status']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('payments').execute();
}
