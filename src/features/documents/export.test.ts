import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { createStorage, type Storage } from '../../adapters/storage/storage.ts';
import { agencyIdentity } from '../../core/agency/agency.ts';
import { createContext, type Ctx } from '../../core/context.ts';
import type { Config } from '../../config.ts';
import { writeNewSecrets } from '../../core/secrets/secrets.ts';
import { createTestDb, dialects, type TestDb } from '../../../test/helpers/db.ts';
import { createBuilding, seedAccount } from '../../../test/helpers/factories.ts';
import { pdf } from '../../../test/helpers/files.ts';
import { publishDocuments, replaceDocument, withdrawDocument } from './documents.service.ts';
import { exportBuildingDocuments } from './export.service.ts';

/** Every member of a zip file with its bytes, read back with yauzl. */
function readZip(file: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      const out = new Map<string, Buffer>();
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe.each(dialects)('exporting a building’s documents (%s)', (dialect) => {
  let tdb: TestDb;
  let dir: string;
  let storage: Storage;
  let ctx: Ctx;
  let building: { id: number; code: string };
  let account: { id: number; reference: string };
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    tdb = await createTestDb(dialect);
    dir = mkdtempSync(path.join(tmpdir(), 'palier-export-'));
    storage = createStorage({ dataDir: dir });
    const config = { dataDir: dir, secrets: writeNewSecrets(dir) } as Config;
    ctx = createContext({
      db: tdb.db,
      config,
      agency: agencyIdentity(tdb.db),
      actor: { kind: 'staff', name: 'cli', ip: null },
    });
    building = await createBuilding(tdb.db, { name: 'Les Tilleuls' });
    const other = await createBuilding(tdb.db);
    account = await seedAccount(tdb.db, config, { buildingId: building.id });
    const one = async (
      title: string,
      scope: 'building' | 'council' | 'account',
      category: string,
      code = building.code,
    ) =>
      (
        await publishDocuments(ctx, storage, [
          {
            target:
              scope === 'account'
                ? { scope, accountReference: account.reference }
                : scope === 'building'
                  ? { scope, buildingCode: code, forTenants: true }
                  : { scope, buildingCode: code },
            category,
            title,
            date: '2026-05-12',
            file: { name: 'x.pdf', content: pdf(title) },
          },
        ])
      )[0]!;
    ids.pv = await one('PV AG 2026', 'building', 'proces_verbal_ag');
    ids.comptes = await one('Comptes 2025', 'council', 'comptes_syndicat');
    ids.appel = await one('Appel T1/2026', 'account', 'appels_de_fonds');
    ids.old = await one('Fiche', 'building', 'fiche_synthetique');
    ids.fiche = await replaceDocument(ctx, storage, ids.old, { name: 'y.pdf', content: pdf('Fiche v2') });
    ids.gone = await one('Ancien contrat', 'building', 'contrat_syndic');
    await withdrawDocument(ctx, ids.gone);
    ids.elsewhere = await one('Ailleurs', 'building', 'fiche_synthetique', other.code);
  });
  afterAll(async () => {
    await tdb.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes every document by space and category, withdrawn ones marked, with an index', async () => {
    const file = path.join(dir, 'export.zip');
    const summary = await exportBuildingDocuments(ctx, storage, building.code, () => createWriteStream(file));
    expect(summary).toMatchObject({ current: 4, withdrawn: 2, missingFiles: [] });
    const zip = await readZip(file);
    expect([...zip.keys()].sort()).toEqual(
      [
        `immeuble/proces_verbal_ag/2026-05-12 PV AG 2026 (n° ${ids.pv}).pdf`,
        `conseil-syndical/comptes_syndicat/2026-05-12 Comptes 2025 (n° ${ids.comptes}).pdf`,
        `comptes/${account.reference}/appels_de_fonds/2026-05-12 Appel T1-2026 (n° ${ids.appel}).pdf`,
        `immeuble/fiche_synthetique/2026-05-12 Fiche (n° ${ids.old}) (remplacé).pdf`,
        `immeuble/fiche_synthetique/2026-05-12 Fiche (n° ${ids.fiche}).pdf`,
        `immeuble/contrat_syndic/2026-05-12 Ancien contrat (n° ${ids.gone}) (retiré).pdf`,
        'index.csv',
      ].sort(),
    );
    expect(zip.get(`immeuble/fiche_synthetique/2026-05-12 Fiche (n° ${ids.fiche}).pdf`)!.equals(pdf('Fiche v2'))).toBe(
      true,
    );
    const index = zip.get('index.csv')!.toString('utf8');
    expect(index).toContain('numero;fichier;espace;compte;categorie');
    expect(index).toContain(`remplacé par le n° ${ids.fiche}`);
    expect(index).toMatch(new RegExp(`^${ids.gone};.*;retiré;`, 'm'));
    expect(index).not.toContain('Ailleurs');
  });

  it('refuses an unknown building without creating the file', async () => {
    const file = path.join(dir, 'rien.zip');
    await expect(
      exportBuildingDocuments(ctx, storage, 'NULLEPART', () => createWriteStream(file)),
    ).rejects.toMatchObject({ userMessage: 'Immeuble inconnu\u00a0: «\u00a0NULLEPART\u00a0».' });
    expect(existsSync(file)).toBe(false);
  });
});
