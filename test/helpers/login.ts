import { expect } from 'vitest';
import { TestClient } from './client.ts';
import type { FastifyInstance } from 'fastify';

/** A client logged in through the real login form. */
export async function loginAs(app: FastifyInstance, email: string, password: string, ip?: string): Promise<TestClient> {
  const client = new TestClient(app, { ip });
  const res = await client.submit('/', { email, password }, '/connexion');
  expect(res.statusCode, res.body.slice(0, 500)).toBe(303);
  expect(res.headers.location).toBe('/accueil');
  return client;
}
