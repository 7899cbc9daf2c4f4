import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from '../../db/db.ts';
import {
  claimNextJob,
  completeJob,
  failAbandonedJobs,
  failJob,
  hasDueJob,
  onJobEnqueued,
  type Job,
} from './jobs.repository.ts';

/**
 * Does the work of one job; throwing makes it a failed try. It may return what to keep of
 * the payload once done (a sent mail keeps its recipient and subject, not its one-time links).
 */
export type JobHandler = (payload: unknown, job: Job) => Promise<void | { retain: unknown }>;

/** A failure that no retry can fix (malformed payload, address refused by the server): fail at once. */
export class PermanentJobError extends Error {}

export interface WorkerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const silent: WorkerLog = { info() {}, warn() {}, error() {} };

export interface WorkerOptions {
  db: Db;
  handlers: Record<string, JobHandler>;
  /** Injectable clock: due times, locks and retry delays follow it (tests move it). */
  now?: () => Date;
  /** Pause between polls when there is nothing to do. */
  pollMs?: number;
  /**
   * How long a claimed job stays reserved. Longer than any handler can take (the mail
   * transport times out well before), otherwise a slow job would run twice.
   */
  lockMs?: number;
  /** Names the worker in locked_by (which host and process holds a job). */
  id?: string;
  /** Jitter source, injectable for tests. */
  random?: () => number;
  log?: WorkerLog;
}

const BASE_DELAY_MS = 30_000;
const MAX_DELAY_MS = 60 * 60_000;

/**
 * Wait before the next try after `attempts` failed ones: 30 s, 1 min, 2 min, 4 min … capped
 * at 1 h, plus up to 20 % of jitter so that jobs failing together (an SMTP outage) do not
 * all come back in the same second. Never shorter than the base delay.
 */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(BASE_DELAY_MS * 2 ** Math.max(0, attempts - 1), MAX_DELAY_MS);
  return Math.round(base * (1 + 0.2 * random()));
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/**
 * Runs the jobs of the database queue, one at a time. Several workers (in one process or
 * many, on one machine or several) can run against the same database: claiming is atomic,
 * so each job is done by one of them.
 */
export class Worker {
  readonly id: string;
  private readonly db: Db;
  private readonly handlers: Record<string, JobHandler>;
  private readonly kinds: string[];
  private readonly now: () => Date;
  private readonly pollMs: number;
  private readonly lockMs: number;
  private readonly random: () => number;
  private readonly log: WorkerLog;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private interrupt: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  /** Quick re-polls left after a wake-up (the enqueuing transaction may not be committed yet). */
  private quickPolls = 0;

  constructor(o: WorkerOptions) {
    this.db = o.db;
    this.handlers = o.handlers;
    this.kinds = Object.keys(o.handlers);
    if (this.kinds.length === 0) throw new Error('a worker needs at least one job handler');
    this.now = o.now ?? (() => new Date());
    this.pollMs = o.pollMs ?? 1000;
    this.lockMs = o.lockMs ?? 10 * 60_000;
    this.random = o.random ?? Math.random;
    this.log = o.log ?? silent;
    this.id = o.id ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  }

  get running(): boolean {
    return this.loop !== null;
  }

  /** Polls until stop(); returns at once. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.unsubscribe = onJobEnqueued(() => this.wake());
    this.loop = this.run();
  }

  /** Resolves once the job in progress (if any) is finished and recorded; takes no other. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.interrupt?.();
    await this.loop;
    this.loop = null;
  }

  /** Look for work now rather than at the next poll (a job was just added). */
  wake(): void {
    this.quickPolls = 5;
    this.interrupt?.();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let worked = false;
      try {
        worked = await this.runOnce();
      } catch (err) {
        // The database is unreachable, say: try again at the next poll.
        this.log.error({ err, worker: this.id }, 'job queue poll failed');
      }
      if (this.stopping) break;
      if (worked) continue;
      const pause = this.quickPolls > 0 ? 25 : this.pollMs;
      if (this.quickPolls > 0) this.quickPolls--;
      await this.sleep(pause);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.interrupt = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.interrupt = done;
    });
  }

  /** Claims one due job and runs it; false when there was none. */
  async runOnce(): Promise<boolean> {
    const now = this.now();
    if (!(await hasDueJob(this.db, this.kinds, now))) return false;
    const abandoned = await failAbandonedJobs(this.db, this.kinds, now);
    if (abandoned > 0) this.log.warn({ count: abandoned, worker: this.id }, 'abandoned jobs marked failed');
    const job = await claimNextJob(this.db, { workerId: this.id, kinds: this.kinds, now, lockMs: this.lockMs });
    if (!job) return false;
    await this.execute(job);
    return true;
  }

  private async execute(job: Job): Promise<void> {
    let result: void | { retain: unknown };
    try {
      let payload: unknown;
      try {
        payload = JSON.parse(job.payload_json);
      } catch {
        throw new PermanentJobError('contenu de la tâche illisible');
      }
      result = await this.handlers[job.kind]!(payload, job);
    } catch (err) {
      const permanent = err instanceof PermanentJobError;
      const exhausted = job.attempts >= job.max_attempts;
      const retryAt =
        permanent || exhausted ? null : new Date(this.now().getTime() + retryDelayMs(job.attempts, this.random));
      const error = describeError(err);
      await this.record(job, () => failJob(this.db, job, this.id, { error, retryAt, now: this.now() }));
      const context = { jobId: job.id, kind: job.kind, attempts: job.attempts, error, worker: this.id };
      if (retryAt) this.log.warn({ ...context, retryAt: retryAt.toISOString() }, 'job failed, will retry');
      else this.log.error(context, 'job failed for good');
      return;
    }
    // Recorded as done right after the handler succeeded, in this same step, so a mail the
    // SMTP server accepted is not sent again. What remains is at-least-once: if the process
    // dies (SIGKILL, power loss) or the database stays unreachable between the server's
    // acceptance and this update, the lock expires and another try sends the mail a second
    // time. That window is a few milliseconds; a lost mail would be worse than a duplicate.
    const retained = result ? JSON.stringify(result.retain) : undefined;
    await this.record(job, () => completeJob(this.db, job, this.id, this.now(), retained));
  }

  /** Writes a job's outcome, riding out a short database hiccup rather than redoing the job later. */
  private async record(job: Job, write: () => Promise<boolean>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (!(await write())) {
          // Another worker took the job over after our lock expired: its outcome prevails.
          this.log.warn({ jobId: job.id, worker: this.id }, 'job lock lost before its outcome was recorded');
        }
        return;
      } catch (err) {
        if (attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, Math.min(this.pollMs, 1000) * attempt));
      }
    }
  }
}
