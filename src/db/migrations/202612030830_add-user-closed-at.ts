import type { Kysely } from 'kysely';

/**
 * When a person closed their space (« Fermer mon espace client »). The row stays, emptied
 * of everything personal, because the contact changes and messages the agency keeps as its
 * records of what was asked still point at it; closed_at tells the agency why it is blank.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('closed_at', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('closed_at').execute();
}
