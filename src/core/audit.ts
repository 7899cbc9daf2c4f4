import type { Db } from '../db/db.ts';
import { insertAuditEvent } from './audit.repository.ts';
import { actorUserId, type Ctx } from './context.ts';

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
export async function writeAudit(db: Db, e: AuditEvent): Promise<void> {
  await insertAuditEvent(db, {
    at: (e.at ?? new Date()).toISOString(),
    action: e.action,
    outcome: e.outcome,
    user_id: e.userId ?? null,
    account_id: e.accountId ?? null,
    ip: e.ip ?? null,
    details_json: e.details ? JSON.stringify(e.details) : null,
  });
}

/**
 * A security event (login, failure, lock, claim, attach, reset, refusal): logged as JSON
 * with time, person, address and outcome, and kept in audit_events for staff. Written
 * through the context's database, so inside its transaction when there is one. The person
 * is the actor's unless the event names another (a failed login names nobody signed in).
 */
export async function securityEvent(ctx: Ctx, e: Omit<AuditEvent, 'ip' | 'at'>): Promise<void> {
  const userId = e.userId !== undefined ? e.userId : actorUserId(ctx.actor);
  const ip = ctx.actor.ip;
  ctx.log.info(
    {
      // Details first: a detail named like a field below cannot hide who did what, from where.
      ...e.details,
      event: e.action,
      outcome: e.outcome,
      userId: userId ?? null,
      accountId: e.accountId ?? null,
      ip,
      actor: ctx.actor.kind,
    },
    `security: ${e.action} ${e.outcome}`,
  );
  await writeAudit(ctx.db, { ...e, userId, ip, at: ctx.now() });
}

/** A staff or system operation (import, export, code issued): in the audit log, with who ran it. */
export async function auditOperation(ctx: Ctx, e: Omit<AuditEvent, 'ip' | 'at'>): Promise<void> {
  const who = ctx.actor.kind === 'staff' || ctx.actor.kind === 'system' ? ctx.actor.name : null;
  await writeAudit(ctx.db, {
    ...e,
    userId: e.userId !== undefined ? e.userId : actorUserId(ctx.actor),
    ip: ctx.actor.ip,
    at: ctx.now(),
    details: { ...e.details, ...(who ? { by: who } : {}) },
  });
}
