import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { textOf } from '../../../test/helpers/client.ts';
import { setAgency } from '../agency/agency.repository.ts';

/** Sends raw bytes on a real connection and returns everything the server answered before closing. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    // The server may close while we are still writing: what it answered is what counts.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return;
      reject(err);
    });
    socket.setTimeout(5000, () => reject(new Error('no answer')));
    socket.write(request);
  });
}

function statusAndBody(raw: string) {
  const [head = '', ...rest] = raw.split('\r\n\r\n');
  return { statusLine: head.split('\r\n')[0], head: head.toLowerCase(), body: rest.join('\r\n\r\n') };
}

/** A French page with the agency's name, and nothing of Fastify's or Node's English answers. */
function expectFrenchPage(body: string, title: string) {
  expect(body).toMatch(/^<!doctype html><html lang="fr">/);
  const text = textOf(body);
  expect(text).toContain(title);
  expect(text).toContain('Cabinet Erreur');
  expect(text).toContain('Revenir à l’accueil');
  expect(body).not.toMatch(/statusCode|Bad Request|Client Error|Exceeded maximum/);
}

describe('requests refused before any route runs', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await buildTestApp('sqlite');
    await setAgency(t.db, { name: 'Cabinet Erreur' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers a URL that cannot be decoded with the French page, status 400', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/%E0%A4%A' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(String(res.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    expectFrenchPage(res.body, 'Adresse incorrecte');
  });

  it('answers it the same on a real connection', async () => {
    const { statusLine, head, body } = statusAndBody(
      await rawExchange(port, 'GET /compte/%E0%A4%A HTTP/1.1\r\nHost: palier.test\r\nConnection: close\r\n\r\n'),
    );
    expect(statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(head).toContain('content-type: text/html; charset=utf-8');
    expectFrenchPage(body, 'Adresse incorrecte');
  });

  it('answers headers larger than Node accepts (431) with the French page', async () => {
    // Node's parser refuses this before Fastify builds a request: app.inject cannot reach it.
    const cookie = `palier_big=${'x'.repeat(20_000)}`;
    const { statusLine, head, body } = statusAndBody(
      await rawExchange(port, `GET / HTTP/1.1\r\nHost: palier.test\r\nCookie: ${cookie}\r\n\r\n`),
    );
    expect(statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(head).toContain('content-type: text/html; charset=utf-8');
    expectFrenchPage(body, 'Demande trop volumineuse');
  });

  it('answers a request that is not HTTP with the French page, status 400', async () => {
    const { statusLine, body } = statusAndBody(await rawExchange(port, 'GET / HTTP/1.1\r\nHost palier.test\r\n\r\n'));
    expect(statusLine).toBe('HTTP/1.1 400 Bad Request');
    expectFrenchPage(body, 'Adresse incorrecte');
  });
});
