import { sql, type Kysely } from 'kysely';

/**
 * client_accounts.reference_key: the reference without regard to case or surrounding
 * spaces, indexed, so that a typed reference is found, or not, by one index lookup rather
 * than a scan of upper(trim(reference)) whose duration told known references apart.
 * Not unique: two stored references may differ only by case (the exact one is preferred).
 * Nullable because SQLite cannot add a NOT NULL column without a default; every writer
 * fills it (the schema type requires it).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('client_accounts').addColumn('reference_key', 'text').execute();
  // Filled here in TypeScript: SQL's upper() and trim() differ between SQLite and
  // PostgreSQL beyond ASCII, and from the code's normalisation. Frozen copy of it on
  // purpose: a later change of the normalisation needs a migration of its own.
  const key = (reference: string) => reference.trim().toUpperCase();
  const { rows } = await sql<{ id: number; reference: string }>`select id, reference from client_accounts`.execute(db);
  const BATCH = 500;
  for (let i = 0; i < rows.length; i += BATCH) {
    const batch = rows.slice(i, i + BATCH);
    const cases = sql.join(
      batch.map((r) => sql`when ${r.id} then ${key(r.reference)}`),
      sql` `,
    );
    const ids = sql.join(batch.map((r) => r.id));
    await sql`update client_accounts set reference_key = case id ${cases} end where id in (${ids})`.execute(db);
  }
  await db.schema
    .createIndex('client_accounts_reference_key_idx')
    .on('client_accounts')
    .column('reference_key')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('client_accounts_reference_key_idx').execute();
  await db.schema.alterTable('client_accounts').dropColumn('reference_key').execute();
}
