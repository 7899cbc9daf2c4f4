import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDb, dialects, type TestDb } from '../../../test/helpers/db.ts';
import { createDb, type Db } from '../../db/db.ts';
import {
  claimNextJob,
  completeJob,
  DEFAULT_MAX_ATTEMPTS,
  enqueue,
  findJob,
  retryFailedJob,
  type Job,
  type JobsTable,
} from './jobs.repository.ts';
import { PermanentJobError, retryDelayMs, Worker, type JobHandler } from './worker.ts';

const jobs = (db: Db) => db.withTables<{ jobs: JobsTable }>();

/** A clock the test moves by hand. */
function manualClock(start = new Date('2026-11-28T09:00:00Z')) {
  return {
    now: start,
    advance(ms: number) {
      this.now = new Date(this.now.getTime() + ms);
    },
  };
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('retry delays', () => {
  it('grow from 30 seconds, double each time, stop at one hour, with at most 20 % of jitter', () => {
    expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(a, () => 0))).toEqual([30_000, 60_000, 120_000, 240_000, 480_000]);
    expect(retryDelayMs(8, () => 0)).toBe(3_600_000);
    expect(retryDelayMs(20, () => 0)).toBe(3_600_000);
    expect(retryDelayMs(1, () => 0.999)).toBeLessThanOrEqual(36_000);
    // The default number of tries covers about a day before a job is given up.
    let total = 0;
    for (let a = 1; a < DEFAULT_MAX_ATTEMPTS; a++) total += retryDelayMs(a, () => 0);
    expect(total / 3_600_000).toBeGreaterThan(20);
    expect(total / 3_600_000).toBeLessThan(28);
  });
});

