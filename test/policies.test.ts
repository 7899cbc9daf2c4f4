import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountKind } from '../src/db/schema.ts';
import { buildTestApp, type TestApp } from './helpers/app.ts';
import { TestClient, csrfTokenOf } from './helpers/client.ts';
import { dialects } from './helpers/db.ts';
import {
  addLedger,
  createBuilding,
  createManager,
  createUser,
  seedAccount,
  type SeedAccountOptions,
} from './helpers/factories.ts';
import { loginAs } from './helpers/login.ts';

/*
 * Role × route matrix, over HTTP, on both databases: every client route about one account,
 * asked by every kind of person about every account of the fixture. The holder of an
 * account gets its page; anybody else gets a 404 identical to the 404 of an id that does
 * not exist, writes nothing and leaves a denial in the audit log; an anonymous visitor is
 * sent to the login page. Routes about the person (no id) show only their own accounts.
 *
 * Adding a route is one line in ACCOUNT_ROUTES or PERSON_ROUTES; a route registered under
 * /comptes/ (or with a parameter) that no table lists fails the last test. The unit-level
 * matrix of the policy is src/features/accounts/accounts.policies.test.ts. Staff does not
 * exist yet (no back office): when it does, it becomes a role here.
 */

/** Who asks. Each client role holds exactly one account, named after it. */
const CLIENT_ROLES = ['owner', 'coOwner', 'otherBuilding', 'council', 'tenant', 'landlord'] as const;
type ClientRole = (typeof CLIENT_ROLES)[number];
type Role = ClientRole | 'anonymous';
const ROLES: Role[] = [...CLIENT_ROLES, 'anonymous'];

/** An id that no account has (the largest a route accepts). */
const MISSING_ID = 2_147_483_647;

interface Target {
  id: number;
  reference: string;
  kind: AccountKind;
  lastName: string;
  email: string;
}

interface AccountRoute {
  method: 'GET' | 'POST';
  /** The route as the app registers it. */
  route: `/comptes/:id/${string}`;
  /** A query string to add, to try another branch of the same route. */
  query?: string;
  /** What a POST sends (its CSRF token is added); built from the account it is about. */
  form?: (target: Target) => Record<string, string>;
  /** The kinds of account whose holder gets the page; the others' holders get the 404. Default: all. */
  kinds?: AccountKind[];
  /** What the holder gets: 200 by default; 303 back to the page after a POST that worked. */
  holder?: 200 | 303 | 400;
  /** The table a holder's successful POST adds a row to; nobody else's POST may. */
  writes?: 'messages' | 'contact_changes';
}

/** Every stored detail of the account, with the city changed: a real correction. */
const coordinates = (t: Target): Record<string, string> => ({
  civility: 'M.',
  lastName: t.lastName,
  firstName: 'Paul',
  email: t.email,
  phone: '06 12 34 56 78',
  address: '12 rue des Alpes',
  postalCode: '38000',
  city: `VILLE ${t.reference}`,
});

const ACCOUNT_ROUTES: AccountRoute[] = [
  { method: 'GET', route: '/comptes/:id/extrait' },
  { method: 'GET', route: '/comptes/:id/extrait', query: '?du=2024-02-01&au=2024-12-31' },
  // A refused period is checked after the account: a stranger learns nothing from a 400.
  { method: 'GET', route: '/comptes/:id/extrait', query: '?du=2024-02-30', holder: 400 },
  { method: 'GET', route: '/comptes/:id/extrait.csv' },
  { method: 'GET', route: '/comptes/:id/extrait.csv', query: '?du=31/02/2024', holder: 400 },
  { method: 'GET', route: '/comptes/:id/extrait.pdf' },
  { method: 'GET', route: '/comptes/:id/payer' },
  { method: 'GET', route: '/comptes/:id/coordonnees' },
  { method: 'POST', route: '/comptes/:id/coordonnees', form: coordinates, holder: 303, writes: 'contact_changes' },
  {
    method: 'POST',
    route: '/comptes/:id/coordonnees',
    form: (t) => ({ ...coordinates(t), lastName: '' }),
    holder: 400,
  },
  // The conseil syndical belongs to a copropriété: a tenant's or a landlord's own page is a 404.
  { method: 'GET', route: '/comptes/:id/conseil-syndical', kinds: ['coproprietaire'] },
  { method: 'GET', route: '/comptes/:id/contact' },
  {
    method: 'POST',
    route: '/comptes/:id/contact',
    form: (t) => ({ subject: `Question ${t.reference}`, body: 'Bonjour,\nune question sur mon compte.' }),
    holder: 303,
    writes: 'messages',
  },
  { method: 'POST', route: '/comptes/:id/contact', form: () => ({ subject: '', body: '' }), holder: 400 },
];

