import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS, lockedUntil, releaseAttempts, takeAttempt, takeAttempts } from '../src/core/security/attempts.ts';
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

  const rowsOf = async (scope: string, key: string) =>
    Number(
      (
        await t.db
          .selectFrom('auth_attempts')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('scope', '=', scope)
          .where('key', '=', key)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('takes an attempt on every key or on none, and says when the latest lock ends', async () => {
    const now = new Date();
    const email = LIMITS.loginPerEmail;
    const ip = LIMITS.loginPerIp;
    // Parallel logins of one address from one IP: no more than the address's limit get through.
    const results = await Promise.all(
      Array.from({ length: 25 }, () =>
        takeAttempts(
          t.db,
          [
            [email, 'course@exemple.test'],
            [ip, '10.7.0.1'],
          ],
          now,
        ),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(email.max);
    // A refusal records nothing on the other key.
    expect(await rowsOf(ip.scope, '10.7.0.1')).toBe(email.max);
    const refused = results.find((r) => !r.ok);
    expect(refused && !refused.ok && refused.lockedUntil.getTime()).toBe(now.getTime() + email.windowMs);

    // A success forgets what it took and clears the address's failures, in one statement.
    const other = await takeAttempts(
      t.db,
      [
        [email, 'autre@exemple.test'],
        [ip, '10.7.0.2'],
      ],
      now,
    );
    expect(other.ok).toBe(true);
    await releaseAttempts(t.db, other.ok ? other.ids : [], [[email, 'course@exemple.test']]);
    expect(await rowsOf(email.scope, 'course@exemple.test')).toBe(0);
    expect(await rowsOf(email.scope, 'autre@exemple.test')).toBe(0);
    expect(await rowsOf(ip.scope, '10.7.0.2')).toBe(0);
    expect(await rowsOf(ip.scope, '10.7.0.1')).toBe(email.max);
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
