import type { Db } from '../db/db.ts';

export interface AuditRow {
  at: string;
  action: string;
  outcome: 'success' | 'failure' | 'denied';
  user_id: number | null;
  account_id: number | null;
  ip: string | null;
  details_json: string | null;
}

export async function insertAuditEvent(db: Db, row: AuditRow): Promise<void> {
  await db.insertInto('audit_events').values(row).execute();
}
