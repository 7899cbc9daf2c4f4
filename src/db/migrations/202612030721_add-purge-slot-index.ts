import { sql, type Kysely } from 'kysely';

/**
 * At most one purge job per hour slot: every instance's worker schedules the next purge
 * at the same instant (the next full hour), and this index lets one insert win. The
 * queue's atomic claim then has one worker run it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('jobs_purge_slot_idx')
    .on('jobs')
    .column('run_at')
    .unique()
    .where(sql.ref('kind'), '=', 'purge')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('jobs_purge_slot_idx').execute();
}