interface PersonRoute {
  method: 'GET' | 'POST';
  route: string;
  /** The page lists the person's accounts: each client sees their own reference there. */
  lists?: boolean;
}

/**
 * Routes about the signed-in person, without an account id. GETs: anonymous → login page,
 * every client → 200 with no other person's account. POSTs: only the anonymous case here
 * (their forms are tested with their features).
 */
const PERSON_ROUTES: PersonRoute[] = [
  { method: 'GET', route: '/accueil', lists: true },
  { method: 'GET', route: '/contact', lists: true },
  { method: 'GET', route: '/profil' },
  { method: 'GET', route: '/comptes/ajouter' },
  { method: 'POST', route: '/comptes/ajouter' },
  { method: 'POST', route: '/profil' },
  { method: 'POST', route: '/profil/email' },
  { method: 'POST', route: '/profil/email/annulation' },
  { method: 'POST', route: '/profil/email/confirmation' },
  { method: 'POST', route: '/profil/mot-de-passe' },
  // The download lists the person's own accounts, and no one else's.
  { method: 'GET', route: '/profil/mes-donnees.json', lists: true },
  { method: 'GET', route: '/profil/mes-donnees.csv', lists: true },
  { method: 'GET', route: '/profil/fermeture' },
  { method: 'POST', route: '/profil/fermeture' },
];

/**
 * Account routes whose role matrix lives with their feature, because who may see them
 * depends on more than holding the account (a document's space, a payment of one's own):
 * each entry names the test that plays every role against it.
 */
const MATRIX_ELSEWHERE: Record<string, string> = {
  'GET /comptes/:id/documents': 'src/features/documents/documents.test.ts (role × space matrix)',
  'GET /comptes/:id/documents/immeuble': 'src/features/documents/documents.test.ts (role × space matrix)',
  'GET /comptes/:id/documents/conseil': 'src/features/documents/documents.test.ts (role × space matrix)',
  'GET /comptes/:id/documents/:docId': 'src/features/documents/documents.test.ts (role × space matrix)',
  'GET /comptes/:id/documents/:docId/voir': 'src/features/documents/documents.test.ts (role × space matrix)',
  'POST /comptes/:id/payer/carte': 'src/features/statements/payment.card.test.ts (card payments need a provider)',
  'GET /comptes/:id/payer/carte/:reference': 'src/features/statements/payment.card.test.ts (others’ payments)',
};

/** The page without what changes on every response: the CSRF token. */
const stable = (body: string) => body.replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf" value=""');

/**
 * Method and path of every registered route, read from Fastify's route tree
 * (printRoutes without common prefixes: a node's path is its ancestors' segments joined).
 * HEAD is left out: Fastify adds one to every GET.
 */
function registeredRoutes(app: FastifyInstance): { method: string; route: string }[] {
  const out: { method: string; route: string }[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    stack.length = m[1]!.length / 4;
    stack.push(m[2]!);
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD')) {
      out.push({ method, route: stack.join('') });
    }
  }
  return out;
}

