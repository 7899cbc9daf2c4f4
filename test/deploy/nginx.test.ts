import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNewSecrets } from '../../src/core/secrets/secrets.ts';
import { setAgency } from '../../src/core/agency/agency.repository.ts';
import { CHROMIUM, CHROMIUM_ARGS, clickAndLoad, mainText } from '../e2e/browser.ts';
import { createTestDb, type TestDb } from '../helpers/db.ts';
import { addLedger, createBuilding, createManager, seedAccount } from '../helpers/factories.ts';
import { TEST_LOG_DIR } from '../helpers/log-dir.ts';
import { linkIn, startSmtp, type SmtpCapture } from '../helpers/smtp.ts';
import { freePort } from '../ops/processes.ts';

/*
 * The deployment of docs/deploiement.md, for real: Debian's nginx runs the shipped
 * deploy/nginx/palier.conf (only its ports, paths and server name replaced) with a
 * self-signed certificate, in front of two Palier processes started with the command of
 * deploy/systemd/palier@.service and the settings of deploy/env.example, on one PostgreSQL
 * database and one DATA_DIR. A Chromium then walks the client's journey through nginx over
 * HTTPS, and the test checks what the guide promises: HTTP redirected, __Host- Secure
 * session cookie, HSTS sent once, the client's real address in the security log and a
 * forged X-Forwarded-For ignored, requests spread over both instances, the request id
 * followed from nginx to Palier's log, /sante/pret, an instance stopped for an upgrade
 * without the site going down, and a French maintenance page when both are stopped.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const NGINX = '/usr/sbin/nginx';
const SHIPPED_CONF = path.join(repoRoot, 'deploy', 'nginx', 'palier.conf');
const SHIPPED_UNIT = path.join(repoRoot, 'deploy', 'systemd', 'palier@.service');
const SHIPPED_ENV = path.join(repoRoot, 'deploy', 'env.example');

const CLIENT_EMAIL = 'claire.martin@exemple.test';
const PERSONAL_PASSWORD = 'Verrière4Tilleul';
const NEW_PASSWORD = 'Ardoise8Fenêtre';
/** What a client could send to pass for someone else; nginx must throw it away. */
const FORGED_ADDRESS = '203.0.113.77';

const missing = [NGINX, CHROMIUM, '/usr/bin/openssl'].filter((f) => !existsSync(f));
// A developer's machine without them skips with a warning; CI installs them (.ci/run) and never skips.
const skip = missing.length > 0 && !process.env.CI;
if (skip)
  console.warn(
    `${missing.join(', ')} missing: the nginx deployment test is skipped (apt-get install nginx-light chromium).`,
  );

/** The command line of deploy/systemd/palier@.service, split as systemd splits it (no quotes there). */
function shippedExecStart(): string[] {
  const line = /^ExecStart=(.+)$/m.exec(readFileSync(SHIPPED_UNIT, 'utf8'))?.[1];
  if (!line) throw new Error('deploy/systemd/palier@.service has no ExecStart');
  return line.trim().split(/\s+/);
}

/** deploy/env.example as systemd's EnvironmentFile= reads it: KEY=VALUE lines, optional double quotes. */
function shippedSettings(): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const line of readFileSync(SHIPPED_ENV, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) settings[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return settings;
}

