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
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describeOutbox, requeueMail } from './adapters/mailer/outbox.ts';
import { createStorage } from './adapters/storage/storage.ts';
import { loadConfig, type BootConfig, type Config } from './config.ts';
import { AppError } from './core/errors.ts';
import type { Db } from './db/db.ts';
import { openDatabase } from './core/secrets/secrets.ts';
import { agencyIdentity } from './core/agency/agency.ts';
import type { Agency, AgencyKey } from './core/agency/agency.repository.ts';
import { createContext } from './core/context.ts';
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
import { describePurge } from './features/maintenance/maintenance.presenter.ts';
import { purgeExpired } from './features/maintenance/maintenance.service.ts';

/**
 * `palier`: the agency's operations from a terminal (`npx palier …`). French output;
 * exit 0 on success, 1 when the input is refused (nothing written), 2 on a usage error.
 */

const HELP = `Palier — commandes d’exploitation

Usage : npx palier <commande> [options]

  import referentiel FICHIER   Importe les comptes, immeubles, lots et gestionnaires (CSV).
  import ecritures FICHIER     Importe les écritures : remplace celles des comptes présents dans le fichier.
  import fec FICHIER --immeuble CODE
                               Importe le FEC (fichier des écritures comptables) d’une copropriété : ses lignes
                               de comptes clients (450…, 411…) remplacent celles de l’immeuble sur la période
                               du fichier (première à dernière EcritureDate).
      --ignorer-inconnus         ignore les lignes des comptes clients absents du référentiel (et les liste)
  codes export FICHIER         Écrit « reference;code_acces » pour chaque code créé par Palier et pas encore utilisé.
  coordonnees export FICHIER   Écrit les corrections de coordonnées faites par les clients et pas encore reprises
                               par l’agence (une ligne par champ\u202f; FICHIER «\u00a0-\u00a0»\u00a0: sortie standard).
                               Tant qu’elles sont en attente, l’import du référentiel ne modifie pas ces champs.
      --marquer-traitees         les corrections exportées sont reprises\u00a0: le prochain import peut les modifier
  agence [options]             Affiche ou définit l’identité de l’agence :
      --nom TEXTE                nom du cabinet (obligatoire la première fois)
      --slogan TEXTE             ligne sous le nom, par exemple « depuis 1904 »
      --adresse TEXTE            adresse postale
      --telephone TEXTE          téléphone
      --email ADRESSE            adresse email de contact
      --site URL                 site web
      --logo FICHIER             logo PNG, JPEG ou SVG (copié dans DATA_DIR/files)
      --iban IBAN                IBAN du compte à créditer pour « Payer » par virement
      --bic BIC                  BIC de ce compte
    Une option vide (--slogan "") efface la valeur.
  demo                         Charge des données de démonstration et affiche un identifiant à essayer.
  sauvegarde FICHIER           Écrit dans FICHIER (.tar.gz, droits 0600) une copie cohérente de la base,
                               des fichiers stockés et de secrets.json, même pendant que Palier tourne.
                               Elle est signée avec la clé DATA_DIR/backup.key, créée à la première
                               sauvegarde\u00a0: gardez-en une copie hors du serveur, sans elle pas de restauration.
  restauration FICHIER         Restaure une sauvegarde dans un DATA_DIR vide (et, pour PostgreSQL, une base vide) ;
                               signature et sommes de contrôle sont vérifiées avant toute écriture. Arrêtez Palier avant.
      --cle FICHIER              la clé de sauvegarde du serveur qui l’a faite (par défaut DATA_DIR/backup.key)
      --forcer                   remplace les données déjà présentes
  courriels (ou emails)        Liste la file d’envoi des emails : en attente, en échec (avec la raison
                               et le nombre de tentatives), envoyés ces dernières 24 heures.
      --relancer N°              remet en file d’envoi l’email en échec portant ce numéro
  purger                       Supprime les sessions, tentatives, liens, tickets et tâches expirés
                               (fait aussi chaque heure par Palier)\u202f; le journal d’audit est conservé.
  --help, -h                   Affiche cette aide.

Fichiers CSV : UTF-8 (avec ou sans BOM) ou Windows-1252, séparateur « ; » ou « , »,
une ligne d’en-tête ; colonnes dans n’importe quel ordre.
  referentiel : type, reference, code_acces, civilite, nom, prenom, email, telephone, adresse,
    code_postal, ville, immeuble_code, immeuble_nom, immeuble_adresse, immeuble_code_postal,
    immeuble_ville, lot_numero, lot_type, lot_description, tantiemes, conseil_syndical,
    gestionnaire_nom, gestionnaire_email, gestionnaire_telephone, compte_comptable, pays
  ecritures : reference, date (JJ/MM/AAAA ou AAAA-MM-JJ), libelle, debit, credit, piece
FEC : séparateur tabulation, « | » ou « ; », UTF-8 ou ISO-8859-15, en-tête normalisé (JournalCode,
  JournalLib, EcritureNum, EcritureDate, CompteNum, CompteLib, CompAuxNum, CompAuxLib, PieceRef,
  PieceDate, EcritureLib, Debit, Credit ou Montant et Sens, EcritureLet, DateLet, ValidDate,
  Montantdevise, Idevise), dates AAAAMMJJ, montants 1378,20 ; chaque écriture doit être équilibrée.
Un fichier comportant une erreur est refusé en entier : rien n’est importé.

Environnement : DATA_DIR (./data), DATABASE_URL (SQLite dans DATA_DIR par défaut,
postgres://… pour PostgreSQL), BASE_URL.
`;

