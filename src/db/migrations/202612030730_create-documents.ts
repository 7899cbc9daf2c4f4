import type { Kysely } from 'kysely';
import { withId } from './util.ts';

/**
 * Documents of the three spaces of décret 2019-502: an account's private documents, a
 * building's documents for its copropriétaires, and its conseil syndical's. A withdrawn or
 * replaced document keeps its row (and file) for history; replaces_id is set on the
 * successor and points to the document it replaced.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await withId(db, db.schema.createTable('documents'))
    .addColumn('building_id', 'integer', (c) => c.notNull().references('buildings.id'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('account_id', 'integer', (c) => c.references('client_accounts.id'))
    .addColumn('for_tenants', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('document_date', 'text', (c) => c.notNull())
    .addColumn('size_bytes', 'integer', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('storage_key', 'text', (c) => c.notNull().unique())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('original_name', 'text', (c) => c.notNull())
    .addColumn('published_by', 'text', (c) => c.notNull())
    .addColumn('published_at', 'text', (c) => c.notNull())
    .addColumn('withdrawn_at', 'text')
    .addColumn('replaces_id', 'integer', (c) => c.references('documents.id'))
    .execute();
  // What the pages and the home counts ask: the current documents of a building or an account.
  await db.schema
    .createIndex('documents_building_scope_idx')
    .on('documents')
    .columns(['building_id', 'scope'])
    .execute();
  await db.schema.createIndex('documents_account_idx').on('documents').column('account_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('documents').execute();
}