/** Header names of two answers, but the date. */
const headerNames = (a: LightMyRequestResponse, b: LightMyRequestResponse) =>
  [...new Set([...Object.keys(a.headers), ...Object.keys(b.headers)])].filter((h) => !['date'].includes(h));

const label = (r: { method: string; route: string; query?: string }) => `${r.method} ${r.route}${r.query ?? ''}`;

describe.each(dialects)('role × route matrix (%s)', (dialect) => {
  let t: TestApp;
  let targets: Record<ClientRole, Target>;
  let clients: Record<Role, TestClient>;
  let tokens: Record<Role, string>;

  beforeAll(async () => {
    t = await buildTestApp(dialect);
    const building = await createBuilding(t.db, { name: 'Résidence du Parc' });
    const elsewhere = await createBuilding(t.db, { name: 'Le Lointain' });
    const manager = await createManager(t.db, { name: 'ZIANE Aziza' });
    const here = { buildingId: building.id, managerId: manager.id };
    const spec: Record<ClientRole, SeedAccountOptions> = {
      owner: { ...here, reference: 'MXA0001', lastName: 'ALPHA' },
      coOwner: { ...here, reference: 'MXB0002', lastName: 'BRAVO' },
      otherBuilding: { buildingId: elsewhere.id, managerId: manager.id, reference: 'MXC0003', lastName: 'CHARLIE' },
      council: { ...here, reference: 'MXD0004', lastName: 'DELTA', councilRole: 'president' },
      tenant: { ...here, reference: 'MXL0005', lastName: 'LIMA', kind: 'locataire' },
      landlord: { ...here, reference: 'MXP0006', lastName: 'PAPA', kind: 'proprietaire' },
    };
    targets = {} as typeof targets;
    clients = { anonymous: new TestClient(t.app) } as typeof clients;
    tokens = { anonymous: csrfTokenOf((await clients.anonymous.get('/')).body) } as typeof tokens;
    for (const role of CLIENT_ROLES) {
      const o = spec[role];
      const a = await seedAccount(t.db, t.config, o);
      await addLedger(t.db, a.id, [
        { date: '2024-01-15', label: `Appel de fonds ${a.reference}`, debit: 45_000 },
        { date: '2024-02-01', label: `Règlement ${a.reference}`, credit: 40_000 },
      ]);
      targets[role] = {
        id: a.id,
        reference: a.reference,
        kind: o.kind ?? 'coproprietaire',
        lastName: o.lastName!,
        email: a.email!,
      };
      const user = await createUser(t.db, { accountIds: [a.id], lastName: o.lastName });
      clients[role] = await loginAs(t.app, user.email, user.password);
      tokens[role] = csrfTokenOf((await clients[role].get('/accueil')).body);
    }
  });

  afterAll(async () => {
    await t?.close();
  });

  const count = async (query: ReturnType<typeof sql<{ n: number }>>) => Number((await query.execute(t.db)).rows[0]!.n);
  const countOf = (table: 'messages' | 'contact_changes' | 'jobs') =>
    count(sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`);
  const denialCount = () =>
    count(
      sql<{ n: number }>`select count(*) as n from audit_events where action = 'account.read' and outcome = 'denied'`,
    );
  const writes = async () => ({
    messages: await countOf('messages'),
    contact_changes: await countOf('contact_changes'),
    jobs: await countOf('jobs'),
  });
  const accountRow = (id: number) =>
    t.db.selectFrom('client_accounts').selectAll().where('id', '=', id).executeTakeFirst();

  function ask(
    r: AccountRoute,
    role: Role,
    id: number | string,
    target: Target | null,
  ): Promise<LightMyRequestResponse> {
    const url = `${r.route.replace(':id', String(id))}${r.query ?? ''}`;
    if (r.method === 'GET') return clients[role].get(url);
    return clients[role].post(url, r.form ? r.form(target ?? targets.owner) : {}, { csrf: tokens[role] });
  }

  /** The login page, carrying (for a GET) the page asked for so it opens after signing in. */
  function isLoginRedirect(location: unknown): boolean {
    const u = new URL(String(location), 'http://palier.test');
    const back = u.searchParams.get('retour');
    return u.pathname === '/' && (back === null || (back.startsWith('/') && !back.startsWith('//')));
  }

  function expected(r: AccountRoute, role: Role, owner: ClientRole): { status: number; location?: string } {
    if (role === 'anonymous') return { status: 303, location: '/' };
    if (role !== owner) return { status: 404 };
    if (r.kinds && !r.kinds.includes(targets[owner].kind)) return { status: 404 };
    const status = r.holder ?? 200;
    return status === 303 ? { status, location: r.route.replace(':id', String(targets[owner].id)) } : { status };
  }

  it.each(ACCOUNT_ROUTES.map((r) => [label(r), r] as const))('%s', async (_, r) => {
    const problems: string[] = [];
    // The 404 of an id that does not exist, as each person sees it (their name is in the header).
    const missing = {} as Record<ClientRole, LightMyRequestResponse>;
    for (const role of CLIENT_ROLES) {
      missing[role] = await ask(r, role, MISSING_ID, targets[role]);
      expect(missing[role].statusCode, `${label(r)} with a missing id as ${role}`).toBe(404);
      expect(missing[role].headers['content-type']).toMatch(/^text\/html/);
      // An id that is not one answers the same.
      for (const garbage of ['0', '007', 'abc', '99999999999']) {
        const res = await ask(r, role, garbage, targets[role]);
        if (res.statusCode !== 404 || stable(res.body) !== stable(missing[role].body)) {
          problems.push(`${label(r)} with id "${garbage}" as ${role}: ${res.statusCode}, not the 404 of a missing id`);
        }
        clients[role].cookies.delete('palier_flash');
      }
    }
    const anonymousMissing = await ask(r, 'anonymous', MISSING_ID, null);
    if (anonymousMissing.statusCode !== 303 || !isLoginRedirect(anonymousMissing.headers.location)) {
      problems.push(`${label(r)} with a missing id as anonymous: ${anonymousMissing.statusCode}`);
    }

    for (const owner of CLIENT_ROLES) {
      const target = targets[owner];
      for (const role of ROLES) {
        const cell = `${label(r)} on ${owner}'s account (${target.kind}) as ${role}`;
        const want = expected(r, role, owner);
        const before = r.method === 'POST' ? { ...(await writes()), row: await accountRow(target.id) } : null;
        const deniedBefore = await denialCount();

        const res = await ask(r, role, target.id, target);

        const statusOk = res.statusCode === want.status;
        if (!statusOk) problems.push(`${cell}: expected ${want.status}, got ${res.statusCode}`);
        const locationOk =
          role === 'anonymous' ? isLoginRedirect(res.headers.location) : res.headers.location === want.location;
        if (statusOk && want.location !== undefined && !locationOk) {
          problems.push(`${cell}: expected a redirect to ${want.location}, got ${String(res.headers.location)}`);
        }
        if (statusOk && want.status === 404) {
          const same = missing[role as ClientRole];
          if (stable(res.body) !== stable(same.body)) {
            problems.push(`${cell}: the 404 differs from the 404 of a missing id`);
          }
          const differing = headerNames(res, same).filter((h) => String(res.headers[h]) !== String(same.headers[h]));
          if (differing.length) problems.push(`${cell}: the 404's headers differ: ${differing.join(', ')}`);
        }
        if (statusOk && want.status === 200) {
          // The page is about this account, and names no other account of the fixture.
          const shown = `${res.body}${String(res.headers['content-disposition'] ?? '')}`;
          if (!shown.includes(target.reference)) problems.push(`${cell}: the page does not name ${target.reference}`);
          for (const other of Object.values(targets)) {
            if (other !== target && res.body.includes(other.reference)) {
              problems.push(`${cell}: the page shows another account, ${other.reference}`);
            }
          }
        }
        // A refusal is a security event; nothing else leaves one.
        const denials = (await denialCount()) - deniedBefore;
        const wantDenials = want.status === 404 ? 1 : 0;
        if (statusOk && denials !== wantDenials) {
          problems.push(`${cell}: ${denials} denial(s) audited, expected ${wantDenials}`);
        }

        // Whatever the answer, only the holder's valid POST writes.
        const wrote = statusOk && want.status === 303 && role === owner ? r.writes : undefined;
        if (before) {
          const after = { ...(await writes()), row: await accountRow(target.id) };
          for (const table of ['messages', 'contact_changes'] as const) {
            const added = after[table] - before[table];
            if (added !== (table === wrote ? 1 : 0)) problems.push(`${cell}: ${added} row(s) added to ${table}`);
          }
          if (!wrote && after.jobs !== before.jobs) {
            problems.push(`${cell}: ${after.jobs - before.jobs} mail(s) queued`);
          }
          if (wrote !== 'contact_changes' && JSON.stringify(after.row) !== JSON.stringify(before.row)) {
            problems.push(`${cell}: the account's details changed`);
          }
        }
        if (wrote) {
          // The page the POST sends back to, with its flash message consumed.
          const next = await clients[role].follow(res);
          if (next.statusCode !== 200) problems.push(`${cell}: the page after the POST answered ${next.statusCode}`);
        } else {
          // A flash message left by this answer would show on the next page compared.
          clients[role].cookies.delete('palier_flash');
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it.each(PERSON_ROUTES.map((r) => [label(r), r] as const))('%s', async (_, r) => {
    const problems: string[] = [];
    const anonymous =
      r.method === 'GET'
        ? await clients.anonymous.get(r.route)
        : await clients.anonymous.post(r.route, {}, { csrf: tokens.anonymous });
    if (anonymous.statusCode !== 303 || !isLoginRedirect(anonymous.headers.location)) {
      problems.push(`${label(r)} as anonymous: ${anonymous.statusCode} ${String(anonymous.headers.location)}`);
    }
    if (r.method === 'GET') {
      for (const role of CLIENT_ROLES) {
        const res = await clients[role].get(r.route);
        if (res.statusCode !== 200) {
          problems.push(`${label(r)} as ${role}: ${res.statusCode}`);
          continue;
        }
        if (r.lists && !res.body.includes(targets[role].reference)) {
          problems.push(`${label(r)} as ${role}: their own account ${targets[role].reference} is missing`);
        }
        for (const [other, t] of Object.entries(targets)) {
          if (other !== role && res.body.includes(t.reference)) {
            problems.push(`${label(r)} as ${role}: shows ${other}'s account ${t.reference}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('lists every route about an account, and every route with a parameter, in a table', () => {
    const registered = registeredRoutes(t.app);
    // The reading of the route tree works: it finds routes we know.
    expect(registered).toContainEqual({ method: 'GET', route: '/accueil' });
    expect(registered).toContainEqual({ method: 'GET', route: '/comptes/:id/extrait.csv' });

    const listed = new Set([
      ...[...ACCOUNT_ROUTES, ...PERSON_ROUTES].map((r) => `${r.method} ${r.route}`),
      ...Object.keys(MATRIX_ELSEWHERE),
    ]);
    const unlisted = registered
      .filter((r) => r.route.startsWith('/comptes/') || r.route.includes(':'))
      .map((r) => `${r.method} ${r.route}`)
      .filter((r) => !listed.has(r));
    expect(unlisted, 'routes missing from ACCOUNT_ROUTES / PERSON_ROUTES of test/policies.test.ts').toEqual([]);

    // And no table lists a route that does not exist any more.
    const exists = new Set(registered.map((r) => `${r.method} ${r.route}`));
    expect([...listed].filter((r) => !exists.has(r))).toEqual([]);
  });
});
