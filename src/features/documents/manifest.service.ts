import type { Storage } from '../../adapters/storage/storage.ts';
import type { Ctx } from '../../core/context.ts';
import { IssueCollector } from '../imports/import-error.ts';
import { readCsv } from '../imports/csv.ts';
import { controlCharacterIn, parseDate } from '../imports/fields.ts';
import { accountsByReferences, buildingsByCodes } from './documents.repository.ts';
import { publishDocuments, type DocumentTarget, type PublishInput } from './documents.service.ts';

/** Columns of a manifest; `locataires` (oui/non, building documents only) may be left out. */
export const MANIFEST_COLUMNS = ['chemin', 'espace', 'immeuble', 'reference', 'categorie', 'titre', 'date'] as const;
const OPTIONAL_COLUMNS = ['locataires'] as const;

/** What the caller reads a manifest's file with: its bytes, or why it cannot. */
export type FileLoader = (path: string) => Promise<{ content: Uint8Array } | { error: string }>;

interface Row {
  line: number;
  values: Record<string, string>;
}

/**
 * Publishes the files a manifest lists (one row per file), all or nothing: any bad row —
 * unknown space, building, account or category, bad date, missing or refused file — refuses
 * the whole manifest with French errors naming its lines, and nothing is stored.
 */
export async function importManifest(ctx: Ctx, storage: Storage, csv: Buffer, load: FileLoader): Promise<number[]> {
  const issues = new IssueCollector();
  const rows: Row[] = [];
  let names: string[] = [];
  readCsv(csv, {
    header(h) {
      names = h.names;
      const absent = MANIFEST_COLUMNS.filter((c) => !names.includes(c));
      if (absent.length > 0) {
        issues.add(
          h.line,
          undefined,
          `colonne${absent.length > 1 ? 's' : ''} manquante${absent.length > 1 ? 's' : ''}\u00a0: ${absent.join(', ')}.`,
        );
      }
      for (const n of names) {
        if (
          n !== '' &&
          !(MANIFEST_COLUMNS as readonly string[]).includes(n) &&
          !(OPTIONAL_COLUMNS as readonly string[]).includes(n)
        ) {
          issues.add(h.line, n, 'colonne inconnue.');
        }
      }
    },
    row(r) {
      rows.push({ line: r.line, values: Object.fromEntries(names.map((n, i) => [n, r.values[i] ?? ''])) });
    },
  });
  issues.throwIfAny();
  if (rows.length === 0) issues.add(2, undefined, 'aucun document à importer.');

  const [buildings, accounts] = await Promise.all([
    buildingsByCodes(ctx.db, [...new Set(rows.map((r) => r.values.immeuble ?? '').filter(Boolean))]),
    accountsByReferences(ctx.db, [...new Set(rows.map((r) => r.values.reference ?? '').filter(Boolean))]),
  ]);
  const buildingId = new Map(buildings.map((b) => [b.code, b.id]));
  const account = new Map(accounts.map((a) => [a.reference, a]));

  const inputs: PublishInput[] = [];
  for (const { line, values: v } of rows) {
    const get = (c: string) => v[c] ?? '';
    for (const c of MANIFEST_COLUMNS) {
      const control = controlCharacterIn(get(c));
      if (control) issues.add(line, c, `${control}.`);
    }
    let target: DocumentTarget | null = null;
    const space = get('espace').toLowerCase();
    const locataires = get('locataires').toLowerCase();
    if (!['', 'oui', 'non'].includes(locataires))
      issues.add(line, 'locataires', 'attendu «\u00a0oui\u00a0», «\u00a0non\u00a0» ou vide.');
    if (space === 'compte') {
      const ref = get('reference');
      const acc = account.get(ref);
      if (ref === '') issues.add(line, 'reference', 'obligatoire pour un document de compte.');
      else if (!acc) issues.add(line, 'reference', `compte inconnu\u00a0: «\u00a0${ref}\u00a0».`);
      else if (get('immeuble') !== '' && buildingId.get(get('immeuble')) !== acc.building_id) {
        issues.add(
          line,
          'immeuble',
          `le compte «\u00a0${ref}\u00a0» n’appartient pas à l’immeuble «\u00a0${get('immeuble')}\u00a0».`,
        );
      } else target = { scope: 'account', accountReference: ref };
      if (locataires === 'oui') issues.add(line, 'locataires', 'réservé aux documents de l’immeuble.');
    } else if (space === 'immeuble' || space === 'conseil') {
      const code = get('immeuble');
      if (code === '') issues.add(line, 'immeuble', 'obligatoire pour ce document.');
      else if (!buildingId.has(code)) issues.add(line, 'immeuble', `immeuble inconnu\u00a0: «\u00a0${code}\u00a0».`);
      else if (get('reference') !== '')
        issues.add(line, 'reference', 'à laisser vide pour un document de l’immeuble ou du conseil.');
      else {
        target =
          space === 'immeuble'
            ? { scope: 'building', buildingCode: code, forTenants: locataires === 'oui' }
            : { scope: 'council', buildingCode: code };
      }
      if (space === 'conseil' && locataires === 'oui')
        issues.add(line, 'locataires', 'réservé aux documents de l’immeuble.');
    } else {
      issues.add(
        line,
        'espace',
        `«\u00a0${get('espace')}\u00a0» n’est pas un espace\u00a0: compte, immeuble ou conseil.`,
      );
    }
    let date: string | null = null;
    if (get('date') !== '') {
      date = parseDate(get('date'));
      if (!date) issues.add(line, 'date', `«\u00a0${get('date')}\u00a0» n’est pas une date valide (JJ/MM/AAAA).`);
    }
    const path = get('chemin');
    let content: Uint8Array | null = null;
    if (path === '') issues.add(line, 'chemin', 'obligatoire.');
    else {
      const loaded = await load(path);
      if ('error' in loaded) issues.add(line, 'chemin', loaded.error);
      else content = loaded.content;
    }
    if (target && content) {
      inputs.push({
        target,
        category: get('categorie'),
        title: get('titre'),
        date,
        file: { name: path, content },
        origin: `Ligne ${line}`,
      });
    }
  }
  issues.throwIfAny();
  // Categories, titles and contents are checked by publishDocuments, naming the lines the same way.
  return publishDocuments(ctx, storage, inputs);
}
