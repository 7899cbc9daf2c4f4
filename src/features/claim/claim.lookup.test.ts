import { CompiledQuery, sql, type Kysely, type KyselyPlugin, type RootOperationNode } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { createTestDb, dialects } from '../../../test/helpers/db.ts';
import { createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { agencyIdentity } from '../../core/agency/agency.ts';
import { createContext } from '../../core/context.ts';
import { hashAccessCode } from '../../core/security/access-code.ts';
import type { Db } from '../../db/db.ts';
import * as addReferenceKey from '../../db/migrations/202612030720_add-reference-key.ts';
import { findAccountByTypedReference, typedReferenceQuery } from './claim.repository.ts';
import { attachAccount, checkAccessCode } from './claim.service.ts';

// Counts the code hashes step 1 computes, without changing them.
vi.mock('../../core/security/access-code.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../core/security/access-code.ts')>();
  return { ...original, hashAccessCode: vi.fn(original.hashAccessCode) };
});

/** The database as the service sees it, counting the queries that read client_accounts, and all queries. */
function countingLookups(db: Db) {
  const counter = { lookups: 0, queries: 0 };
  const plugin: KyselyPlugin = {
    transformQuery({ node }): RootOperationNode {
      counter.queries++;
      if (node.kind === 'SelectQueryNode' && JSON.stringify(node.from).includes('"client_accounts"')) {
        counter.lookups++;
      }
      return node;
    },
    async transformResult({ result }) {
      return result;
    },
  };
  return { db: db.withPlugin(plugin), counter };
}

describe.each(dialects)('reference lookup of "Créez votre espace" (%s)', (dialect) => {
  let t: TestApp;
  let ipSeq = 0;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('finds the account whatever the case and surrounding spaces typed', async () => {
    const account = await seedAccount(t.db, t.config, { reference: `Ab-${dialect}-12` });
    expect((await findAccountByTypedReference(t.db, `  aB-${dialect.toUpperCase()}-12 `))?.id).toBe(account.id);
    expect(await findAccountByTypedReference(t.db, `Ab-${dialect}-13`)).toBeUndefined();
  });

  it('prefers the reference typed exactly over one differing only by case', async () => {
    const upper = await seedAccount(t.db, t.config, { reference: `CASE-${dialect}` });
    const lower = await seedAccount(t.db, t.config, { reference: `case-${dialect}` });
    expect((await findAccountByTypedReference(t.db, `case-${dialect}`))?.id).toBe(lower.id);
    expect((await findAccountByTypedReference(t.db, `CASE-${dialect}`))?.id).toBe(upper.id);
    expect((await findAccountByTypedReference(t.db, `Case-${dialect}`))?.id).toBe(upper.id);
  });

  it('gives the accounts already stored their key when the migration runs', async () => {
    const tdb = await createTestDb(dialect);
    try {
      await addReferenceKey.down(tdb.db as unknown as Kysely<unknown>);
      // As an import before this migration wrote them (no reference_key yet).
      const old = tdb.db.withTables<{ client_accounts: Record<string, string | number> }>();
      const now = new Date().toISOString();
      const references = [' ab-12 ', 'Zoé-7', ...Array.from({ length: 600 }, (_, n) => `r${n}`)];
      await old
        .insertInto('client_accounts')
        .values(references.map((reference) => ({ reference, kind: 'locataire', created_at: now, updated_at: now })))
        .execute();
      await addReferenceKey.up(tdb.db as unknown as Kysely<unknown>);
      expect((await findAccountByTypedReference(tdb.db, 'AB-12'))?.reference).toBe(' ab-12 ');
      expect((await findAccountByTypedReference(tdb.db, 'zoé-7'))?.reference).toBe('Zoé-7');
      expect((await findAccountByTypedReference(tdb.db, 'R599'))?.reference).toBe('r599');
      const missing = await tdb.db
        .selectFrom('client_accounts')
        .select('id')
        .where((eb) => eb.or([eb('reference_key', 'is', null), eb('reference_key', '=', '')]))
        .execute();
      expect(missing).toEqual([]);
    } finally {
      await tdb.destroy();
    }
  });

  it('looks the reference up through the reference_key index, never by scanning the accounts', async () => {
    const compiled = typedReferenceQuery(t.db, ' ab1234 ').compile();
    let plan: string;
    if (dialect === 'sqlite') {
      const r = await t.db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`EXPLAIN QUERY PLAN ${compiled.sql}`, [...compiled.parameters]),
      );
      plan = r.rows.map((row) => row.detail).join('\n');
    } else {
      // A small table is cheaper to scan: forbid scans to see whether the index can serve.
      plan = await t.db.connection().execute(async (conn) => {
        await sql`set enable_seqscan = off`.execute(conn);
        try {
          const r = await conn.executeQuery<{ 'QUERY PLAN': string }>(
            CompiledQuery.raw(`EXPLAIN ${compiled.sql}`, [...compiled.parameters]),
          );
          return r.rows.map((row) => row['QUERY PLAN']).join('\n');
        } finally {
          await sql`reset enable_seqscan`.execute(conn);
        }
      });
    }
    expect(plan).toContain('client_accounts_reference_key_idx');
    expect(plan).not.toMatch(/SCAN client_accounts\b|Seq Scan on client_accounts/);
  });

  it('does the same work for a known, an unknown and a locked reference: one lookup, one code hash', async () => {
    const account = await seedAccount(t.db, t.config);
    const { db, counter } = countingLookups(t.db);
    const ctx = createContext({
      db,
      config: t.config,
      agency: agencyIdentity(t.db),
      actor: { kind: 'anonymous', ip: `10.77.${dialect === 'sqlite' ? 1 : 2}.${++ipSeq}` },
      now: () => t.clock.now,
    });
    const hashes = vi.mocked(hashAccessCode);
    const step1 = async (reference: string) => {
      counter.lookups = 0;
      hashes.mockClear();
      const result = await checkAccessCode(ctx, { reference, code: 'MAUVAIS-CODE-1', action: 'claim.code' });
      return {
        ok: result.ok,
        locked: !result.ok && result.lockedUntil !== null,
        work: [counter.lookups, hashes.mock.calls.length],
      };
    };

    expect(await step1(account.reference)).toEqual({ ok: false, locked: false, work: [1, 1] });
    expect(await step1(`INCONNU-${account.reference}`)).toEqual({ ok: false, locked: false, work: [1, 1] });
    // Five failures lock the reference; the attempts after still look up and hash.
    for (let i = 0; i < 4; i++) await step1(` ${account.reference.toLowerCase()}`);
    expect(await step1(account.reference)).toEqual({ ok: false, locked: true, work: [1, 1] });
  });

  it('"Ajouter un compte" runs the same queries for a reference that exists and one that does not', async () => {
    const account = await seedAccount(t.db, t.config);
    const user = await createUser(t.db);
    const { db, counter } = countingLookups(t.db);
    const ctx = createContext({
      db,
      config: t.config,
      agency: agencyIdentity(t.db),
      actor: { kind: 'client', userId: user.id, ip: `10.78.${dialect === 'sqlite' ? 1 : 2}.1`, sessionHash: null },
      now: () => t.clock.now,
    });
    const person = { id: user.id, firstName: 'Paul', lastName: 'DURAND' };
    const attach = async (reference: string) => {
      counter.queries = 0;
      const result = await attachAccount(ctx, person, reference, 'MAUVAIS-CODE-2');
      return { ok: result.ok, queries: counter.queries };
    };
    const known = await attach(account.reference);
    expect(known.ok).toBe(false);
    expect(await attach(`INCONNU-${account.reference}`)).toEqual(known);
  });
});
