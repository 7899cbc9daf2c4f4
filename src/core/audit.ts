import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

export interface AuditEvent {
  action: string;
  outcome: 'success' | 'failure' | 'denied';
  userId?: number | null;
  accountId?: number | null;
  ip?: string | null;
  /** Never a password, code, token or session id. */
  details?: Record<string, unknown>;
  /** When it happened, on the app's clock (tests move it); the system clock otherwise. */
  at?: Date;
}

/** Written in the same transaction as the change it records. */
export async function writeAudit(db: Kysely<Database>, e: AuditEvent): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      at: (e.at ?? new Date()).toISOString(),
      action: e.action,
      outcome: e.outcome,
      user_id: e.userId ?? null,
      account_id: e.accountId ?? null,
      ip: e.ip ?? null,
      details_json: e.details ? JSON.stringify(e.details) : null,
    })
    .execute();
}

/** What securityEvent needs of a request: its address, its logger and, when there is one, the app's clock. */
export interface EventSource {
  ip: string;
  log: { info: (o: object, msg: string) => void };
  server?: { deps?: { now?: () => Date } };
}

/**
 * A security event (login, failure, lock, claim, attach, reset, refusal): logged as JSON
 * with time, person, address and outcome, and kept in audit_events for staff.
 */
export async function securityEvent(
  req: EventSource,
  db: Kysely<Database>,
  e: Omit<AuditEvent, 'ip' | 'at'>,
): Promise<void> {
  const at = req.server?.deps?.now?.() ?? new Date();
  req.log.info(
    {
      // Details first: a detail named like a field below cannot hide who did what, from where.
      ...e.details,
      event: e.action,
      outcome: e.outcome,
      userId: e.userId ?? null,
      accountId: e.accountId ?? null,
      ip: req.ip,
    },
    `security: ${e.action} ${e.outcome}`,
  );
  await writeAudit(db, { ...e, ip: req.ip, at });
}
