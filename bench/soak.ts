/**
 * The soak of `npm run bench`: many people reading their pages at once, for a minute,
 * across two Palier instances sharing one database, as behind a load balancer.
 *
 * - Two real processes, `node --import tsx src/server.ts` as `npm start` runs it, with the
 *   production environment: the same DATA_DIR (hence the same secrets.json) and the same
 *   database (SQLite in WAL mode shared by both processes, or PostgreSQL), JSON logs at
 *   level info written to a file per instance, the mail worker running.
 * - One client per person, each with their own session, opened on instance A for half of
 *   them and on B for the other half. Before the soak every page a client will read is
 *   fetched on the instance that did NOT open the session, then on the one that did: both
 *   must answer 200 with the same page, whose byte size is kept.
 * - During the soak each client sends one request at a time, on a keep-alive connection to
 *   each instance opened before (as a browser holds one per origin), in the cycle A home,
 *   B statement, B home, A statement, started at a different point by each client: every
 *   client's requests alternate between A and B, so every session is used on both
 *   instances all along. The statements are those of the person's own accounts (ordinary
 *   ones, about a hundred lines), in turn.
 * - Every answer is checked: status 200 and the byte size seen before. Any other status or
 *   size, connection error or timeout counts as an error, and so does an error line in
 *   either instance's log; one error fails the bench.
 * All traffic goes to 127.0.0.1; the soak stops by itself after its duration, then stops
 * both instances with SIGTERM (graceful shutdown) and checks they exit cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
} from 'node:fs';
import http from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { GeneratedData } from './generate.ts';
import { fetchPage, homeCheck, logIn, statementPath, statementRowsCheck } from './http.ts';
import { freePort } from '../test/ops/processes.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface SoakOptions {
  dataDir: string;
  databaseUrl: string;
  dbLabel: string;
  /** One client per person. */
  people: GeneratedData['soakPeople'];
  seconds: number;
  /** A request without a complete answer after this long counts as a timeout. */
  timeoutMs: number;
  /** Where to copy the instances' logs at the end (they go with the temporary DATA_DIR otherwise). */
  keepLogsIn: string | null;
}

type PageKind = 'home' | 'statement';
const PAGE_KINDS: readonly PageKind[] = ['home', 'statement'];
const PAGE_LABEL: Record<PageKind, string> = {
  home: 'home /accueil',
  statement: 'statement /comptes/:id/extrait',
};
const NAMES = ['A', 'B'] as const;

/** Every client walks this cycle, from its own starting point: A and B alternate. */
const CYCLE: readonly [instance: 0 | 1, page: PageKind][] = [
  [0, 'home'],
  [1, 'statement'],
  [1, 'home'],
  [0, 'statement'],
];

/** Logins and checks before the soak run this many at a time. */
const SETUP_CONCURRENCY = 8;

// ---------------------------------------------------------------------------------------
// Formatting

const int = (n: number) =>
  Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
const ms = (n: number) => `${n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)} ms`;
const mb = (bytes: number | null) =>
  bytes === null ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
const pause = (t: number) => new Promise((resolve) => setTimeout(resolve, t));

// ---------------------------------------------------------------------------------------
// The two instances

interface Instance {
  name: (typeof NAMES)[number];
  proc: ChildProcess;
  port: number;
  base: string;
  logFile: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Instances still running, for the bench's cleanup on Ctrl-C or failure. */
const running = new Set<Instance>();

const tail = (file: string, chars = 3000) => (existsSync(file) ? readFileSync(file, 'utf8').slice(-chars) : '');

async function startInstance(name: Instance['name'], o: SoakOptions): Promise<Instance> {
  const port = await freePort();
  const logFile = path.join(o.dataDir, `soak-instance-${name}.log`);
  // The server's own stdout and stderr, as systemd would send them to the journal.
  const fd = openSync(logFile, 'a');
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['BASE_URL', 'SMTP_URL', 'MAIL_FROM', 'TRUST_PROXY']) delete env[k];
  Object.assign(env, {
    DATA_DIR: o.dataDir,
    DATABASE_URL: o.databaseUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
  });
  // Node itself is the child (no npm or tsx wrapper): its pid is the server's, for RSS and CPU.
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const instance: Instance = { name, proc, port, base: `http://127.0.0.1:${port}`, logFile, exited };
  running.add(instance);
  void exited.then(() => running.delete(instance));

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`instance ${name} exited while starting:\n${tail(logFile)}`);
    try {
      const res = await fetch(`${instance.base}/sante/pret`);
      await res.arrayBuffer();
      if (res.status === 200) return instance;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`instance ${name} not ready within 60 s:\n${tail(logFile)}`);
    await pause(100);
  }
}

