import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import type { AgencyIdentity } from './agency/agency.ts';
import { enqueue } from './jobs/jobs.repository.ts';

/**
 * Who asks for an operation. Audit events and limits use it; policies look at the client.
 * - client: a signed-in person (userId); anonymous: nobody signed in yet (login, claim step 1);
 * - staff: the agency, from the CLI today and the back office later;
 * - system: a job of the worker, acting for nobody in particular.
 */
export type Actor =
  | { kind: 'client'; userId: number; ip: string; sessionHash: string | null }
  | { kind: 'anonymous'; ip: string }
  | { kind: 'staff'; name: string; ip: string | null }
  | { kind: 'system'; name: string; ip: string | null };

/** The part of a logger the domain uses (pino's and Fastify's loggers fit). */
export interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface Queue {
  /** Adds a job in the context's database or transaction: it exists exactly when the change that causes it commits. */
  add(kind: string, payload: unknown, opts?: { runAt?: Date; maxAttempts?: number }): Promise<number>;
}

/**
 * What every domain operation receives, whoever starts it: a route (built once per request
 * by a hook), a CLI command, or a job. Never Fastify's app, request or reply.
 */
export interface Ctx {
  db: Db;
  now: () => Date;
  log: Log;
  actor: Actor;
  queue: Queue;
  config: Config;
  /** The agency's identity, kept in memory by each instance. */
  agency: AgencyIdentity;
}

export interface ContextInput {
  db: Db;
  config: Config;
  agency: AgencyIdentity;
  actor: Actor;
  log?: Log;
  now?: () => Date;
}

const silent: Log = { info() {}, warn() {}, error() {} };

export function createContext(input: ContextInput): Ctx {
  const now = input.now ?? (() => new Date());
  const db = input.db;
  return {
    db,
    now,
    log: input.log ?? silent,
    actor: input.actor,
    config: input.config,
    agency: input.agency,
    queue: queueOn(db, now),
  };
}

function queueOn(db: Db, now: () => Date): Queue {
  return { add: (kind, payload, opts = {}) => enqueue(db, kind, payload, { now: now(), ...opts }) };
}

/** The same context on another database handle (a transaction): its queue writes there too. */
export function withDb(ctx: Ctx, db: Db): Ctx {
  return { ...ctx, db, queue: queueOn(db, ctx.now) };
}

/** Runs fn in one transaction; audit events, jobs and mails written through the given context commit with it. */
export function inTransaction<T>(ctx: Ctx, fn: (trx: Ctx) => Promise<T>): Promise<T> {
  return ctx.db.transaction().execute((trx) => fn(withDb(ctx, trx)));
}

/** The other context for the same request once it is signed in (login, claim, attach). */
export function asClient(ctx: Ctx, userId: number, sessionHash: string | null = null): Ctx {
  return { ...ctx, actor: { kind: 'client', userId, ip: actorIp(ctx.actor) ?? '', sessionHash } };
}

export function actorIp(actor: Actor): string | null {
  return actor.ip;
}

export function actorUserId(actor: Actor): number | null {
  return actor.kind === 'client' ? actor.userId : null;
}

/** A signed-in client's id; domain operations for clients only call it (routes have checked already). */
export function clientId(ctx: Ctx): number {
  if (ctx.actor.kind !== 'client') throw new Error(`operation for clients called by ${ctx.actor.kind}`);
  return ctx.actor.userId;
}
