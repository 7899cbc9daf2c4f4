import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pdf } from '../../../test/helpers/files.ts';
import { createDb } from '../../db/db.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const REFERENTIEL = fileURLToPath(new URL('../imports/fixtures/referentiel.csv', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('palier documents', () => {
  let dataDir: string;
  let work: string;

  function run(...args: string[]): Promise<Run> {
    // Vitest sets BASE_URL="/" for Vite: the CLI must see only the configuration the test gives it.
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir };
    for (const key of ['BASE_URL', 'DATABASE_URL', 'SMTP_URL', 'LOG_LEVEL']) delete env[key];
    return new Promise((resolve) => {
      execFile('npx', ['tsx', 'src/cli.ts', ...args], { cwd: ROOT, env }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  async function documents() {
    const db = createDb(`sqlite:${path.join(dataDir, 'palier.sqlite')}`);
    try {
      return await db.selectFrom('documents').selectAll().orderBy('id').execute();
    } finally {
      await db.destroy();
    }
  }
  const storedFiles = () =>
    existsSync(path.join(dataDir, 'files')) ? readdirSync(path.join(dataDir, 'files')).sort() : [];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'palier-cli-docs-'));
    work = mkdtempSync(path.join(tmpdir(), 'palier-cli-docs-files-'));
    writeFileSync(path.join(work, 'fiche.pdf'), pdf('fiche'));
    writeFileSync(path.join(work, 'fiche-v2.pdf'), pdf('fiche v2'));
    writeFileSync(path.join(work, 'pv.pdf'), pdf('pv'));
    writeFileSync(path.join(work, 'page.pdf'), '<!doctype html><script>alert(1)</script>');
    expect((await run('import', 'referentiel', REFERENTIEL)).code).toBe(0);
  }, 60_000);
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('lists the categories per space, marking those the décret requires', async () => {
    const r = await run('documents', 'categories');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Documents de l’immeuble (espace «\u00a0immeuble\u00a0»)\u00a0:');
    expect(r.stdout).toMatch(/fiche_synthetique +Fiche synthétique de la copropriété \*/);
    expect(r.stdout).toMatch(/reglement_interieur +Règlement intérieur\n/);
    expect(r.stdout).toMatch(/carte_professionnelle_syndic +Carte professionnelle du syndic \*/);
  });

  it('publishes, refuses an unknown category with the valid ones, withdraws and replaces', async () => {
    const bad = await run(
      'documents',
      'ajouter',
      '--immeuble',
      'BASTILLE',
      '--publique',
      '--categorie',
      'fiche',
      '--titre',
      'Fiche',
      path.join(work, 'fiche.pdf'),
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      'catégorie inconnue\u00a0: «\u00a0fiche\u00a0». Catégories valides pour cet espace\u00a0: reglement_copropriete,',
    );
    expect(await documents()).toEqual([]);

    const usage = await run('documents', 'ajouter', '--immeuble', 'BASTILLE', '--publique', '--conseil', 'x.pdf');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('indiquez un seul espace');

    const ok = await run(
      'documents',
      'ajouter',
      '--immeuble',
      'BASTILLE',
      '--publique',
      '--locataires',
      '--categorie',
      'fiche_synthetique',
      '--titre',
      'Fiche synthétique 2026',
      '--date',
      '15/01/2026',
      path.join(work, 'fiche.pdf'),
    );
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    const [doc] = await documents();
    expect(ok.stdout).toContain(`Document n°\u00a0${doc!.id} publié.`);
    expect(doc).toMatchObject({ scope: 'building', for_tenants: 1, document_date: '2026-01-15', published_by: 'cli' });

    const refused = await run('documents', 'remplacer', String(doc!.id), path.join(work, 'page.pdf'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ce type de fichier n’est pas accepté');

    const replaced = await run('documents', 'remplacer', String(doc!.id), path.join(work, 'fiche-v2.pdf'));
    expect(replaced.code).toBe(0);
    const after = await documents();
    expect(after).toHaveLength(2);
    expect(after[0]!.withdrawn_at).not.toBeNull();
    expect(after[1]).toMatchObject({ replaces_id: doc!.id, withdrawn_at: null, for_tenants: 1 });

    const withdrawn = await run('documents', 'retirer', String(after[1]!.id));
    expect(withdrawn.code).toBe(0);
    expect(withdrawn.stdout).toContain('retiré');
    expect((await run('documents', 'retirer', String(after[1]!.id))).code).toBe(1);
    expect(storedFiles()).toHaveLength(2);
  }, 60_000);

  it('imports a manifest all or nothing, naming the bad line, and keeps no file of a refused one', async () => {
    const before = { rows: (await documents()).length, files: storedFiles() };
    const manifest = path.join(work, 'manifeste.csv');
    writeFileSync(
      manifest,
      [
        'chemin;espace;immeuble;reference;categorie;titre;date',
        'pv.pdf;immeuble;BASTILLE;;proces_verbal_ag;PV AG 2025;12/05/2025',
        'page.pdf;immeuble;BASTILLE;;fiche_synthetique;Fiche;',
      ].join('\n'),
    );
    const bad = await run('documents', 'importer', manifest);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`Fichier «\u00a0${manifest}\u00a0» refusé.`);
    expect(bad.stderr).toContain('Ligne 3\u00a0: fichier «\u00a0page.pdf\u00a0»');
    expect((await documents()).length).toBe(before.rows);
    expect(storedFiles()).toEqual(before.files);

    writeFileSync(
      manifest,
      [
        'chemin;espace;immeuble;reference;categorie;titre;date',
        'pv.pdf;immeuble;BASTILLE;;proces_verbal_ag;PV AG 2025;12/05/2025',
        'fiche.pdf;compte;BASTILLE;10001;compte_individuel;Compte individuel;31/12/2025',
      ].join('\n'),
    );
    const ok = await run('documents', 'importer', manifest);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('2 documents publiés');
  }, 60_000);

  it('reports missing documents per building, explaining the rule for the PVs', async () => {
    const r = await run('documents', 'conformite', '--immeuble', 'BASTILLE');
    expect(r.code).toBe(0);
    const year = new Date().getFullYear();
    expect(r.stdout).toContain('Règle des PV d’AG');
    expect(r.stdout).toContain('BASTILLE – Résidence Bastille\u00a0:');
    expect(r.stdout).toContain('  - fiche synthétique manquante');
    expect(r.stdout).toContain(`  - PV d’AG ${year - 3} manquant`);
    const unknown = await run('documents', 'conformite', '--immeuble', 'NULLEPART');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Immeuble inconnu\u00a0: «\u00a0NULLEPART\u00a0».');
  }, 60_000);
});
