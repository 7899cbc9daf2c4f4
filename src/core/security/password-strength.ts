import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * zxcvbn's score (0–4) of a password, computed in a worker thread. Scoring costs up to a
 * few hundred milliseconds of CPU (more the longer the password: callers pass a bounded
 * prefix); on the event loop, a handful of parallel submissions would stall every page
 * and health check of the process.
 *
 * The pool is small (one thread, two when the machine has cores to spare: argon2 and the
 * event loop need theirs), started on first use, and lets the process exit: a thread is
 * referenced only while it has work, and ends after a minute without any.
 */
export function strengthScore(password: string, userInputs: string[]): Promise<number> {
  const thread = pickThread();
  const id = nextId++;
  return new Promise<number>((resolve, reject) => {
    thread.pending.set(id, { resolve, reject });
    if (thread.idleTimer) clearTimeout(thread.idleTimer);
    thread.idleTimer = undefined;
    thread.worker.ref();
    thread.worker.postMessage({ id, password, userInputs });
  });
}

/** Ends the threads now (tests, shutdown); the next score starts them again. */
export async function closeStrengthWorkers(): Promise<void> {
  const threads = pool.splice(0);
  await Promise.all(threads.map((t) => stop(t)));
}

const WORKER_URL = new URL('./password-strength.worker.mjs', import.meta.url);
const POOL_SIZE = Math.max(1, Math.min(2, availableParallelism() - 1));
const IDLE_MS = 60_000;

interface Pending {
  resolve(score: number): void;
  reject(err: Error): void;
}
interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
  idleTimer: NodeJS.Timeout | undefined;
}

const pool: Thread[] = [];
let nextId = 1;

function pickThread(): Thread {
  const idle = pool.find((t) => t.pending.size === 0);
  if (idle) return idle;
  if (pool.length < POOL_SIZE) return spawn();
  return pool.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
}

function spawn(): Thread {
  const thread: Thread = { worker: new Worker(WORKER_URL), pending: new Map(), idleTimer: undefined };
  thread.worker.unref();
  thread.worker.on('message', (msg: { id: number; score?: number; error?: string }) => {
    const job = thread.pending.get(msg.id);
    if (!job) return;
    thread.pending.delete(msg.id);
    if (msg.error !== undefined || msg.score === undefined) job.reject(new Error(msg.error ?? 'no score'));
    else job.resolve(msg.score);
    if (thread.pending.size === 0) becomeIdle(thread);
  });
  // A thread that dies takes its jobs with it; the next score starts a fresh one.
  const fail = (err: Error) => {
    const i = pool.indexOf(thread);
    if (i >= 0) pool.splice(i, 1);
    if (thread.idleTimer) clearTimeout(thread.idleTimer);
    for (const job of thread.pending.values()) job.reject(err);
    thread.pending.clear();
  };
  thread.worker.on('error', fail);
  thread.worker.on('exit', (code) => fail(new Error(`password strength worker exited (${code})`)));
  pool.push(thread);
  return thread;
}

function becomeIdle(thread: Thread): void {
  thread.worker.unref();
  thread.idleTimer = setTimeout(() => {
    const i = pool.indexOf(thread);
    if (i >= 0) pool.splice(i, 1);
    void stop(thread);
  }, IDLE_MS);
  thread.idleTimer.unref();
}

async function stop(thread: Thread): Promise<void> {
  if (thread.idleTimer) clearTimeout(thread.idleTimer);
  await thread.worker.terminate();
}
