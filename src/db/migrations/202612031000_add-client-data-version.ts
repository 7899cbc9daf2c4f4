import { sql, type Kysely } from 'kysely';
import { isPostgres } from './util.ts';

/**
 * A version of what the home page shows (accounts, who holds them, buildings, lots,
 * documents), changed by the database itself on every write to those tables: pages kept in
 * memory by any instance are keyed by it, and no writer (import, claim, CLI, a hand-run
 * UPDATE) can forget to move it. The value is random, never a counter, so that restoring a
 * backup cannot bring back a value an instance has already seen with other data.
 *
 * SQLite: a row trigger per table and operation (one writer at a time, no lock order to
 * fear). PostgreSQL: a deferred constraint trigger, run at commit once per transaction, so
 * the settings row is the last lock a transaction takes and two writers cannot deadlock on
 * it; TRUNCATE, which row triggers do not see, bumps it at once.
 */
const TABLES = ['client_accounts', 'user_accounts', 'buildings', 'lots', 'account_lots', 'documents'];
const OPERATIONS = ['insert', 'update', 'delete'];

export async function up(db: Kysely<unknown>): Promise<void> {
  if (isPostgres(db)) {
    await sql`
      create function palier_bump_client_data_version() returns trigger language plpgsql as $$
      begin
        if current_setting('palier.client_data_bumped', true) is distinct from txid_current()::text then
          perform set_config('palier.client_data_bumped', txid_current()::text, true);
          insert into settings (key, value)
            values ('client_data_version', md5(random()::text || clock_timestamp()::text))
            on conflict (key) do update set value = excluded.value;
        end if;
        return null;
      end $$`.execute(db);
    for (const table of TABLES) {
      await sql`
        create constraint trigger ${sql.id(`${table}_client_data_version`)}
        after insert or update or delete on ${sql.table(table)}
        deferrable initially deferred for each row
        execute function palier_bump_client_data_version()`.execute(db);
      await sql`
        create trigger ${sql.id(`${table}_client_data_version_truncate`)}
        after truncate on ${sql.table(table)}
        for each statement execute function palier_bump_client_data_version()`.execute(db);
    }
    return;
  }
  for (const table of TABLES) {
    for (const op of OPERATIONS) {
      await sql`
        create trigger ${sql.id(`${table}_client_data_version_${op}`)}
        after ${sql.raw(op)} on ${sql.table(table)}
        begin
          insert into settings (key, value) values ('client_data_version', lower(hex(randomblob(8))))
            on conflict (key) do update set value = excluded.value;
        end`.execute(db);
    }
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (isPostgres(db)) {
    for (const table of TABLES) {
      await sql`drop trigger ${sql.id(`${table}_client_data_version`)} on ${sql.table(table)}`.execute(db);
      await sql`drop trigger ${sql.id(`${table}_client_data_version_truncate`)} on ${sql.table(table)}`.execute(db);
    }
    await sql`drop function palier_bump_client_data_version()`.execute(db);
  } else {
    for (const table of TABLES)
      for (const op of OPERATIONS) await sql`drop trigger ${sql.id(`${table}_client_data_version_${op}`)}`.execute(db);
  }
  await sql`delete from settings where key = 'client_data_version'`.execute(db);
}
