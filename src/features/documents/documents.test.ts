import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { TestClient, textOf } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { createBuilding, createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { PNG, pdf } from '../../../test/helpers/files.ts';
import { loginAs } from '../../../test/helpers/login.ts';
import { startS3, type S3Server } from '../../../test/helpers/s3.ts';
import { createContext, type Ctx } from '../../core/context.ts';
import type { DocumentScope } from '../../db/schema.ts';
import { publishDocuments, withdrawDocument, type DocumentTarget } from './documents.service.ts';

type Person = 'owner' | 'otherOwner' | 'elsewhere' | 'council' | 'tenant' | 'landlord';
type Doc =
  | 'ownerPrivate'
  | 'public'
  | 'forTenants'
  | 'council'
  | 'tenantPrivate'
  | 'landlordPrivate'
  | 'withdrawn'
  | 'otherBuilding';

/** What each person may see through their own account; anonymous sees nothing. */
const VISIBLE: Record<Person, Doc[]> = {
  owner: ['ownerPrivate', 'public', 'forTenants'],
  otherOwner: ['public', 'forTenants'],
  elsewhere: ['otherBuilding'],
  council: ['public', 'forTenants', 'council'],
  tenant: ['tenantPrivate', 'forTenants'],
  landlord: ['landlordPrivate'],
};

/** The space pages each person's account has. */
const SPACES: Record<Person, DocumentScope[]> = {
  owner: ['account', 'building'],
  otherOwner: ['account', 'building'],
  elsewhere: ['account', 'building'],
  council: ['account', 'building', 'council'],
  tenant: ['account', 'building'],
  landlord: ['account'],
};

const SPACE_PATH: Record<DocumentScope, string> = { account: '', building: '/immeuble', council: '/conseil' };
const PEOPLE = Object.keys(VISIBLE) as Person[];

describe.each(dialects)('document spaces: who sees what (%s)', (dialect) => {
  let t: TestApp;
  let staff: Ctx;
  const accountOf = {} as Record<Person, { id: number; reference: string }>;
  const clients = {} as Record<Person, TestClient>;
  const docs = {} as Record<Doc, number>;
  const scopeOf = {} as Record<Doc, DocumentScope>;
  const titleOf = (d: Doc) => `Titre ${d}`;

  beforeAll(async () => {
    t = await buildTestApp(dialect);
    staff = createContext({
      db: t.db,
      config: t.config,
      agency: t.app.deps.agency,
      actor: { kind: 'staff', name: 'cli', ip: null },
    });
    const a = await createBuilding(t.db, { name: 'Les Tilleuls' });
    const b = await createBuilding(t.db, { name: 'Le Belvédère' });
    const seeds: Record<Person, Parameters<typeof seedAccount>[2]> = {
      owner: { buildingId: a.id },
      otherOwner: { buildingId: a.id },
      elsewhere: { buildingId: b.id },
      council: { buildingId: a.id, councilRole: 'membre' },
      tenant: { buildingId: a.id, kind: 'locataire' },
      landlord: { buildingId: a.id, kind: 'proprietaire' },
    };
    for (const p of PEOPLE) {
      accountOf[p] = await seedAccount(t.db, t.config, seeds[p]);
      const user = await createUser(t.db, { accountIds: [accountOf[p].id] });
      clients[p] = await loginAs(t.app, user.email, user.password);
    }
    const targets: Record<Doc, [DocumentTarget, string]> = {
      ownerPrivate: [{ scope: 'account', accountReference: accountOf.owner.reference }, 'compte_individuel'],
      public: [{ scope: 'building', buildingCode: a.code, forTenants: false }, 'fiche_synthetique'],
      forTenants: [{ scope: 'building', buildingCode: a.code, forTenants: true }, 'reglement_interieur'],
      council: [{ scope: 'council', buildingCode: a.code }, 'comptes_syndicat'],
      tenantPrivate: [{ scope: 'account', accountReference: accountOf.tenant.reference }, 'courriers'],
      landlordPrivate: [{ scope: 'account', accountReference: accountOf.landlord.reference }, 'courriers'],
      withdrawn: [{ scope: 'building', buildingCode: a.code, forTenants: true }, 'fiche_synthetique'],
      otherBuilding: [{ scope: 'building', buildingCode: b.code, forTenants: false }, 'fiche_synthetique'],
    };
    for (const [d, [target, category]] of Object.entries(targets) as [Doc, [DocumentTarget, string]][]) {
      const [id] = await publishDocuments(staff, t.app.deps.storage, [
        { target, category, title: titleOf(d), date: '2026-11-02', file: { name: `${d}.pdf`, content: pdf(d) } },
      ]);
      docs[d] = id!;
      scopeOf[d] = target.scope;
    }
    await withdrawDocument(staff, docs.withdrawn);
  });
  afterAll(() => t.close());

  async function notFoundPage(client: TestClient) {
    const res = await client.get(`/comptes/${2_000_000_000}/documents/${2_000_000_000}`);
    expect(res.statusCode).toBe(404);
    return textOf(res.body);
  }

  it.each(PEOPLE)('lists to %s exactly the documents their account may see, in the spaces it has', async (p) => {
    const listed = new Set<string>();
    for (const space of ['account', 'building', 'council'] as const) {
      const res = await clients[p].get(`/comptes/${accountOf[p].id}/documents${SPACE_PATH[space]}`);
      if (!SPACES[p].includes(space)) {
        expect(res.statusCode).toBe(404);
        continue;
      }
      expect(res.statusCode).toBe(200);
      const text = textOf(res.body);
      for (const d of Object.keys(docs) as Doc[]) if (text.includes(titleOf(d))) listed.add(d);
    }
    expect([...listed].sort()).toEqual([...VISIBLE[p]].sort());
  });

  it.each(PEOPLE)('lets %s download what they may see, and answers 404 like an unknown id otherwise', async (p) => {
    const unknown = await notFoundPage(clients[p]);
    for (const d of Object.keys(docs) as Doc[]) {
      const res = await clients[p].get(`/comptes/${accountOf[p].id}/documents/${docs[d]}`);
      if (VISIBLE[p].includes(d)) {
        expect(res.statusCode, d).toBe(200);
        expect(res.rawPayload.equals(pdf(d))).toBe(true);
      } else {
        expect(res.statusCode, d).toBe(404);
        expect(textOf(res.body)).toBe(unknown);
        expect(res.body).not.toContain('%PDF');
      }
    }
  });

  it.each(PEOPLE)('counts for %s on the home page what they may see, space by space', async (p) => {
    const n = (scope: DocumentScope) => VISIBLE[p].filter((d) => scopeOf[d] === scope).length;
    const text = textOf((await clients[p].get('/accueil')).body);
    expect(text).toContain(`${n('account')} document${n('account') > 1 ? 's privés' : ' privé'}`);
    if (SPACES[p].includes('building')) {
      expect(text).toContain(`${n('building')} document${n('building') > 1 ? 's publics' : ' public'}`);
    } else {
      expect(text).not.toContain('public');
    }
    if (SPACES[p].includes('council')) expect(text).toContain(`${n('council')} document du conseil`);
    else expect(text).not.toContain('du conseil –');
  });

  it('refuses a document through an account the person does not hold, even one they could see otherwise', async () => {
    const unknown = await notFoundPage(clients.owner);
    for (const path of [
      `/comptes/${accountOf.otherOwner.id}/documents/${docs.public}`,
      `/comptes/${accountOf.otherOwner.id}/documents`,
      `/comptes/${accountOf.council.id}/documents/conseil`,
    ]) {
      const res = await clients.owner.get(path);
      expect(res.statusCode, path).toBe(404);
      expect(textOf(res.body)).toBe(unknown);
    }
    const denied = await t.db
      .selectFrom('audit_events')
      .select('details_json')
      .where('action', '=', 'document.read')
      .where('outcome', '=', 'denied')
      .execute();
    expect(denied.length).toBeGreaterThan(0);
  });

  it('shows nothing to anonymous visitors', async () => {
    const anonymous = new TestClient(t.app);
    for (const path of [
      `/comptes/${accountOf.owner.id}/documents`,
      `/comptes/${accountOf.owner.id}/documents/immeuble`,
      `/comptes/${accountOf.owner.id}/documents/${docs.public}`,
      `/comptes/${accountOf.owner.id}/documents/${docs.public}/voir`,
    ]) {
      const res = await anonymous.get(path);
      expect(res.statusCode, path).not.toBe(200);
      expect(res.body).not.toContain('%PDF');
      expect(res.body).not.toContain(titleOf('public'));
    }
  });
});

describe('document pages and downloads', () => {
  let t: TestApp;
  let staff: Ctx;
  let account: { id: number; reference: string };
  let client: TestClient;
  let building: { id: number; code: string };

  beforeAll(async () => {
    t = await buildTestApp('sqlite');
    staff = createContext({
      db: t.db,
      config: t.config,
      agency: t.app.deps.agency,
      actor: { kind: 'staff', name: 'cli', ip: null },
    });
    building = await createBuilding(t.db);
    account = await seedAccount(t.db, t.config, { buildingId: building.id, councilRole: 'president' });
    const user = await createUser(t.db, { accountIds: [account.id] });
    client = await loginAs(t.app, user.email, user.password);
  });
  afterAll(() => t.close());

  const publish = (title: string, category: string, date: string, content: Buffer = pdf(title)) =>
    publishDocuments(staff, t.app.deps.storage, [
      {
        target: { scope: 'building', buildingCode: building.code, forTenants: false },
        category,
        title,
        date,
        file: { name: 'f.pdf', content },
      },
    ]).then(([id]) => id!);

  it('groups by category in the décret’s order, newest first, with date, size and a « Nouveau » mark until opened', async () => {
    const pv2024 = await publish('PV AG 2024', 'proces_verbal_ag', '2024-06-12');
    await publish('PV AG 2025', 'proces_verbal_ag', '2025-06-20');
    await publish(
      'Fiche synthétique',
      'fiche_synthetique',
      '2026-01-15',
      Buffer.concat([pdf(), Buffer.alloc(1_258_291)]),
    );
    let res = await client.get(`/comptes/${account.id}/documents/immeuble`);
    expect(res.statusCode).toBe(200);
    let text = textOf(res.body);
    expect(text).toContain('Documents de l’immeuble');
    const fiche = text.indexOf('Fiche synthétique de la copropriété');
    const pvs = text.indexOf('Procès-verbaux d’assemblée générale');
    expect(fiche).toBeGreaterThan(-1);
    expect(pvs).toBeGreaterThan(fiche);
    expect(text.indexOf('PV AG 2025')).toBeLessThan(text.indexOf('PV AG 2024'));
    expect(text).toMatch(/Fiche synthétique Nouveau PDF, 1,2 Mo Télécharger .* 15\/01\/2026/);
    expect(res.body).toContain('1,2\u00a0Mo');
    expect(text).toMatch(/PV AG 2024 Nouveau PDF, .* 12\/06\/2024/);

    const dl = await client.get(`/comptes/${account.id}/documents/${pv2024}`);
    expect(dl.statusCode).toBe(200);
    expect(dl.headers['content-type']).toBe('application/pdf');
    expect(dl.headers['content-disposition']).toBe(
      `attachment; filename="PV AG 2024.pdf"; filename*=UTF-8''PV%20AG%202024.pdf`,
    );
    expect(dl.headers['x-content-type-options']).toBe('nosniff');
    expect(dl.headers['cache-control']).toBe('private, no-store');

    res = await client.get(`/comptes/${account.id}/documents/immeuble`);
    text = textOf(res.body);
    expect(text).toMatch(/PV AG 2024 PDF, [^N]* 12\/06\/2024/);
    expect(text).toContain('PV AG 2025 Nouveau');
    // Opening it again keeps the first reading.
    await client.get(`/comptes/${account.id}/documents/${pv2024}`);
    const reads = await t.db.selectFrom('document_reads').selectAll().where('document_id', '=', pv2024).execute();
    expect(reads).toHaveLength(1);
  });

  it('names the downloaded file after the title, accents and slashes included, and shows PDFs and images inline', async () => {
    const id = await publish('Relevé 01/2026 « été »', 'contrats_marches', '2026-02-01');
    const res = await client.get(`/comptes/${account.id}/documents/${id}/voir`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toBe(
      `inline; filename="Releve 01-2026 _ ete _.pdf"; filename*=UTF-8''Relev%C3%A9%2001-2026%20%C2%AB%20%C3%A9t%C3%A9%20%C2%BB.pdf`,
    );
    const png = await publish('Plan', 'carnet_entretien', '2026-02-01', PNG);
    const img = await client.get(`/comptes/${account.id}/documents/${png}/voir`);
    expect(img.headers['content-type']).toBe('image/png');
    expect(img.headers['content-disposition']).toMatch(/^inline; /);
  });

  it('counts on the home page what the person may see in each space', async () => {
    await publishDocuments(staff, t.app.deps.storage, [
      {
        target: { scope: 'council', buildingCode: building.code },
        category: 'comptes_syndicat',
        title: 'Comptes',
        date: '2026-02-01',
        file: { name: 'c.pdf', content: pdf('c') },
      },
      {
        target: { scope: 'account', accountReference: account.reference },
        category: 'appels_de_fonds',
        title: 'Appel',
        date: '2026-02-01',
        file: { name: 'a.pdf', content: pdf('a') },
      },
    ]);
    const text = textOf((await client.get('/accueil')).body);
    expect(text).toContain('1 document privé');
    expect(text).toContain('5 documents publics');
    expect(text).toContain('1 document du conseil');
  });
});

describe('documents stored in an S3 bucket (FILES_URL)', () => {
  let s3: S3Server;
  let t: TestApp;

  beforeAll(async () => {
    s3 = await startS3();
    t = await buildTestApp('sqlite', { files: s3.location('documents') });
  });
  afterAll(async () => {
    await t.close();
    await s3.close();
  });

  it('publishes into the bucket and serves the download from it, nothing in DATA_DIR', async () => {
    const staff = createContext({
      db: t.db,
      config: t.config,
      agency: t.app.deps.agency,
      actor: { kind: 'staff', name: 'cli', ip: null },
    });
    const building = await createBuilding(t.db);
    const account = await seedAccount(t.db, t.config, { buildingId: building.id });
    const user = await createUser(t.db, { accountIds: [account.id] });
    const [id] = await publishDocuments(staff, t.app.deps.storage, [
      {
        target: { scope: 'account', accountReference: account.reference },
        category: 'appels_de_fonds',
        title: 'Appel de fonds',
        date: '2026-10-01',
        file: { name: 'appel.pdf', content: pdf('s3') },
      },
    ]);
    expect(existsSync(path.join(t.config.dataDir, 'files'))).toBe(false);
    const client = await loginAs(t.app, user.email, user.password);
    const res = await client.get(`/comptes/${account.id}/documents/${id}`);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(pdf('s3'))).toBe(true);
  });
});
