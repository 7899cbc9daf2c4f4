import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './helpers/app.ts';
import { TestClient, textOf } from './helpers/client.ts';
import { dialects } from './helpers/db.ts';
import { createUser } from './helpers/factories.ts';
import { formatDate, formatInstant, formatMoney } from '../src/core/format.ts';

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

  it('ends a session after two idle hours and after twelve hours in all', async () => {
    const user = await createUser(t.db);
    const client = new TestClient(t.app);
    await client.submit('/', { email: user.email, password: user.password }, '/connexion');
    t.clock.advance(119 * 60_000);
    expect((await client.get('/profil')).statusCode).not.toBe(303);
    t.clock.advance(121 * 60_000);
    const idle = await client.get('/profil');
    expect(idle.statusCode).toBe(303);
    expect(idle.headers.location).toBe('/');

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
