import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeNewSecrets } from '../../src/core/secrets/secrets.ts';
import { createDb, migrateToLatest } from '../../src/db/db.ts';
import { textOf } from '../helpers/client.ts';
import { createUser } from '../helpers/factories.ts';
import { startServer, stopProcess, type PalierServer } from './processes.ts';
import { WebClient } from './web-client.ts';

/** A raw HTTP/1.1 connection, to hold a request half-sent while the server shuts down. */
class RawConnection {
  readonly socket: Socket;
  private data = '';
  closed: Promise<void>;
  private listeners = new Set<() => void>();

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => {
      this.data += c;
      for (const l of this.listeners) l();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    void this.closed.then(() => {
      for (const l of this.listeners) l();
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => resolve(new RawConnection(s)));
      s.once('error', reject);
    });
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** The next complete response on this connection (status, headers, body by Content-Length). */
  response(timeoutMs = 5000): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const end = this.data.indexOf('\r\n\r\n');
        if (end >= 0) {
          const [statusLine, ...lines] = this.data.slice(0, end).split('\r\n');
          const headers: Record<string, string> = {};
          for (const l of lines) {
            const i = l.indexOf(':');
            headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
          }
          const length = Number(headers['content-length'] ?? 0);
          const body = this.data.slice(end + 4);
          if (Buffer.byteLength(body) >= length) {
            this.data = '';
            cleanup();
            resolve({ status: Number(statusLine!.split(' ')[1]), headers, body });
            return;
          }
        }
        if (this.socket.destroyed) {
          cleanup();
          reject(new Error(`connection closed before a complete response: ${JSON.stringify(this.data.slice(0, 300))}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no complete response within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }
}

/** Whether a new TCP connection to the port is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

async function eventually(what: string, test: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A SMTP server that holds every mail until the test lets it through, to have a
 * delivery in progress at the moment the process is told to stop.
 */
async function startHeldSmtp() {
  const received: { to: string; raw: string }[] = [];
  let release: () => void = () => {};
  const released = new Promise<void>((r) => (release = r));
  let onHeld: () => void = () => {};
  const held = new Promise<void>((r) => (onHeld = r));
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        onHeld();
        void released.then(() => {
          received.push({ to: session.envelope.rcptTo[0]!.address, raw: Buffer.concat(chunks).toString('utf8') });
          callback();
        });
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    held,
    release,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('graceful shutdown on SIGTERM (SQLite)', () => {
  let dataDir: string;
  let server: PalierServer | undefined;
  let smtp: Awaited<ReturnType<typeof startHeldSmtp>>;
  const dbFile = () => path.join(dataDir, 'palier.sqlite');

  beforeAll(async () => {
    smtp = await startHeldSmtp();
  });
  afterAll(async () => {
    smtp.release();
    await smtp.close();
  });

  /** A data folder with a migrated SQLite database and one person in it. */
  async function freshDataDir() {
    dataDir = mkdtempSync(path.join(tmpdir(), 'palier-shutdown-'));
    const secrets = writeNewSecrets(dataDir);
    const db = createDb(`sqlite:${dbFile()}`);
    await migrateToLatest(db);
    const users = [await createUser(db), await createUser(db)];
    await db.destroy();
    return { secrets, users };
  }

  afterEach(async () => {
    await stopProcess(server);
    server = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('finishes the request in flight, refuses new connections, exits 0 and closes the database', async () => {
    const { users } = await freshDataDir();
    server = await startServer('shutdown-http', { DATA_DIR: dataDir, SMTP_URL: smtp.url });
    const user = users[0]!;

    // The login form's token and cookie, as a browser has them.
    const browser = new WebClient();
    const page = await browser.get(`${server.url}/`);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const cookies = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');

    // A keep-alive connection that has finished its request and sits idle.
    const idle = await RawConnection.open(server.port);
    idle.write(`GET /sante HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
    expect((await idle.response()).status).toBe(200);

    // A login whose body is still on its way when SIGTERM arrives.
    const body = new URLSearchParams({ email: user.email, password: user.password, _csrf: token }).toString();
    const slow = await RawConnection.open(server.port);
    slow.write(
      `POST /connexion HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookies}\r\n` +
        `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
        body.slice(0, 10),
    );
    await server.waitForOutput(/"method":"POST","url":"\/connexion"/);

    server.proc.kill('SIGTERM');
    await server.waitForOutput(/arrêt en cours/);

    // No new connection is accepted, and the idle one is closed rather than waited for.
    await eventually('new connections refused', () => refused(server!.port));
    await eventually('idle keep-alive connection closed', async () => idle.socket.destroyed);
    expect(server.proc.exitCode).toBeNull();

    // The rest of the body arrives: the login completes normally.
    slow.write(body.slice(10));
    const res = await slow.response();
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/accueil');
    expect(res.headers['set-cookie']).toContain('palier_session=');
    // …and tells the client not to reuse a connection that is going away.
    expect(res.headers.connection).toBe('close');

    const exit = await Promise.race([
      server.exited,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000)),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });

    // The database was closed cleanly: its write-ahead log was checkpointed and removed,
    // it is intact, and the login done during the shutdown is in it.
    expect(existsSync(`${dbFile()}-wal`)).toBe(false);
    const sqlite = new Database(dbFile(), { readonly: true });
    try {
      expect(sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
      const row = sqlite
        .prepare('select count(*) as n from sessions s join users u on u.id = s.user_id where u.email = ?')
        .get(user.email) as { n: number };
      expect(row.n).toBe(1);
    } finally {
      sqlite.close();
    }
  });

  it('lets the worker finish the mail it is sending, keeps the others for the next start', async () => {
    const { users } = await freshDataDir();
    server = await startServer('shutdown-worker', { DATA_DIR: dataDir, SMTP_URL: smtp.url });
    const browser = new WebClient();
    for (const user of users) {
      const res = await browser.submit(
        `${server.url}/mot-de-passe-oublie`,
        { email: user.email },
        `${server.url}/mot-de-passe-oublie`,
      );
      expect(textOf(res.body)).toContain('un email vient de lui être envoyé');
    }

    // The first mail is in the SMTP server's hands (held there) when SIGTERM arrives.
    await smtp.held;
    server.proc.kill('SIGTERM');
    await server.waitForOutput(/arrêt en cours/);
    await new Promise((r) => setTimeout(r, 500));
    expect(server.proc.exitCode, 'waits for the mail in progress').toBeNull();
    smtp.release();
    const exit = await Promise.race([
      server.exited,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000)),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(smtp.received.map((m) => m.to)).toEqual([users[0]!.email]);

    // The one sent is recorded as done; the other person's mail (or the reset request that
    // leads to it, depending on what the worker took first) waits, untouched.
    const sqlite = new Database(dbFile(), { readonly: true });
    const jobs = sqlite.prepare('select kind, status, attempts, payload_json from jobs order by id').all() as {
      kind: string;
      status: string;
      attempts: number;
      payload_json: string;
    }[];
    sqlite.close();
    const recipient = (j: { payload_json: string }) => {
      const p = JSON.parse(j.payload_json) as { to?: string; email?: string };
      return p.to ?? p.email;
    };
    expect(jobs.filter((j) => j.kind === 'mail' && j.status === 'done').map((j) => [j.attempts, recipient(j)])).toEqual(
      [[1, users[0]!.email]],
    );
    // The hourly purge waits for its hour, untouched too: it is not a mail.
    expect(
      jobs.filter((j) => j.status !== 'done' && j.kind !== 'purge').map((j) => [j.status, j.attempts, recipient(j)]),
    ).toEqual([['pending', 0, users[1]!.email]]);

    // The next start delivers it: nothing lost, nothing sent twice.
    server = await startServer('shutdown-worker-restart', { DATA_DIR: dataDir, SMTP_URL: smtp.url });
    await eventually('second mail delivered', async () => smtp.received.length === 2, 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(smtp.received.map((m) => m.to)).toEqual([users[0]!.email, users[1]!.email]);
  });
});
