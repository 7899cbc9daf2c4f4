import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './helpers/app.ts';
import { TestClient, csrfTokenOf, textOf } from './helpers/client.ts';
import { dialects } from './helpers/db.ts';
import { createUser } from './helpers/factories.ts';
import { TEST_LOG_DIR } from './helpers/log-dir.ts';
import { securityEvent } from '../src/core/audit.ts';
import { createContext } from '../src/core/context.ts';
import { formatDate, formatInstant, formatMoney } from '../src/core/format.ts';
import { PASSWORD_MAX_LENGTH, checkPassword } from '../src/core/security/password-policy.ts';

const spaces = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('French formats', () => {
  it('writes money and dates the French way', () => {
    expect(spaces(formatMoney(-137820))).toBe('-1 378,20 €');
    expect(spaces(formatMoney(0))).toBe('0,00 €');
    expect(formatDate('2022-03-29')).toBe('29/03/2022');
    // Winter and summer time in Paris.
    expect(formatInstant('2022-01-10T23:30:00Z')).toBe('11/01/2022 à 00:30');
    expect(formatInstant('2022-07-10T10:00:00Z')).toBe('10/07/2022 à 12:00');
  });
});

describe('password policy', () => {
  const none = { personal: [] };
  const tooShort =
    'Le mot de passe doit contenir au moins 8 caractères dont 1 majuscule et 1 chiffre, ou au moins 15 caractères.';
  const tooLong = `Le mot de passe doit contenir au plus ${PASSWORD_MAX_LENGTH} caractères.`;

  it('counts an emoji as one character, for the minimum of 8, of 15 and the maximum of 128', async () => {
    // 7 characters (11 UTF-16 units): too short, however it is stored.
    expect(await checkPassword('Lu7🌙🌞🌟🌈', none)).toEqual([tooShort]);
    expect(await checkPassword('Lu7🌙🌞🌟🌈⛵', none)).toEqual([]);
    // 14 characters of anything (28 units) are not the 15 that need no uppercase or digit.
    expect(await checkPassword('🦊🐻🐼🐨🐯🦁🐮🐷🐸🐵🐔🐧🐦🐤', none)).toEqual([tooShort]);
    expect(await checkPassword('🦊🐻🐼🐨🐯🦁🐮🐷🐸🐵🐔🐧🐦🐤🦉', none)).toEqual([]);
    // 100 characters (200 units) are within the maximum; 129 are not.
    const animals = [...'🦊🐻🐼🐨🐯🦁🐮🐷🐸🐵🐔🐧🐦🐤🦉🦇🐺🐗🐴🦄🐝🐛🦋🐌🐞'];
    const emojis = (n: number) => Array.from({ length: n }, (_, i) => animals[(i * 7) % animals.length]).join('');
    expect(await checkPassword(emojis(100), none)).not.toContain(tooLong);
    expect(await checkPassword(emojis(128), none)).not.toContain(tooLong);
    expect(await checkPassword(emojis(129), none)).toEqual([tooLong]);
  });
});

