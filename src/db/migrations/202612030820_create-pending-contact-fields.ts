import type { Kysely } from 'kysely';

/**
 * A contact field a client corrected in « Mes coordonnées » and the agency has not taken in
 * yet: the référentiel import leaves it alone until the file brings the client's value or
 * staff mark it handled (then the row is deleted). One row per (account, field): `old_value`
 * is the agency's value before the first pending correction, `new_value` the client's latest.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('pending_contact_fields')
    .addColumn('account_id', 'integer', (c) => c.notNull().references('client_accounts.id').onDelete('cascade'))
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('old_value', 'text')
    .addColumn('new_value', 'text')
    .addColumn('change_id', 'integer', (c) => c.notNull().references('contact_changes.id').onDelete('cascade'))
    .addColumn('changed_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('pending_contact_fields_pk', ['account_id', 'field'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('pending_contact_fields').execute();
}
