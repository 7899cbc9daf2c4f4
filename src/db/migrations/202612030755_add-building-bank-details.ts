import type { Kysely } from 'kysely';

/**
 * The bank account of each building's syndicat des copropriétaires: a copropriétaire pays
 * the syndicat, never the agency. Optional: filled by the référentiel's `immeuble_iban` and
 * `immeuble_bic` columns.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('buildings').addColumn('iban', 'text').execute();
  await db.schema.alterTable('buildings').addColumn('bic', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('buildings').dropColumn('bic').execute();
  await db.schema.alterTable('buildings').dropColumn('iban').execute();
}
