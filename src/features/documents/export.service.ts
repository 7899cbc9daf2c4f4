import type { Writable } from 'node:stream';
import archiver from 'archiver';
import type { Storage } from '../../adapters/storage/storage.ts';
import { auditOperation } from '../../core/audit.ts';
import type { Ctx } from '../../core/context.ts';
import { frenchCsv } from '../../core/csv.ts';
import { AppError } from '../../core/errors.ts';
import { formatDate, formatInstant } from '../../core/format.ts';
import { controlCharacterIn } from '../imports/fields.ts';
import { categoryOf } from './categories.ts';
import { allDocumentsOfBuilding, buildingByCode } from './documents.repository.ts';
import { extensionOf } from './files.ts';

export interface ExportSummary {
  building: { code: string; name: string };
  current: number;
  withdrawn: number;
  /** Ids of documents whose file was not found in storage (listed in the index, not in the zip). */
  missingFiles: number[];
}

const SPACE_FOLDERS = { building: 'immeuble', council: 'conseil-syndical', account: 'comptes' } as const;

const INDEX_COLUMNS = {
  numero: { header: 'numero', type: 'text' },
  fichier: { header: 'fichier', type: 'text' },
  espace: { header: 'espace', type: 'text' },
  compte: { header: 'compte', type: 'text' },
  categorie: { header: 'categorie', type: 'text' },
  libelle_categorie: { header: 'libelle_categorie', type: 'text' },
  titre: { header: 'titre', type: 'text' },
  date: { header: 'date', type: 'text' },
  etat: { header: 'etat', type: 'text' },
  remplace: { header: 'remplace_le_numero', type: 'text' },
  locataires: { header: 'visible_des_locataires', type: 'text' },
  publie_le: { header: 'publie_le', type: 'text' },
  publie_par: { header: 'publie_par', type: 'text' },
  retire_le: { header: 'retire_le', type: 'text' },
  taille: { header: 'taille_octets', type: 'text' },
  sha256: { header: 'sha256', type: 'text' },
  nom_d_origine: { header: 'nom_d_origine', type: 'text' },
} as const;

/** A title as one path segment of the archive: nothing a file system or unzip would read as a path. */
function segment(text: string): string {
  const clean = [...text]
    .map((ch) => (/[/\\:*?"<>|]/.test(ch) || controlCharacterIn(ch) !== null ? '-' : ch))
    .join('')
    .replace(/^[.\s]+/, '')
    .trim()
    .slice(0, 120);
  return clean === '' ? 'document' : clean;
}

/**
 * Writes every document of a building — current ones and withdrawn or replaced ones, marked
 * as such in their names and in index.csv — into a zip: folders by space (immeuble,
 * conseil-syndical, comptes/<référence>) then category. For the agency's archives, or to
 * hand a building over to another syndic.
 */
export async function exportBuildingDocuments(
  ctx: Ctx,
  storage: Storage,
  buildingCode: string,
  /** Opens the destination, once the building is known: an unknown one creates nothing. */
  open: () => Writable,
): Promise<ExportSummary> {
  const building = await buildingByCode(ctx.db, buildingCode);
  if (!building) {
    throw new AppError(
      'unknown_building',
      'unknown building',
      `Immeuble inconnu\u00a0: «\u00a0${buildingCode}\u00a0».`,
      404,
    );
  }
  const docs = await allDocumentsOfBuilding(ctx.db, building.id);
  const successorOf = new Map(docs.flatMap((d) => (d.replaces_id === null ? [] : [[d.replaces_id, d.id] as const])));

  const out = open();
  const archive = archiver('zip', { zlib: { level: 6 } });
  const finished = new Promise<void>((resolve, reject) => {
    out.on('close', resolve);
    out.on('finish', resolve);
    out.on('error', reject);
    archive.on('error', reject);
  });
  archive.pipe(out);

  const index = [];
  const missingFiles: number[] = [];
  for (const d of docs) {
    const space =
      d.scope === 'account'
        ? `${SPACE_FOLDERS.account}/${segment(d.account_reference ?? 'sans-compte')}`
        : SPACE_FOLDERS[d.scope];
    const state =
      d.withdrawn_at === null
        ? 'en ligne'
        : successorOf.has(d.id)
          ? `remplacé par le n° ${successorOf.get(d.id)}`
          : 'retiré';
    const mark = d.withdrawn_at === null ? '' : successorOf.has(d.id) ? ' (remplacé)' : ' (retiré)';
    const name = `${space}/${d.category}/${d.document_date} ${segment(d.title)} (n° ${d.id})${mark}.${extensionOf(d.content_type)}`;
    const body = await storage.get(d.storage_key);
    if (body) {
      // One file open at a time: wait until the archive has taken this one in.
      const taken = new Promise<void>((resolve, reject) => {
        const done = (err?: unknown) => {
          archive.off('entry', ok).off('error', done);
          out.off('error', done);
          if (err) reject(err instanceof Error ? err : new Error(String(err)));
          else resolve();
        };
        const ok = () => done();
        archive.on('entry', ok).on('error', done);
        out.on('error', done);
      });
      archive.append(body, { name, date: new Date(d.published_at) });
      await taken;
    } else {
      missingFiles.push(d.id);
    }
    index.push({
      numero: String(d.id),
      fichier: body ? name : '(fichier manquant)',
      espace: d.scope === 'account' ? 'compte' : d.scope === 'building' ? 'immeuble' : 'conseil',
      compte: d.account_reference ?? '',
      categorie: d.category,
      libelle_categorie: categoryOf(d.category)?.label ?? '',
      titre: d.title,
      date: formatDate(d.document_date),
      etat: state,
      remplace: d.replaces_id === null ? '' : String(d.replaces_id),
      locataires: d.scope === 'building' ? (d.for_tenants ? 'oui' : 'non') : '',
      publie_le: formatInstant(d.published_at),
      publie_par: d.published_by,
      retire_le: d.withdrawn_at ? formatInstant(d.withdrawn_at) : '',
      taille: String(d.size_bytes),
      sha256: d.sha256,
      nom_d_origine: d.original_name,
    });
  }
  archive.append(frenchCsv(index, INDEX_COLUMNS), { name: 'index.csv' });
  await archive.finalize();
  await finished;

  const withdrawn = docs.filter((d) => d.withdrawn_at !== null).length;
  await auditOperation(ctx, {
    action: 'document.export',
    outcome: 'success',
    details: { building: building.code, documents: docs.length, missingFiles },
  });
  return { building, current: docs.length - withdrawn, withdrawn, missingFiles };
}
