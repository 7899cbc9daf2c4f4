import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { TestClient, textOf } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { createManager, createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { loginAs } from '../../../test/helpers/login.ts';
import { enqueue, findJob, type JobsTable } from '../../core/jobs/jobs.repository.ts';
import type { Db } from '../../db/db.ts';
import { setAgency } from '../../core/agency/agency.repository.ts';
import { MAIL_JOB, describeOutbox, requeueMail } from './outbox.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const jobs = (db: Db) => db.withTables<{ jobs: JobsTable }>();

interface Received {
  to: string[];
  subject: string;
  text: string;
}

/**
 * A mail server on a fixed port that the test can stop and start again, and that can
 * refuse some recipients for a while (4xx) or for good (5xx).
 */
class MailServer {
  mails: Received[] = [];
  temporarilyRefused = new Set<string>();
  refused = new Set<string>();
  private server: SMTPServer | null = null;

  constructor(readonly port: number) {}

  async up(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo: (address, _session, callback) => {
        const to = address.address.toLowerCase();
        const refusal = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });
        if (this.refused.has(to)) return callback(refusal(550, `5.1.1 <${to}>: mailbox unavailable`));
        if (this.temporarilyRefused.has(to)) return callback(refusal(451, `4.3.0 <${to}>: try again later`));
        callback();
      },
      onData: (stream, session, callback) => {
        simpleParser(stream)
          .then((p) => {
            this.mails.push({
              to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
              subject: p.subject ?? '',
              text: p.text ?? '',
            });
            callback();
          })
          .catch(callback);
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  count(to: string, subject: string): number {
    return this.mails.filter((m) => m.to.includes(to.toLowerCase()) && m.subject.startsWith(subject)).length;
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `npx palier …` in a child process, on the test app's database and DATA_DIR (a command
 * refuses a folder without this database's secrets).
 */
function palier(t: TestApp, args: string[]): Promise<Run> {
  const env = { ...process.env };
  // Vitest sets BASE_URL="/" for Vite: the CLI must see only the configuration the test gives it.
  for (const key of ['BASE_URL', 'DATABASE_URL', 'DATA_DIR', 'PORT', 'HOST', 'SMTP_URL', 'MAIL_FROM', 'LOG_LEVEL']) {
    delete env[key];
  }
  Object.assign(env, { DATABASE_URL: t.config.databaseUrl, DATA_DIR: t.config.dataDir });
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'src/cli.ts', ...args], { cwd: ROOT, env }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe.each(dialects)('mail outbox (%s)', (dialect) => {
  let t: TestApp;
  let smtp: MailServer;

  beforeAll(async () => {
    t = await buildTestApp(dialect);
    await setAgency(t.db, { name: 'Cabinet Dauphin', email: `accueil-${dialect}@cabinet-dauphin.test` });
    // The app mails to this port: replace the helper's capture server by one the test can stop.
    const port = Number(new URL(t.config.smtpUrl!).port);
    await t.smtp.close();
    smtp = new MailServer(port);
    await smtp.up();
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.down();
  });

  /** Waits until the worker has dealt with every job due at the app's current time. */
  async function settle(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const now = t.clock.now.toISOString();
      const busy = await jobs(t.db)
        .selectFrom('jobs')
        .select('id')
        .where((eb) =>
          eb.or([eb('status', '=', 'running'), eb.and([eb('status', '=', 'pending'), eb('run_at', '<=', now)])]),
        )
        .execute();
      if (busy.length === 0) return;
      if (Date.now() > deadline) throw new Error(`jobs still due: ${busy.map((b) => b.id).join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('delivers every mail once the SMTP server is back after five minutes down, none twice', async () => {
    const people = await Promise.all([1, 2, 3].map(() => createUser(t.db)));
    const manager = await createManager(t.db, { name: 'ZIANE Aziza' });
    const account = await seedAccount(t.db, t.config, { managerId: manager.id });
    const owner = await createUser(t.db, { accountIds: [account.id], firstName: 'Claire', lastName: 'MARTIN' });
    const client = await loginAs(t.app, owner.email, owner.password);

    await smtp.down();
    // The people see the usual answers while the mail server is down.
    for (const p of people) {
      const res = await new TestClient(t.app).submit('/mot-de-passe-oublie', { email: p.email });
      expect(res.statusCode).toBe(200);
      expect(textOf(res.body)).toContain(p.email);
    }
    const sent = await client.submit(`/comptes/${account.id}/contact`, {
      subject: 'Fuite au plafond',
      body: 'Une fuite est apparue dans la salle de bains.',
    });
    expect(sent.statusCode).toBe(303);
    expect(textOf((await client.follow(sent)).body)).toContain('Votre message a été envoyé à ZIANE Aziza.');

    const expected: [string, string][] = [
      ...people.map((p): [string, string] => [p.email, 'Choisir un nouveau mot de passe']),
      [manager.email, 'Message de Claire MARTIN'],
      [owner.email, `Votre message au sujet du compte ${account.reference}`],
    ];

    // Five minutes of outage on the app's clock, the worker retrying all along.
    for (let s = 0; s < 30; s++) {
      t.clock.advance(10_000);
      await settle();
    }
    const during = await jobs(t.db).selectFrom('jobs').selectAll().where('kind', '=', MAIL_JOB).execute();
    expect(during).toHaveLength(expected.length);
    for (const j of during) {
      expect(j.status).toBe('pending');
      expect(j.attempts).toBeGreaterThanOrEqual(3);
      expect(j.last_error).toContain('ECONNREFUSED');
    }
    expect(smtp.mails).toEqual([]);
    // Staff see them waiting, with the reason.
    const waiting = await describeOutbox(t.db, t.clock.now);
    expect(waiting[0]).toBe(`En attente d’envoi : ${expected.length}`);
    expect(waiting.join('\n')).toContain('dernière erreur : connect ECONNREFUSED');

    await smtp.up();
    for (let s = 0; s < 120 && smtp.mails.length < expected.length; s++) {
      t.clock.advance(10_000);
      await settle();
    }
    // Then a while longer: nothing comes a second time.
    for (let s = 0; s < 12; s++) {
      t.clock.advance(5 * 60_000);
      await settle();
    }
    for (const [to, subject] of expected) expect(smtp.count(to, subject), `${to}: ${subject}`).toBe(1);
    expect(smtp.mails).toHaveLength(expected.length);

    const after = await jobs(t.db).selectFrom('jobs').selectAll().where('kind', '=', MAIL_JOB).execute();
    expect(after.every((j) => j.status === 'done')).toBe(true);
    // A sent mail keeps its recipient and subject, not its reset link.
    expect(after.some((j) => j.payload_json.includes('jeton='))).toBe(false);
    expect(JSON.parse(after[0]!.payload_json)).toEqual({ to: expect.any(String), subject: expect.any(String) });

    const reset = smtp.mails.find((m) => m.to.includes(people[0]!.email.toLowerCase()))!;
    expect(reset.text).toMatch(/http:\/\/palier\.test\/nouveau-mot-de-passe\?jeton=\S+/);
    await jobs(t.db).deleteFrom('jobs').execute();
    smtp.mails = [];
  });

  it('does not retry an address the server refuses for good, and says why', async () => {
    const to = `inconnu-${dialect}@exemple.test`;
    smtp.refused.add(to);
    try {
      const id = await enqueue(
        t.db,
        MAIL_JOB,
        { to, subject: 'Essai', text: 'Bonjour', html: '<p>Bonjour</p>' },
        { now: t.clock.now },
      );
      await settle();
      const job = (await findJob(t.db, id))!;
      expect(job).toMatchObject({ status: 'failed', attempts: 1 });
      expect(job.last_error).toContain('refusé par le serveur SMTP');
      expect(job.last_error).toContain('550');
    } finally {
      smtp.refused.delete(to);
      await jobs(t.db).deleteFrom('jobs').execute();
    }
  });

  it('shows a mail that kept failing in `palier courriels`, with the reason, and sends it once requeued', async () => {
    const to = `retard-${dialect}@exemple.test`;
    smtp.temporarilyRefused.add(to);
    const id = await enqueue(
      t.db,
      MAIL_JOB,
      { to, subject: 'Appel de fonds – Cabinet Dauphin', text: 'Bonjour', html: '<p>Bonjour</p>' },
      { now: t.clock.now, maxAttempts: 3 },
    );
    const other = await enqueue(
      t.db,
      MAIL_JOB,
      { to: `ok-${dialect}@exemple.test`, subject: 'Bienvenue', text: 'Bonjour', html: '<p>Bonjour</p>' },
      { now: t.clock.now },
    );
    for (let i = 0; i < 6; i++) {
      await settle();
      t.clock.advance(60 * 60_000);
    }
    await settle();
    const failed = (await findJob(t.db, id))!;
    expect(failed).toMatchObject({ status: 'failed', attempts: 3 });
    expect(failed.last_error).toContain('451');
    expect((await findJob(t.db, other))!.status).toBe('done');

    const listing = await palier(t, ['courriels']);
    expect(listing.stderr).toBe('');
    expect(listing.code).toBe(0);
    expect(listing.stdout).toContain('En attente d’envoi : 0');
    expect(listing.stdout).toContain('En échec : 1');
    expect(listing.stdout).toContain(`n° ${id} · à ${to} · « Appel de fonds – Cabinet Dauphin »`);
    expect(listing.stdout).toContain('après 3 tentatives');
    expect(listing.stdout).toMatch(/raison : .*451/);
    expect(listing.stdout).toContain(
      `Pour renvoyer un email en échec : npx palier courriels --relancer N° (par exemple ${id})`,
    );
    expect(listing.stdout).toContain('Envoyés ces dernières 24 heures : 1');
    expect(listing.stdout).toContain(`n° ${other} · à ok-${dialect}@exemple.test · « Bienvenue » · envoyé le`);

    expect(await requeueMail(t.db, 999_999_999_999, new Date())).toEqual({
      ok: false,
      message: 'Aucun email n° 999999999999 dans la file d’envoi.',
    });
    expect(await requeueMail(t.db, other, new Date())).toEqual({
      ok: false,
      message: `L’email n° ${other} n’est pas en échec : il a déjà été envoyé.`,
    });

    smtp.temporarilyRefused.delete(to);
    // `emails` is the alias of `courriels`.
    const requeued = await palier(t, ['emails', '--relancer', String(id)]);
    expect(requeued.code).toBe(0);
    expect(requeued.stdout).toContain(
      `Email n° ${id} (à ${to}, « Appel de fonds – Cabinet Dauphin ») remis en file d’envoi`,
    );
    // The running worker picks it up at its next poll.
    const deadline = Date.now() + 5000;
    while (smtp.count(to, 'Appel de fonds') === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await settle();
    expect(smtp.count(to, 'Appel de fonds')).toBe(1);
    expect((await findJob(t.db, id))!.status).toBe('done');
    const lines = (await describeOutbox(t.db, t.clock.now)).join('\n');
    expect(lines).toContain('En échec : 0');
    expect(lines).toContain('Envoyés ces dernières 24 heures : 2');
    expect(lines).toContain(`n° ${id} · à ${to} · « Appel de fonds – Cabinet Dauphin » · envoyé le`);
  });
});
