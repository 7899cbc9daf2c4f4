/**
 * `npm run bench`: how fast the pages that matter are, compared with what the same stack
 * does for free.
 *
 * 1. Generates an agency (10 000 client accounts, 1 000 000 ledger lines) in a fresh
 *    database: an SQLite file in a temporary DATA_DIR, or a new PostgreSQL database when
 *    BENCH_DATABASE_URL=postgres://… is given (created, then dropped at the end).
 * 2. Starts the app in a child process (bench/server.ts) on 127.0.0.1, port chosen by the OS.
 * 3. Logs people in through HTTP and measures with autocannon, warm-up first:
 *    - the home page (/accueil) of people holding 1–3 accounts, and the full statement of
 *      accounts with exactly 2 000 lines, each against a static page of the same byte size
 *      served by the same app instance behind the same plugins and the same session cookie;
 *    - logins (POST /connexion with a valid CSRF token) against bare argon2 verifications
 *      (verifyPassword) at the same concurrency, run by the server process itself.
 *    - the health check (/sante) while 20 clients post 128-character passwords to the reset
 *      form (/nouveau-mot-de-passe), each with links of their own, against the same health
 *      check with nothing else going on: p50 / p99 latencies and their ratios. The
 *      password-strength scoring must not hold up the event loop (BENCH_ONLY=passwords runs
 *      it alone, without generating the agency's data).
 * 4. The soak (bench/soak.ts): two real instances (src/server.ts) on the same data, 200
 *    people each reading their home page and their statements in turn, every client's
 *    requests alternating between the two instances, for 60 s; requests per second and
 *    p50 / p90 / p99 / max latencies per page, per instance and overall, each instance's
 *    memory and CPU.
 * Every response is checked (status, byte size, redirect target); any unexpected answer,
 * connection error or timeout (or an error logged by a soak instance) makes the run fail
 * with exit code 1.
 *
 * Settings: BENCH_SECONDS (10, per measured target), BENCH_WARMUP_SECONDS (2),
 * BENCH_CONNECTIONS (10), BENCH_ROUNDS (4), BENCH_DATABASE_URL (unset: SQLite),
 * BENCH_SOAK_SECONDS (60), BENCH_SOAK_CLIENTS (200), BENCH_SOAK_TIMEOUT_SECONDS (10),
 * BENCH_SOAK_LOG_DIR (unset: the instances' logs are deleted with the temporary DATA_DIR),
 * BENCH_ONLY (home,statement,login,passwords,soak,fec), BENCH_CPU_PROF_DIR (unset: no profile; a
 * folder: the measured server's node --cpu-prof profile is written there when it stops).
 * 5. The FEC import (bench/fec.ts): a generated FEC of BENCH_FEC_LINES lines (500 000), lines
 *    per second against reading and splitting the same file, and peak memory.
 *    `BENCH_ONLY=fec npm run bench` runs it alone, without generating the agency.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { writeNewSecrets } from '../src/core/secrets/secrets.ts';
import { hashPassword } from '../src/core/security/passwords.ts';
import { createDb, dialectOf, migrateToLatest } from '../src/db/db.ts';
import { generate, type GeneratedData } from './generate.ts';
import { fetchPage, homeCheck, loginForm, logIn, PASSWORD, statementPath, statementRowsCheck } from './http.ts';
import {
  ADVERSARIAL_PASSWORD,
  POSTS_PER_LINK,
  createResetLinks,
  health,
  postResetForm,
  resetForm,
  type ResetForm,
} from './passwords.ts';
import type { Argon2Request, Argon2Result, ServerArgs, ServerMessage } from './server.ts';
import { runFecBench } from './fec.ts';
import { runSoak, stopSoakInstances } from './soak.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return n;
}

const SECONDS = positiveNumber('BENCH_SECONDS', 10);
const WARMUP_SECONDS = positiveNumber('BENCH_WARMUP_SECONDS', 2);
const CONNECTIONS = Math.round(positiveNumber('BENCH_CONNECTIONS', 10));
/** Each measure is split into this many slices, alternating target and baseline. */
const ROUNDS = Math.round(positiveNumber('BENCH_ROUNDS', 4));
const SETTLE_MS = 500;
const PG_ADMIN_URL = process.env.BENCH_DATABASE_URL || null;
const SOAK_SECONDS = positiveNumber('BENCH_SOAK_SECONDS', 60);
const SOAK_CLIENTS = Math.round(positiveNumber('BENCH_SOAK_CLIENTS', 200));
const SOAK_TIMEOUT_MS = positiveNumber('BENCH_SOAK_TIMEOUT_SECONDS', 10) * 1000;
const PARTS = ['home', 'statement', 'login', 'passwords', 'soak', 'fec'] as const;
/** The parts that need the generated agency (10 000 accounts, 1 000 000 ledger lines). */
const DATA_PARTS = new Set<string>(['home', 'statement', 'login', 'soak']);
/** Clients posting new passwords at once, and the reset links made for them (10 posts each). */
const PASSWORD_POSTERS = 20;
const RESET_LINKS = 100;
/** A folder for the measured server's CPU profile (node --cpu-prof), written when it stops. */
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF_DIR ? path.resolve(process.env.BENCH_CPU_PROF_DIR) : null;
const FEC_LINES = Math.round(positiveNumber('BENCH_FEC_LINES', 500_000));
/** BENCH_ONLY=login (or home,statement…, or soak) runs part of the bench, for working on one page. */
const ONLY = new Set((process.env.BENCH_ONLY || PARTS.join(',')).split(',').map((s) => s.trim()));
for (const part of ONLY)
  if (!(PARTS as readonly string[]).includes(part))
    throw new Error(`BENCH_ONLY: unknown part "${part}" (${PARTS.join(', ')})`);