/** SIGTERM (graceful shutdown), SIGKILL if still there after 30 s. */
async function stopInstance(i: Instance): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (i.proc.exitCode === null && i.proc.signalCode === null) {
    i.proc.kill('SIGTERM');
    const timer = setTimeout(() => i.proc.kill('SIGKILL'), 30_000);
    await i.exited;
    clearTimeout(timer);
  }
  return i.exited;
}

/** For the bench's cleanup: stops whatever instance is still running. */
export async function stopSoakInstances(): Promise<void> {
  await Promise.all([...running].map((i) => stopInstance(i).catch(() => undefined)));
}

// ---------------------------------------------------------------------------------------
// What the instances cost: Linux /proc (figures are "n/a" elsewhere)

function rssOf(pid: number | undefined): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** CPU seconds used by the process so far, all threads (user + system; USER_HZ is 100 on Linux). */
function cpuSecondsOf(pid: number | undefined): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

interface LogScan {
  lines: number;
  bytes: number;
  byLevel: Map<number, number>;
  errors: string[];
  /** Fastify's own time per request (from reading it to sending the answer), during the soak. */
  responseTimes: number[];
  slowest: { ms: number; url: string; time: string }[];
}

/** Log lines by pino level, the first few error lines, and the server-side request times within [from, to]. */
async function scanLog(file: string, from: number, to: number): Promise<LogScan> {
  const scan: LogScan = {
    lines: 0,
    bytes: statSync(file).size,
    byLevel: new Map(),
    errors: [],
    responseTimes: [],
    slowest: [],
  };
  const urls = new Map<unknown, string>();
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) {
    if (line === '') continue;
    scan.lines++;
    let entry: { level?: unknown; time?: unknown; reqId?: unknown; responseTime?: unknown; req?: { url?: unknown } } =
      {};
    let level: number;
    try {
      entry = JSON.parse(line) as typeof entry;
      level = Number(entry.level) || 0;
    } catch {
      // Not JSON: something written to stderr (a crash, a warning from Node itself).
      level = 50;
    }
    scan.byLevel.set(level, (scan.byLevel.get(level) ?? 0) + 1);
    if (level >= 50 && scan.errors.length < 5) scan.errors.push(line.slice(0, 400));
    // "incoming request" names the URL, "request completed" (same reqId) gives the time.
    if (entry.req?.url !== undefined) urls.set(entry.reqId, String(entry.req.url));
    if (typeof entry.responseTime === 'number' && typeof entry.time === 'string') {
      const url = urls.get(entry.reqId) ?? '?';
      urls.delete(entry.reqId);
      const at = Date.parse(entry.time);
      if (at < from || at > to) continue;
      scan.responseTimes.push(entry.responseTime);
      scan.slowest.push({ ms: entry.responseTime, url, time: entry.time });
      if (scan.slowest.length > 20) scan.slowest = scan.slowest.sort((a, b) => b.ms - a.ms).slice(0, 3);
    }
  }
  scan.slowest = scan.slowest.sort((a, b) => b.ms - a.ms).slice(0, 3);
  return scan;
}

// ---------------------------------------------------------------------------------------
// One request, timed to the end of the body, as autocannon does

interface Answer {
  status: number;
  bytes: number;
  ms: number;
  /** Whether the request went on a connection already open (keep-alive). */
  reused: boolean;
}

