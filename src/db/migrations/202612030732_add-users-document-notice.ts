import type { Kysely } from 'kysely';

/**
 * « Recevoir un email quand un nouveau document est publié »: null (the default) is off;
 * otherwise the instant it was turned on, so the first notice lists only documents published
 * from then on.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('document_notice_since', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('document_notice_since').execute();
}
