import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import helmet from 'helmet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { helmetHeaders } from './security-headers.ts';

const OPTIONS = {
  contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], frameAncestors: ["'none'"] } },
  hsts: { maxAge: 31536000, includeSubDomains: true },
  referrerPolicy: { policy: 'same-origin' as const },
};

/** What helmet's own middleware puts on a real answer. */
async function helmetOnARealAnswer(): Promise<IncomingHttpHeaders> {
  const server = createServer((req, res) => helmet(OPTIONS)(req, res, () => res.end('ok')));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const out: IncomingHttpHeaders = {};
    res.headers.forEach((value, name) => (out[name] = value));
    return out;
  } finally {
    server.close();
  }
}

describe('security headers worked out once', () => {
  it('are the headers helmet itself sets', async () => {
    const real = await helmetOnARealAnswer();
    const once = helmetHeaders(OPTIONS);
    for (const [name, value] of Object.entries(once)) expect(real[name], name).toBe(value);
    const helmetNames = Object.keys(real).filter(
      (n) => !['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(n),
    );
    expect(Object.keys(once).sort()).toEqual(helmetNames.sort());
  });

  describe('on every answer of the app', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp('sqlite');
    }, 30_000);
    afterAll(async () => {
      await t?.close();
    });

    it.each([
      ['/', 200],
      ['/page-inconnue', 404],
      ['/accueil', 303],
    ])('%s (%i)', async (url, status) => {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(status);
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('same-origin');
    });
  });
});
