import { sql } from 'kysely';
import type { Db } from '../../db/db.ts';

/**
 * The database's record of which secrets it was created with: a fingerprint only (see
 * secretsFingerprint), so reading the database never gives the keys.
 */

const FINGERPRINT_KEY = 'secrets_fingerprint';

/** Null for a database without one: new (not even migrated), or created before fingerprints. */
export async function getSecretsFingerprint(db: Db): Promise<string | null> {
  const tables = await db.introspection.getTables();
  // Read before the migrations run: a new database has no settings table yet.
  if (!tables.some((t) => t.name === 'settings' && (t.schema ?? 'public') === 'public')) return null;
  const row = await db.selectFrom('settings').select('value').where('key', '=', FINGERPRINT_KEY).executeTakeFirst();
  return row?.value ?? null;
}

/**
 * Records `fingerprint` unless the database already holds one, and returns the one it holds
 * afterwards: of two processes opening a new install at once, the first one wins.
 */
export async function recordSecretsFingerprint(db: Db, fingerprint: string): Promise<string> {
  await db
    .insertInto('settings')
    .values({ key: FINGERPRINT_KEY, value: fingerprint })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', FINGERPRINT_KEY)
    .executeTakeFirstOrThrow();
  return row.value;
}

/** Whether any table holds a row, Kysely's migration bookkeeping aside: false for a new, empty database. */
export async function databaseHoldsData(db: Db): Promise<boolean> {
  for (const t of (await db.introspection.getTables()).filter((t) => !t.isView)) {
    const table = sql.table(t.schema ? `${t.schema}.${t.name}` : t.name);
    const { rows } = await sql`SELECT 1 AS one FROM ${table} LIMIT 1`.execute(db);
    if (rows.length > 0) return true;
  }
  return false;
}
