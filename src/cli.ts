import {
  closeSync,
  createReadStream,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, type Help } from 'commander';
import { describeOutbox, requeueMail } from './adapters/mailer/outbox.ts';
import { createStorage } from './adapters/storage/storage.ts';
import { loadConfig, type BootConfig, type Config } from './config.ts';
import { AppError } from './core/errors.ts';
import type { Db } from './db/db.ts';
import { openDatabase } from './core/secrets/secrets.ts';
import { agencyIdentity } from './core/agency/agency.ts';
import { paymentLimitCents, type Agency, type AgencyKey } from './core/agency/agency.repository.ts';
import { formatMoney } from './core/format.ts';
import { createContext, type Ctx } from './core/context.ts';
import { MAX_LOGO_BYTES, updateAgency, type AgencyInput } from './features/agency/agency.service.ts';
import { loadDemo } from './features/imports/demo.ts';
import { ImportError } from './features/imports/import-error.ts';
import {
  describeEcrituresSummary,
  describeFecSummary,
  describeReferentielSummary,
} from './features/imports/imports.presenter.ts';
import { importFec, type FecProgress } from './features/imports/fec.service.ts';
import { codesToCsv, exportCodes, importEcritures, importReferentiel } from './features/imports/imports.service.ts';
import { pendingChangesToCsv } from './features/accounts/accounts.presenter.ts';
import { exportPendingContactChanges } from './features/accounts/coordinates.service.ts';
import { describeBackup, describeRestore } from './features/backup/backup.presenter.ts';
import { createBackup, restoreBackup } from './features/backup/backup.service.ts';
import { palierVersion } from './features/backup/manifest.ts';
import { describeIssuedCode, describeUnlocked } from './features/codes/codes.presenter.ts';
import { issueAccessCode, unlockReference } from './features/codes/codes.service.ts';
import { DOCUMENTS_HELP, documentsCommand } from './features/documents/documents.cli.ts';
import { describePurge } from './features/maintenance/maintenance.presenter.ts';
import { purgeExpired } from './features/maintenance/maintenance.service.ts';
import { describeSpaces, spacesToCsv } from './features/spaces/spaces.presenter.ts';
import { listSpaces } from './features/spaces/spaces.service.ts';

/**
 * `palier`: the agency's operations from a terminal (`npx palier …`). French output;
 * exit 0 on success, 1 when the input is refused (nothing written), 2 on a usage error.
 *
 * Each command is registered by its own `register…(program, deps)` function, whose action
 * calls the feature's service: adding a command is adding one such function to COMMANDS.
 * Arguments are parsed by commander, whose English messages are translated in main().
 */

/** A mistake in the command line itself. */
class UsageError extends Error {}

export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Raw text to standard output (a CSV with its own line ends); defaults to process.stdout. */
  write?(text: string): void;
}

/** What every command's action needs: where to print, and the configuration (read when a command runs, not for --help). */
interface Deps {
  io: Io;
  config: () => BootConfig;
}

type Register = (program: Command, deps: Deps) => void;

const STAFF_CLI = { kind: 'staff', name: 'cli', ip: null } as const;

/** The context of an operation run by the agency from the terminal. */
function staffContext(db: Db, config: Config): Ctx {
  return createContext({ db, config, agency: agencyIdentity(db), actor: STAFF_CLI });
}

function readInput(file: string): Buffer {
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`fichier introuvable : ${file}`);
  return readFileSync(file);
}

/** Runs `fn` on the database, with the configuration completed by the secrets checked against it. */
async function withDb<T>(boot: BootConfig, fn: (db: Db, config: Config) => Promise<T>): Promise<T> {
  const { db, config } = await openDatabase(boot);
  try {
    return await fn(db, config);
  } finally {
    await db.destroy();
  }
}

