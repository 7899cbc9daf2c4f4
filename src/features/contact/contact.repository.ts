import type { Db } from '../../db/db.ts';

export async function insertMessage(
  db: Db,
  m: { accountId: number; userId: number; managerId: number | null; subject: string; body: string; now: Date },
): Promise<number> {
  const row = await db
    .insertInto('messages')
    .values({
      account_id: m.accountId,
      user_id: m.userId,
      manager_id: m.managerId,
      subject: m.subject,
      body: m.body,
      created_at: m.now.toISOString(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export function managersByIds(db: Db, ids: number[]) {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('managers').selectAll().where('id', 'in', ids).execute();
}

export function buildingsByIds(db: Db, ids: number[]) {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('buildings').select(['id', 'name']).where('id', 'in', ids).execute();
}