// ---------------------------------------------------------------------------------------
// Formatting

const int = (n: number) =>
  Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
const ms = (n: number) => `${n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)} ms`;
const average = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const secs = (t: number) => `${(t / 1000).toFixed(1)} s`;

// ---------------------------------------------------------------------------------------
// Database lifecycle

interface BenchDb {
  url: string;
  label: string;
  size(): Promise<number>;
  drop(): Promise<void>;
}

async function createBenchDb(dataDir: string): Promise<BenchDb> {
  if (!PG_ADMIN_URL) {
    const file = path.join(dataDir, 'palier.sqlite');
    return {
      url: `sqlite:${file}`,
      label: 'SQLite',
      async size() {
        return [file, `${file}-wal`].filter((f) => existsSync(f)).reduce((s, f) => s + statSync(f).size, 0);
      },
      async drop() {
        // The file goes with the temporary DATA_DIR.
      },
    };
  }
  if (dialectOf(PG_ADMIN_URL) !== 'postgres') throw new Error('BENCH_DATABASE_URL must start with postgres://');
  const name = `palier_bench_${randomBytes(5).toString('hex')}`;
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>) => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    label: `PostgreSQL (${name} on ${u.host}, dropped afterwards)`,
    size: () => admin(async (c) => Number((await c.query('SELECT pg_database_size($1) AS n', [name])).rows[0].n)),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

// ---------------------------------------------------------------------------------------
// The app under test

