import type { Kysely } from 'kysely';

/** The country of a person's address; null is France, the agency's usual case. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('country', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('country').execute();
}
