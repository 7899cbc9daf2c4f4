import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './helpers/app.ts';
import type { TestClient } from './helpers/client.ts';
import { dialects } from './helpers/db.ts';
import { addLedger, createUser, seedAccount } from './helpers/factories.ts';
import { loginAs } from './helpers/login.ts';

/*
 * How many SQL queries one request of the two most visited pages costs, session lookup
 * included, so that a change cannot add one unnoticed. The agency's identity is kept in
 * memory as in production (a version query at most every few seconds, not one per
 * request): the app is built with a recheck delay longer than the test.
 *
 * Budgets: /accueil = session + accounts + lots + documents (balances are kept per ledger
 * version) when the data it shows changed, the session alone otherwise (the page is kept
 * per person under the data versions); /comptes/:id/extrait = session + account with its
 * building and gestionnaire + lines (+ opening balance with a start date).
 * Raise one only on purpose, and say why in the commit. Not counted: the update of the
 * session's last-seen time, at most once a minute per session (pinned below), and the
 * agency's version check, at most every AGENCY_RECHECK_MS per instance.
 */
const BUDGET = { home: 4, statement: 4 };

describe.each(dialects)('queries per request (%s)', (dialect) => {
  let t: TestApp;
  let client: TestClient;
  let accountId: number;
  let recording: string[] | null = null;

  beforeAll(async () => {
    t = await buildTestApp(dialect, {}, { agencyRecheckMs: 3_600_000, onQuery: (q) => recording?.push(q) });
    // Several accounts with lots and lines: the count must not grow with them.
    const accounts = [];
    for (let i = 0; i < 3; i++) {
      const a = await seedAccount(t.db, t.config, { lots: [{}, { type: 'Cave' }] });
      await addLedger(t.db, a.id, [
        { date: '2024-01-15', label: 'Appel de fonds T1', debit: 45_000 },
        { date: '2024-02-01', label: 'Règlement', credit: 45_000 },
        { date: '2024-04-15', label: 'Appel de fonds T2', debit: 45_000 },
      ]);
      accounts.push(a);
    }
    accountId = accounts[0]!.id;
    const user = await createUser(t.db, { accountIds: accounts.map((a) => a.id) });
    // Logging in renders pages: the agency's identity is loaded and kept from then on.
    client = await loginAs(t.app, user.email, user.password);
  });

  afterAll(async () => {
    await t?.close();
  });

  /** The queries one GET runs, after a first identical GET (so nothing is loaded once for all). */
  async function queriesOf(url: string): Promise<string[]> {
    expect((await client.get(url)).statusCode, url).toBe(200);
    recording = [];
    try {
      const res = await client.get(url);
      expect(res.statusCode, url).toBe(200);
      return recording;
    } finally {
      recording = null;
    }
  }

  const listing = (queries: string[]) => queries.map((q, i) => `  ${i + 1}. ${q}`).join('\n');

  it(`home page: at most ${BUDGET.home} queries when the data changed, the session alone when not`, async () => {
    // Balances are kept per ledger version from the first view on.
    expect((await client.get('/accueil')).statusCode).toBe(200);
    // A write to a building moves the client-data version: the next page is built afresh.
    await sql`update buildings set name = name || ' '`.execute(t.db);
    recording = [];
    let queries: string[];
    try {
      expect((await client.get('/accueil')).statusCode).toBe(200);
      queries = recording;
    } finally {
      recording = null;
    }
    expect(queries.length, `GET /accueil ran ${queries.length} queries:\n${listing(queries)}\n`).toBeLessThanOrEqual(
      BUDGET.home,
    );
    // The counter works: at least the session and the accounts.
    expect(queries.length).toBeGreaterThanOrEqual(2);

    // Nothing changed since: the page kept in memory is served after the session lookup.
    const again = await queriesOf('/accueil');
    expect(again, listing(again)).toHaveLength(1);
    expect(again[0]).toMatch(/from "sessions"/);
  });

  it('a session seen more than a minute ago costs one more query, its touch', async () => {
    await queriesOf('/accueil');
    t.clock.advance(61_000);
    recording = [];
    try {
      expect((await client.get('/accueil')).statusCode).toBe(200);
      const touched = recording;
      expect(touched.length, listing(touched)).toBeLessThanOrEqual(BUDGET.home + 1);
      expect(
        touched.some((q) => /^update "sessions"/.test(q)),
        listing(touched),
      ).toBe(true);
    } finally {
      recording = null;
    }
  });

  it.each(['', '?du=2024-02-01&au=2024-12-31'])(`statement%s: at most ${BUDGET.statement} queries`, async (query) => {
    const url = `/comptes/${accountId}/extrait${query}`;
    const queries = await queriesOf(url);
    expect(queries.length, `GET ${url} ran ${queries.length} queries:\n${listing(queries)}\n`).toBeLessThanOrEqual(
      BUDGET.statement,
    );
    expect(queries.length).toBeGreaterThanOrEqual(2);
  });
});