describe.each(dialects)('job queue (%s)', (dialect) => {
  let tdb: TestDb;
  let db: Db;
  beforeAll(async () => {
    tdb = await createTestDb(dialect);
    db = tdb.db;
  });
  afterAll(async () => {
    await tdb?.destroy();
  });
  beforeEach(async () => {
    await jobs(db).deleteFrom('jobs').execute();
  });

  it('adds a job only when the transaction that adds it commits', async () => {
    const now = new Date();
    await expect(
      db.transaction().execute(async (trx) => {
        await enqueue(trx, 'test', { n: 1 }, { now });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await jobs(db).selectFrom('jobs').selectAll().execute()).toEqual([]);

    await db.transaction().execute((trx) => enqueue(trx, 'test', { n: 2 }, { now }));
    const rows = await jobs(db).selectFrom('jobs').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 'test', status: 'pending', attempts: 0, max_attempts: DEFAULT_MAX_ATTEMPTS });
    expect(JSON.parse(rows[0]!.payload_json)).toEqual({ n: 2 });
  });

  it('takes due jobs of its kinds, oldest first, and leaves the others', async () => {
    const clock = manualClock();
    await enqueue(db, 'test', { n: 'later' }, { now: clock.now, runAt: new Date(clock.now.getTime() + 60_000) });
    await enqueue(db, 'other', { n: 'other kind' }, { now: clock.now });
    await enqueue(db, 'test', { n: 'first' }, { now: clock.now });
    await enqueue(db, 'test', { n: 'second' }, { now: clock.now });
    const take = () => claimNextJob(db, { workerId: 'w', kinds: ['test'], now: clock.now, lockMs: 3_600_000 });
    const a = await take();
    const b = await take();
    expect([a, b].map((j) => JSON.parse(j!.payload_json).n)).toEqual(['first', 'second']);
    expect(a).toMatchObject({ status: 'running', locked_by: 'w', attempts: 1 });
    expect(await take()).toBeUndefined();
    clock.advance(60_000);
    expect(JSON.parse((await take())!.payload_json).n).toBe('later');
  });

  it('retries a failing job later and later on the clock, then records it done', async () => {
    const clock = manualClock();
    let calls = 0;
    const handler: JobHandler = async () => {
      calls++;
      if (calls <= 2) throw new Error(`connect ECONNREFUSED (try ${calls})`);
    };
    const worker = new Worker({ db, handlers: { test: handler }, now: () => clock.now, random: () => 0 });
    const id = await enqueue(db, 'test', {}, { now: clock.now });

    expect(await worker.runOnce()).toBe(true);
    let job = (await findJob(db, id))!;
    expect(job).toMatchObject({ status: 'pending', attempts: 1, last_error: 'connect ECONNREFUSED (try 1)' });
    expect(Date.parse(job.run_at) - clock.now.getTime()).toBe(30_000);

    clock.advance(29_000);
    expect(await worker.runOnce()).toBe(false);
    clock.advance(1_000);
    expect(await worker.runOnce()).toBe(true);
    job = (await findJob(db, id))!;
    expect(job).toMatchObject({ status: 'pending', attempts: 2 });
    expect(Date.parse(job.run_at) - clock.now.getTime()).toBe(60_000);

    clock.advance(59_999);
    expect(await worker.runOnce()).toBe(false);
    clock.advance(1);
    expect(await worker.runOnce()).toBe(true);
    job = (await findJob(db, id))!;
    expect(job).toMatchObject({ status: 'done', attempts: 3, locked_by: null });
    expect(job.finished_at).toBe(clock.now.toISOString());
    expect(calls).toBe(3);
  });

  it('gives a job up after its last attempt, with the reason, and staff can requeue it', async () => {
    const clock = manualClock();
    let fail = true;
    const worker = new Worker({
      db,
      handlers: {
        test: async () => {
          if (fail) throw new Error('421 service not available');
        },
      },
      now: () => clock.now,
    });
    const id = await enqueue(db, 'test', {}, { now: clock.now, maxAttempts: 3 });
    for (let i = 0; i < 3; i++) {
      expect(await worker.runOnce()).toBe(true);
      clock.advance(2 * 3_600_000);
    }
    expect(await worker.runOnce()).toBe(false);
    const failed = (await findJob(db, id))!;
    expect(failed).toMatchObject({ status: 'failed', attempts: 3, last_error: '421 service not available' });
    expect(failed.finished_at).not.toBeNull();

    expect(await retryFailedJob(db, id + 1000, clock.now)).toEqual({ ok: false, reason: 'not_found' });
    fail = false;
    expect((await retryFailedJob(db, id, clock.now)).ok).toBe(true);
    expect((await retryFailedJob(db, id, clock.now)).ok).toBe(false);
    expect(await worker.runOnce()).toBe(true);
    expect(await findJob(db, id)).toMatchObject({ status: 'done', attempts: 1 });
  });

  it('does not retry a permanent failure', async () => {
    const clock = manualClock();
    const worker = new Worker({
      db,
      handlers: {
        test: async () => {
          throw new PermanentJobError('550 mailbox unavailable');
        },
      },
      now: () => clock.now,
    });
    const id = await enqueue(db, 'test', {}, { now: clock.now });
    await worker.runOnce();
    expect(await findJob(db, id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_error: '550 mailbox unavailable',
    });
  });

  it('takes over a job whose worker died once its lock has expired, and not before', async () => {
    const clock = manualClock();
    const id = await enqueue(db, 'test', {}, { now: clock.now });
    // A worker takes the job, then its process is killed: the row stays 'running'.
    const dead = await claimNextJob(db, { workerId: 'dead', kinds: ['test'], now: clock.now, lockMs: 10 * 60_000 });
    expect(dead?.id).toBe(id);

    const done: number[] = [];
    const worker = new Worker({
      db,
      handlers: {
        test: async (_p, job) => {
          done.push(job.id);
        },
      },
      now: () => clock.now,
      lockMs: 10 * 60_000,
    });
    clock.advance(10 * 60_000 - 1);
    expect(await worker.runOnce()).toBe(false);
    clock.advance(1);
    expect(await worker.runOnce()).toBe(true);
    expect(done).toEqual([id]);
    expect(await findJob(db, id)).toMatchObject({ status: 'done', attempts: 2 });
    // The dead worker's late answer changes nothing.
    expect(await completeJob(db, dead!, 'dead', clock.now)).toBe(false);
  });

  it('fails a job whose worker died during its last allowed attempt instead of taking it again', async () => {
    const clock = manualClock();
    const id = await enqueue(db, 'test', {}, { now: clock.now, maxAttempts: 1 });
    await claimNextJob(db, { workerId: 'dead', kinds: ['test'], now: clock.now, lockMs: 60_000 });
    const worker = new Worker({ db, handlers: { test: async () => {} }, now: () => clock.now });
    clock.advance(60_000);
    expect(await worker.runOnce()).toBe(false);
    const job = (await findJob(db, id))!;
    expect(job.status).toBe('failed');
    expect(job.last_error).toContain('traitement interrompu');
  });

  it('wakes at once for a job added in its process, and stop() waits for the job in hand', async () => {
    let release!: () => void;
    const started: number[] = [];
    const finished: number[] = [];
    const worker = new Worker({
      db,
      pollMs: 60_000,
      handlers: {
        test: async (_p, job) => {
          started.push(job.id);
          await new Promise<void>((r) => (release = r));
          finished.push(job.id);
        },
      },
    });
    worker.start();
    try {
      // Let the first poll find nothing: from now on the worker sleeps for a minute.
      await new Promise((r) => setTimeout(r, 100));
      const first = await db.transaction().execute((trx) => enqueue(trx, 'test', {}, { now: new Date() }));
      await until(() => started.length === 1, 2000);
      const second = await enqueue(db, 'test', {}, { now: new Date() });

      let stopped = false;
      const stopping = worker.stop().then(() => (stopped = true));
      await new Promise((r) => setTimeout(r, 100));
      expect(stopped).toBe(false);
      release();
      await stopping;
      expect(finished).toEqual([first]);
      expect((await findJob(db, first))!.status).toBe('done');
      // Taken by no one after stop(): it waits for the next worker.
      expect((await findJob(db, second))!.status).toBe('pending');
    } finally {
      release?.();
      await worker.stop();
    }
  });

  it('runs each of 50 jobs exactly once with four workers on two separate connections', async () => {
    const other = createDb(tdb.url);
    const ran: { job: number; worker: string }[] = [];
    const handler: JobHandler = async (_p, job: Job) => {
      ran.push({ job: job.id, worker: job.locked_by! });
      await new Promise((r) => setTimeout(r, Math.random() * 4));
    };
    const workers = [db, db, other, other].map(
      (d, i) => new Worker({ db: d, handlers: { race: handler }, pollMs: 5, id: `w${i}` }),
    );
    try {
      const now = new Date();
      const ids: number[] = [];
      for (let i = 0; i < 50; i++) ids.push(await enqueue(db, 'race', { i }, { now }));
      for (const w of workers) w.start();
      await until(async () => {
        const left = await jobs(db)
          .selectFrom('jobs')
          .select('id')
          .where('kind', '=', 'race')
          .where('status', '!=', 'done')
          .execute();
        return left.length === 0;
      }, 20_000);
      await Promise.all(workers.map((w) => w.stop()));

      expect(ran).toHaveLength(50);
      expect(new Set(ran.map((r) => r.job))).toEqual(new Set(ids));
      expect(new Set(ran.map((r) => r.worker)).size).toBeGreaterThan(1);
      const rows = await jobs(db).selectFrom('jobs').selectAll().where('kind', '=', 'race').execute();
      expect(rows.every((r) => r.status === 'done' && r.attempts === 1)).toBe(true);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await other.destroy();
    }
  });
});