/** Reports a refused file with its name, so the agency knows which one to fix. */
async function importing(file: string, io: Io, run: () => Promise<string[]>): Promise<void> {
  try {
    for (const l of await run()) io.out(l);
  } catch (err) {
    if (err instanceof ImportError) {
      io.err(`Fichier « ${file} » refusé.`);
      io.err(err.userMessage);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

/** Text written to standard output as is (no line end added). */
function writeRaw(io: Io, text: string): void {
  if (io.write) io.write(text);
  else process.stdout.write(text);
}

/** "Exemples :" and lines indented under it, shown at the end of a command's --help. */
function examples(...lines: string[]): string {
  return `\nExemples\u00a0:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

// ---------------------------------------------------------------------------
// import referentiel | ecritures | fec

const registerImport: Register = (program, { io, config }) => {
  const group = program
    .command('import')
    .summary('importe le référentiel, les écritures ou le FEC d’une copropriété')
    .description(
      'Importe un fichier de l’agence. Un fichier comportant une erreur est refusé en entier\u00a0: rien n’est importé.',
    )
    .addHelpText(
      'after',
      examples(
        'npx palier import referentiel referentiel.csv',
        'npx palier import ecritures ecritures.csv',
        'npx palier import fec SDC-BASTILLE-2024.txt --immeuble BASTILLE',
      ),
    );

  group
    .command('referentiel')
    .summary('importe les comptes, immeubles, lots, gestionnaires et codes d’accès')
    .argument('<FICHIER>', 'CSV du référentiel')
    .description(
      'Importe les comptes, immeubles, lots, gestionnaires et codes d’accès (CSV). ' +
        'CSV en UTF-8 (avec ou sans BOM) ou Windows-1252, séparateur «\u00a0;\u00a0» ou «\u00a0,\u00a0», une ligne d’en-tête\u00a0; ' +
        'colonnes dans n’importe quel ordre\u00a0: type, reference, code_acces, civilite, nom, prenom, email, ' +
        'telephone, adresse, code_postal, ville, immeuble_code, immeuble_nom, immeuble_adresse, ' +
        'immeuble_code_postal, immeuble_ville, immeuble_iban, immeuble_bic, lot_numero, lot_type, lot_description, tantiemes, ' +
        'conseil_syndical, gestionnaire_nom, gestionnaire_email, gestionnaire_telephone, compte_comptable.',
    )
    .addHelpText('after', examples('npx palier import referentiel referentiel-2026.csv'))
    .action(async (file: string) => {
      const buffer = readInput(file);
      await withDb(config(), (db, config) =>
        importing(file, io, async () => describeReferentielSummary(await importReferentiel(db, config, buffer))),
      );
    });

  group
    .command('ecritures')
    .summary('importe les écritures des comptes présents dans le fichier')
    .argument('<FICHIER>', 'CSV des écritures')
    .description(
      'Importe les écritures\u00a0: remplace celles des comptes présents dans le fichier. ' +
        'Colonnes\u00a0: reference, date (JJ/MM/AAAA ou AAAA-MM-JJ), libelle, debit, credit, piece.',
    )
    .addHelpText('after', examples('npx palier import ecritures ecritures-2026-11.csv'))
    .action(async (file: string) => {
      const buffer = readInput(file);
      await withDb(config(), (db) =>
        importing(file, io, async () => describeEcrituresSummary(await importEcritures(db, buffer))),
      );
    });

  group
    .command('fec')
    .summary('importe le FEC d’une copropriété (--immeuble CODE)')
    .argument('<FICHIER>', 'FEC de la copropriété')
    .option('--immeuble <code>', 'code de l’immeuble (immeuble_code du référentiel), obligatoire')
    .option('--ignorer-inconnus', 'ignore les lignes des comptes clients absents du référentiel (et les liste)')
    .description(
      'Importe le FEC (fichier des écritures comptables) d’une copropriété\u00a0: ses lignes de comptes ' +
        'clients (450…, 411…) remplacent celles de l’immeuble sur la période du fichier (première à ' +
        'dernière EcritureDate). Séparateur tabulation, «\u00a0|\u00a0» ou «\u00a0;\u00a0», UTF-8 ou ISO-8859-15, en-tête ' +
        'normalisé, dates AAAAMMJJ, montants 1378,20\u202f; chaque écriture doit être équilibrée.',
    )
    .addHelpText(
      'after',
      examples(
        'npx palier import fec SDC-BASTILLE-2024.txt --immeuble BASTILLE',
        'npx palier import fec SDC-BASTILLE-2024.txt --immeuble BASTILLE --ignorer-inconnus',
      ),
    )
    .action(async (file: string, opts: { immeuble?: string; ignorerInconnus?: boolean }) => {
      await importFecCommand(file, opts.immeuble, opts.ignorerInconnus === true, { config: config(), io });
    });
};

const PHASES: Record<FecProgress['phase'], string> = {
  encodage: 'lecture de l’encodage',
  verification: 'vérification',
  ecriture: 'écriture',
};

/**
 * Progress of a long import on stderr: one line rewritten in place on a terminal, otherwise a
 * line every 100 000 lines (a log file should not fill with carriage returns).
 */
function progressReporter(): { report: (p: FecProgress) => void; done: () => void } {
  const tty = process.stderr.isTTY === true;
  let shown = false;
  let last = 0;
  const integer = new Intl.NumberFormat('fr-FR');
  return {
    report(p) {
      const text = `Import FEC\u00a0: ${PHASES[p.phase]}${p.lines > 0 ? `, ${integer.format(p.lines)} lignes` : '…'}`;
      if (tty) {
        const now = Date.now();
        if (now - last < 200 && p.lines > 0) return;
        last = now;
        process.stderr.write(`\r\x1b[K${text}`);
        shown = true;
      } else if (p.lines > 0 && p.lines % 100_000 === 0) {
        process.stderr.write(`${text}\n`);
      }
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}

async function importFecCommand(
  file: string,
  buildingCode: string | undefined,
  ignoreUnknown: boolean,
  { config, io }: { config: BootConfig; io: Io },
): Promise<void> {
  if (!buildingCode?.trim()) throw new UsageError('« import fec » demande l’immeuble : --immeuble CODE.');
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`fichier introuvable : ${file}`);
  const progress = progressReporter();
  await withDb(config, (db, config) =>
    importing(file, io, async () => {
      const ctx = staffContext(db, config);
      try {
        return describeFecSummary(
          await importFec(ctx, {
            open: () => createReadStream(file),
            buildingCode: buildingCode.trim(),
            ignoreUnknown,
            onProgress: progress.report,
          }),
        );
      } finally {
        progress.done();
      }
    }),
  );
}

// ---------------------------------------------------------------------------
// codes export | nouveau | debloquer

const registerCodes: Register = (program, { io, config }) => {
  const group = program
    .command('codes')
    .summary('codes d’accès\u00a0: export pour le publipostage, nouveau code, déblocage')
    .description('Codes d’accès imprimés sur les courriers (l’«\u00a0Identifiant\u00a0» est la référence du compte).')
    .addHelpText(
      'after',
      examples(
        'npx palier codes export codes.csv',
        'npx palier codes nouveau 10001',
        'npx palier codes debloquer 10001',
      ),
    );

  group
    .command('export')
    .summary('écrit les codes à imprimer, avec les adresses, pour le publipostage')
    .argument('<FICHIER>', 'fichier CSV à écrire, ou «\u00a0-\u00a0» pour la sortie standard')
    .description(
      'Écrit, pour chaque code créé par Palier et pas encore utilisé, une ligne pour le publipostage\u00a0: ' +
        'reference, code_acces, civilite, nom, prenom, adresse, code_postal, ville, immeuble_code, ' +
        'immeuble_nom, gestionnaire_nom (CSV «\u00a0;\u00a0» en UTF-8 avec BOM, ouvert tel quel par Excel).',
    )
    .addHelpText('after', examples('npx palier codes export codes.csv', 'npx palier codes export - | less'))
    .action(async (file: string) => {
      const codes = await withDb(config(), (db, config) => exportCodes(db, config));
      const plural = codes.length > 1 ? 's' : '';
      if (file === '-') {
        writeRaw(io, codesToCsv(codes));
        // The summary goes to stderr: stdout is the CSV only, ready for a pipe.
        io.err(`${codes.length} code${plural} d’accès écrit${plural} sur la sortie standard.`);
        return;
      }
      writeFileSync(file, codesToCsv(codes), { encoding: 'utf8', mode: 0o600 });
      io.out(
        codes.length === 0
          ? `Aucun code à imprimer : « ${file} » ne contient que l’en-tête.`
          : `${codes.length} code${plural} d’accès écrit${plural} dans « ${file} ».`,
      );
      if (codes.length > 0) io.out('Ce fichier donne accès aux comptes : supprimez-le une fois le publipostage fait.');
    });

  group
    .command('nouveau')
    .summary('crée un nouveau code d’accès pour un compte (l’ancien ne fonctionne plus)')
    .argument('<REFERENCE>', 'référence du compte (l’Identifiant du courrier)')
    .description(
      'Crée un nouveau code d’accès pour un compte (courrier perdu, code divulgué)\u00a0: l’ancien ne fonctionne ' +
        'plus. Le code est affiché une seule fois, avec l’adresse postale du titulaire, pour le courrier.',
    )
    .addHelpText('after', examples('npx palier codes nouveau 10001'))
    .action(async (reference: string) => {
      const boot = config();
      await withDb(boot, async (db, config) => {
        const issued = await issueAccessCode(staffContext(db, config), reference);
        for (const line of describeIssuedCode(issued, config.baseUrl)) io.out(line);
      });
    });

  group
    .command('debloquer')
    .summary('débloque une référence après trop d’essais de code')
    .argument('<REFERENCE>', 'référence du compte')
    .description(
      'Efface les essais de code qui bloquent une référence à «\u00a0Créez votre espace\u00a0» et ' +
        '«\u00a0Ajouter un compte\u00a0» (5 erreurs en 15 minutes), après avoir vérifié l’identité du client.',
    )
    .addHelpText('after', examples('npx palier codes debloquer 10001'))
    .action(async (reference: string) => {
      await withDb(config(), async (db, config) => {
        for (const line of describeUnlocked(await unlockReference(staffContext(db, config), reference))) io.out(line);
      });
    });
};

// ---------------------------------------------------------------------------
// espaces

const registerEspaces: Register = (program, { io, config }) => {
  program
    .command('espaces')
    .option('--immeuble <code>', 'seulement les comptes de cet immeuble (immeuble_code du référentiel)')
    .option('--csv', 'écrit un CSV («\u00a0;\u00a0», UTF-8 avec BOM) sur la sortie standard au lieu du tableau')
    .summary('liste qui a créé quel espace client, et quand')
    .description(
      'Liste les comptes rattachés à un espace client\u00a0: référence, immeuble, personne (nom, email ' +
        'confirmé ou non), date du rattachement et dernière connexion connue.',
    )
    .addHelpText(
      'after',
      examples(
        'npx palier espaces',
        'npx palier espaces --immeuble BASTILLE',
        'npx palier espaces --csv > espaces.csv',
      ),
    )
    .action(async (opts: { immeuble?: string; csv?: boolean }) => {
      if (opts.immeuble !== undefined && !opts.immeuble.trim()) {
        throw new UsageError('--immeuble demande le code d’un immeuble.');
      }
      await withDb(config(), async (db, config) => {
        const report = await listSpaces(staffContext(db, config), { buildingCode: opts.immeuble });
        if (opts.csv) writeRaw(io, spacesToCsv(report));
        else for (const line of describeSpaces(report)) io.out(line);
      });
    });
};

// ---------------------------------------------------------------------------
// agence

const AGENCY_OPTIONS = {
  nom: 'name',
  slogan: 'tagline',
  adresse: 'address',
  telephone: 'phone',
  email: 'email',
  site: 'website',
  logo: 'logo',
  iban: 'iban',
  bic: 'bic',
  'plafond-paiement': 'paymentLimit',
  couleur: 'color',
} as const satisfies Record<string, AgencyKey>;

const OPTION_OF = Object.fromEntries(Object.entries(AGENCY_OPTIONS).map(([o, k]) => [k, o])) as Record<
  AgencyKey,
  keyof typeof AGENCY_OPTIONS
>;

const AGENCY_LABELS: Record<AgencyKey, string> = {
  name: 'Nom',
  tagline: 'Slogan',
  address: 'Adresse',
  phone: 'Téléphone',
  email: 'Email',
  website: 'Site',
  logo: 'Logo',
  iban: 'IBAN',
  bic: 'BIC',
  paymentLimit: 'Plafond de paiement',
  color: 'Couleur',
};

/** The value each option takes, named in French in the help (`--email <adresse>`). */
const AGENCY_VALUE_NAMES: Record<keyof typeof AGENCY_OPTIONS, string> = {
  nom: 'texte',
  slogan: 'texte',
  adresse: 'texte',
  telephone: 'texte',
  email: 'adresse',
  site: 'url',
  logo: 'fichier',
  iban: 'iban',
  bic: 'bic',
  'plafond-paiement': 'euros',
  couleur: '#RRGGBB',
};

const AGENCY_HELP: Record<keyof typeof AGENCY_OPTIONS, string> = {
  nom: 'nom du cabinet (obligatoire la première fois)',
  slogan: 'ligne sous le nom, par exemple «\u00a0depuis 1904\u00a0»',
  adresse: 'adresse postale',
  telephone: 'téléphone',
  email: 'adresse email de contact',
  site: 'site web',
  logo: 'logo PNG, JPEG ou SVG (copié dans DATA_DIR/files)',
  iban: 'IBAN du compte à créditer pour «\u00a0Payer\u00a0» par virement',
  bic: 'BIC de ce compte',
  'plafond-paiement': 'montant maximal d’un paiement sur «\u00a0Payer\u00a0» (10\u202f000\u00a0€ par défaut)',
  couleur: 'couleur principale des pages (contraste d’au moins 4,5\u00a0:\u00a01 sur blanc)',
};

const registerAgence: Register = (program, { io, config }) => {
  const command = program
    .command('agence')
    .summary('affiche ou définit l’identité de l’agence')
    .description(
      'Affiche l’identité de l’agence (sans option) ou la définit\u00a0: elle figure sur chaque page et ' +
        'chaque email. Une option vide (--slogan "") efface la valeur.',
    )
    .addHelpText(
      'after',
      examples(
        'npx palier agence',
        'npx palier agence --nom "Cabinet Dauphin" --slogan "depuis 1904" --telephone "04 76 00 00 00"',
        'npx palier agence --logo logo.png --iban "FR76 3000 6000 0112 3456 7890 189" --bic AGRIFRPP',
      ),
    );
  for (const option of Object.keys(AGENCY_OPTIONS) as (keyof typeof AGENCY_OPTIONS)[]) {
    command.option(`--${option} <${AGENCY_VALUE_NAMES[option]}>`, AGENCY_HELP[option]);
  }
  command.action(async (parsed: Record<string, string | undefined>) => {
    // Commander names `--plafond-paiement` plafondPaiement: back to the option's own name.
    const given: Partial<Record<keyof typeof AGENCY_OPTIONS, string>> = {};
    for (const option of Object.keys(AGENCY_OPTIONS) as (keyof typeof AGENCY_OPTIONS)[]) {
      const value = parsed[option.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())];
      if (value !== undefined) given[option] = value;
    }
    await agenceAction(given, { config: config(), io });
  });
};

async function agenceAction(
  given: Partial<Record<keyof typeof AGENCY_OPTIONS, string>>,
  { config, io }: { config: BootConfig; io: Io },
): Promise<void> {
  const input: AgencyInput = {};
  for (const [option, key] of Object.entries(AGENCY_OPTIONS) as [keyof typeof AGENCY_OPTIONS, AgencyKey][]) {
    const raw = given[option];
    if (raw !== undefined && key !== 'logo') input[key] = raw;
  }
  if (given.logo !== undefined) {
    const file = given.logo.trim();
    const content = file === '' ? null : readLogo(file);
    if (file !== '' && !content) {
      refused(io, [`--logo\u00a0: fichier introuvable\u00a0: ${file}`]);
      return;
    }
    input.logo = content;
  }

  await withDb(config, async (db, config) => {
    const ctx = staffContext(db, config);
    if (Object.keys(given).length === 0) {
      printAgency(io, await ctx.agency.get());
      return;
    }
    const result = await updateAgency(ctx, input, createStorage(config));
    if (!result.ok) {
      refused(
        io,
        result.errors.map((e) => `--${OPTION_OF[e.field]}\u00a0: ${e.message}`),
      );
      return;
    }
    io.out('Identité de l’agence enregistrée.');
    printAgency(io, result.agency);
  });
}

/**
 * The logo file's content, or null when there is no such file. Reads one byte more than a
 * logo may weigh, so the service refuses a larger file without it being loaded whole.
 */
function readLogo(file: string): Buffer | null {
  if (!existsSync(file) || !statSync(file).isFile()) return null;
  const buffer = Buffer.alloc(MAX_LOGO_BYTES + 1);
  const fd = openSync(file, 'r');
  try {
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, length);
      if (n === 0) break;
      length += n;
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

function refused(io: Io, problems: string[]): void {
  io.err('Identité de l’agence inchangée\u00a0:');
  for (const p of problems) io.err(`  ${p}`);
  process.exitCode = 1;
}

function printAgency(io: Io, agency: Agency): void {
  if (!agency.configured) {
    io.out(`L’identité de l’agence n’est pas encore définie\u00a0: les pages affichent «\u00a0${agency.name}\u00a0».`);
    io.out(
      'Définissez-la avec\u00a0: npx palier agence --nom "Cabinet …" --slogan "depuis …" --adresse "…" --telephone "…" --email …',
    );
    return;
  }
  io.out('Identité de l’agence\u00a0:');
  for (const key of Object.values(AGENCY_OPTIONS)) {
    const value = key === 'paymentLimit' ? formatMoney(paymentLimitCents(agency)) : agency[key];
    io.out(`  ${AGENCY_LABELS[key]}\u00a0: ${value ?? '—'}`);
  }
}

// ---------------------------------------------------------------------------
// demo

const registerDemo: Register = (program, { io, config }) => {
  program
    .command('demo')
    .summary('charge des données de démonstration et affiche un identifiant à essayer')
    .description(
      'Charge des données de démonstration (deux copropriétés à Grenoble, quelques clients, des ' +
        'écritures) et affiche un identifiant et un mot de passe à essayer. Peut être relancée sans risque.',
    )
    .addHelpText('after', examples('npx palier demo'))
    .action(async () => {
      const boot = config();
      const result = await withDb(boot, (db, config) =>
        loadDemo(db, config, (input) => updateAgency(staffContext(db, config), input, createStorage(config))),
      );
      const r = result.referentiel;
      io.out(
        `Données de démonstration chargées : ${r.accounts} comptes (${r.accountsCreated} créés), ${r.buildings} immeubles, ${r.lots} lots, ${result.ecritures.lines} écritures.`,
      );
      if (result.agencySet)
        io.out('Identité de démonstration définie : « Cabinet Démo » (modifiable avec npx palier agence).');
      if (!result.tryAccount) {
        io.out(
          'Tous les codes des comptes de démonstration ont déjà servi : connectez-vous avec les espaces déjà créés.',
        );
        return;
      }
      io.out('');
      io.out(
        `Pour essayer : ouvrez ${boot.baseUrl}/ (après npm start), cliquez sur « Créez votre espace » et saisissez`,
      );
      io.out(`  Identifiant : ${result.tryAccount.reference}`);
      io.out(`  Mot de passe : ${result.tryAccount.code}`);
      io.out(`(compte de ${result.tryAccount.name}).`);
    });
};

// ---------------------------------------------------------------------------
// sauvegarde, restauration

const registerSauvegarde: Register = (program, { io, config }) => {
  program
    .command('sauvegarde')
    .argument('<FICHIER>', 'archive à écrire (.tar.gz, droits 0600)')
    .summary('écrit une sauvegarde signée de la base, des fichiers et des secrets')
    .description(
      'Écrit dans FICHIER une copie cohérente de la base, des fichiers stockés et de secrets.json, même ' +
        'pendant que Palier tourne. Elle est signée avec la clé DATA_DIR/backup.key, créée à la première ' +
        'sauvegarde\u00a0: gardez-en une copie hors du serveur, sans elle pas de restauration.',
    )
    .addHelpText('after', examples('npx palier sauvegarde /sauvegardes/palier-$(date +%F).tar.gz'))
    .action(async (file: string) => {
      for (const line of describeBackup(await createBackup(config(), file))) io.out(line);
    });
};

const registerRestauration: Register = (program, { io, config }) => {
  program
    .command('restauration')
    .argument('<FICHIER>', 'archive écrite par «\u00a0npx palier sauvegarde\u00a0»')
    .option('--cle <fichier>', 'la clé de sauvegarde du serveur qui l’a faite (par défaut DATA_DIR/backup.key)')
    .option('--forcer', 'remplace les données déjà présentes')
    .summary('restaure une sauvegarde dans un dossier de données vide')
    .description(
      'Restaure une sauvegarde dans un DATA_DIR vide (et, pour PostgreSQL, une base vide)\u202f; signature et ' +
        'sommes de contrôle sont vérifiées avant toute écriture. Arrêtez Palier avant.',
    )
    .addHelpText(
      'after',
      examples(
        'npx palier restauration --cle /coffre/palier-backup.key /sauvegardes/palier-2026-11-28.tar.gz',
        'npx palier restauration --forcer /sauvegardes/palier-2026-11-28.tar.gz',
      ),
    )
    .action(async (file: string, opts: { cle?: string; forcer?: boolean }) => {
      const summary = await restoreBackup(config(), file, { force: opts.forcer === true, keyFile: opts.cle });
      for (const line of describeRestore(summary)) io.out(line);
    });
};

// ---------------------------------------------------------------------------
// courriels

const registerCourriels: Register = (program, { io, config }) => {
  program
    .command('courriels')
    .alias('emails')
    .option('--relancer <numéro>', 'remet en file d’envoi l’email en échec portant ce numéro')
    .summary('liste la file d’envoi des emails, relance un email en échec')
    .description(
      'Liste la file d’envoi des emails\u00a0: en attente, en échec (avec la raison et le nombre de ' +
        'tentatives), envoyés ces dernières 24 heures.',
    )
    .addHelpText('after', examples('npx palier courriels', 'npx palier courriels --relancer 42'))
    .action(async (opts: { relancer?: string }) => {
      const raw = opts.relancer?.trim();
      if (raw !== undefined && !/^\d{1,12}$/.test(raw)) {
        throw new UsageError(
          `--relancer : « ${opts.relancer} » n’est pas un numéro d’email (voir npx palier courriels).`,
        );
      }
      await withDb(config(), async (db) => {
        if (raw === undefined) {
          for (const line of await describeOutbox(db, new Date())) io.out(line);
          return;
        }
        const result = await requeueMail(db, Number(raw), new Date());
        if (result.ok) {
          io.out(result.message);
        } else {
          io.err(result.message);
          process.exitCode = 1;
        }
      });
    });
};

// ---------------------------------------------------------------------------
// purger

const registerPurger: Register = (program, { io, config }) => {
  program
    .command('purger')
    .summary('supprime sessions, tentatives, liens, tickets et tâches expirés')
    .description(
      'Supprime les sessions, tentatives, liens, tickets et tâches expirés (fait aussi chaque heure par ' +
        'Palier)\u202f; le journal d’audit est conservé.',
    )
    .addHelpText('after', examples('npx palier purger'))
    .action(async () => {
      const counts = await withDb(config(), (db, config) => purgeExpired(staffContext(db, config)));
      for (const line of describePurge(counts)) io.out(line);
    });
};

// ---------------------------------------------------------------------------
// coordonnees

const registerCoordonnees: Register = (program, { io, config }) => {
  const group = program
    .command('coordonnees')
    .summary('corrections de coordonnées faites par les clients et pas encore reprises par l’agence');
  group
    .command('export')
    .argument('<FICHIER>', 'fichier CSV à écrire («\u00a0-\u00a0»\u00a0: sortie standard)')
    .option('--marquer-traitees', 'les corrections exportées sont reprises\u00a0: le prochain import peut les modifier')
    .description(
      'Écrit les corrections de coordonnées faites par les clients et pas encore reprises par l’agence, une ligne ' +
        'par champ. Tant qu’elles sont en attente, l’import du référentiel ne modifie pas ces champs.',
    )
    .addHelpText(
      'after',
      examples('npx palier coordonnees export corrections.csv', 'npx palier coordonnees export - --marquer-traitees'),
    )
    .action(async (file: string, opts: { marquerTraitees?: boolean }) => {
      const markHandled = opts.marquerTraitees === true;
      // Written before the changes are marked handled, in the same transaction: if the file
      // cannot be written, nothing is marked. With `-` the CSV alone goes to stdout (for a pipe).
      const write = (changes: Parameters<typeof pendingChangesToCsv>[0]) => {
        const csv = pendingChangesToCsv(changes);
        if (file === '-') process.stdout.write(csv);
        else {
          try {
            writeFileSync(file, csv, { encoding: 'utf8', mode: 0o600 });
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code ?? 'erreur';
            throw new UsageError(
              `impossible d’écrire «\u00a0${file}\u00a0» (${code})\u00a0: rien n’a été marqué comme traité.`,
            );
          }
        }
      };
      const { changes, handled } = await withDb(config(), (db, config) =>
        exportPendingContactChanges(staffContext(db, config), { markHandled, write }),
      );
      const say = file === '-' ? io.err : io.out;
      const where = file === '-' ? 'sur la sortie standard' : `dans «\u00a0${file}\u00a0»`;
      const n = changes.length;
      say(
        n === 0
          ? `Aucune correction de coordonnées en attente\u00a0: seul l’en-tête est écrit ${where}.`
          : `${n} correction${n > 1 ? 's' : ''} de coordonnées en attente écrite${n > 1 ? 's' : ''} ${where}.`,
      );
      if (markHandled && n > 0) {
        say(
          `${handled} marquée${handled > 1 ? 's' : ''} comme traitée${handled > 1 ? 's' : ''}\u00a0: le prochain import du référentiel pourra modifier ces champs.`,
        );
      }
    });
};

// ---------------------------------------------------------------------------
// documents (its subcommands parse their own options: src/features/documents/documents.cli.ts)

const registerDocuments: Register = (program, { io, config }) => {
  program
    .command('documents')
    .summary('publie, retire, remplace, importe, vérifie et exporte les documents des copropriétés')
    .description(`Les documents des trois espaces du décret 2019-502.\n\n${DOCUMENTS_HELP}`)
    .argument('[sous-commande...]', 'categories, ajouter, retirer, remplacer, importer, conformite ou exporter')
    .allowUnknownOption()
    .helpOption(false)
    .addHelpText(
      'after',
      examples(
        'npx palier documents categories',
        'npx palier documents ajouter --immeuble BASTILLE --publique --categorie fiche_synthetique --titre "Fiche synthétique 2026" fiche.pdf',
      ),
    )
    .action(async (args: string[]) => {
      if (args.length === 0 || args[0] === '--help' || args[0] === '-h') {
        program.commands.find((c) => c.name() === 'documents')?.outputHelp();
        return;
      }
      process.exitCode = await documentsCommand(args, config(), io);
    });
};

// ---------------------------------------------------------------------------
// The program

/** In the order of the global help. */
const COMMANDS: Register[] = [
  registerImport,
  registerCodes,
  registerEspaces,
  registerAgence,
  registerDemo,
  registerSauvegarde,
  registerRestauration,
  registerCourriels,
  registerPurger,
  registerDocuments,
  registerCoordonnees,
];

const GLOBAL_HELP_AFTER = `
Aide d’une commande, avec des exemples\u00a0: npx palier help COMMANDE (ou npx palier COMMANDE --help).

Codes de sortie\u00a0: 0 réussite, 1 donnée refusée (rien n’est écrit), 2 erreur dans la ligne de commande.

Environnement\u00a0: DATA_DIR (./data), DATABASE_URL (SQLite dans DATA_DIR par défaut,
postgres://… pour PostgreSQL), BASE_URL.
`;

/** Commander's help headings, in French. */
const TITLES: Record<string, string> = {
  'Usage:': 'Usage\u00a0:',
  'Arguments:': 'Arguments\u00a0:',
  'Options:': 'Options\u00a0:',
  'Commands:': 'Commandes\u00a0:',
  'Global Options:': 'Options générales\u00a0:',
};

/** The whole command line, its commands registered, printing through `io`. */
export function buildProgram(deps: Deps): Command {
  const { io } = deps;
  const line = (write: (l: string) => void) => (text: string) => write(text.replace(/\n$/, ''));
  const program = new Command('npx palier')
    .description('Palier — commandes d’exploitation de l’extranet client.')
    .usage('<commande> [options]')
    .version(palierVersion(), '-v, --version', 'affiche la version de Palier')
    .helpOption('-h, --help', 'affiche l’aide')
    .helpCommand('help [commande]', 'affiche l’aide d’une commande, avec des exemples')
    .configureHelp({
      styleTitle: (title: string) => TITLES[title] ?? title,
      styleUsage: (usage: string) => usage.replace('[command]', '[commande]'),
      sortSubcommands: false,
    } satisfies Partial<Help>)
    .configureOutput({
      writeOut: line(io.out),
      writeErr: line(io.err),
      // Commander's messages are in English: main() says them again in French.
      outputError: () => {},
    })
    .showSuggestionAfterError(true)
    .exitOverride()
    .addHelpText('after', GLOBAL_HELP_AFTER);
  for (const register of COMMANDS) register(program, deps);
  return program;
}

/** Commander's English error, said in French (its wording is matched, its code decides). */
export function translateCommanderError(err: CommanderError): string {
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? '';
  const suggestion = /\(Did you mean ([^?]+)\?\)/.exec(err.message)?.[1];
  const hint = suggestion ? ` (vouliez-vous dire ${suggestion}\u202f?)` : '';
  switch (err.code) {
    case 'commander.missingArgument':
      return `il manque l’argument ${quoted}.`;
    case 'commander.optionMissingArgument': {
      const [flag, value] = quoted.split(/[ ,]+/).filter((f) => f.startsWith('--') || f.startsWith('<'));
      return `l’option ${flag ?? quoted} attend une valeur${value ? ` ${value}` : ''}.`;
    }
    case 'commander.missingMandatoryOptionValue':
      return `l’option ${quoted} est obligatoire.`;
    case 'commander.unknownOption':
      return `option inconnue\u00a0: ${quoted}${hint}.`;
    case 'commander.unknownCommand':
      return `commande inconnue\u00a0: «\u00a0${quoted}\u00a0»${hint}.`;
    case 'commander.excessArguments': {
      const m = /Expected (\d+) arguments? but got (\d+)/.exec(err.message);
      const expected = Number(m?.[1] ?? 0);
      const got = m?.[2] ?? '?';
      return expected === 0
        ? `cette commande ne prend pas d’argument (reçu\u00a0: ${got}).`
        : `trop d’arguments\u00a0: ${expected} attendu${expected > 1 ? 's' : ''}, ${got} reçus.`;
    }
    case 'commander.invalidArgument':
    case 'commander.conflictingOption':
    default:
      return `ligne de commande incorrecte (${err.message.replace(/^error: /, '')}).`;
  }
}

/**
 * `help COMMANDE [SOUS-COMMANDE]` (or `aide …`) is `COMMANDE [SOUS-COMMANDE] --help`, at any
 * depth; `npx palier` alone is `npx palier --help`, on standard output with exit code 0.
 */
function helpRequest(argv: string[]): string[] {
  const [first, ...rest] = argv;
  if (first === undefined) return ['--help'];
  if (first === 'help' || first === 'aide') return rest.length === 0 ? ['--help'] : [...rest, '--help'];
  return argv;
}

export async function main(argv: string[], io: Io = { out: console.log, err: console.error }): Promise<void> {
  // Whatever the command creates (database, files, exports) is readable by its owner only.
  process.umask(0o077);
  const program = buildProgram({ io, config: () => loadConfig() });
  try {
    await program.parseAsync(helpRequest(argv), { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return;
      // A command group without its subcommand: its help is already on stderr.
      if (err.code === 'commander.help') {
        process.exitCode = 2;
        return;
      }
      usageError(io, translateCommanderError(err));
    } else if (err instanceof UsageError) {
      usageError(io, err.message);
    } else if (err instanceof AppError) {
      io.err(err.userMessage);
      process.exitCode = 1;
    } else {
      io.err(`Erreur inattendue : ${(err as Error).message ?? String(err)}`);
      process.exitCode = 1;
    }
  }
}

function usageError(io: Io, message: string): void {
  io.err(`Erreur\u00a0: ${message}`);
  io.err(
    'Tapez «\u00a0npx palier help\u00a0» pour la liste des commandes, «\u00a0npx palier help COMMANDE\u00a0» pour l’aide de l’une d’elles.',
  );
  process.exitCode = 2;
}

// Run when executed (`tsx src/cli.ts …`); bin/palier.js calls main() itself.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
