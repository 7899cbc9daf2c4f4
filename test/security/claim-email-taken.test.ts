import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { TestClient, textOf } from '../helpers/client.ts';
import { dialects } from '../helpers/db.ts';
import { createUser, seedAccount } from '../helpers/factories.ts';

const GOOD_PASSWORD = 'Palier#Lune42';
const TAKEN = 'Cette adresse email a déjà un espace client';
const EXPIRED = 'Création de mon espace : étape expirée';

/**
 * « Cette adresse email a déjà un espace client » tells whether an address has a space.
 * Someone holding one printed code could test a list of addresses by asking for a new
 * ticket (step 1 again, same code) whenever one ran out of answers. The answers are now
 * counted per account (3 an hour) and per client address (10 an hour), whatever the ticket.
 */
describe.each(dialects)('Security: email-taken answers at claim step 2 (%s)', (dialect) => {
  let t: TestApp;
  let ipSeq = 0;
  const taken: string[] = [];
  beforeAll(async () => {
    t = await buildTestApp(dialect);
    // Addresses that already have a space: the list the attacker tests.
    for (let i = 0; i < 4; i++) taken.push((await createUser(t.db)).email);
  });
  afterAll(async () => {
    await t?.close();
  });

  const visitor = () => new TestClient(t.app, { ip: `10.30.${dialect === 'sqlite' ? 1 : 2}.${++ipSeq}` });

  async function ticketFor(c: TestClient, account: { reference: string; accessCode: string }): Promise<string> {
    const res = await c.submit('/creer-mon-espace', { reference: account.reference, code: account.accessCode });
    expect(res.statusCode, textOf(res.body).slice(0, 300)).toBe(303);
    return new URL(String(res.headers.location), 'http://palier.test').searchParams.get('ticket')!;
  }

  const step2 = (c: TestClient, ticket: string, email: string): Promise<LightMyRequestResponse> =>
    c.submit(
      `/creer-mon-espace/etape-2?ticket=${ticket}`,
      {
        ticket,
        civility: 'M.',
        lastName: 'DURAND',
        firstName: 'Paul',
        email,
        password: GOOD_PASSWORD,
        confirm: GOOD_PASSWORD,
        phone: '06 12 34 56 78',
        address: '12 rue des Alpes',
        postalCode: '38000',
        city: 'Grenoble',
      },
      '/creer-mon-espace/etape-2',
    );

  const expectTakenAnswer = (res: LightMyRequestResponse) => {
    expect(res.statusCode).toBe(409);
    expect(textOf(res.body)).toContain(TAKEN);
  };
  const expectSpent = (res: LightMyRequestResponse) => {
    expect(res.statusCode).toBe(400);
    expect(textOf(res.body)).toContain(EXPIRED);
    expect(textOf(res.body)).not.toContain(TAKEN);
  };

  it('three answers per account in all, however many tickets the same code gives', async () => {
    const account = await seedAccount(t.db, t.config);
    const c = visitor();
    const first = await ticketFor(c, account);
    for (const email of taken.slice(0, 3)) expectTakenAnswer(await step2(c, first, email));

    // Step 1 again with the same code: a fresh ticket, but no fresh answers.
    const second = await ticketFor(c, account);
    expectSpent(await step2(c, second, taken[3]!));
    // That ticket is spent for good.
    expect((await c.get(`/creer-mon-espace/etape-2?ticket=${second}`)).statusCode).toBe(400);
    // And from another machine, with yet another ticket: still no answer for this account.
    const elsewhere = visitor();
    expectSpent(await step2(elsewhere, await ticketFor(elsewhere, account), taken[3]!));

    // Nothing was created meanwhile: the code is still unused, for its owner.
    expect(
      (
        await t.db.selectFrom('client_accounts').select('access_code_used_at').where('id', '=', account.id).execute()
      )[0]!.access_code_used_at,
    ).toBeNull();
  });

  it('ten answers per client address in all, across accounts', async () => {
    const c = visitor();
    let answers = 0;
    for (let a = 0; a < 4; a++) {
      const account = await seedAccount(t.db, t.config);
      const ticket = await ticketFor(c, account);
      for (let i = 0; i < 3 && answers < 10; i++) {
        expectTakenAnswer(await step2(c, ticket, taken[i]!));
        answers++;
      }
      if (answers === 10) {
        // The 11th answer from this address, on a ticket that has given only one so far.
        expectSpent(await step2(c, ticket, taken[3]!));
      }
    }
    expect(answers).toBe(10);
  });
});