/** A mistake in the command line itself. */
class UsageError extends Error {}

interface Io {
  out(line: string): void;
  err(line: string): void;
}

type Command = (args: string[], ctx: { config: BootConfig; io: Io }) => Promise<void>;

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, positionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    // node:util speaks English: keep only the option it complains about.
    const option = /'(-[^']*)'/.exec((err as Error).message)?.[1];
    throw new UsageError(`option non reconnue ou sans valeur${option ? ` : ${option}` : ''}.`);
  }
  if (parsed.positionals.length !== positionals) {
    throw new UsageError(
      positionals === 0
        ? 'argument inattendu.'
        : `il faut ${positionals === 1 ? 'un fichier' : `${positionals} arguments`}.`,
    );
  }
  return parsed;
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

const importCommand: Command = async (args, { config, io }) => {
  const { positionals, values } = parse(
    args,
    { immeuble: { type: 'string' }, 'ignorer-inconnus': { type: 'boolean' } },
    2,
  );
  const [kind, file] = positionals as [string, string];
  if (kind === 'fec') {
    await importFecCommand(file, values.immeuble, values['ignorer-inconnus'] === true, { config, io });
    return;
  }
  if (kind !== 'referentiel' && kind !== 'ecritures') {
    throw new UsageError(
      `« import ${kind} » : attendu « import referentiel FICHIER », « import ecritures FICHIER » ou « import fec FICHIER --immeuble CODE ».`,
    );
  }
  if (values.immeuble !== undefined || values['ignorer-inconnus'] !== undefined) {
    throw new UsageError('--immeuble et --ignorer-inconnus ne servent qu’à « import fec ».');
  }
  const buffer = readInput(file);
  await withDb(config, (db, config) =>
    importing(file, io, async () =>
      kind === 'referentiel'
        ? describeReferentielSummary(await importReferentiel(db, config, buffer))
        : describeEcrituresSummary(await importEcritures(db, buffer)),
    ),
  );
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
      const ctx = createContext({
        db,
        config,
        agency: agencyIdentity(db),
        actor: { kind: 'staff', name: 'cli', ip: null },
      });
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

const codesCommand: Command = async (args, { config, io }) => {
  const { positionals } = parse(args, {}, 2);
  const [action, file] = positionals as [string, string];
  if (action !== 'export') throw new UsageError(`« codes ${action} » : attendu « codes export FICHIER ».`);
  const codes = await withDb(config, (db, config) => exportCodes(db, config));
  writeFileSync(file, codesToCsv(codes), { encoding: 'utf8', mode: 0o600 });
  io.out(
    codes.length === 0
      ? `Aucun code à imprimer : « ${file} » ne contient que l’en-tête.`
      : `${codes.length} code${codes.length > 1 ? 's' : ''} d’accès écrit${codes.length > 1 ? 's' : ''} dans « ${file} ».`,
  );
  if (codes.length > 0) io.out('Ce fichier donne accès aux comptes : supprimez-le une fois le publipostage fait.');
};

// ---------------------------------------------------------------------------
// coordonnees

const coordonneesCommand: Command = async (args, { config, io }) => {
  const { positionals, values } = parse(args, { 'marquer-traitees': { type: 'boolean' } }, 2);
  const [action, file] = positionals as [string, string];
  if (action !== 'export') {
    throw new UsageError(`« coordonnees ${action} » : attendu « coordonnees export FICHIER [--marquer-traitees] ».`);
  }
  const markHandled = values['marquer-traitees'] === true;
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
  const { changes, handled } = await withDb(config, (db, config) =>
    exportPendingContactChanges(
      createContext({ db, config, agency: agencyIdentity(db), actor: { kind: 'staff', name: 'cli', ip: null } }),
      { markHandled, write },
    ),
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
};

const agenceCommand: Command = async (args, { config, io }) => {
  const options = Object.fromEntries(Object.keys(AGENCY_OPTIONS).map((k) => [k, { type: 'string' as const }]));
  const { values } = parse(args, options, 0);
  const given = values as Partial<Record<keyof typeof AGENCY_OPTIONS, string>>;

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
    const ctx = createContext({
      db,
      config,
      agency: agencyIdentity(db),
      actor: { kind: 'staff', name: 'cli', ip: null },
    });
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
};

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
    io.out(`  ${AGENCY_LABELS[key]}\u00a0: ${agency[key] ?? '—'}`);
  }
}

