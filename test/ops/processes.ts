import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_LOG_DIR } from '../helpers/log-dir.ts';

/** The repository root: Palier's processes run from there, as `npm start` does. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A free TCP port on loopback: listen on 0, read the port, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A real Palier process (server or CLI) whose output is kept and logged with the suite's logs. */
export interface PalierProcess {
  name: string;
  proc: ChildProcess;
  /** stdout (JSON logs for the server) and stderr so far. */
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /** Resolves once stdout has a line matching `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/**
 * The environment of a production process: the test runner's own variables, minus
 * BASE_URL (vitest sets it to "/"), plus the given ones.
 */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  delete out.BASE_URL;
  delete out.DATABASE_URL;
  delete out.SMTP_URL;
  delete out.TRUST_PROXY;
  return { ...out, ...env };
}

/**
 * Runs `node --import tsx <script> …args` from the repository root. Node itself (not an
 * npx or tsx wrapper) is the child, so a signal sent to it reaches Palier's own process.
 * Its stdout also goes to the suite's log folder, which the global teardown searches
 * for passwords, codes, tokens and session ids.
 */
export function runPalier(name: string, script: string, args: string[], env: Record<string, string>): PalierProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  mkdirSync(TEST_LOG_DIR, { recursive: true });
  const logFile = createWriteStream(path.join(TEST_LOG_DIR, `ops-${name}-${proc.pid}.log`));
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  proc.stdout!.setEncoding('utf8');
  proc.stderr!.setEncoding('utf8');
  proc.stdout!.on('data', (chunk: string) => {
    out += chunk;
    logFile.write(chunk);
    for (const w of waiters) w();
  });
  proc.stderr!.on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<Exit>((resolve) => {
    proc.on('exit', (code, signal) => {
      logFile.end();
      for (const w of waiters) w();
      resolve({ code, signal });
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  return {
    name,
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = out.split('\n').find((l) => pattern.test(l));
          if (line !== undefined) {
            cleanup();
            resolve(line);
          } else if (done) {
            cleanup();
            reject(new Error(`${name} exited before printing ${pattern}:\n${out.slice(-2000)}\n${err.slice(-2000)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${out.slice(-2000)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** SIGTERM, then SIGKILL if it is still running after `graceMs`. */
export async function stopProcess(p: PalierProcess | undefined, graceMs = 5000): Promise<Exit | undefined> {
  if (!p) return undefined;
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return p.exited;
  p.proc.kill('SIGTERM');
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), graceMs);
  const exit = await p.exited;
  clearTimeout(timer);
  return exit;
}

export interface PalierServer extends PalierProcess {
  port: number;
  url: string;
}

/** Starts `src/server.ts` on a free port of loopback and waits until /sante/pret answers 200. */
export async function startServer(name: string, env: Record<string, string>, port?: number): Promise<PalierServer> {
  const p = port ?? (await freePort());
  const proc = runPalier(name, 'src/server.ts', [], {
    HOST: '127.0.0.1',
    PORT: String(p),
    LOG_LEVEL: 'info',
    ...env,
  });
  const server = { ...proc, port: p, url: `http://127.0.0.1:${p}` };
  try {
    await waitReady(server, 30_000);
  } catch (err) {
    await stopProcess(server);
    throw err;
  }
  return server;
}

async function waitReady(s: PalierServer, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void s.exited.then(() => (exited = true));
  for (;;) {
    if (exited)
      throw new Error(`${s.name} exited while starting:\n${s.stdout().slice(-2000)}\n${s.stderr().slice(-3000)}`);
    try {
      const res = await fetch(`${s.url}/sante/pret`);
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline)
      throw new Error(`${s.name} not ready within ${timeoutMs} ms:\n${s.stderr().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
