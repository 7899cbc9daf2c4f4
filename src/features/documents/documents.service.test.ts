import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createStorage, type Storage } from '../../adapters/storage/storage.ts';
import { agencyIdentity } from '../../core/agency/agency.ts';
import { createContext, type Ctx } from '../../core/context.ts';
import type { Config } from '../../config.ts';
import { writeNewSecrets } from '../../core/secrets/secrets.ts';
import { createTestDb, dialects, type TestDb } from '../../../test/helpers/db.ts';
import { createBuilding, seedAccount } from '../../../test/helpers/factories.ts';
import { docx, PNG, pdf, zip } from '../../../test/helpers/files.ts';
import { conformityReport } from './conformity.service.ts';
import { DocumentRefusal, publishDocuments, replaceDocument, withdrawDocument } from './documents.service.ts';
import { MAX_DOCUMENT_BYTES } from './files.ts';
import { importManifest } from './manifest.service.ts';

describe.each(dialects)('publishing documents (%s)', (dialect) => {
  let tdb: TestDb;
  let dataDir: string;
  let storage: Storage;
  let ctx: Ctx;
  let building: { id: number; code: string };
  let account: { id: number; reference: string };
  const now = new Date('2026-12-03T09:00:00Z');

  beforeAll(async () => {
    tdb = await createTestDb(dialect);
    dataDir = mkdtempSync(path.join(tmpdir(), 'palier-docs-'));
    storage = createStorage({ dataDir });
    const config = { dataDir, secrets: writeNewSecrets(dataDir) } as Config;
    ctx = createContext({
      db: tdb.db,
      config,
      agency: agencyIdentity(tdb.db),
      actor: { kind: 'staff', name: 'cli', ip: null },
      now: () => now,
    });
    building = await createBuilding(tdb.db, { code: `BAT${dialect}` });
    account = await seedAccount(tdb.db, config, { buildingId: building.id });
  });
  afterAll(async () => {
    await tdb.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const files = () => (existsSync(path.join(dataDir, 'files')) ? readdirSync(path.join(dataDir, 'files')) : []);
  const rows = async () => tdb.db.selectFrom('documents').selectAll().orderBy('id').execute();
  let before: { rows: number; files: string[] };
  beforeEach(async () => {
    before = { rows: (await rows()).length, files: files() };
  });
  async function expectNothingWritten() {
    expect((await rows()).length).toBe(before.rows);
    expect(files()).toEqual(before.files);
  }

  const publicDoc = (content: Buffer, name = 'fiche.pdf') => ({
    target: { scope: 'building' as const, buildingCode: building.code, forTenants: false },
    category: 'fiche_synthetique',
    title: 'Fiche synthétique 2026',
    date: '2026-06-30',
    file: { name, content },
  });

  async function refusal(p: Promise<unknown>): Promise<string[]> {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DocumentRefusal);
    return (err as DocumentRefusal).problems;
  }

  it('stores a PDF under a generated name with its SHA-256, and keeps only a sanitised original name', async () => {
    const content = pdf('fiche');
    const [id] = await publishDocuments(ctx, storage, [publicDoc(content, '../../x')]);
    const row = (await rows()).find((r) => r.id === id)!;
    expect(row).toMatchObject({
      scope: 'building',
      building_id: building.id,
      account_id: null,
      category: 'fiche_synthetique',
      title: 'Fiche synthétique 2026',
      document_date: '2026-06-30',
      size_bytes: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
      content_type: 'application/pdf',
      original_name: 'x',
      published_by: 'cli',
      published_at: now.toISOString(),
      withdrawn_at: null,
    });
    expect(row.storage_key).toMatch(/^document-[0-9a-f]{16}\.pdf$/);
    expect(readFileSync(path.join(dataDir, 'files', row.storage_key)).equals(content)).toBe(true);
    // Nothing was written where the name pointed.
    expect(existsSync(path.join(dataDir, '..', 'x'))).toBe(false);
    const audit = await tdb.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'document.publish')
      .execute();
    expect(audit.some((a) => JSON.parse(a.details_json!).documentId === id)).toBe(true);
  });

  it('accepts JPEG/PNG images and office documents, judged by their content', async () => {
    const ids = await publishDocuments(ctx, storage, [
      { ...publicDoc(PNG, 'plan.bin'), title: 'Plan' },
      { ...publicDoc(await docx(), 'contrat'), title: 'Contrat' },
    ]);
    const stored = (await rows()).filter((r) => ids.includes(r.id));
    expect(stored.map((r) => r.content_type)).toEqual([
      'image/png',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    ]);
    expect(stored[1]!.storage_key).toMatch(/\.docx$/);
  });

  it.each([
    ['HTML renamed .pdf', Buffer.from('<!doctype html><script>alert(1)</script>'), 'releve.pdf'],
    ['SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), 'plan.png'],
    ['a shell script', Buffer.from('#!/bin/sh\nrm -rf /\n'), 'pv.pdf'],
    [
      'a Windows executable',
      Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff'), Buffer.alloc(200)]),
      'pv.pdf',
    ],
  ])('refuses %s whatever its name, storing nothing', async (_label, content, name) => {
    const problems = await refusal(publishDocuments(ctx, storage, [publicDoc(content, name)]));
    expect(problems).toEqual([
      `fichier «\u00a0${name}\u00a0»\u00a0: ce type de fichier n’est pas accepté\u00a0: PDF, JPEG, PNG ou document bureautique (docx, xlsx, odt, ods) seulement.`,
    ]);
    await expectNothingWritten();
  });

  it('refuses a plain zip, an empty file and an oversize file', async () => {
    expect(
      await refusal(publishDocuments(ctx, storage, [publicDoc(await zip({ 'a.txt': 'x' }), 'a.zip')])),
    ).toHaveLength(1);
    expect(await refusal(publishDocuments(ctx, storage, [publicDoc(Buffer.alloc(0), 'vide.pdf')]))).toEqual([
      'fichier «\u00a0vide.pdf\u00a0»\u00a0: le fichier est vide.',
    ]);
    const big = Buffer.concat([pdf(), Buffer.alloc(MAX_DOCUMENT_BYTES)]);
    expect(await refusal(publishDocuments(ctx, storage, [publicDoc(big, 'gros.pdf')]))).toEqual([
      'fichier «\u00a0gros.pdf\u00a0»\u00a0: le fichier est trop lourd (50\u00a0Mo au plus).',
    ]);
    await expectNothingWritten();
  });

  it('refuses all of a batch when one file is bad, naming it, and an unknown category with the valid ones', async () => {
    const problems = await refusal(
      publishDocuments(ctx, storage, [
        { ...publicDoc(pdf('a')), origin: 'a.pdf' },
        { ...publicDoc(Buffer.from('<html></html>'), 'b.pdf'), origin: 'b.pdf', category: 'fiche' },
      ]),
    );
    expect(problems[0]).toBe(
      'b.pdf\u00a0: catégorie inconnue\u00a0: «\u00a0fiche\u00a0». Catégories valides pour cet espace\u00a0: reglement_copropriete, etat_descriptif_division, actes_modificatifs, fiche_synthetique, carnet_entretien, diagnostics_techniques, assurance_immeuble, contrats_marches, contrats_entretien, proces_verbal_ag, contrat_syndic, reglement_interieur.',
    );
    expect(problems[1]).toMatch(/^b\.pdf\u00a0: fichier «\u00a0b\.pdf\u00a0»\u00a0: ce type de fichier/);
    await expectNothingWritten();
  });

  it('refuses a category of another space, an unknown building or account, and a bad title', async () => {
    const problems = await refusal(
      publishDocuments(ctx, storage, [
        { ...publicDoc(pdf()), category: 'compte_individuel' },
        { ...publicDoc(pdf()), target: { scope: 'council', buildingCode: 'NULLEPART' }, category: 'comptes_syndicat' },
        { ...publicDoc(pdf()), target: { scope: 'account', accountReference: 'INCONNU' }, category: 'courriers' },
        { ...publicDoc(pdf()), title: '  ' },
        {
          ...publicDoc(pdf()),
          target: { scope: 'account', accountReference: account.reference, buildingCode: 'NULLEPART' },
          category: 'courriers',
        },
      ]),
    );
    expect(problems).toEqual([
      expect.stringContaining('la catégorie «\u00a0compte_individuel\u00a0» n’appartient pas à cet espace.'),
      'immeuble inconnu\u00a0: «\u00a0NULLEPART\u00a0».',
      'compte inconnu\u00a0: «\u00a0INCONNU\u00a0».',
      'le titre est obligatoire.',
      `le compte «\u00a0${account.reference}\u00a0» n’appartient pas à l’immeuble «\u00a0NULLEPART\u00a0».`,
    ]);
    await expectNothingWritten();
  });

  it('withdraws and replaces documents, keeping both versions in the history', async () => {
    const [id] = await publishDocuments(ctx, storage, [
      {
        target: { scope: 'account', accountReference: account.reference },
        category: 'compte_individuel',
        title: 'Compte individuel',
        date: '2026-01-01',
        file: { name: 'c.pdf', content: pdf('v1') },
      },
    ]);
    const newId = await replaceDocument(ctx, storage, id!, { name: 'c2.pdf', content: pdf('v2') });
    const [old, successor] = (await rows()).filter((r) => r.id === id || r.id === newId);
    expect(old).toMatchObject({ withdrawn_at: now.toISOString(), replaces_id: null });
    expect(successor).toMatchObject({
      withdrawn_at: null,
      replaces_id: id,
      account_id: account.id,
      category: 'compte_individuel',
      title: 'Compte individuel',
      document_date: '2026-01-01',
      original_name: 'c2.pdf',
    });
    expect(files()).toContain(old!.storage_key);
    // A withdrawn document can be neither withdrawn nor replaced again.
    await expect(withdrawDocument(ctx, id!)).rejects.toMatchObject({
      userMessage: `Aucun document courant ne porte le numéro ${id}.`,
    });
    await expect(replaceDocument(ctx, storage, id!, { name: 'x.pdf', content: pdf() })).rejects.toMatchObject({
      code: 'document_not_current',
    });
    // A bad replacement file changes nothing.
    const snapshot = { rows: await rows(), files: files() };
    await refusal(replaceDocument(ctx, storage, newId, { name: 'x.pdf', content: Buffer.from('<html>') }));
    expect(await rows()).toEqual(snapshot.rows);
    expect(files()).toEqual(snapshot.files);

    await withdrawDocument(ctx, newId);
    expect((await rows()).find((r) => r.id === newId)!.withdrawn_at).toBe(now.toISOString());
    const actions = (await tdb.db.selectFrom('audit_events').select('action').execute()).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['document.replace', 'document.withdraw']));
  });

  it('removes the stored file when the database part fails after it (a withdrawal racing a replacement)', async () => {
    const [id] = await publishDocuments(ctx, storage, [publicDoc(pdf('course'))]);
    const snapshot = { rows: await rows(), files: files() };
    // The document is withdrawn by someone else while the new file is being stored.
    const racing: Storage = {
      ...storage,
      put: async (data, opts) => {
        await withdrawDocument(ctx, id!);
        return storage.put(data, opts);
      },
    };
    await expect(
      replaceDocument(ctx, racing, id!, { name: 'v2.pdf', content: pdf('course v2') }),
    ).rejects.toMatchObject({
      code: 'document_not_current',
    });
    expect(files()).toEqual(snapshot.files);
    const after = await rows();
    expect(after.length).toBe(snapshot.rows.length);
    expect(after.find((r) => r.id === id)!.withdrawn_at).not.toBeNull();
  });

  describe('manifest import', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'palier-manifest-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const load = (map: Record<string, Buffer>) => async (p: string) =>
      map[p] ? { content: map[p]! } : { error: `fichier introuvable\u00a0: ${p}` };

    it('publishes every row of a good manifest', async () => {
      const csv = Buffer.from(
        [
          'chemin;espace;immeuble;reference;categorie;titre;date',
          `pv.pdf;immeuble;${building.code};;proces_verbal_ag;PV AG 2025;12/05/2025`,
          `cs.pdf;conseil;${building.code};;comptes_syndicat;Comptes 2025;`,
          `ci.pdf;compte;${building.code};${account.reference};compte_individuel;Compte;31/12/2025`,
        ].join('\n'),
      );
      const ids = await importManifest(
        ctx,
        storage,
        csv,
        load({ 'pv.pdf': pdf('pv'), 'cs.pdf': pdf('cs'), 'ci.pdf': pdf('ci') }),
      );
      expect(ids).toHaveLength(3);
      const stored = (await rows()).filter((r) => ids.includes(r.id));
      expect(stored.map((r) => [r.scope, r.category, r.document_date])).toEqual([
        ['building', 'proces_verbal_ag', '2025-05-12'],
        ['council', 'comptes_syndicat', '2026-12-03'],
        ['account', 'compte_individuel', '2025-12-31'],
      ]);
    });

    it('refuses the whole manifest for one bad row, naming its line, and stores nothing', async () => {
      const csv = Buffer.from(
        [
          'chemin;espace;immeuble;reference;categorie;titre;date',
          `pv.pdf;immeuble;${building.code};;proces_verbal_ag;PV AG 2025;12/05/2025`,
          `page.pdf;immeuble;${building.code};;fiche_synthetique;Fiche;31/02/2025`,
          `manque.pdf;grenier;${building.code};;fiche_synthetique;Fiche;`,
          `html.pdf;immeuble;${building.code};;fiche_synthetique;Fiche;`,
        ].join('\n'),
      );
      const err = await importManifest(
        ctx,
        storage,
        csv,
        load({ 'pv.pdf': pdf('pv'), 'page.pdf': pdf(), 'html.pdf': Buffer.from('<html>') }),
      ).then(
        () => expect.fail('the manifest was accepted'),
        (e: unknown) => e as DocumentRefusal,
      );
      expect(err.userMessage).toContain(
        'Ligne 3, colonne « date » : «\u00a031/02/2025\u00a0» n’est pas une date valide (JJ/MM/AAAA).',
      );
      expect(err.userMessage).toContain('Ligne 4, colonne « espace »');
      expect(err.userMessage).toContain('Ligne 4, colonne « chemin » : fichier introuvable\u00a0: manque.pdf');
      await expectNothingWritten();

      // Once the rows read well, a refused content still names its line.
      const csv2 = Buffer.from(
        [
          'chemin;espace;immeuble;reference;categorie;titre;date',
          `pv.pdf;immeuble;${building.code};;proces_verbal_ag;PV AG 2025;12/05/2025`,
          `html.pdf;immeuble;${building.code};;fiche_synthetique;Fiche;`,
        ].join('\n'),
      );
      const err2 = await importManifest(
        ctx,
        storage,
        csv2,
        load({ 'pv.pdf': pdf('pv'), 'html.pdf': Buffer.from('<html>') }),
      ).then(
        () => expect.fail('the manifest was accepted'),
        (e: unknown) => e as DocumentRefusal,
      );
      expect(err2.problems).toEqual([
        expect.stringMatching(/^Ligne 3\u00a0: fichier «\u00a0html\.pdf\u00a0»\u00a0: ce type de fichier/),
      ]);
      await expectNothingWritten();
    });
  });

  it('reports the required documents with no current one, and the PVs of the last three years', async () => {
    const report = await conformityReport(ctx, building.code);
    expect(report.agYears).toEqual([2023, 2024, 2025]);
    const missing = report.buildings[0]!.missing;
    // Published above: a fiche synthétique, a PV dated 2025, the comptes du syndicat.
    expect(missing).not.toContain('fiche synthétique manquante');
    expect(missing).not.toContain('PV d’AG 2025 manquant');
    expect(missing).not.toContain('comptes du syndicat manquants');
    expect(missing).toEqual(
      expect.arrayContaining([
        'règlement de copropriété manquant',
        'PV d’AG 2023 manquant',
        'PV d’AG 2024 manquant',
        'carte professionnelle du syndic manquante',
      ]),
    );
    // Categories the décret asks for only when they exist are not reported.
    expect(missing.join()).not.toContain('actes modificatifs');
    await expect(conformityReport(ctx, 'NULLEPART')).rejects.toMatchObject({
      userMessage: 'Immeuble inconnu\u00a0: «\u00a0NULLEPART\u00a0».',
    });
  });
});
