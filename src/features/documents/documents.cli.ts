import {
  type WriteStream,
  closeSync,
  createWriteStream,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createStorage } from '../../adapters/storage/storage.ts';
import type { BootConfig } from '../../config.ts';
import { openDatabase } from '../../core/secrets/secrets.ts';
import { agencyIdentity } from '../../core/agency/agency.ts';
import { createContext, type Ctx } from '../../core/context.ts';
import { AppError } from '../../core/errors.ts';
import type { DocumentScope } from '../../db/schema.ts';
import { parseDate } from '../imports/fields.ts';
import { categoriesOf, SPACE_LABELS } from './categories.ts';
import { AG_YEARS, conformityReport } from './conformity.service.ts';
import {
  publishDocuments,
  replaceDocument,
  withdrawDocument,
  type DocumentTarget,
  type PublishInput,
} from './documents.service.ts';
import { exportBuildingDocuments } from './export.service.ts';
import { MAX_DOCUMENT_BYTES } from './files.ts';
import { importManifest } from './manifest.service.ts';

/*
 * `npx palier documents …`: parses the command line, builds a staff context and calls the
 * same services a back office will. src/cli.ts only dispatches here; exit codes as there:
 * 0 done, 1 refused (nothing written), 2 usage error.
 */

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export const DOCUMENTS_HELP = `  documents categories          Liste les catégories de documents (codes et libellés), par espace.
  documents ajouter [options] FICHIER…
                               Publie un ou plusieurs fichiers (PDF, JPEG, PNG, docx, xlsx, odt, ods ; 50 Mo au plus) :
      --immeuble CODE            immeuble (obligatoire)
      --compte REFERENCE         document privé de ce compte, ou
      --publique                 document de l’immeuble (tous les copropriétaires), ou
      --conseil                  document du conseil syndical
      --locataires               document de l’immeuble visible aussi des locataires
      --categorie CODE           catégorie (voir « documents categories »)
      --titre TEXTE              titre affiché
      --date JJ/MM/AAAA          date du document (aujourd’hui par défaut)
  documents retirer N°         Retire un document (il reste dans l’historique).
  documents remplacer N° FICHIER
                               Remplace un document par une nouvelle version (l’ancienne reste dans l’historique).
  documents importer FICHIER.csv
                               Publie les fichiers d’un manifeste : chemin, espace (compte, immeuble, conseil),
                               immeuble, reference, categorie, titre, date ; tout ou rien.
  documents conformite [--immeuble CODE]
                               Liste, par immeuble, les documents exigés par le décret 2019-502 qui manquent.
  documents exporter --immeuble CODE FICHIER.zip
                               Écrit tous les documents de l’immeuble (en ligne et retirés) dans une archive zip,
                               par espace et catégorie, avec un index.csv.
`;

class Usage extends Error {}

const SPACE_NAMES: Record<DocumentScope, string> = { account: 'compte', building: 'immeuble', council: 'conseil' };

function options<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], opts: T) {
  try {
    return parseArgs({ args, options: opts, allowPositionals: true, strict: true });
  } catch (err) {
    const option = /'(-[^']*)'/.exec((err as Error).message)?.[1];
    throw new Usage(`option non reconnue ou sans valeur${option ? `\u00a0: ${option}` : ''}.`);
  }
}

/** A file's bytes, at most one more than a document may weigh, so the service refuses a larger one unread. */
function readDocumentFile(file: string): { content: Uint8Array } | { error: string } {
  if (!existsSync(file) || !statSync(file).isFile()) return { error: `fichier introuvable\u00a0: ${file}` };
  if (statSync(file).size <= MAX_DOCUMENT_BYTES) return { content: readFileSync(file) };
  const buffer = Buffer.alloc(MAX_DOCUMENT_BYTES + 1);
  const fd = openSync(file, 'r');
  try {
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, length);
      if (n === 0) break;
      length += n;
    }
    return { content: buffer.subarray(0, length) };
  } finally {
    closeSync(fd);
  }
}

function parseId(raw: string | undefined): number {
  if (raw === undefined || !/^[1-9]\d{0,9}$/.test(raw))
    throw new Usage(`«\u00a0${raw ?? ''}\u00a0» n’est pas un numéro de document.`);
  return Number(raw);
}

function parseFrenchDate(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const d = /^\d{1,2}\/\d{1,2}\/\d{4}$/.test(raw.trim()) ? parseDate(raw.trim()) : null;
  if (!d) throw new Usage(`--date\u00a0: «\u00a0${raw}\u00a0» n’est pas une date valide (JJ/MM/AAAA).`);
  return d;
}