function get(port: number, url: string, cookie: string, agent: http.Agent, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.request(
      { host: '127.0.0.1', port, path: url, method: 'GET', agent, headers: { cookie } },
      (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, bytes, ms: performance.now() - start, reused: req.reusedSocket });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`timeout after ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

// ---------------------------------------------------------------------------------------

interface Client {
  email: string;
  cookie: string;
  /** The instance where the session was opened. */
  home: 0 | 1;
  statements: string[];
  /** Byte size of each page, as both instances served it before the soak. */
  bytes: Map<string, number>;
  /** One keep-alive connection to each instance, as a browser holds one per origin. */
  agents: [http.Agent, http.Agent];
}

interface Row {
  label: string;
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  bad: number;
}

export interface SoakResult {
  lines: string[];
  failures: string[];
}

function summarize(label: string, latencies: number[], seconds: number, bad: number): Row {
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    label,
    requests: sorted.length,
    rps: sorted.length / seconds,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted[sorted.length - 1] ?? 0,
    bad,
  };
}

/** Runs a task per item, `concurrency` at a time; the first failure is thrown. */
async function pool<T>(items: T[], concurrency: number, task: (item: T, index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await task(items[i]!, i);
      }
    }),
  );
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const failures: string[] = [];
  console.log(`Soak: starting two instances of src/server.ts on ${o.dbLabel}…`);
  // One after the other: the second finds the migrations applied by the first (already
  // applied here by the bench) without two processes racing on an SQLite file at start.
  const instances: Instance[] = [];
  try {
    for (const name of NAMES) instances.push(await startInstance(name, o));
    console.log(
      `  A on ${instances[0]!.base} (pid ${instances[0]!.proc.pid}), B on ${instances[1]!.base} (pid ${instances[1]!.proc.pid})`,
    );

    // Sessions: person i logs in on A when i is even, on B when odd; every page is then read
    // on the other instance first.
    const clients: Client[] = new Array(o.people.length);
    const t0 = performance.now();
    await pool(o.people, SETUP_CONCURRENCY, async (person, i) => {
      const home = (i % 2) as 0 | 1;
      const own = instances[home]!;
      const other = instances[1 - home]!;
      const cookie = await logIn(own.base, person);
      const statements = person.accountIds.map(statementPath);
      const bytes = new Map<string, number>();
      const pages: [string, (html: string) => string | null][] = [
        ['/accueil', homeCheck],
        ...statements.map((url, k): [string, (html: string) => string | null] => [
          url,
          statementRowsCheck(person.lines[k]!),
        ]),
      ];
      for (const [url, check] of pages) {
        const there = await fetchPage(other.base, cookie, url, check).catch((err: unknown) => {
          throw new Error(`${person.email}, session opened on ${own.name}, on ${other.name}: ${String(err)}`);
        });
        const here = await fetchPage(own.base, cookie, url, check);
        if (there !== here)
          throw new Error(
            `${person.email}: GET ${url} is ${here} bytes on ${own.name}, ${there} bytes on ${other.name}`,
          );
        bytes.set(url, here);
      }
      // The client's own connections, opened now: the soak measures people reading pages,
      // not a burst of new connections (Node accepts one connection per turn of its event
      // loop, so hundreds opened at once on a busy instance wait seconds to be accepted).
      const agents: [http.Agent, http.Agent] = [
        new http.Agent({ keepAlive: true, maxSockets: 1 }),
        new http.Agent({ keepAlive: true, maxSockets: 1 }),
      ];
      for (const k of [0, 1] as const) {
        const a = await get(instances[k]!.port, '/accueil', cookie, agents[k], o.timeoutMs).catch((err: unknown) => {
          throw new Error(`${person.email}: GET /accueil on ${NAMES[k]}: ${String(err)}`);
        });
        if (a.status !== 200 || a.bytes !== bytes.get('/accueil'))
          throw new Error(`${person.email}: GET /accueil on ${NAMES[k]}: status ${a.status}, ${a.bytes} bytes`);
      }
      clients[i] = { email: person.email, cookie, home, statements, bytes, agents };
    });
    const pagesChecked = clients.reduce((s, c) => s + c.bytes.size, 0);
    console.log(
      `  ${clients.length} people logged in (${clients.filter((c) => c.home === 0).length} on A, ${clients.filter((c) => c.home === 1).length} on B) in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
        `each of their ${pagesChecked} pages answered alike on both instances`,
    );

    // -------------------------------------------------------------------------------------
    // The soak
    const latencies: Record<PageKind, [number[], number[]]> = { home: [[], []], statement: [[], []] };
    const bad: Record<PageKind, [number, number]> = { home: [0, 0], statement: [0, 0] };
    const badSamples: string[] = [];
    /** Requests that had to open a connection during the soak (all were opened before it). */
    let newConnections = 0;
    /** Pages served as asked on the instance that did not open the session. */
    let crossOk = 0;
    /** The slowest answers, to set against the instances' own times (their log). */
    let slowest: { ms: number; instance: 0 | 1; url: string; at: number }[] = [];
    const fail = (page: PageKind, instance: 0 | 1, why: string) => {
      bad[page][instance]++;
      if (badSamples.length < 10) badSamples.push(`${NAMES[instance]} ${why}`);
    };
    const pids = instances.map((i) => i.proc.pid);
    const cpuBefore = pids.map(cpuSecondsOf);
    const rssBefore = pids.map(rssOf);
    const selfCpuBefore = process.cpuUsage();
    const loadBefore = loadavg()[0]!;
    let loadMax = loadBefore;
    const rssMax = rssBefore.map((r) => r?.rss ?? 0);
    const monitor = setInterval(() => {
      loadMax = Math.max(loadMax, loadavg()[0]!);
      pids.forEach((pid, k) => (rssMax[k] = Math.max(rssMax[k]!, rssOf(pid)?.rss ?? 0)));
    }, 1000);

    console.log(`  soak: ${clients.length} clients for ${o.seconds} s from ${new Date().toISOString().slice(11, 19)}…`);
    const start = performance.now();
    const wallStart = Date.now();
    const deadline = start + o.seconds * 1000;
    await Promise.all(
      clients.map(async (c, i) => {
        const agents = c.agents;
        let step = i % CYCLE.length;
        let nextStatement = i;
        try {
          while (performance.now() < deadline) {
            const [instance, page] = CYCLE[step++ % CYCLE.length]!;
            const url = page === 'home' ? '/accueil' : c.statements[nextStatement++ % c.statements.length]!;
            try {
              const a = await get(instances[instance]!.port, url, c.cookie, agents[instance]!, o.timeoutMs);
              latencies[page][instance].push(a.ms);
              if (!a.reused) newConnections++;
              if (slowest.length < 3 || a.ms > slowest[2]!.ms) {
                slowest.push({ ms: a.ms, instance, url, at: Date.now() });
                slowest = slowest.sort((x, y) => y.ms - x.ms).slice(0, 3);
              }
              const expected = c.bytes.get(url)!;
              if (a.status !== 200) fail(page, instance, `GET ${url} (${c.email}): status ${a.status}, expected 200`);
              else if (a.bytes !== expected)
                fail(page, instance, `GET ${url} (${c.email}): ${a.bytes} bytes, expected ${expected}`);
              else if (instance !== c.home) crossOk++;
            } catch (err) {
              fail(page, instance, `GET ${url} (${c.email}): ${err instanceof Error ? err.message : String(err)}`);
              // A refused connection fails at once: do not spin.
              await pause(100);
            }
          }
        } finally {
          for (const a of agents) a.destroy();
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    const wallEnd = Date.now();
    clearInterval(monitor);
    const selfCpu = process.cpuUsage(selfCpuBefore);
    const cpuAfter = pids.map(cpuSecondsOf);
    const rssAfter = pids.map(rssOf);
    const loadAfter = loadavg()[0]!;
    loadMax = Math.max(loadMax, loadAfter);

    // Both instances stop as on a deployment: SIGTERM, then a clean exit.
    const exits = await Promise.all(instances.map(stopInstance));
    if (o.keepLogsIn) {
      mkdirSync(o.keepLogsIn, { recursive: true });
      for (const i of instances) copyFileSync(i.logFile, path.join(o.keepLogsIn, path.basename(i.logFile)));
    }
    const logs = await Promise.all(instances.map((i) => scanLog(i.logFile, wallStart, wallEnd)));

    // -------------------------------------------------------------------------------------
    // Report
    const rows: Row[] = [];
    for (const page of PAGE_KINDS)
      rows.push(
        summarize(
          PAGE_LABEL[page],
          [...latencies[page][0], ...latencies[page][1]],
          seconds,
          bad[page][0] + bad[page][1],
        ),
      );
    for (const k of [0, 1] as const)
      rows.push(
        summarize(
          `instance ${NAMES[k]} (${instances[k]!.base.replace('http://', '')})`,
          [...latencies.home[k], ...latencies.statement[k]],
          seconds,
          bad.home[k] + bad.statement[k],
        ),
      );
    const all = PAGE_KINDS.flatMap((p) => [...latencies[p][0], ...latencies[p][1]]);
    const totalBad = PAGE_KINDS.reduce((s, p) => s + bad[p][0] + bad[p][1], 0);
    rows.push(summarize('all', all, seconds, totalBad));

    const accounts = o.people.map((p) => p.accountIds.length);
    const lines = o.people.flatMap((p) => p.lines);
    const out: string[] = [];
    out.push('');
    out.push(
      `Soak — ${o.dbLabel}; 2 instances (node src/server.ts, LOG_LEVEL=info, logs to a file each), ${clients.length} clients for ${o.seconds} s`,
    );
    out.push(
      `People: ${clients.length}, one client and one session each (${clients.filter((c) => c.home === 0).length} sessions opened on A, ${clients.filter((c) => c.home === 1).length} on B), ` +
        `holding 1/2/3 accounts: ${[1, 2, 3].map((n) => accounts.filter((a) => a === n).length).join('/')}; ` +
        `statements of ${Math.min(...lines)}–${Math.max(...lines)} lines (mean ${Math.round(lines.reduce((s, x) => s + x, 0) / lines.length)})`,
    );
    out.push(
      '      each client: one request at a time, cycling A home, B statement, B home, A statement (its own accounts in turn);',
    );
    out.push(
      `      a keep-alive connection to each instance, opened before the soak (${newConnections} opened during it); timeout ${o.timeoutMs / 1000} s`,
    );
    out.push(
      `      ${int(crossOk)} of the ${int(all.length)} answers (${((crossOk / Math.max(1, all.length)) * 100).toFixed(0)} %) came from the instance that had not opened the session, as asked`,
    );
    out.push(
      `Machine: ${availableParallelism()} CPUs, load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, ${loadMax.toFixed(1)} at most (1 min); ` +
        'shared with other jobs — the soak itself (2 instances + this client) can take all the CPUs',
    );
    out.push('');
    const cols = (
      label: string,
      n: string,
      rps: string,
      p50: string,
      p90: string,
      p99: string,
      max: string,
      b: string,
    ) =>
      `${label.padEnd(34)}${n.padStart(10)}${rps.padStart(9)}${p50.padStart(10)}${p90.padStart(10)}${p99.padStart(10)}${max.padStart(10)}${b.padStart(6)}`;
    out.push(cols('', 'requests', 'req/s', 'p50', 'p90', 'p99', 'max', 'bad'));
    rows.forEach((r, k) => {
      if (k === 2 || k === 4) out.push('');
      out.push(cols(r.label, int(r.requests), int(r.rps), ms(r.p50), ms(r.p90), ms(r.p99), ms(r.max), String(r.bad)));
    });
    out.push(
      `Slowest answers: ${slowest.map((x) => `${NAMES[x.instance]} ${x.url} ${ms(x.ms)} at ${new Date(x.at).toISOString().slice(11, 19)}`).join(', ')}`,
    );
    out.push('');
    instances.forEach((inst, k) => {
      const cpu = cpuBefore[k] !== null && cpuAfter[k] !== null ? cpuAfter[k]! - cpuBefore[k]! : null;
      const log = logs[k]!;
      const level = (l: number) => log.byLevel.get(l) ?? 0;
      const errors = level(50) + level(60);
      out.push(
        `Instance ${inst.name} (pid ${inst.proc.pid}): RSS ${mb(rssBefore[k]?.rss ?? null)} at the start, ${mb(rssMax[k] || null)} at most, ${mb(rssAfter[k]?.rss ?? null)} at the end (peak since the process started ${mb(rssAfter[k]?.peak ?? null)}); ` +
          `CPU ${cpu === null ? 'n/a' : `${((cpu / seconds) * 100).toFixed(0)} % of one core`}`,
      );
      out.push(
        `      log: ${int(log.lines)} lines (${mb(log.bytes)}), ${errors} errors, ${level(40)} warnings; ` +
          (exits[k]!.signal === 'SIGKILL'
            ? 'killed (SIGKILL)'
            : `exit ${exits[k]!.code ?? exits[k]!.signal} after SIGTERM`),
      );
      if (log.responseTimes.length) {
        const server = summarize('', log.responseTimes, seconds, 0);
        out.push(
          `      inside the server (Fastify's responseTime, from its log): ${int(server.requests)} requests, p50 ${ms(server.p50)}, p90 ${ms(server.p90)}, p99 ${ms(server.p99)}, max ${ms(server.max)}` +
            ` (slowest: ${log.slowest.map((x) => `${x.url} ${ms(x.ms)} at ${x.time.slice(11, 19)}`).join(', ')})`,
        );
      }
      if (errors > 0)
        failures.push(`instance ${inst.name} logged ${errors} errors:`, ...log.errors.map((l) => `  ${l}`));
      if (exits[k]!.code !== 0)
        failures.push(`instance ${inst.name} did not stop cleanly on SIGTERM (${exits[k]!.code ?? exits[k]!.signal})`);
    });
    out.push(
      `Load generator (this process): CPU ${(((selfCpu.user + selfCpu.system) / 1e6 / seconds) * 100).toFixed(0)} % of one core`,
    );
    out.push('');
    out.push(
      'bad = a status other than 200, a page whose byte size differs from the one both instances served before the soak, a connection error or a timeout.',
    );
    out.push(
      `Latency: from sending the request to the last byte of the answer, measured by the client. The clients keep both instances busy all the time (closed loop),`,
    );
    out.push(
      `so it is mostly waiting in line: ${clients.length} clients / ${int(all.length / seconds)} req/s = ${ms((clients.length / (all.length / seconds)) * 1000)} on average. The time inside the server (instance lines) includes, on PostgreSQL, waiting for one of the pool's 10 connections.`,
    );
    if (totalBad > 0)
      failures.push(`${totalBad} bad answers during the soak, for example:`, ...badSamples.map((s) => `  ${s}`));
    return { lines: out, failures };
  } finally {
    await stopSoakInstances();
  }
}
