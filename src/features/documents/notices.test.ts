import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { csrfTokenOf, plainSpaces, TestClient } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { createBuilding, createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { pdf } from '../../../test/helpers/files.ts';
import { loginAs } from '../../../test/helpers/login.ts';
import { createContext, type Ctx } from '../../core/context.ts';
import { publishDocuments, type DocumentTarget } from './documents.service.ts';
import { DOCUMENT_NOTICES_JOB, nextNoticeRun, planDocumentNotices, sendDocumentNotices } from './notices.service.ts';

describe('the time of the daily notices', () => {
  it('is 07:00 in Paris, winter and summer', () => {
    expect(nextNoticeRun(new Date('2026-12-03T05:30:00Z')).toISOString()).toBe('2026-12-03T06:00:00.000Z');
    expect(nextNoticeRun(new Date('2026-12-03T06:00:00Z')).toISOString()).toBe('2026-12-04T06:00:00.000Z');
    expect(nextNoticeRun(new Date('2026-07-01T12:00:00Z')).toISOString()).toBe('2026-07-02T05:00:00.000Z');
  });
});

describe.each(dialects)('email about new documents (%s)', (dialect) => {
  let t: TestApp;
  let staff: Ctx;
  let system: Ctx;
  let building: { id: number; code: string };
  let owner: { id: number; reference: string };
  let tenant: { id: number; reference: string };
  let ownerUser: { id: number; email: string; password: string };
  let tenantUser: { id: number; email: string; password: string };
  let ownerClient: TestClient;

  const pendingRuns = async () =>
    (
      await t.db
        .withTables<{ jobs: { kind: string; status: string; run_at: string } }>()
        .selectFrom('jobs')
        .select('run_at')
        .where('kind', '=', DOCUMENT_NOTICES_JOB)
        .where('status', '=', 'pending')
        .execute()
    ).map((j) => j.run_at);

  const publish = (title: string, target: DocumentTarget, category: string) =>
    publishDocuments(staff, t.app.deps.storage, [
      { target, category, title, date: '2026-12-01', file: { name: 'f.pdf', content: pdf(title) } },
    ]);

  beforeAll(async () => {
    t = await buildTestApp(dialect);
    t.clock.now = new Date('2026-12-03T06:00:00Z');
    const ctxOf = (actor: Ctx['actor']) =>
      createContext({ db: t.db, config: t.config, agency: t.app.deps.agency, actor, now: () => t.clock.now });
    staff = ctxOf({ kind: 'staff', name: 'cli', ip: null });
    system = ctxOf({ kind: 'system', name: 'documents.notices', ip: null });
    building = await createBuilding(t.db);
    owner = await seedAccount(t.db, t.config, { buildingId: building.id });
    tenant = await seedAccount(t.db, t.config, { buildingId: building.id, kind: 'locataire' });
    ownerUser = await createUser(t.db, { accountIds: [owner.id], firstName: 'Claire', lastName: 'MARTIN' });
    tenantUser = await createUser(t.db, { accountIds: [tenant.id] });
    ownerClient = await loginAs(t.app, ownerUser.email, ownerUser.password);
  });
  afterAll(() => t.close());

  it('is off by default and set with the Profil checkbox', async () => {
    let page = await ownerClient.get('/profil');
    expect(page.body).toContain('Recevoir un email quand un nouveau document est publié');
    expect(page.body).not.toMatch(/name="avis" value="oui" checked/);
    // Published before the choice: never announced.
    await publish(
      'Ancien règlement',
      { scope: 'building', buildingCode: building.code, forTenants: false },
      'reglement_copropriete',
    );
    t.clock.advance(60_000);
    let res = await ownerClient.post('/profil/avis-documents', { avis: 'oui' }, { csrf: csrfTokenOf(page.body) });
    expect(res.statusCode).toBe(303);
    page = await ownerClient.follow(res);
    expect(page.body).toContain('Vous recevrez un email quand un nouveau document sera publié');
    expect(page.body).toMatch(/name="avis" value="oui" checked/);
    const row = await t.db
      .selectFrom('users')
      .select(['document_notice_since'])
      .where('id', '=', ownerUser.id)
      .executeTakeFirstOrThrow();
    expect(row.document_notice_since).toBe(t.clock.now.toISOString());

    // A checkbox left unchecked sends nothing: that is « no ».
    res = await ownerClient.post('/profil/avis-documents', {}, { csrf: csrfTokenOf(page.body) });
    page = await ownerClient.follow(res);
    expect(page.body).not.toMatch(/name="avis" value="oui" checked/);
    res = await ownerClient.post('/profil/avis-documents', { avis: 'oui' }, { csrf: csrfTokenOf(page.body) });
    expect(res.statusCode).toBe(303);
    expect(await pendingRuns()).toEqual(['2026-12-04T06:00:00.000Z']);
  });

  it('mails once a day at most, from the daily job, the new documents the person may see; nothing to others', async () => {
    t.clock.advance(60_000);
    await publish(
      'PV AG 2026',
      { scope: 'building', buildingCode: building.code, forTenants: false },
      'proces_verbal_ag',
    );
    await publish('Compte individuel', { scope: 'account', accountReference: owner.reference }, 'compte_individuel');
    await publish('Comptes', { scope: 'council', buildingCode: building.code }, 'comptes_syndicat');
    await publish('Courrier du locataire', { scope: 'account', accountReference: tenant.reference }, 'courriers');

    // The next morning at 07:00 (Paris), the worker runs the planned job.
    t.clock.now = new Date('2026-12-04T06:00:30Z');
    const mail = await t.smtp.waitFor(ownerUser.email, (m) => m.subject.includes('nouveaux documents'));
    expect(mail.subject).toMatch(/^2 nouveaux documents dans votre espace/);
    expect(plainSpaces(mail.text)).toContain('Bonjour Mme Claire MARTIN,');
    expect(plainSpaces(mail.text)).toContain(
      `« PV AG 2026 » du 01/12/2026 – Documents de l’immeuble, Copropriétaire N° ${owner.reference}`,
    );
    expect(plainSpaces(mail.text)).toContain(`http://palier.test/comptes/${owner.id}/documents/immeuble`);
    expect(plainSpaces(mail.text)).toContain('« Compte individuel »');
    // Not a council member, and not what was there before the choice.
    expect(plainSpaces(mail.text)).not.toContain('Comptes »');
    expect(plainSpaces(mail.text)).not.toContain('Ancien règlement');
    expect(plainSpaces(mail.text)).not.toContain('Courrier du locataire');

    // Later the same day: another document, and no second mail that day, however often it runs.
    t.clock.advance(3 * 3_600_000);
    await publish(
      'Contrat de syndic',
      { scope: 'building', buildingCode: building.code, forTenants: false },
      'contrat_syndic',
    );
    t.clock.advance(60_000);
    expect(await sendDocumentNotices(system)).toBe(0);

    // The next morning it comes, alone.
    t.clock.now = new Date('2026-12-05T06:00:30Z');
    const next = await t.smtp.waitFor(ownerUser.email, (m) =>
      m.subject.startsWith('Un nouveau document dans votre espace'),
    );
    expect(plainSpaces(next.text)).toContain('« Contrat de syndic »');
    expect(plainSpaces(next.text)).not.toContain('PV AG 2026');
    expect(await sendDocumentNotices(system)).toBe(0);
    expect(t.smtp.mails.filter((m) => m.to.includes(tenantUser.email.toLowerCase()))).toEqual([]);
  });

  it('plans a single run ahead, at the next 07:00 in Paris, once someone asked for notices', async () => {
    await planDocumentNotices(system);
    await planDocumentNotices(system);
    await publish('Encore', { scope: 'building', buildingCode: building.code, forTenants: false }, 'contrat_syndic');
    expect(await pendingRuns()).toEqual([nextNoticeRun(t.clock.now).toISOString()]);
  });
});