async function withCtx<T>(boot: BootConfig, fn: (ctx: Ctx) => Promise<T>): Promise<T> {
  // The same opening as every command: refused when DATA_DIR's secrets are not this database's.
  const { config, db } = await openDatabase(boot);
  try {
    const ctx = createContext({
      db,
      config,
      agency: agencyIdentity(db),
      actor: { kind: 'staff', name: 'cli', ip: null },
    });
    return await fn(ctx);
  } finally {
    await db.destroy();
  }
}

type Sub = (args: string[], config: BootConfig, io: Io) => Promise<void>;

const categories: Sub = async (args, _config, io) => {
  if (options(args, {}).positionals.length > 0) throw new Usage('argument inattendu.');
  for (const space of ['building', 'account', 'council'] as const) {
    io.out(`${SPACE_LABELS[space]} (espace «\u00a0${SPACE_NAMES[space]}\u00a0»)\u00a0:`);
    for (const c of categoriesOf(space)) io.out(`  ${c.code.padEnd(30)} ${c.label}${c.required ? ' *' : ''}`);
    io.out('');
  }
  io.out('* exigé par le décret n° 2019-502 (voir «\u00a0npx palier documents conformite\u00a0»).');
};

const ajouter: Sub = async (args, config, io) => {
  const { values, positionals } = options(args, {
    immeuble: { type: 'string' },
    compte: { type: 'string' },
    publique: { type: 'boolean' },
    conseil: { type: 'boolean' },
    locataires: { type: 'boolean' },
    categorie: { type: 'string' },
    titre: { type: 'string' },
    date: { type: 'string' },
  });
  if (!values.immeuble) throw new Usage('--immeuble CODE est obligatoire.');
  const spaces = [values.compte !== undefined, values.publique === true, values.conseil === true].filter(Boolean);
  if (spaces.length !== 1)
    throw new Usage('indiquez un seul espace\u00a0: --compte REFERENCE, --publique ou --conseil.');
  if (values.locataires && !values.publique) throw new Usage('--locataires ne s’emploie qu’avec --publique.');
  if (values.categorie === undefined)
    throw new Usage('--categorie CODE est obligatoire (voir «\u00a0npx palier documents categories\u00a0»).');
  if (values.titre === undefined) throw new Usage('--titre est obligatoire.');
  if (positionals.length === 0) throw new Usage('indiquez au moins un fichier.');
  const date = parseFrenchDate(values.date);
  const target: DocumentTarget =
    values.compte !== undefined
      ? { scope: 'account', accountReference: values.compte, buildingCode: values.immeuble }
      : values.publique
        ? { scope: 'building', buildingCode: values.immeuble, forTenants: values.locataires === true }
        : { scope: 'council', buildingCode: values.immeuble };
  const inputs: PublishInput[] = [];
  for (const file of positionals) {
    const read = readDocumentFile(file);
    if ('error' in read) throw new Usage(read.error);
    inputs.push({
      target,
      category: values.categorie,
      title: values.titre,
      date,
      file: { name: path.basename(file), content: read.content },
      origin: positionals.length > 1 ? file : undefined,
    });
  }
  const ids = await withCtx(config, (ctx) => publishDocuments(ctx, createStorage(config), inputs));
  for (const id of ids) io.out(`Document n°\u00a0${id} publié.`);
};

const retirer: Sub = async (args, config, io) => {
  const { positionals } = options(args, {});
  if (positionals.length !== 1) throw new Usage('il faut un numéro de document.');
  const id = parseId(positionals[0]);
  const doc = await withCtx(config, (ctx) => withdrawDocument(ctx, id));
  io.out(
    `Document n°\u00a0${id} «\u00a0${doc.title}\u00a0» retiré\u00a0: les clients ne le voient plus\u00a0; il reste dans l’historique.`,
  );
};

const remplacer: Sub = async (args, config, io) => {
  const { positionals, values } = options(args, { titre: { type: 'string' }, date: { type: 'string' } });
  if (positionals.length !== 2) throw new Usage('il faut un numéro de document et un fichier.');
  const id = parseId(positionals[0]);
  const date = parseFrenchDate(values.date);
  const read = readDocumentFile(positionals[1]!);
  if ('error' in read) throw new Usage(read.error);
  const newId = await withCtx(config, (ctx) =>
    replaceDocument(
      ctx,
      createStorage(config),
      id,
      { name: path.basename(positionals[1]!), content: read.content },
      { title: values.titre, date },
    ),
  );
  io.out(
    `Document n°\u00a0${id} remplacé par le document n°\u00a0${newId}\u00a0; l’ancienne version reste dans l’historique.`,
  );
};

