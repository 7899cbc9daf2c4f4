import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, textOf } from '../../../test/helpers/client.ts';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { looksLikeReference } from './auth.routes.tsx';

describe('signing in with the paper Identifiant by mistake', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp('sqlite');
  });
  afterAll(() => t.close());

  it('says that a first connection goes through « Créez votre espace »', async () => {
    const res = await new TestClient(t.app).submit('/', { email: 'C0042', password: 'AB3K-7QWZ' }, '/connexion');
    expect(res.statusCode).toBe(400);
    const text = textOf(res.body);
    expect(text).toContain('Ceci ressemble à l’identifiant imprimé sur votre appel de fonds');
    expect(text).toContain('« Créez votre espace »');
    expect(res.body).toContain('value="C0042"');
  });

  it('keeps the plain message for a mistyped email', async () => {
    const res = await new TestClient(t.app).submit('/', { email: 'jean.dupont', password: 'x' }, '/connexion');
    expect(res.statusCode).toBe(400);
    expect(textOf(res.body)).toContain('Saisissez une adresse email valide');
  });

  it('tells references from mistyped emails', () => {
    for (const r of ['C0042', 'AB-1234', '00451/12', 'coprop 123']) expect(looksLikeReference(r), r).toBe(true);
    for (const e of ['jean.dupont', 'jean@', 'a', 'jean@exemple.fr']) expect(looksLikeReference(e), e).toBe(false);
  });
});
