import type { Kysely } from 'kysely';

/** The country of an account's postal address; null is France (référentiel column `pays`). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('client_accounts').addColumn('country', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('client_accounts').dropColumn('country').execute();
}