const importer: Sub = async (args, config, io) => {
  const { positionals } = options(args, {});
  if (positionals.length !== 1) throw new Usage('il faut un fichier manifeste (CSV).');
  const manifest = positionals[0]!;
  if (!existsSync(manifest) || !statSync(manifest).isFile()) throw new Usage(`fichier introuvable\u00a0: ${manifest}`);
  const dir = path.dirname(path.resolve(manifest));
  const ids = await withCtx(config, (ctx) =>
    // Paths of the manifest are relative to its folder: the agency keeps them side by side.
    importManifest(ctx, createStorage(config), readFileSync(manifest), async (p) =>
      readDocumentFile(path.resolve(dir, p)),
    ),
  ).catch((err: unknown) => {
    if (err instanceof AppError) io.err(`Fichier «\u00a0${manifest}\u00a0» refusé.`);
    throw err;
  });
  io.out(
    `${ids.length} document${ids.length > 1 ? 's' : ''} publié${ids.length > 1 ? 's' : ''} (n°\u00a0${ids.join(', ')}).`,
  );
};

const conformite: Sub = async (args, config, io) => {
  const { values, positionals } = options(args, { immeuble: { type: 'string' } });
  if (positionals.length > 0) throw new Usage('argument inattendu.');
  const report = await withCtx(config, (ctx) => conformityReport(ctx, values.immeuble));
  io.out('Documents exigés par le décret n° 2019-502 sans document en ligne, par immeuble.');
  io.out(
    `Règle des PV d’AG\u00a0: les procès-verbaux des ${AG_YEARS} dernières assemblées générales, comptées à une par an\u00a0: un PV daté de chacune des années ${report.agYears.join(', ')} est attendu.`,
  );
  io.out(
    'Les documents privés de chaque compte et les documents exigés seulement s’ils existent (actes modificatifs, contrats, diagnostics, décisions de justice) ne sont pas contrôlés.',
  );
  io.out('');
  if (report.buildings.length === 0) io.out('Aucun immeuble.');
  for (const b of report.buildings) {
    if (b.missing.length === 0) {
      io.out(`${b.code} – ${b.name}\u00a0: complet.`);
      continue;
    }
    io.out(`${b.code} – ${b.name}\u00a0: ${b.missing.length} manquant${b.missing.length > 1 ? 's' : ''}`);
    for (const m of b.missing) io.out(`  - ${m}`);
  }
};

const exporter: Sub = async (args, config, io) => {
  const { values, positionals } = options(args, { immeuble: { type: 'string' } });
  if (!values.immeuble) throw new Usage('--immeuble CODE est obligatoire.');
  if (positionals.length !== 1 || !positionals[0]!.toLowerCase().endsWith('.zip')) {
    throw new Usage('il faut un fichier de destination en .zip.');
  }
  const file = positionals[0]!;
  if (existsSync(file)) throw new Usage(`«\u00a0${file}\u00a0» existe déjà\u00a0: choisissez un autre nom.`);
  const summary = await withCtx(config, async (ctx) => {
    let out: WriteStream | null = null;
    try {
      return await exportBuildingDocuments(ctx, createStorage(config), values.immeuble!, () => {
        out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
        return out;
      });
    } catch (err) {
      // No half-written archive is left to be taken for a complete one.
      if (out) {
        (out as WriteStream).destroy();
        rmSync(file, { force: true });
      }
      throw err;
    }
  });
  io.out(
    `${summary.building.code} – ${summary.building.name}\u00a0: ${summary.current} document${summary.current > 1 ? 's' : ''} en ligne et ${summary.withdrawn} retiré${summary.withdrawn > 1 ? 's' : ''} ou remplacé${summary.withdrawn > 1 ? 's' : ''} écrits dans «\u00a0${file}\u00a0» (index.csv).`,
  );
  if (summary.missingFiles.length > 0) {
    io.err(
      `Attention\u00a0: fichier introuvable pour les documents n°\u00a0${summary.missingFiles.join(', ')} (signalés dans index.csv).`,
    );
  }
  io.out('Cette archive contient des documents privés\u00a0: conservez-la en lieu sûr.');
};

const SUBCOMMANDS: Record<string, Sub> = { categories, ajouter, retirer, remplacer, importer, conformite, exporter };

/** Runs `documents …`; returns the exit code. */
export async function documentsCommand(args: string[], config: BootConfig, io: Io): Promise<number> {
  const [name, ...rest] = args;
  const sub = name !== undefined ? SUBCOMMANDS[name] : undefined;
  try {
    if (!sub || !Object.hasOwn(SUBCOMMANDS, name!)) {
      throw new Usage(
        `«\u00a0documents${name ? ` ${name}` : ''}\u00a0»\u00a0: attendu ${Object.keys(SUBCOMMANDS).join(', ')}.`,
      );
    }
    await sub(rest, config, io);
    return 0;
  } catch (err) {
    if (err instanceof Usage) {
      io.err(`Erreur\u00a0: ${err.message}`);
      io.err('Tapez «\u00a0npx palier --help\u00a0» pour la liste des commandes.');
      return 2;
    }
    if (err instanceof AppError) {
      io.err(err.userMessage);
      return 1;
    }
    throw err;
  }
}
