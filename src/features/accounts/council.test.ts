import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { TestClient, textOf } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { createBuilding, createManager, createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { loginAs } from '../../../test/helpers/login.ts';
import { canSeeCouncil } from './accounts.policies.ts';
import { presentCouncil } from './council.service.ts';

describe('council presentation and policy', () => {
  it('puts the président first, then members alphabetically, one line per person', () => {
    const members = presentCouncil([
      { civility: 'M.', first_name: 'Louis', last_name: 'MOREAU', council_role: 'membre' },
      { civility: null, first_name: 'Zoé', last_name: 'ABADIE', council_role: 'membre' },
      { civility: 'Mme', first_name: 'Zoe', last_name: 'Abadie', council_role: 'president' },
      { civility: 'Mme', first_name: 'Élise', last_name: 'ÉTIENNE', council_role: 'membre' },
      { civility: 'M.', first_name: 'Sans', last_name: 'RÔLE', council_role: null },
    ]);
    expect(members.map((m) => `${m.name} – ${m.roleLabel}`)).toEqual([
      'Mme Zoe Abadie – Président du conseil syndical',
      'Mme Élise ÉTIENNE – Membre',
      'M. Louis MOREAU – Membre',
    ]);
  });

  it('shows the council to copropriétaires only', () => {
    expect(canSeeCouncil({ kind: 'coproprietaire' })).toBe(true);
    expect(canSeeCouncil({ kind: 'locataire' })).toBe(false);
    expect(canSeeCouncil({ kind: 'proprietaire' })).toBe(false);
  });
});

describe.each(dialects)('Membres du conseil syndical (%s)', (dialect) => {
  let t: TestApp;
  let building: { id: number; name: string };
  let accounts: Record<
    'president' | 'member' | 'memberParking' | 'member2' | 'plain' | 'tenant' | 'elsewhere' | 'emptyBuilding',
    Awaited<ReturnType<typeof seedAccount>>
  >;
  let clients: Record<'plainOwner' | 'councilMember' | 'tenant' | 'otherClient', TestClient>;

  beforeAll(async () => {
    t = await buildTestApp(dialect);
    building = await createBuilding(t.db, { name: 'Le Belvédère' });
    const manager = await createManager(t.db);
    const inB = { buildingId: building.id, managerId: manager.id };
    accounts = {
      president: await seedAccount(t.db, t.config, {
        ...inB,
        councilRole: 'president',
        firstName: 'Hélène',
        lastName: 'BERTIN',
      }),
      member: await seedAccount(t.db, t.config, {
        ...inB,
        councilRole: 'membre',
        firstName: 'Zoé',
        lastName: 'ABADIE',
      }),
      // The same person's parking space: a second account, one seat.
      memberParking: await seedAccount(t.db, t.config, {
        ...inB,
        councilRole: 'membre',
        firstName: 'Zoé',
        lastName: 'ABADIE',
        lots: [{ type: 'Parking' }],
      }),
      member2: await seedAccount(t.db, t.config, {
        ...inB,
        councilRole: 'membre',
        firstName: 'Louis',
        lastName: 'MOREAU',
      }),
      plain: await seedAccount(t.db, t.config, { ...inB, firstName: 'Paul', lastName: 'DURAND' }),
      // Bad data from an import: a tenant never sits on the council.
      tenant: await seedAccount(t.db, t.config, {
        ...inB,
        kind: 'locataire',
        councilRole: 'membre',
        firstName: 'Intrus',
        lastName: 'LOCATAIRE',
      }),
      elsewhere: await seedAccount(t.db, t.config, {
        councilRole: 'president',
        firstName: 'Autre',
        lastName: 'AILLEURS',
      }),
      emptyBuilding: await seedAccount(t.db, t.config, { firstName: 'Seul', lastName: 'SANSCONSEIL' }),
    };
    const plainOwner = await createUser(t.db, { accountIds: [accounts.plain.id, accounts.emptyBuilding.id] });
    const councilMember = await createUser(t.db, { accountIds: [accounts.member.id, accounts.memberParking.id] });
    const tenant = await createUser(t.db, { accountIds: [accounts.tenant.id] });
    const otherClient = await createUser(t.db, { accountIds: [accounts.elsewhere.id] });
    clients = {
      plainOwner: await loginAs(t.app, plainOwner.email, plainOwner.password),
      councilMember: await loginAs(t.app, councilMember.email, councilMember.password),
      tenant: await loginAs(t.app, tenant.email, tenant.password),
      otherClient: await loginAs(t.app, otherClient.email, otherClient.password),
    };
  });
  afterAll(async () => {
    await t?.close();
  });

  const url = (id: number) => `/comptes/${id}/conseil-syndical`;

  it('lists the council of the building: président first, then members, names and roles only', async () => {
    const res = await clients.plainOwner.get(url(accounts.plain.id));
    expect(res.statusCode).toBe(200);
    const text = textOf(res.body);
    expect(text).toContain('Membres du conseil syndical');
    expect(text).toContain(`Copropriétaire N° ${accounts.plain.reference}`);
    expect(text).toContain('Conseil syndical de Le Belvédère');
    const president = text.indexOf('M. Hélène BERTIN Président du conseil syndical');
    const abadie = text.indexOf('M. Zoé ABADIE Membre');
    const moreau = text.indexOf('M. Louis MOREAU Membre');
    expect(president).toBeGreaterThan(-1);
    expect(abadie).toBeGreaterThan(president);
    expect(moreau).toBeGreaterThan(abadie);
    expect(text.split('ABADIE').length - 1).toBe(1);
    expect(text).not.toContain('DURAND');
    expect(text).not.toContain('LOCATAIRE');
    expect(text).not.toContain('AILLEURS');
    // No contact details of the members (décret 2019-502).
    for (const a of [accounts.president, accounts.member, accounts.member2]) expect(res.body).not.toContain(a.email!);
    expect(text).not.toContain('06 12 34 56 78');
  });

  it('says so when no council is recorded for the copropriété', async () => {
    const res = await clients.plainOwner.get(url(accounts.emptyBuilding.id));
    expect(res.statusCode).toBe(200);
    expect(textOf(res.body)).toContain('Aucun membre du conseil syndical n’est enregistré pour cette copropriété.');
  });

  it('lets a council member see the council from their own account, and nobody else’s', async () => {
    const own = await clients.councilMember.get(url(accounts.member.id));
    expect(own.statusCode).toBe(200);
    expect(textOf(own.body)).toContain('M. Hélène BERTIN Président du conseil syndical');
    const missing = await clients.councilMember.get(url(999_999_999));
    expect(missing.statusCode).toBe(404);
    for (const id of [accounts.plain.id, accounts.president.id]) {
      const res = await clients.councilMember.get(url(id));
      expect(res.statusCode).toBe(404);
      expect(textOf(res.body)).toBe(textOf(missing.body));
    }
  });

  it('answers a client of another building exactly like a page that does not exist', async () => {
    const theirs = await clients.otherClient.get(url(accounts.plain.id));
    const missing = await clients.otherClient.get(url(999_999_999));
    expect(theirs.statusCode).toBe(404);
    expect(textOf(theirs.body)).toBe(textOf(missing.body));
    expect(textOf(theirs.body)).not.toContain('BERTIN');
  });

  it('answers 404 on the locataire account of a tenant', async () => {
    const res = await clients.tenant.get(url(accounts.tenant.id));
    expect(res.statusCode).toBe(404);
    const missing = await clients.tenant.get(url(999_999_999));
    expect(textOf(res.body)).toBe(textOf(missing.body));
  });

  it('sends an anonymous visitor to the login page', async () => {
    const res = await new TestClient(t.app).get(url(accounts.plain.id));
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toMatch(/^\/(\?retour=|$)/);
  });
});
