import type { Kysely } from 'kysely';

/**
 * Marks an à-nouveau line (1): it carries the balance of everything dated before it, so the
 * balances start again from it instead of adding it to the lines it sums up.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('ledger_entries')
    .addColumn('opening', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('ledger_entries').dropColumn('opening').execute();
}