async function startServer(args: ServerArgs): Promise<{ child: ChildProcess; base: string }> {
  const child = fork(path.join(here, 'server.ts'), [JSON.stringify(args)], {
    execArgv: ['--import', 'tsx', ...(CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const msg = await new Promise<ServerMessage>((resolve, reject) => {
    child.once('message', (m) => resolve(m as ServerMessage));
    child.once('exit', (code) => reject(new Error(`bench server exited with code ${code} before listening`)));
  });
  if ('error' in msg) throw new Error(`bench server failed:\n${msg.error}`);
  return { child, base: `http://127.0.0.1:${msg.port}` };
}

async function stopServer(child: ChildProcess): Promise<void> {
  // Already gone (a crash, or Ctrl-C reaching the whole process group).
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send('stop');
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------
// Load

interface Target {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  expectStatus: number;
  /** Exact body size in bytes (checked on every response). */
  expectBytes?: number;
  expectLocation?: string;
}

interface Measure {
  label: string;
  rps: number;
  p50: number;
  p99: number;
  responses: number;
  /** Unexpected answers (status, size, redirect) and connection errors or timeouts. */
  bad: number;
  badSamples: string[];
  bytes: number | null;
}

interface Pair {
  target: Measure;
  baseline: Measure;
  /** The ratio slice by slice: its spread shows how much the machine's other load moved the figures. */
  sliceRatios: number[];
}

/** What the measured slices of one target add up to. */
class Tally {
  responses = 0;
  seconds = 0;
  latencies: number[] = [];
  bad = 0;
  badSamples: string[] = [];

  fail(why: string) {
    this.bad++;
    if (this.badSamples.length < 5) this.badSamples.push(why);
  }

  measure(label: string, bytes: number | null): Measure {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return {
      label,
      rps: this.responses / this.seconds,
      p50: at(0.5),
      p99: at(0.99),
      responses: this.responses,
      bad: this.bad,
      badSamples: this.badSamples,
      bytes,
    };
  }
}

function header(headers: autocannon.Request['headers'], name: string): string | undefined {
  for (const [k, v] of Object.entries(headers ?? {}))
    if (k.toLowerCase() === name) return Array.isArray(v) ? String(v[0]) : String(v);
  return undefined;
}

/** One slice of load, added to `tally`. */
type Load = (seconds: number, tally: Tally) => Promise<void>;

/**
 * autocannon on a list of requests, every answer checked. Each connection walks the whole
 * list starting at a different place, so concurrent requests hit different people and accounts.
 */
function httpLoad(base: string, targets: Target[]): Load {
  return async (seconds, tally) => {
    const check = (t: Target, status: number, body: string, headers: autocannon.Request['headers']): string | null => {
      if (status !== t.expectStatus) return `status ${status}, expected ${t.expectStatus}`;
      if (t.expectBytes !== undefined) {
        const length = Number(header(headers, 'content-length') ?? Buffer.byteLength(body));
        if (length !== t.expectBytes) return `${length} bytes, expected ${t.expectBytes}`;
      }
      if (t.expectLocation !== undefined && header(headers, 'location') !== t.expectLocation) {
        return `location ${header(headers, 'location')}, expected ${t.expectLocation}`;
      }
      return null;
    };
    const requests: autocannon.Request[] = targets.map((t) => ({
      method: t.method,
      path: t.path,
      headers: t.headers,
      body: t.body,
      onResponse: (status: number, body: string, _ctx: object, headers: autocannon.Request['headers']) => {
        const problem = check(t, status, body, headers);
        if (problem) tally.fail(`${t.method} ${t.path}: ${problem}`);
      },
    }));
    let clientIndex = 0;
    const start = performance.now();
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(
        {
          url: base,
          connections: CONNECTIONS,
          duration: seconds,
          requests,
          setupClient: (client) => {
            const shift = Math.floor((clientIndex++ * requests.length) / CONNECTIONS);
            client.setRequests([...requests.slice(shift), ...requests.slice(0, shift)].map((r) => ({ ...r })));
          },
        },
        (err, res) => (err ? reject(err) : resolve(res)),
      );
      instance.on('response', (_client, _status, _bytes, responseTime) => {
        tally.responses++;
        tally.latencies.push(responseTime);
      });
    });
    tally.seconds += (performance.now() - start) / 1000;
    if (result.errors > 0) {
      tally.bad += result.errors;
      tally.badSamples.push(`${result.errors} connection errors (${result.timeouts} timeouts)`);
    }
  };
}

/** Bare argon2 verifications, CONNECTIONS at a time, run by the server process (see bench/server.ts). */
function argon2Load(child: ChildProcess, hash: string): Load {
  return async (seconds, tally) => {
    const result = await new Promise<Argon2Result['argon2Result']>((resolve, reject) => {
      const onMessage = (m: unknown) => {
        if (typeof m === 'object' && m !== null && 'argon2Result' in m) {
          child.off('message', onMessage);
          resolve((m as Argon2Result).argon2Result);
        }
      };
      child.on('message', onMessage);
      child.send(
        { argon2: { seconds, concurrency: CONNECTIONS, hash, password: PASSWORD } } satisfies Argon2Request,
        (err) => err && reject(err),
      );
    });
    tally.responses += result.responses;
    tally.seconds += seconds;
    for (const l of result.latencies) tally.latencies.push(l);
    for (let i = 0; i < result.failures; i++) tally.fail('verification failed');
  };
}

/** GET /sante, one after another on one connection: what a load balancer's probe sees. */
function healthLoad(base: string): Load {
  return async (seconds, tally) => {
    const start = performance.now();
    const deadline = start + seconds * 1000;
    while (performance.now() < deadline) {
      const r = await health(base);
      if (typeof r === 'string') tally.fail(r);
      else {
        tally.responses++;
        tally.latencies.push(r);
      }
    }
    tally.seconds += (performance.now() - start) / 1000;
  };
}

/**
 * The same health checks while PASSWORD_POSTERS clients post 128-character passwords to the
 * reset form, each form taken once from `forms` (a link takes 10); their answers go to `posts`.
 */
function healthWhilePostingPasswords(base: string, forms: ResetForm[], posts: Tally): Load {
  return async (seconds, tally) => {
    let stop = false;
    const start = performance.now();
    const posters = Array.from({ length: PASSWORD_POSTERS }, async () => {
      while (!stop) {
        const form = forms.pop();
        if (!form) return posts.fail(`no reset link left: raise RESET_LINKS (${RESET_LINKS})`);
        const t = performance.now();
        const problem = await postResetForm(base, form);
        if (problem) posts.fail(`POST /nouveau-mot-de-passe: ${problem}`);
        else {
          posts.responses++;
          posts.latencies.push(performance.now() - t);
        }
      }
    });
    await healthLoad(base)(seconds, tally);
    stop = true;
    await Promise.all(posters);
    posts.seconds += (performance.now() - start) / 1000;
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Target and baseline in alternating slices (B T, T B, B T…), after a warm-up of each: on a
 * shared machine, load from other processes then weighs on both sides alike instead of
 * skewing the ratio. Warm-up answers are checked too but not counted in the figures.
 */
async function compare(
  target: { label: string; load: Load; bytes: number | null },
  baseline: { label: string; load: Load; bytes: number | null },
): Promise<Pair> {
  const warmT = new Tally();
  const warmB = new Tally();
  await baseline.load(WARMUP_SECONDS, warmB);
  await target.load(WARMUP_SECONDS, warmT);
  await pause(SETTLE_MS);
  const t = new Tally();
  const b = new Tally();
  const slice = SECONDS / ROUNDS;
  const sliceRatios: number[] = [];
  const rate = async (load: Load, tally: Tally) => {
    const [n, s] = [tally.responses, tally.seconds];
    await load(slice, tally);
    // The pause lets requests still in flight at the end of a slice finish outside the next one.
    await pause(SETTLE_MS);
    return (tally.responses - n) / (tally.seconds - s);
  };
  for (let r = 0; r < ROUNDS; r++) {
    let rt: number;
    let rb: number;
    if (r % 2 === 0) {
      rb = await rate(baseline.load, b);
      rt = await rate(target.load, t);
    } else {
      rt = await rate(target.load, t);
      rb = await rate(baseline.load, b);
    }
    sliceRatios.push(rt / rb);
  }
  for (const [warm, tally] of [
    [warmT, t],
    [warmB, b],
  ] as const) {
    tally.bad += warm.bad;
    tally.badSamples.push(...warm.badSamples.map((x) => `warm-up: ${x}`));
  }
  const out = {
    target: t.measure(target.label, target.bytes),
    baseline: b.measure(baseline.label, baseline.bytes),
    sliceRatios,
  };
  process.stdout.write(
    `  ${target.label.trim()}: ${int(out.target.rps)}/s, ${baseline.label.trim()}: ${int(out.baseline.rps)}/s\n`,
  );
  return out;
}

// ---------------------------------------------------------------------------------------
// Pages

/** The same requests pointed at the static route, each with the byte size of its page. */
const staticTwin = (t: Target): Target => ({ ...t, path: `/bench/static/${t.expectBytes}` });

// ---------------------------------------------------------------------------------------

function printReport(o: {
  dbLabel: string;
  data: GeneratedData | null;
  generationMs: number;
  dbBytes: number;
  loadBefore: number;
  pairs: (Pair & { note: string })[];
  passwords?: PasswordsMeasure | null;
}) {
  const lines: string[] = [];
  lines.push('');
  lines.push(`Palier bench — ${o.dbLabel}`);
  if (o.data) {
    const c = o.data.counts;
    lines.push(
      `Data: ${int(c.accounts)} client accounts (${int(c.coproprietaire)} copropriétaires, ${int(c.locataire)} locataires, ${int(c.proprietaire)} propriétaires), ` +
        `${int(c.ledgerLines)} ledger lines, ${int(c.buildings)} buildings, ${int(c.lots)} lots, ${c.managers} managers, ${int(c.users)} people holding ${int(c.userAccounts)} accounts`,
    );
    lines.push(`      generated in ${secs(o.generationMs)}; database size ${mb(o.dbBytes)}`);
  } else {
    lines.push('Data: none generated (only parts that make their own)');
  }
  if (!o.pairs.length && !o.passwords) {
    console.log(lines.join('\n'));
    return;
  }
  lines.push('');
  lines.push(
    `Ratios: ${CONNECTIONS} connections; ${SECONDS} s per target in ${ROUNDS} slices alternating with its baseline, after ${WARMUP_SECONDS} s of warm-up each`,
  );
  lines.push(
    `Machine: ${availableParallelism()} CPUs, load average ${o.loadBefore.toFixed(1)} before measuring, ${loadavg()[0]!.toFixed(1)} after (1 min; the bench itself accounts for about 2)`,
  );
  lines.push('');
  const cols = (label: string, rps: string, p50: string, p99: string, size: string, bad: string) =>
    `${label.padEnd(48)}${rps.padStart(10)}${p50.padStart(11)}${p99.padStart(11)}${size.padStart(10)}${bad.padStart(6)}`;
  if (o.pairs.length) lines.push(cols('', 'req/s', 'p50', 'p99', 'bytes', 'bad'));
  for (const p of o.pairs) {
    for (const m of [p.target, p.baseline]) {
      lines.push(cols(m.label, int(m.rps), ms(m.p50), ms(m.p99), m.bytes === null ? '' : int(m.bytes), String(m.bad)));
    }
    const spread = `${Math.min(...p.sliceRatios).toFixed(2)}–${Math.max(...p.sliceRatios).toFixed(2)}`;
    lines.push(
      `${'  → ratio'.padEnd(48)}${(p.target.rps / p.baseline.rps).toFixed(2).padStart(10)}   (slices ${spread}) ${p.note}`,
    );
    lines.push('');
  }
  if (o.passwords) {
    const { loaded, idle, posts } = o.passwords;
    lines.push(
      `health check /sante while ${PASSWORD_POSTERS} clients post 128-character passwords to /nouveau-mot-de-passe:`,
    );
    lines.push(
      `  p50 ${ms(loaded.p50)}, p99 ${ms(loaded.p99)} (${int(loaded.responses)} checks) vs idle p50 ${ms(idle.p50)}, p99 ${ms(idle.p99)} (${int(idle.responses)} checks)`,
    );
    lines.push(
      `  → ratio p50 ${(loaded.p50 / idle.p50).toFixed(2)}, p99 ${(loaded.p99 / idle.p99).toFixed(2)}; ` +
        `meanwhile ${int(posts.responses)} passwords refused (${posts.rps.toFixed(1)}/s, each answered in p50 ${ms(posts.p50)}, p99 ${ms(posts.p99)}), ${posts.bad} bad`,
    );
    lines.push('');
  }
  lines.push(
    'bad = answers with an unexpected status, size or redirect, plus connection errors and timeouts (warm-up included).',
  );
  lines.push(
    'slices = the ratio in each of the alternating slices; a wide spread means other processes were loading the machine.',
  );
  console.log(lines.join('\n'));
}

interface PasswordsMeasure {
  loaded: Measure;
  idle: Measure;
  posts: Measure;
}

/** The ratios against same-run baselines, on the bench server (bench/server.ts). */
async function measureRatios(o: {
  dataDir: string;
  databaseUrl: string;
  data: GeneratedData | null;
  passwordHash: string;
  onServer: (child: ChildProcess) => void;
}): Promise<{ pairs: (Pair & { note: string })[]; loadBefore: number; passwords: PasswordsMeasure | null }> {
  const server = await startServer({ dataDir: o.dataDir, databaseUrl: o.databaseUrl });
  o.onServer(server.child);
  const base = server.base;
  const { passwordHash } = o;
  // Only the password part runs without the generated agency.
  const data = o.data ?? ({ homePeople: [], statementTargets: [], loginPeople: [] } as unknown as GeneratedData);

  // Sessions as a browser holds them: one login per person, through HTTP.
  const cookieOf = new Map<number, string>();
  const needSessions = [
    ...(ONLY.has('home') ? data.homePeople : []),
    ...(ONLY.has('statement') ? data.statementTargets.map((s) => s.person) : []),
  ];
  for (const p of needSessions) cookieOf.set(p.userId, await logIn(base, p));
  if (cookieOf.size) console.log(`  ${cookieOf.size} people logged in`);

  const pairs: (Pair & { note: string })[] = [];
  const loadBefore = loadavg()[0]!;
  console.log('Measuring…');
  if (ONLY.has('home')) {
    const targets: Target[] = [];
    for (const p of data.homePeople) {
      const cookie = cookieOf.get(p.userId)!;
      const bytes = await fetchPage(base, cookie, '/accueil', homeCheck);
      targets.push({ method: 'GET', path: '/accueil', headers: { cookie }, expectStatus: 200, expectBytes: bytes });
    }
    const sizes = targets.map((t) => t.expectBytes!);
    const mean = average(sizes);
    const pair = await compare(
      { label: 'home page /accueil', load: httpLoad(base, targets), bytes: mean },
      {
        label: '  static page, same sizes, same session',
        load: httpLoad(base, targets.map(staticTwin)),
        bytes: mean,
      },
    );
    pairs.push({
      ...pair,
      note: `${data.homePeople.length} people with 1–3 accounts, pages of ${int(Math.min(...sizes))}–${int(Math.max(...sizes))} bytes`,
    });
  }
  if (ONLY.has('statement')) {
    const lines = data.statementTargets[0]!.lines;
    const targets: Target[] = [];
    for (const s of data.statementTargets) {
      const cookie = cookieOf.get(s.person.userId)!;
      const url = statementPath(s.accountId);
      const bytes = await fetchPage(base, cookie, url, statementRowsCheck(s.lines));
      targets.push({ method: 'GET', path: url, headers: { cookie }, expectStatus: 200, expectBytes: bytes });
    }
    const mean = average(targets.map((t) => t.expectBytes!));
    const pair = await compare(
      { label: `statement /comptes/:id/extrait (${int(lines)} lines)`, load: httpLoad(base, targets), bytes: mean },
      {
        label: '  static page, same sizes, same session',
        load: httpLoad(base, targets.map(staticTwin)),
        bytes: mean,
      },
    );
    pairs.push({ ...pair, note: `${targets.length} accounts of ${int(lines)} lines, one person each` });
  }
  if (ONLY.has('login')) {
    const targets: Target[] = [];
    for (const p of data.loginPeople) {
      const form = await loginForm(base, p.email);
      targets.push({
        method: 'POST',
        path: '/connexion',
        headers: { cookie: form.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: form.body,
        expectStatus: 303,
        expectLocation: '/accueil',
      });
    }
    // The verifications run in the server process between login slices, with nothing else going on.
    const pair = await compare(
      { label: 'login POST /connexion', load: httpLoad(base, targets), bytes: null },
      {
        label: `  argon2 verifyPassword alone, ${CONNECTIONS} at a time`,
        load: argon2Load(server.child, passwordHash),
        bytes: null,
      },
    );
    pairs.push({ ...pair, note: `${targets.length} people, each login a new session` });
  }
  let passwords: PasswordsMeasure | null = null;
  if (ONLY.has('passwords')) {
    const tokens = await createResetLinks(o.databaseUrl, RESET_LINKS, passwordHash);
    const forms: ResetForm[] = [];
    for (const token of tokens) {
      const form = await resetForm(base, token, ADVERSARIAL_PASSWORD);
      for (let i = 0; i < POSTS_PER_LINK; i++) forms.push(form);
    }
    const posts = new Tally();
    const pair = await compare(
      {
        label: `/sante while ${PASSWORD_POSTERS} post passwords`,
        load: healthWhilePostingPasswords(base, forms, posts),
        bytes: null,
      },
      { label: '  /sante idle', load: healthLoad(base), bytes: null },
    );
    passwords = { loaded: pair.target, idle: pair.baseline, posts: posts.measure('password posts', null) };
  }
  return { pairs, loadBefore, passwords };
}

async function main() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'palier-bench-'));
  let benchDb: BenchDb | null = null;
  let child: ChildProcess | null = null;
  const cleanup = async () => {
    if (child) await stopServer(child).catch(() => undefined);
    child = null;
    await stopSoakInstances();
    if (benchDb) await benchDb.drop().catch((e: unknown) => console.error('could not drop the bench database:', e));
    benchDb = null;
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    void cleanup().then(() => process.exit(130));
  });

  try {
    if (ONLY.has('fec')) {
      console.log(`FEC import: generating ${int(FEC_LINES)} lines…`);
      // Its own database, dropped afterwards: the import would otherwise change the agency measured below.
      const fecDb = PG_ADMIN_URL ? await createBenchDb(dataDir) : null;
      try {
        console.log((await runFecBench(FEC_LINES, fecDb ?? undefined)).join('\n'));
      } finally {
        await fecDb?.drop();
      }
      // Nothing else to generate when it runs alone.
      if (ONLY.size === 1) return;
    }
    benchDb = await createBenchDb(dataDir);
    const secrets = writeNewSecrets(dataDir);
    console.log(`Generating data in ${benchDb.label} (DATA_DIR ${dataDir})…`);
    const t0 = performance.now();
    const migrating = createDb(benchDb.url);
    await migrateToLatest(migrating);
    await migrating.destroy();
    const passwordHash = await hashPassword(PASSWORD);
    const data = [...ONLY].some((p) => DATA_PARTS.has(p))
      ? await generate({
          dialect: dialectOf(benchDb.url),
          target: benchDb.url.replace(/^sqlite:/, ''),
          hmacKey: secrets.hmacKey,
          passwordHash,
          soakPeople: SOAK_CLIENTS,
        })
      : null;
    const generationMs = performance.now() - t0;
    const dbBytes = await benchDb.size();
    if (data) console.log(`  ${int(data.counts.ledgerLines)} ledger lines in ${secs(generationMs)}, ${mb(dbBytes)}`);

    const ratioParts = PARTS.filter((p) => p !== 'soak' && ONLY.has(p));
    if (ratioParts.length) {
      const { pairs, loadBefore, passwords } = await measureRatios({
        dataDir,
        databaseUrl: benchDb.url,
        data,
        passwordHash,
        onServer: (c) => (child = c),
      });
      // The bench server leaves the machine to the soak's two instances.
      if (child) await stopServer(child);
      child = null;
      printReport({ dbLabel: benchDb.label, data, generationMs, dbBytes, loadBefore, pairs, passwords });
      const measures = pairs.flatMap((p) => [p.target, p.baseline]);
      if (passwords) measures.push(passwords.loaded, passwords.idle, passwords.posts);
      const failures = measures.filter((m) => m.bad > 0);
      if (failures.length) {
        console.error('\nFAILED: unexpected answers');
        for (const m of failures) for (const s of m.badSamples) console.error(`  ${m.label.trim()}: ${s}`);
        process.exitCode = 1;
      }
    } else {
      printReport({ dbLabel: benchDb.label, data, generationMs, dbBytes, loadBefore: loadavg()[0]!, pairs: [] });
    }
    if (ONLY.has('soak')) {
      console.log('');
      const soak = await runSoak({
        dataDir,
        databaseUrl: benchDb.url,
        dbLabel: benchDb.label,
        people: data!.soakPeople,
        seconds: SOAK_SECONDS,
        timeoutMs: SOAK_TIMEOUT_MS,
        keepLogsIn: process.env.BENCH_SOAK_LOG_DIR ? path.resolve(process.env.BENCH_SOAK_LOG_DIR) : null,
      });
      console.log(soak.lines.join('\n'));
      if (soak.failures.length) {
        console.error('\nFAILED: soak');
        for (const f of soak.failures) console.error(`  ${f}`);
        process.exitCode = 1;
      }
    }
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
