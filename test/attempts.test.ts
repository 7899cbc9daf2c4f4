import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS, lockedUntil, takeAttempt } from '../src/core/security/attempts.ts';
import { buildTestApp, type TestApp } from './helpers/app.ts';
import { TestClient, csrfTokenOf } from './helpers/client.ts';
import { dialects } from './helpers/db.ts';
import { seedAccount } from './helpers/factories.ts';

describe.each(dialects)('attempt limits under parallel requests (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lets no more than the limit through when attempts race', async () => {
    const now = new Date();
    const results = await Promise.all(
      Array.from({ length: 30 }, () => takeAttempt(t.db, LIMITS.codePerReference, 'RACE1', now)),
    );
    expect(results.filter((r) => r.taken).length).toBe(LIMITS.codePerReference.max);
    expect(await lockedUntil(t.db, LIMITS.codePerReference, 'RACE1', now)).not.toBeNull();
  });

  it('checks at most five codes of one reference sent at the same moment, the right one included', async () => {
    const account = await seedAccount(t.db, t.config);
    const clients = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const c = new TestClient(t.app, { ip: `10.9.${i}.1` });
        return { c, token: csrfTokenOf((await c.get('/creer-mon-espace')).body) };
      }),
    );
    const answers = await Promise.all(
      clients.map(({ c, token }, i) =>
        c.post(
          '/creer-mon-espace',
          { reference: account.reference, code: i === 29 ? account.accessCode : `FAUX-${i}-CODE` },
          { csrf: token },
        ),
      ),
    );
    const checked = await t.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('action', '=', 'claim.code')
      .where('outcome', 'in', ['failure', 'success'])
      .executeTakeFirstOrThrow();
    expect(Number(checked.n)).toBeLessThanOrEqual(LIMITS.codePerReference.max);
    expect(answers.filter((a) => a.statusCode === 429).length).toBeGreaterThanOrEqual(25);
  });
});