// ---------------------------------------------------------------------------
// demo

const demoCommand: Command = async (args, { config, io }) => {
  parse(args, {}, 0);
  const result = await withDb(config, (db, config) => loadDemo(db, config));
  const r = result.referentiel;
  io.out(
    `Données de démonstration chargées : ${r.accounts} comptes (${r.accountsCreated} créés), ${r.buildings} immeubles, ${r.lots} lots, ${result.ecritures.lines} écritures.`,
  );
  if (result.agencySet)
    io.out('Identité de démonstration définie : « Cabinet Démo » (modifiable avec npx palier agence).');
  if (!result.tryAccount) {
    io.out('Tous les codes des comptes de démonstration ont déjà servi : connectez-vous avec les espaces déjà créés.');
    return;
  }
  io.out('');
  io.out(`Pour essayer : ouvrez ${config.baseUrl}/ (après npm start), cliquez sur « Créez votre espace » et saisissez`);
  io.out(`  Identifiant : ${result.tryAccount.reference}`);
  io.out(`  Mot de passe : ${result.tryAccount.code}`);
  io.out(`(compte de ${result.tryAccount.name}).`);
};

// ---------------------------------------------------------------------------
// sauvegarde, restauration

const sauvegardeCommand: Command = async (args, { config, io }) => {
  const { positionals } = parse(args, {}, 1);
  for (const line of describeBackup(await createBackup(config, positionals[0]!))) io.out(line);
};

const restaurationCommand: Command = async (args, { config, io }) => {
  const { positionals, values } = parse(args, { forcer: { type: 'boolean' }, cle: { type: 'string' } }, 1);
  const summary = await restoreBackup(config, positionals[0]!, { force: values.forcer === true, keyFile: values.cle });
  for (const line of describeRestore(summary)) io.out(line);
};

// ---------------------------------------------------------------------------
// courriels

const courrielsCommand: Command = async (args, { config, io }) => {
  const { values } = parse(args, { relancer: { type: 'string' } }, 0);
  const raw = values.relancer?.trim();
  if (raw !== undefined && !/^\d{1,12}$/.test(raw)) {
    throw new UsageError(
      `--relancer : « ${values.relancer} » n’est pas un numéro d’email (voir npx palier courriels).`,
    );
  }
  await withDb(config, async (db) => {
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
};

// ---------------------------------------------------------------------------
// purger

const purgerCommand: Command = async (args, { config, io }) => {
  parse(args, {}, 0);
  const counts = await withDb(config, (db, config) =>
    purgeExpired(
      createContext({ db, config, agency: agencyIdentity(db), actor: { kind: 'staff', name: 'cli', ip: null } }),
    ),
  );
  for (const line of describePurge(counts)) io.out(line);
};

const COMMANDS: Record<string, Command> = {
  import: importCommand,
  codes: codesCommand,
  coordonnees: coordonneesCommand,
  agence: agenceCommand,
  demo: demoCommand,
  sauvegarde: sauvegardeCommand,
  restauration: restaurationCommand,
  courriels: courrielsCommand,
  emails: courrielsCommand,
  purger: purgerCommand,
};

export async function main(argv: string[], io: Io = { out: console.log, err: console.error }): Promise<void> {
  // Whatever the command creates (database, files, exports) is readable by its owner only.
  process.umask(0o077);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'aide' || rest.includes('--help')) {
    io.out(HELP);
    return;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`commande inconnue : « ${name} ».`);
    await command(rest, { config: loadConfig(), io });
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`Erreur : ${err.message}`);
      io.err('Tapez « npx palier --help » pour la liste des commandes.');
      process.exitCode = 2;
    } else if (err instanceof AppError) {
      io.err(err.userMessage);
      process.exitCode = 1;
    } else {
      io.err(`Erreur inattendue : ${(err as Error).message ?? String(err)}`);
      process.exitCode = 1;
    }
  }
}

// Run when executed (`tsx src/cli.ts …`); bin/palier.js calls main() itself.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
