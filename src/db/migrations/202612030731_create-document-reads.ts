import type { Kysely } from 'kysely';

/** When a person first opened a document: until then the pages mark it « Nouveau ». */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('document_reads')
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('document_id', 'integer', (c) => c.notNull().references('documents.id'))
    .addColumn('read_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('document_reads_pk', ['user_id', 'document_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('document_reads').execute();
}
