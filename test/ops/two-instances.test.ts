import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueMail } from '../../src/adapters/mailer/outbox.ts';
import type { Secrets } from '../../src/config.ts';
import { writeNewSecrets } from '../../src/core/secrets/secrets.ts';
import { createDb, pendingMigrations, type Db } from '../../src/db/db.ts';
import { textOf } from '../helpers/client.ts';
import { createUser, seedAccount, TEST_PASSWORD } from '../helpers/factories.ts';
import { startSmtp, type SmtpCapture } from '../helpers/smtp.ts';
import { emptyDatabase, type EmptyDatabase } from './databases.ts';
import { freePort, startServer, stopProcess, type PalierServer } from './processes.ts';
import { WebClient } from './web-client.ts';

/**
 * Two real Palier processes on one PostgreSQL database, as behind a load balancer:
 * whatever one instance knows (sessions, attempt counters, the mail queue) the other
 * knows too, because it lives in the database and not in a process's memory.
 */
describe('two Palier instances on one PostgreSQL database', () => {
  let database: EmptyDatabase;
  let db: Db;
  let smtp: SmtpCapture;
  let dataDir: string;
  let secrets: Secrets;
  let a: PalierServer;
  let b: PalierServer;

  beforeAll(async () => {
    smtp = await startSmtp();
    // One DATA_DIR, hence one secrets.json, written before either starts: both sign
    // cookies and hash access codes with the same keys.
    dataDir = mkdtempSync(path.join(tmpdir(), 'palier-ops-'));
    secrets = writeNewSecrets(dataDir);
    database = await emptyDatabase('postgres', dataDir);
    const [portA, portB] = [await freePort(), await freePort()];
    const env = (from: string) => ({
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      SMTP_URL: smtp.url,
      // The envelope sender tells which instance delivered a mail.
      MAIL_FROM: `Palier <${from}>`,
      BASE_URL: `http://127.0.0.1:${portA}`,
    });
    // Started together on an empty database, as after an upgrade: both run the
    // migrations at the same time, one applies them and the other finds them done.
    [a, b] = await Promise.all([
      startServer('instance-a', env('a@palier.test'), portA),
      startServer('instance-b', env('b@palier.test'), portB),
    ]);
    db = createDb(database.url);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([stopProcess(a), stopProcess(b)]);
    await smtp?.close();
    await db?.destroy();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('migrates an empty database once when both instances start together', async () => {
    for (const instance of [a, b]) {
      const res = await fetch(`${instance.url}/sante/pret`);
      expect(await res.json()).toEqual({ statut: 'pret' });
    }
    const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
    const names = applied.rows.map((r) => r.name);
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names).size).toBe(names.length);
    expect(await pendingMigrations(db)).toEqual([]);
  });

  it('keeps a session opened on one instance valid on the other, and ends it everywhere at logout', async () => {
    const account = await seedAccount(db, { secrets });
    const user = await createUser(db, { firstName: 'Hélène', lastName: 'ROUX', accountIds: [account.id] });
    const browser = new WebClient();

    // The login form comes from B and is posted to A: the CSRF token is valid on both.
    const login = await browser.submit(
      `${b.url}/`,
      { email: user.email, password: user.password },
      `${a.url}/connexion`,
    );
    expect(login.status).toBe(303);
    expect(login.location).toBe('/accueil');

    const home = await browser.get(`${b.url}/accueil`);
    expect(home.status).toBe(200);
    expect(textOf(home.body)).toContain('Bienvenue, Hélène ROUX');

    // Logout on B (with the token of B's page) ends the session on A too.
    const logout = await browser.submit(`${b.url}/accueil`, {}, `${b.url}/deconnexion`);
    expect(logout.status).toBe(303);
    expect(logout.location).toBe('/');
    const afterLogout = await browser.get(`${a.url}/accueil`);
    expect(afterLogout.status).toBe(303);
    expect(afterLogout.location).toBe('/');
    expect(browser.cookies.has('palier_session')).toBe(false);
  });

  it('refuses a stolen session cookie on both instances once logged out on one', async () => {
    const user = await createUser(db);
    const browser = new WebClient();
    await browser.submit(`${a.url}/`, { email: user.email, password: user.password }, `${a.url}/connexion`);
    const cookie = browser.cookies.get('palier_session');
    expect(cookie).toBeTruthy();
    const copy = new WebClient();
    copy.cookies.set('palier_session', cookie!);
    expect((await copy.get(`${b.url}/accueil`)).status).toBe(200);

    await browser.submit(`${a.url}/accueil`, {}, `${a.url}/deconnexion`);
    for (const instance of [a, b]) {
      const res = await copy.get(`${instance.url}/accueil`);
      expect(res.status, instance.name).toBe(303);
      expect(res.location).toBe('/');
    }
  });

  it('does not let alternating instances get around the limit of 5 wrong access codes per reference', async () => {
    const account = await seedAccount(db, { secrets });
    const browser = new WebClient();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const instance = i % 2 === 0 ? a : b;
      const res = await browser.submit(
        `${instance.url}/creer-mon-espace`,
        { reference: account.reference, code: `FAUX-CODE-${i}1234` },
        `${instance.url}/creer-mon-espace`,
      );
      statuses.push(res.status);
    }
    // The fifth failure reaches the limit and already says when to retry.
    expect(statuses).toEqual([401, 401, 401, 401, 429]);

    // Even the right code is refused now, on either instance.
    for (const instance of [b, a]) {
      const res = await browser.submit(
        `${instance.url}/creer-mon-espace`,
        { reference: account.reference, code: account.accessCode },
        `${instance.url}/creer-mon-espace`,
      );
      expect(res.status, instance.name).toBe(429);
      expect(textOf(res.body)).toContain('Trop d’essais ont échoué');
    }
  });

  it('does not let alternating instances get around the limit of 10 failed logins per email', async () => {
    const user = await createUser(db);
    const browser = new WebClient();
    for (let i = 0; i < 10; i++) {
      const instance = i % 2 === 0 ? a : b;
      const res = await browser.submit(
        `${instance.url}/`,
        { email: user.email, password: `Faux${i}xyzAB` },
        `${instance.url}/connexion`,
      );
      expect(res.status, `failure ${i + 1} on ${instance.name}`).toBe(401);
      expect(textOf(res.body)).toContain('Email ou mot de passe incorrect.');
    }
    for (const instance of [a, b]) {
      const res = await browser.submit(
        `${instance.url}/`,
        { email: user.email, password: TEST_PASSWORD },
        `${instance.url}/connexion`,
      );
      expect(res.status, instance.name).toBe(429);
      expect(textOf(res.body)).toContain('Trop de tentatives de connexion ont échoué');
      expect(browser.cookies.has('palier_session')).toBe(false);
    }
  });

  it('sends each queued mail once although both instances run a worker', async () => {
    // Password resets asked alternately on A and B: each instance queues its own.
    const users = [];
    for (let i = 0; i < 8; i++) users.push(await createUser(db, { email: `oubli${i}@exemple.test` }));
    const browser = new WebClient();
    for (const [i, user] of users.entries()) {
      const instance = i % 2 === 0 ? a : b;
      const res = await browser.submit(
        `${instance.url}/mot-de-passe-oublie`,
        { email: user.email },
        `${instance.url}/mot-de-passe-oublie`,
      );
      expect(res.status).toBe(200);
      expect(textOf(res.body)).toContain('un email vient de lui être envoyé');
    }

    // A batch queued at once (as a letter run would) is found by both workers at their
    // next poll: they race for the same rows.
    const batch = Array.from({ length: 120 }, (_, i) => `lot${i}@exemple.test`);
    await db.transaction().execute(async (trx) => {
      for (const to of batch) {
        await enqueueMail(
          trx,
          { to, subject: 'Avis de la copropriété', text: 'Bonjour.', html: '<p>Bonjour.</p>' },
          new Date(),
        );
      }
    });

    const expected = [...users.map((u) => u.email), ...batch];
    const deadline = Date.now() + 30_000;
    const delivered = () => expected.filter((to) => smtp.mails.some((m) => m.to.includes(to)));
    while (delivered().length < expected.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(delivered().length).toBe(expected.length);
    // Two more polling rounds of both workers: nothing is sent a second time.
    await new Promise((r) => setTimeout(r, 2500));

    for (const user of users) {
      const mails = smtp.mails.filter((m) => m.to.includes(user.email));
      expect(mails.length, user.email).toBe(1);
      expect(mails[0]!.subject).toContain('Choisir un nouveau mot de passe');
    }
    for (const to of batch) {
      expect(smtp.mails.filter((m) => m.to.includes(to)).length, to).toBe(1);
    }
    expect(smtp.mails.length).toBe(expected.length);

    // Both instances delivered part of the batch, and the queue holds every job done once.
    const senders = new Set(smtp.mails.filter((m) => batch.includes(m.to[0]!)).map((m) => m.from));
    expect([...senders].sort()).toEqual(['a@palier.test', 'b@palier.test']);
    const jobs = await db
      .withTables<{ jobs: { status: string; attempts: number; kind: string } }>()
      .selectFrom('jobs')
      .select(['status', 'attempts'])
      .where('kind', '=', 'mail')
      .execute();
    expect(jobs.length).toBe(expected.length);
    expect(jobs.every((j) => j.status === 'done' && j.attempts === 1)).toBe(true);
  }, 60_000);
});