/** Replaces one exact piece of the shipped file, failing loudly if the file no longer has it. */
function replaceAll(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`deploy/nginx/palier.conf no longer contains « ${from} »: update the test`);
  return text.split(from).join(to);
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request to nginx over TLS, checking its certificate against the test's own (no verification turned off). */
function httpsGet(port: number, ca: string, urlPath: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port,
        path: urlPath,
        ca,
        headers: { host: `localhost:${port}`, ...headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function httpGet(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitUntil(what: string, ok: () => Promise<boolean>, timeoutMs: number, died?: () => string | null) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = died?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    if (await ok().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Appends to the suite's log folder, which another run's global setup may have just emptied. */
function appendLog(file: string, chunk: string): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    appendFileSync(file, chunk);
  } catch {
    // The lines stay in memory for this test's own assertions.
  }
}

/** A process the test started: its output kept, and stopped (then killed if need be) at the end. */
class Proc {
  readonly out: string[] = [];
  stderr = '';
  exitCode: number | null = null;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    logFile?: string,
  ) {
    let partial = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      if (logFile) appendLog(logFile, chunk);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      this.out.push(...lines.filter(Boolean));
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : -1);
        resolve();
      }),
    );
  }

  died(): string | null {
    return this.exitCode === null ? null : `${this.name} exited with ${this.exitCode}:\n${this.stderr.slice(-3000)}`;
  }

  /** The pino lines of this process, parsed. */
  json(): Record<string, unknown>[] {
    return this.out.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    if (this.exitCode !== null) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

describe.skipIf(skip)('the deployment guide’s nginx in front of two Palier instances, over HTTPS', () => {
  let dir: string;
  let cert: string;
  let tdb: TestDb;
  let smtp: SmtpCapture;
  let instances: Proc[] = [];
  let nginx: Proc | undefined;
  let httpsPort: number;
  let httpPort: number;
  let base: string;
  let context: BrowserContext | undefined;
  let profile: string | undefined;
  let copro: Awaited<ReturnType<typeof seedAccount>>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'palier-deploy-'));
    const dataDir = path.join(dir, 'data');
    mkdirSync(dataDir);
    const ports = new Set<number>();
    while (ports.size < 4) ports.add(await freePort());
    const [port1, port2] = [...ports] as [number, number];
    [httpsPort, httpPort] = [...ports].slice(2) as [number, number];
    base = `https://localhost:${httpsPort}`;

    // A self-signed certificate for localhost, made for this run.
    const certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    const ssl = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { encoding: 'utf8' },
    );
    if (ssl.status !== 0) throw new Error(`openssl failed: ${ssl.stderr}`);
    cert = readFileSync(certFile, 'utf8');

    // The database and the data folder both instances share, with the secrets written before they start.
    tdb = await createTestDb('postgres');
    const secrets = writeNewSecrets(dataDir);
    await setAgency(tdb.db, {
      name: 'Cabinet Heurtier',
      address: '4 place Grenette, 38000 Grenoble',
      phone: '04 76 46 12 34',
      email: 'contact@cabinet-heurtier.test',
    });
    const manager = await createManager(tdb.db, { name: 'ZIANE Aziza', email: 'aziza.ziane@agence.test' });
    const building = await createBuilding(tdb.db, { name: 'Résidence Les Tilleuls' });
    copro = await seedAccount(
      tdb.db,
      { secrets },
      {
        kind: 'coproprietaire',
        reference: 'C0007315',
        accessCode: 'R8TQ-4MVX-2K',
        firstName: 'Claire',
        lastName: 'MARTIN',
        email: CLIENT_EMAIL,
        buildingId: building.id,
        managerId: manager.id,
        lots: [{ number: '0006', type: 'Appartement', description: '4 pièces', shares: 123 }],
      },
    );
    await addLedger(tdb.db, copro.id, [
      { date: '2022-01-01', label: 'Appel de fonds 1er trimestre 2022', debit: 95_000 },
      { date: '2022-01-20', label: 'Règlement par chèque', credit: 95_000 },
      { date: '2022-04-01', label: 'Appel de fonds 2e trimestre 2022', debit: 95_000 },
      { date: '2022-04-01', label: 'Fonds de travaux 2e trimestre 2022', debit: 4_750 },
      { date: '2022-07-01', label: 'Appel de fonds 3e trimestre 2022', debit: 95_000 },
      { date: '2022-07-15', label: 'Virement reçu', credit: 56_930 },
    ]);
    smtp = await startSmtp();

    // Two instances, started with the systemd unit's ExecStart and the shipped env.example;
    // only what points at this run (data folder, database, address, SMTP) is replaced.
    // Their JSON logs also go to the suite's log folder, which the global teardown searches for secrets.
    const [program, ...args] = shippedExecStart();
    expect(program).toBe('/usr/bin/node');
    const shippedEnv = shippedSettings();
    expect(shippedEnv.PORT, 'env.example must not set PORT (it overrides the unit’s)').toBeUndefined();
    expect(shippedEnv).toMatchObject({ HOST: '127.0.0.1', TRUST_PROXY: '127.0.0.1' });
    expect(shippedEnv.BASE_URL).toMatch(/^https:\/\//);
    mkdirSync(TEST_LOG_DIR, { recursive: true });
    instances = [port1, port2].map((port) => {
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env.BASE_URL; // vitest sets BASE_URL=/ for its own use
      Object.assign(env, shippedEnv, {
        PORT: String(port), // Environment=PORT=%i
        DATA_DIR: dataDir,
        DATABASE_URL: tdb.url,
        BASE_URL: base,
        SMTP_URL: smtp.url,
      });
      const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
      return new Proc(
        `palier:${port}`,
        child,
        path.join(TEST_LOG_DIR, `deploy-palier-${path.basename(dir)}-${port}.log`),
      );
    });

    // nginx with the shipped file, inside a minimal main configuration of its own (Debian's
    // /etc/nginx/nginx.conf plays that part on a server).
    let site = readFileSync(SHIPPED_CONF, 'utf8');
    site = replaceAll(site, '127.0.0.1:3001', `127.0.0.1:${port1}`);
    site = replaceAll(site, '127.0.0.1:3002', `127.0.0.1:${port2}`);
    site = replaceAll(site, '/etc/letsencrypt/live/palier.exemple.fr/fullchain.pem', certFile);
    site = replaceAll(site, '/etc/letsencrypt/live/palier.exemple.fr/privkey.pem', keyFile);
    site = replaceAll(site, 'palier.exemple.fr', 'localhost');
    site = replaceAll(site, '    listen 443 ssl http2;\n', `    listen 127.0.0.1:${httpsPort} ssl http2;\n`);
    site = replaceAll(site, '    listen [::]:443 ssl http2;\n', '');
    site = replaceAll(site, '    listen 80;\n', `    listen 127.0.0.1:${httpPort};\n`);
    site = replaceAll(site, '    listen [::]:80;\n', '');
    site = replaceAll(site, '/var/log/nginx/', `${dir}/`);
    site = replaceAll(site, '/var/www/html', path.join(dir, 'acme'));
    writeFileSync(path.join(dir, 'palier.conf'), site);
    const temp = (name: string) => path.join(dir, 'nginx-temp', name);
    for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(temp(t), { recursive: true });
    writeFileSync(
      path.join(dir, 'nginx.conf'),
      [
        // As root, workers would otherwise run as nobody and could not use the private temp folders.
        process.getuid?.() === 0 ? 'user root root;' : '',
        'worker_processes 1;',
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/nginx-main.error.log warn;`,
        'events { worker_connections 256; }',
        'http {',
        `  client_body_temp_path ${temp('body')};`,
        `  proxy_temp_path ${temp('proxy')};`,
        `  fastcgi_temp_path ${temp('fastcgi')};`,
        `  uwsgi_temp_path ${temp('uwsgi')};`,
        `  scgi_temp_path ${temp('scgi')};`,
        `  access_log off;`,
        `  include ${dir}/palier.conf;`,
        '}',
        '',
      ].join('\n'),
    );
    const nginxArgs = ['-p', `${dir}/`, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr'];
    const check = spawnSync(NGINX, [...nginxArgs, '-t'], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`nginx -t refuses the configuration:\n${check.stderr}`);
    // No warning either (nginx 1.25.1 and later only note that `listen … http2` has a newer spelling).
    const warnings = check.stderr
      .split('\n')
      .filter((l) => l.includes('[warn]') && !l.includes('"listen ... http2" directive is deprecated'));
    if (warnings.length > 0) throw new Error(`nginx -t warns about the configuration:\n${warnings.join('\n')}`);
    nginx = new Proc('nginx', spawn(NGINX, [...nginxArgs, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] }));

    // Palier answers /sante/pret once migrated and listening; nginx once its TLS port is up.
    await Promise.all(
      instances.map((p, i) =>
        waitUntil(
          p.name,
          async () => (await fetch(`http://127.0.0.1:${[port1, port2][i]}/sante/pret`)).status === 200,
          45_000,
          () => p.died(),
        ),
      ),
    );
    await waitUntil(
      'nginx',
      async () => (await httpsGet(httpsPort, cert, '/sante')).status === 200,
      10_000,
      () => nginx!.died(),
    );
  }, 90_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    if (profile) rmSync(profile, { recursive: true, force: true });
    await Promise.allSettled([nginx?.stop('SIGQUIT'), ...instances.map((p) => p.stop())]);
    await smtp?.close();
    await tdb?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Every request line Palier logged (one per request it served), across instances. */
  const requestsOf = (p: Proc) =>
    p.json().filter((l) => l.msg === 'incoming request') as { reqId: string; req: { url: string; ip: string } }[];

  it('redirects plain HTTP to HTTPS, except Let’s Encrypt’s challenges', async () => {
    const res = await httpGet(httpPort, '/accueil?onglet=locataire', { host: 'localhost' });
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('https://localhost/accueil?onglet=locataire');
    // A forged Host does not choose where the redirect goes.
    const forged = await httpGet(httpPort, '/', { host: 'attaquant.example' });
    expect(forged.headers.location).toBe('https://localhost/');

    const challenges = path.join(dir, 'acme', '.well-known', 'acme-challenge');
    mkdirSync(challenges, { recursive: true });
    writeFileSync(path.join(challenges, 'jeton-de-test'), 'preuve');
    const challenge = await httpGet(httpPort, '/.well-known/acme-challenge/jeton-de-test', { host: 'localhost' });
    expect(challenge.status).toBe(200);
    expect(challenge.body).toBe('preuve');
  });

  it('answers /sante/pret through nginx, with Palier’s HSTS sent once and a request id followed into Palier’s log', async () => {
    const res = await httpsGet(httpsPort, cert, '/sante/pret', { 'x-request-id': 'forged-by-the-client' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ statut: 'pret' });
    // Sent by Palier (BASE_URL is https), not doubled by nginx.
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    // nginx's id replaces the client's, is returned to the browser and tags Palier's log lines.
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    await waitUntil(
      'Palier’s log line of the request',
      async () => instances.some((p) => requestsOf(p).some((r) => r.reqId === id)),
      5_000,
    );
    expect(instances.flatMap((p) => p.out).join('\n')).not.toContain('forged-by-the-client');
    // The server's version is not advertised.
    expect(res.headers.server).toBe('nginx');
  });

  it('walks the client’s journey through nginx: create the space, balance, statement, log out and in, reset the password', async () => {
    profile = mkdtempSync(path.join(tmpdir(), 'palier-chromium-'));
    // Same Chromium as test/e2e, plus the self-signed certificate accepted, and every request
    // carrying a forged X-Forwarded-For that nginx must not pass on.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      javaScriptEnabled: false,
      ignoreHTTPSErrors: true,
      extraHTTPHeaders: { 'X-Forwarded-For': FORGED_ADDRESS },
      viewport: { width: 1280, height: 800 },
      locale: 'fr-FR',
      timezoneId: 'Europe/Paris',
      args: CHROMIUM_ARGS,
    });
    context.setDefaultTimeout(15_000);
    const page: Page = context.pages()[0] ?? (await context.newPage());
    const heading = () => page.getByRole('heading', { level: 1 }).innerText();

    // The login page, over HTTPS.
    const first = await page.goto(`${base}/`);
    expect(first?.status()).toBe(200);
    expect(await heading()).toBe('Connexion à votre espace client');

    // Créez votre espace, 1/2 then 2/2.
    await clickAndLoad(page, page.getByRole('link', { name: 'Créez votre espace' }));
    expect(await heading()).toBe('Création de mon espace (1/2)');
    await page.getByLabel('Identifiant').fill(copro.reference);
    await page.getByLabel('Mot de passe').fill(copro.accessCode);
    await clickAndLoad(page, page.getByRole('button', { name: 'Étape suivante' }));
    expect(await heading()).toBe('Création de mon espace (2/2)');
    expect(await page.getByLabel(/^Email/).inputValue()).toBe(CLIENT_EMAIL);
    await page.getByLabel(/^Mot de passe/).fill(PERSONAL_PASSWORD);
    await page.getByLabel(/^Confirmer le mot de passe/).fill(PERSONAL_PASSWORD);
    await clickAndLoad(page, page.getByRole('button', { name: 'Valider' }));

    // Home with the balance.
    expect((await page.getByRole('status').innerText()).replace(/[\u00a0\u202f]/g, ' ')).toContain(
      'Votre compte est désormais créé !',
    );
    expect(await heading()).toBe('Bienvenue, Claire MARTIN');
    expect(await mainText(page)).toContain('-1 378,20 €');
    expect(page.url()).toBe(`${base}/accueil`);

    // The session cookie is the secure one: __Host-, Secure, HttpOnly, for the whole site only.
    const cookies = await context.cookies(base);
    const session = cookies.find((c) => c.name === '__Host-palier_session');
    expect(session, `cookies: ${cookies.map((c) => c.name).join(', ')}`).toBeDefined();
    expect(session).toMatchObject({ secure: true, httpOnly: true, path: '/', sameSite: 'Lax', domain: 'localhost' });
    expect(cookies.map((c) => c.name)).not.toContain('palier_session');

    // Détail: the statement.
    await clickAndLoad(page, page.getByRole('link', { name: /^Détail/ }));
    expect(await heading()).toBe('Extrait de compte');
    expect(await page.getByRole('table').locator('tbody tr').count()).toBe(6);
    expect((await page.getByRole('table').locator('tfoot').innerText()).replace(/[\u00a0\u202f]/g, ' ')).toContain(
      '-1 378,20 €',
    );

    // Déconnexion, then Se connecter.
    await clickAndLoad(page, page.getByRole('button', { name: 'Déconnexion' }));
    expect((await page.getByRole('status').innerText()).replace(/[\u00a0\u202f]/g, ' ')).toContain(
      'Vous êtes déconnecté',
    );
    await page.getByLabel('Email').fill(CLIENT_EMAIL);
    await page.getByLabel('Mot de passe').fill(PERSONAL_PASSWORD);
    await clickAndLoad(page, page.getByRole('button', { name: 'Se connecter' }));
    expect(await heading()).toBe('Bienvenue, Claire MARTIN');
    await clickAndLoad(page, page.getByRole('button', { name: 'Déconnexion' }));

    // Mot de passe oublié ? → the mail, whose link already points at the public HTTPS address.
    await clickAndLoad(page, page.getByRole('link', { name: 'Mot de passe oublié ?' }));
    expect(await heading()).toBe('Mot de passe oublié');
    await page.getByLabel('Email').fill(CLIENT_EMAIL);
    await clickAndLoad(page, page.getByRole('button', { name: 'Valider' }));
    expect(await mainText(page)).toContain('un email vient de lui être envoyé');
    const mail = await smtp.waitFor(CLIENT_EMAIL, (m) => m.text.includes('/nouveau-mot-de-passe'), 20_000);
    const link = linkIn(mail, '/nouveau-mot-de-passe');
    expect(link.startsWith(`${base}/nouveau-mot-de-passe?jeton=`)).toBe(true);
    await page.goto(link);
    expect(await heading()).toBe('Choisir un nouveau mot de passe');
    await page.getByLabel(/^Nouveau mot de passe/).fill(NEW_PASSWORD);
    await page.getByLabel(/^Confirmer le mot de passe/).fill(NEW_PASSWORD);
    await clickAndLoad(page, page.getByRole('button', { name: 'Valider' }));
    expect((await page.getByRole('status').innerText()).replace(/[\u00a0\u202f]/g, ' ')).toContain(
      'Votre mot de passe a été modifié',
    );

    // Logged in with the new password.
    await page.getByLabel('Email').fill(CLIENT_EMAIL);
    await page.getByLabel('Mot de passe').fill(NEW_PASSWORD);
    await clickAndLoad(page, page.getByRole('button', { name: 'Se connecter' }));
    expect(await heading()).toBe('Bienvenue, Claire MARTIN');
    expect(await mainText(page)).toContain('-1 378,20 €');

    // The security log holds the client's real address (nginx's view of it), never the forged one.
    const events = await tdb.db.selectFrom('audit_events').select(['action', 'outcome', 'ip']).execute();
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events.filter((e) => e.ip !== '127.0.0.1')).toEqual([]);
    const logged = instances.flatMap((p) => p.out).join('\n');
    expect(logged).not.toContain(FORGED_ADDRESS);
    const served = instances.flatMap(requestsOf);
    expect(served.length).toBeGreaterThan(15);
    expect(served.filter((r) => r.req.ip !== '127.0.0.1')).toEqual([]);

    // nginx spread the journey over both instances.
    const perInstance = instances.map((p) => requestsOf(p).length);
    expect(Math.min(...perInstance), `requests per instance: ${perInstance.join(' / ')}`).toBeGreaterThanOrEqual(5);
  }, 90_000);

  it('keeps the site up while one instance is stopped, and says so in French when both are', async () => {
    const [stopped, running] = instances as [Proc, Proc];
    await stopped.stop('SIGTERM');
    expect(stopped.exitCode, `${stopped.name} did not stop cleanly: ${stopped.stderr}`).toBe(0);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await httpsGet(httpsPort, cert, '/sante/pret');
      expect(res.status).toBe(200);
      ids.push(String(res.headers['x-request-id']));
    }
    const home = await httpsGet(httpsPort, cert, '/');
    expect(home.status).toBe(200);
    expect(home.body).toContain('Connexion à votre espace client');
    ids.push(String(home.headers['x-request-id']));
    // Every one of them was served by the instance left running.
    await waitUntil(
      'the running instance’s log',
      async () => ids.every((id) => requestsOf(running).some((r) => r.reqId === id)),
      5_000,
    );

    // Both stopped (an upgrade with migrations): a French maintenance page, not nginx's 502.
    await running.stop('SIGTERM');
    expect(running.exitCode, `${running.name} did not stop cleanly: ${running.stderr}`).toBe(0);
    const down = await httpsGet(httpsPort, cert, '/accueil');
    expect(down.status).toBe(503);
    expect(down.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(down.headers['retry-after']).toBe('120');
    expect(down.body).toContain('<h1>Espace client momentanément indisponible</h1>');
  });
});