describe.each(dialects)('core HTTP behaviour (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers the health checks for the load balancer', async () => {
    const alive = await t.app.inject('/sante');
    expect(alive.json()).toEqual({ statut: 'ok' });
    const ready = await t.app.inject('/sante/pret');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ statut: 'pret' });
  });

  it('sends protective headers on every page', async () => {
    const res = await t.app.inject('/');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeUndefined();
    expect(res.body.startsWith('<!doctype html><html lang="fr">')).toBe(true);
  });

  it('shows a French page for an unknown address', async () => {
    const res = await t.app.inject('/nexiste-pas');
    expect(res.statusCode).toBe(404);
    expect(textOf(res.body)).toContain('Page introuvable');
  });

  it('dates security events by the app’s clock, and keeps who and where out of reach of the details', async () => {
    t.clock.advance(3 * 24 * 60 * 60_000);
    const when = t.clock.now.toISOString();
    const res = await new TestClient(t.app, { ip: '10.7.0.1' }).submit(
      '/',
      { email: 'horloge@exemple.test', password: 'Faux12345' },
      '/connexion',
    );
    expect(res.statusCode).toBe(401);
    const event = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'login')
      .where('ip', '=', '10.7.0.1')
      .executeTakeFirstOrThrow();
    expect(event.at).toBe(when);

    const lines: object[] = [];
    const ctx = createContext({
      db: t.db,
      config: t.config,
      agency: t.app.deps.agency,
      now: t.app.deps.now,
      actor: { kind: 'anonymous', ip: '10.7.0.2' },
      log: { info: (o: object) => lines.push(o), warn() {}, error() {} },
    });
    await securityEvent(ctx, {
      action: 'essai',
      outcome: 'failure',
      userId: 7,
      details: { userId: 999, ip: '6.6.6.6', event: 'autre', reason: 'test' },
    });
    expect(lines).toEqual([
      {
        userId: 7,
        ip: '10.7.0.2',
        event: 'essai',
        outcome: 'failure',
        accountId: null,
        reason: 'test',
        actor: 'anonymous',
      },
    ]);
    const row = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'essai')
      .executeTakeFirstOrThrow();
    expect(row.at).toBe(when);
    expect(row.ip).toBe('10.7.0.2');
  });

  it('masks one-time tokens in the log line of a refused form', async () => {
    const secret = `JetonSecret${dialect}${Date.now()}`;
    const res = await new TestClient(t.app).post(`/nouveau-mot-de-passe?jeton=${secret}`, { password: 'x' });
    expect(res.statusCode).toBe(403);
    const log = readFileSync(path.join(TEST_LOG_DIR, `${path.basename(t.config.dataDir)}.log`), 'utf8');
    const refused = log.split('\n').filter((l) => l.includes('"csrf.refused"'));
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.some((l) => l.includes('jeton=[masqué]'))).toBe(true);
    expect(log).not.toContain(secret);
  });

  it('ends a session after two idle hours and after twelve hours in all', async () => {
    const user = await createUser(t.db);
    const client = new TestClient(t.app);
    await client.submit('/', { email: user.email, password: user.password }, '/connexion');
    t.clock.advance(119 * 60_000);
    expect((await client.get('/profil')).statusCode).not.toBe(303);
    t.clock.advance(121 * 60_000);
    const idle = await client.get('/profil');
    expect(idle.statusCode).toBe(303);
    expect(idle.headers.location).toBe('/?retour=%2Fprofil');

    const busy = new TestClient(t.app);
    await busy.submit('/', { email: user.email, password: user.password }, '/connexion');
    for (let h = 0; h < 12; h++) {
      t.clock.advance(60 * 60_000);
      await busy.get('/profil');
    }
    const absolute = await busy.get('/profil');
    expect(absolute.statusCode).toBe(303);
  });
});

describe('behind HTTPS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp('sqlite', { baseUrl: 'https://extranet.agence.test', secureCookies: true });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('uses __Host- Secure cookies and sends HSTS', async () => {
    const user = await createUser(t.db);
    const client = new TestClient(t.app);
    const res = await client.submit('/', { email: user.email, password: user.password }, '/connexion');
    expect(res.statusCode).toBe(303);
    const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).join('\n');
    expect(setCookie).toMatch(/__Host-palier_session=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax/);
    expect(res.headers['strict-transport-security']).toContain('max-age=31536000');
  });

  it('sends the flash message in a Secure cookie too', async () => {
    const user = await createUser(t.db);
    const client = new TestClient(t.app);
    await client.submit('/', { email: user.email, password: user.password }, '/connexion');
    const home = await client.get('/accueil');
    const out = await client.post('/deconnexion', {}, { csrf: csrfTokenOf(home.body) });
    expect(out.statusCode).toBe(303);
    const setCookie = ([] as string[]).concat(out.headers['set-cookie'] ?? []);
    const flash = setCookie.find((c) => c.startsWith('palier_flash='));
    expect(flash).toMatch(/; Secure/);
    expect(flash).toMatch(/; HttpOnly/);
  });
});

describe.each([
  ['without TRUST_PROXY', false, '127.0.0.1'],
  ['with TRUST_PROXY', true, '203.0.113.7'],
] as const)('client address %s', (_name, trustProxy, expectedIp) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp('sqlite', { trustProxy });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('records the address the limits and logs must use', async () => {
    const page = await t.app.inject({ url: '/' });
    const csrfCookie = ([] as string[])
      .concat(page.headers['set-cookie'] ?? [])
      .map((c) => c.split(';')[0])
      .join('; ');
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const res = await t.app.inject({
      method: 'POST',
      url: '/connexion',
      remoteAddress: '127.0.0.1',
      headers: {
        cookie: csrfCookie,
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': '203.0.113.7',
      },
      payload: new URLSearchParams({ _csrf: token, email: 'inconnu@exemple.test', password: 'Faux12345' }).toString(),
    });
    expect(res.statusCode).toBe(401);
    const event = await t.db
      .selectFrom('audit_events')
      .select('ip')
      .where('action', '=', 'login')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(event.ip).toBe(expectedIp);
  });
});
