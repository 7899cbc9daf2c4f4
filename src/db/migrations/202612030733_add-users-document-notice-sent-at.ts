import type { Kysely } from 'kysely';

/** When the last notice of new documents was queued: one a day at most, listing what came since. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('document_notice_sent_at', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('document_notice_sent_at').execute();
}
