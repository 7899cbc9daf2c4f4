import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../test/helpers/app.ts';
import { createTestDb, dialects, type TestDb } from '../../../test/helpers/db.ts';
import { createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { createMailer } from '../../adapters/mailer/mailer.ts';
import { main } from '../../cli.ts';
import { writeNewSecrets } from '../../core/secrets/secrets.ts';
import { agencyIdentity } from '../../core/agency/agency.ts';
import { createContext } from '../../core/context.ts';
import type { JobsTable } from '../../core/jobs/jobs.repository.ts';
import { LIMITS } from '../../core/security/attempts.ts';
import { createDb, type Db } from '../../db/db.ts';
import { createWorker } from '../../worker.ts';
import { EMAIL_TAKEN_PER_ACCOUNT, EMAIL_TAKEN_PER_IP } from '../claim/claim.service.ts';
import { EMAIL_CHANGE_LIMIT, VERIFY_RESEND_LIMIT } from '../profile/profile.service.ts';
import {
  ATTEMPTS_KEPT_MS,
  PURGE_JOB,
  nextPurgeAt,
  purgeExpired,
  schedulePurge,
  type PurgeCounts,
} from './maintenance.service.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const NOW = new Date('2026-12-03T08:30:00.000Z');
const at = (offsetMs: number, from = NOW) => new Date(from.getTime() + offsetMs).toISOString();

const jobs = (db: Db) => db.withTables<{ jobs: JobsTable }>();

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function addJob(db: Db, name: string, status: JobsTable['status'], finishedAt: string | null) {
  await jobs(db)
    .insertInto('jobs')
    .values({
      kind: 'mail',
      payload_json: JSON.stringify({ name }),
      status,
      attempts: 1,
      max_attempts: 30,
      run_at: at(-60 * DAY),
      created_at: at(-60 * DAY),
      finished_at: finishedAt,
    })
    .execute();
}

async function auditCount(db: Db): Promise<number> {
  const r = await db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

describe('attempt rows are kept longer than any limit counts them', () => {
  it('outlives every window', () => {
    const limits = [
      ...Object.values(LIMITS),
      EMAIL_TAKEN_PER_ACCOUNT,
      EMAIL_TAKEN_PER_IP,
      VERIFY_RESEND_LIMIT,
      EMAIL_CHANGE_LIMIT,
    ];
    for (const l of limits) expect(ATTEMPTS_KEPT_MS, l.scope).toBeGreaterThan(l.windowMs);
  });
});

describe.each(dialects)('purge of expired data (%s)', (dialect) => {
  let tdb: TestDb;
  let db: Db;
  let dataDir: string;
  beforeAll(async () => {
    tdb = await createTestDb(dialect);
    db = tdb.db;
    dataDir = mkdtempSync(path.join(tmpdir(), 'palier-purge-'));
  });
  afterAll(async () => {
    await tdb?.destroy();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const ctx = () =>
    createContext({
      db,
      config: { secrets: writeNewSecrets(dataDir) } as Parameters<typeof createContext>[0]['config'],
      agency: agencyIdentity(db),
      actor: { kind: 'system', name: 'purge', ip: null },
      now: () => NOW,
    });

  it('removes sessions, attempts, links, tickets and jobs past their time, keeps the live ones and the audit log', async () => {
    const user = await createUser(db);
    const account = await seedAccount(db, { secrets: writeNewSecrets(dataDir) }, { accessCode: null });
    const session = (id: string, createdAt: number, lastSeen: number, expires: number) =>
      db
        .insertInto('sessions')
        .values({
          id_hash: id,
          user_id: user.id,
          created_at: at(createdAt),
          last_seen_at: at(lastSeen),
          expires_at: at(expires),
          ip: '10.0.0.1',
          user_agent: 'test',
        })
        .execute();
    await session('ended-days-ago', -3 * DAY, -2 * DAY - HOUR, -2 * DAY);
    // Idle for more than a day past the idle timeout, its absolute end not yet a day old.
    await session('idle-days-ago', -30 * HOUR, -27 * HOUR, -18 * HOUR);
    await session('ended-an-hour-ago', -13 * HOUR, -2 * HOUR, -HOUR);
    await session('live', -HOUR, -10 * MIN, 11 * HOUR);

    for (const [key, offset] of [
      ['yesterday', -25 * HOUR],
      ['two-hours-ago', -2 * HOUR],
      ['just-now', -5 * MIN],
    ] as const) {
      await db
        .insertInto('auth_attempts')
        .values({ scope: 'login:email', key, created_at: at(offset) })
        .execute();
    }

    const token = (hash: string, expires: number, used: number | null) =>
      db
        .insertInto('user_tokens')
        .values({
          token_hash: hash,
          user_id: user.id,
          purpose: 'reset_password',
          new_email: null,
          created_at: at(expires - HOUR),
          expires_at: at(expires),
          used_at: used === null ? null : at(used),
        })
        .execute();
    await token('used-days-ago', -DAY, -2 * DAY);
    await token('expired-unused', -25 * HOUR, null);
    await token('used-an-hour-ago', 23 * HOUR, -HOUR);
    await token('live', HOUR, null);

    const ticket = (hash: string, expires: number) =>
      db
        .insertInto('claim_tickets')
        .values({
          token_hash: hash,
          account_id: account.id,
          created_at: at(expires - 30 * MIN),
          expires_at: at(expires),
        })
        .execute();
    await ticket('expired-yesterday', -25 * HOUR);
    await ticket('expired-just-now', -10 * MIN);
    await ticket('live', 20 * MIN);

    await addJob(db, 'done-8-days-ago', 'done', at(-8 * DAY));
    await addJob(db, 'done-6-days-ago', 'done', at(-6 * DAY));
    await addJob(db, 'failed-31-days-ago', 'failed', at(-31 * DAY));
    await addJob(db, 'failed-29-days-ago', 'failed', at(-29 * DAY));
    await addJob(db, 'pending-for-long', 'pending', null);
    await addJob(db, 'running', 'running', null);

    await db
      .insertInto('audit_events')
      .values([
        {
          at: at(-400 * DAY),
          action: 'login',
          outcome: 'success',
          user_id: user.id,
          account_id: null,
          ip: null,
          details_json: null,
        },
        {
          at: at(-40 * DAY),
          action: 'claim',
          outcome: 'failure',
          user_id: null,
          account_id: account.id,
          ip: null,
          details_json: null,
        },
      ])
      .execute();
    const audit = await auditCount(db);

    expect(await purgeExpired(ctx())).toEqual({
      sessions: 2,
      attempts: 1,
      tokens: 2,
      claimTickets: 1,
      doneJobs: 1,
      failedJobs: 1,
    } satisfies PurgeCounts);

    const ids = async (q: Promise<{ id: string }[]>) => (await q).map((r) => r.id).sort();
    expect(await ids(db.selectFrom('sessions').select('id_hash as id').execute())).toEqual([
      'ended-an-hour-ago',
      'live',
    ]);
    expect(await ids(db.selectFrom('auth_attempts').select('key as id').execute())).toEqual([
      'just-now',
      'two-hours-ago',
    ]);
    expect(await ids(db.selectFrom('user_tokens').select('token_hash as id').execute())).toEqual([
      'live',
      'used-an-hour-ago',
    ]);
    expect(await ids(db.selectFrom('claim_tickets').select('token_hash as id').execute())).toEqual([
      'expired-just-now',
      'live',
    ]);
    const left = (await jobs(db).selectFrom('jobs').select('payload_json').execute()).map(
      (j) => (JSON.parse(j.payload_json) as { name: string }).name,
    );
    expect(left.sort()).toEqual(['done-6-days-ago', 'failed-29-days-ago', 'pending-for-long', 'running']);
    expect(await auditCount(db)).toBe(audit);

    // Nothing left to do the second time.
    expect(Object.values(await purgeExpired(ctx()))).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('`npx palier purger` purges and says how much, in French', async () => {
    await db
      .insertInto('auth_attempts')
      .values([
        { scope: 'code:ip', key: 'cli-old', created_at: at(-3 * DAY, new Date()) },
        { scope: 'code:ip', key: 'cli-recent', created_at: new Date().toISOString() },
      ])
      .execute();
    const audit = await auditCount(db);
    const out: string[] = [];
    const err: string[] = [];
    const saved = { ...process.env };
    process.env.DATA_DIR = dataDir;
    process.env.DATABASE_URL = tdb.url;
    // Vitest sets BASE_URL for Vite: the CLI must see only this configuration.
    delete process.env.BASE_URL;
    try {
      await main(['purger'], { out: (l) => out.push(l), err: (l) => err.push(l) });
    } finally {
      process.env = saved;
    }
    expect(err).toEqual([]);
    expect(process.exitCode ?? 0).toBe(0);
    expect(out[0]).toBe('Données expirées supprimées\u00a0:');
    expect(out).toContain('  compteurs de tentatives\u00a0: 1');
    expect(out).toContain('  sessions terminées\u00a0: 0');
    expect(out.at(-1)).toBe('Le journal d’audit est conservé en entier.');
    const keys = (await db.selectFrom('auth_attempts').select('key').where('key', 'like', 'cli-%').execute()).map(
      (r) => r.key,
    );
    expect(keys).toEqual(['cli-recent']);
    expect(await auditCount(db)).toBe(audit);
  });
});

describe.each(dialects)('the hourly purge job (%s)', (dialect) => {
  it('is queued once per hour by every instance, run by one of them, and queues the next', async () => {
    const t = await buildTestApp(dialect);
    const otherDb = createDb(t.config.databaseUrl);
    const mailer = createMailer(t.config);
    // A second instance's worker, on its own connection, at the same time.
    const other = createWorker({ db: otherDb, mailer, config: t.config }, { now: () => t.clock.now, pollMs: 50 });
    try {
      const purgeJobs = () =>
        jobs(t.db).selectFrom('jobs').selectAll().where('kind', '=', PURGE_JOB).orderBy('run_at').execute();
      const slot = nextPurgeAt(t.clock.now);
      // The app's worker queued it when it started.
      await until(async () => (await purgeJobs()).length > 0, 'the first purge queued');
      other.start();
      await Promise.all([schedulePurge(t.db, t.clock.now), schedulePurge(otherDb, t.clock.now)]);
      expect((await purgeJobs()).map((j) => [j.status, j.run_at])).toEqual([['pending', slot.toISOString()]]);

      const user = await createUser(t.db);
      for (const [id, expires] of [
        ['old', -2 * DAY],
        ['live', 2 * HOUR],
      ] as const) {
        await t.db
          .insertInto('sessions')
          .values({
            id_hash: `worker-${id}`,
            user_id: user.id,
            created_at: at(expires - 12 * HOUR, slot),
            last_seen_at: at(expires - HOUR, slot),
            expires_at: at(expires, slot),
            ip: null,
            user_agent: null,
          })
          .execute();
      }

      t.clock.advance(slot.getTime() - t.clock.now.getTime() + MIN);
      await until(async () => (await purgeJobs())[0]?.status === 'done', 'the purge done');
      const [done, next] = await purgeJobs();
      expect(done).toMatchObject({ status: 'done', attempts: 1 });
      expect(JSON.parse(done!.payload_json)).toMatchObject({ sessions: 1 });
      expect(next).toMatchObject({ status: 'pending', run_at: new Date(slot.getTime() + HOUR).toISOString() });
      expect(await purgeJobs()).toHaveLength(2);
      const sessions = await t.db.selectFrom('sessions').select('id_hash').where('user_id', '=', user.id).execute();
      expect(sessions.map((s) => s.id_hash)).toEqual(['worker-live']);
    } finally {
      await other.stop();
      await otherDb.destroy();
      mailer.close();
      await t.close();
    }
  });
});
