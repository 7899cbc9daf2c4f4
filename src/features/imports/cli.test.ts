import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDb } from '../../../test/helpers/db.ts';
import type { Command } from 'commander';
import { buildProgram, main } from '../../cli.ts';
import { loadConfig } from '../../config.ts';
import { createDb } from '../../db/db.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const MAIL_MERGE_HEADER =
  'reference;code_acces;civilite;nom;prenom;adresse;code_postal;ville;immeuble_code;immeuble_nom;gestionnaire_nom';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string>, command = ['npx', 'tsx', 'src/cli.ts']): Promise<Run> {
  const [bin, ...pre] = command as [string, ...string[]];
  // Vitest sets BASE_URL="/" for Vite: the CLI must see only the configuration the test gives it.

  const inherited = { ...process.env };
  for (const key of ['BASE_URL', 'DATABASE_URL', 'DATA_DIR', 'PORT', 'HOST', 'SMTP_URL', 'MAIL_FROM', 'LOG_LEVEL']) {
    delete inherited[key];
  }
  return new Promise((resolve) => {
    execFile(bin, [...pre, ...args], { cwd: ROOT, env: { ...inherited, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('palier CLI', () => {
  let dataDir: string;
  let env: Record<string, string>;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'palier-cli-'));
    env = { DATA_DIR: dataDir };
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  async function count(table: 'client_accounts' | 'ledger_entries') {
    const db = createDb(`sqlite:${path.join(dataDir, 'palier.sqlite')}`);
    try {
      const r = await db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(r.n);
    } finally {
      await db.destroy();
    }
  }

  it('prints its help in French, also through bin/palier.js, with `npx palier` alone and `help`', async () => {
    const viaTsx = await run(['--help'], env);
    expect(viaTsx.code).toBe(0);
    expect(viaTsx.stdout).toContain('Usage\u00a0: npx palier <commande> [options]');
    for (const command of ['import', 'codes', 'espaces', 'agence', 'demo', 'sauvegarde', 'restauration', 'purger']) {
      expect(viaTsx.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    const viaBin = await run(['--help'], env, ['node', 'bin/palier.js']);
    expect(viaBin.code).toBe(0);
    expect(viaBin.stdout).toBe(viaTsx.stdout);
    // Alone, `npx palier` is not a mistake: the same help, exit code 0.
    const alone = await run([], env, ['node', 'bin/palier.js']);
    expect(alone).toMatchObject({ code: 0, stdout: viaTsx.stdout, stderr: '' });
    const help = await run(['help'], env);
    expect(help).toMatchObject({ code: 0, stdout: viaTsx.stdout });

    const own = await run(['help', 'codes', 'nouveau'], env);
    expect(own.code).toBe(0);
    expect(own.stdout).toContain('Usage\u00a0: npx palier codes nouveau [options] <REFERENCE>');
    expect(own.stdout).toContain('Exemples\u00a0:\n  npx palier codes nouveau 10001');
    expect((await run(['codes', 'nouveau', '--help'], env)).stdout).toBe(own.stdout);
  }, 60_000);

  it('prints the version of package.json', async () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await run(['--version'], env);
    expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  }, 30_000);

  it('gives every command its own French help with at least one example', async () => {
    const leaves: string[][] = [];
    const walk = (c: Command, at: string[]) => {
      for (const sub of c.commands) {
        if (sub.name() === 'help') continue;
        if (sub.commands.length > 0) walk(sub, [...at, sub.name()]);
        else leaves.push([...at, sub.name()]);
      }
    };
    walk(buildProgram({ io: { out() {}, err() {} }, config: () => loadConfig() }), []);
    expect(leaves.map((l) => l.join(' '))).toEqual(
      expect.arrayContaining(['import fec', 'codes export', 'codes nouveau', 'codes debloquer', 'espaces', 'agence']),
    );
    for (const command of leaves) {
      const lines: string[] = [];
      await main([...command, '--help'], { out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`) });
      const help = lines.join('\n');
      const name = command.join(' ');
      expect(help, name).toContain(`Usage\u00a0: npx palier ${name}`);
      expect(help, name).toMatch(new RegExp(`Exemples\u00a0:\\n  npx palier ${name}\\b`));
      // Nothing left in commander's English.
      expect(help, name).not.toMatch(/<value>|Usage:|Options:|Arguments:|display help|ERR /);
    }
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('names a missing argument and an unknown option in French, with exit code 2, writing nothing', async () => {
    const missing = await run(['import', 'referentiel'], env);
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toContain('Erreur\u00a0: il manque l’argument FICHIER.');
    expect(missing.stderr).toContain('npx palier help');
    const noReference = await run(['codes', 'nouveau'], env);
    expect(noReference.code).toBe(2);
    expect(noReference.stderr).toContain('il manque l’argument REFERENCE');

    const unknown = await run(['agence', '--nom', 'Cabinet Test', '--teinte', 'bleu'], env);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toContain('Erreur\u00a0: option inconnue\u00a0: --teinte');
    expect(unknown.stderr).not.toMatch(/unknown|error:/);
    const noValue = await run(['agence', '--nom'], env);
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toContain('l’option --nom attend une valeur <texte>');
    // Nothing was written: not even the database.
    expect(readdirSync(dataDir)).toEqual([]);
  }, 60_000);

  it('refuses an unknown command with exit code 2', async () => {
    const r = await run(['importer'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('commande inconnue\u00a0: «\u00a0importer\u00a0» (vouliez-vous dire import\u202f?)');
  }, 30_000);

  it('imports a référentiel and ledger, exports codes, and refuses a bad file without writing anything', async () => {
    const ref = await run(['import', 'referentiel', path.join(FIXTURES, 'referentiel.csv')], env);
    expect(ref).toMatchObject({ code: 0, stderr: '' });
    expect(ref.stdout).toContain('Référentiel importé : 6 lignes lues.');
    expect(ref.stdout).toContain('Comptes : 4 (4 créés, 0 modifié, 0 inchangé).');

    const ledger = await run(['import', 'ecritures', path.join(FIXTURES, 'ecritures.csv')], env);
    expect(ledger.code).toBe(0);
    expect(ledger.stdout).toContain('Écritures importées : 19 lignes pour 3 comptes');

    const bad = path.join(dataDir, 'mauvais.csv');
    writeFileSync(bad, 'reference;date;libelle;debit;credit\n10001;01/01/2025;Appel;10;\n10001;31/02/2024;Appel;10;\n');
    const refused = await run(['import', 'ecritures', bad], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(`Fichier « ${bad} » refusé.`);
    expect(refused.stderr).toContain('Le fichier contient une erreur ; rien n’a été importé.');
    expect(refused.stderr).toContain(
      'Ligne 3, colonne « date » : « 31/02/2024 » n’est pas une date valide (JJ/MM/AAAA ou AAAA-MM-JJ).',
    );
    expect(await count('ledger_entries')).toBe(19);

    const codesFile = path.join(dataDir, 'codes.csv');
    const codes = await run(['codes', 'export', codesFile], env);
    expect(codes.code).toBe(0);
    expect(codes.stdout).toContain('3 codes d’accès écrits');
    const lines = readFileSync(codesFile, 'utf8').trim().split('\r\n');
    expect(lines[0]).toBe(MAIL_MERGE_HEADER);
    expect(lines.slice(1).map((l) => l.split(';')[0])).toEqual(['10001', '30001', '40001']);

    // « - » is standard output: the CSV alone there (ready for a pipe), the summary on stderr, no file named « - ».
    const piped = await run(['codes', 'export', '-'], env);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('3 codes d’accès écrits sur la sortie standard.\n');
    expect(piped.stdout.startsWith('\uFEFF')).toBe(true);
    const rows = piped.stdout.slice(1).split('\r\n');
    expect(rows[0]).toBe(MAIL_MERGE_HEADER);
    expect(rows[1]).toMatch(
      /^10001;[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4};M\.;Dupont;Jean;5 quai Stéphane-Jay;38000;Grenoble;BASTILLE;Résidence Bastille;Claire Martin$/,
    );
    expect(rows[2]).toContain(
      ';M.;Petit;Lucas;"5 quai Stéphane-Jay; 3e étage";38000;Grenoble;BASTILLE;Résidence Bastille;Julien Roux',
    );
    expect(rows[4]).toBe('');
    expect(readFileSync(codesFile, 'utf8').replace(/^\uFEFF/, '')).toBe(piped.stdout.slice(1));
    expect(existsSync(path.join(ROOT, '-'))).toBe(false);
  }, 60_000);

  it('imports a building’s FEC, refuses unknown co-owners unless told to skip them', async () => {
    await run(['import', 'referentiel', path.join(FIXTURES, 'referentiel.csv')], env);
    const fec = path.join(FIXTURES, 'fec', 'bastille-2024.txt');
    const noBuilding = await run(['import', 'fec', fec], env);
    expect(noBuilding.code).toBe(2);
    expect(noBuilding.stderr).toContain('« import fec » demande l’immeuble : --immeuble CODE.');

    const ok = await run(['import', 'fec', fec, '--immeuble', 'BASTILLE'], env);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toContain(
      'FEC importé pour l’immeuble « BASTILLE » (Résidence Bastille)\u00a0: 13 lignes lues, du 01/01/2024 au 31/12/2024.',
    );
    expect(ok.stdout).toContain(
      'Lignes des comptes clients\u00a0: 7 pour 3 comptes, dont 2 soldes à nouveau\u202f; 0 ligne précédente remplacée sur cette période.',
    );
    expect(await count('ledger_entries')).toBe(7);
    const again = await run(['import', 'fec', fec, '--immeuble', 'BASTILLE'], env);
    expect(again.stdout).toContain('7 lignes précédentes remplacées');
    expect(await count('ledger_entries')).toBe(7);

    const unknown = path.join(FIXTURES, 'fec', 'bastille-inconnu-iso-8859-15.txt');
    const refused = await run(['import', 'fec', unknown, '--immeuble', 'BASTILLE'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'Ligne 3, colonne « CompAuxNum » : compte client « 10099 » inconnu dans l’immeuble « BASTILLE » (1 ligne)',
    );
    expect(await count('ledger_entries')).toBe(7);
    const skipped = await run(['import', 'fec', unknown, '--immeuble', 'BASTILLE', '--ignorer-inconnus'], env);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toContain('Comptes inconnus ignorés (1)\u00a0:');
    expect(skipped.stdout).toContain('10099 (1 ligne, première ligne 3)');
    expect(await count('ledger_entries')).toBe(8);
  }, 90_000);

  it('refuses a bad référentiel and names the line', async () => {
    const bad = path.join(dataDir, 'ref.csv');
    writeFileSync(bad, 'type;reference;nom\nlocataire;1;Petit\nbailleur;2;Roux\n');
    const r = await run(['import', 'referentiel', bad], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Ligne 3, colonne « type » : « bailleur » n’est pas un type de compte valide');
    expect(await count('client_accounts')).toBe(0);
    const missing = await run(['import', 'referentiel', path.join(dataDir, 'absent.csv')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('fichier introuvable');
  }, 30_000);

  it('sets and shows the agency identity, checking the IBAN and copying the logo', async () => {
    const empty = await run(['agence'], env);
    expect(empty.stdout).toContain('L’identité de l’agence n’est pas encore définie');

    const badIban = await run(
      ['agence', '--nom', 'Cabinet Test', '--iban', 'FR76 3000 6000 0112 3456 7890 188', '--slogan', 'depuis\t1904'],
      env,
    );
    expect(badIban.code).toBe(1);
    expect(badIban.stderr).toContain('Identité de l’agence inchangée\u00a0:');
    expect(badIban.stderr).toContain('--iban');
    expect(badIban.stderr).toContain(
      '--slogan\u00a0: caractère invisible interdit (tabulation, U+0009) en position 7.',
    );

    const pale = await run(['agence', '--nom', 'Cabinet Test', '--couleur', '#FFD700'], env);
    expect(pale.code).toBe(1);
    expect(pale.stderr).toContain(
      '--couleur\u00a0: la couleur #FFD700 est trop claire\u00a0: son contraste avec le blanc est de 1,40\u00a0:\u00a01, il faut au moins 4,5\u00a0:\u00a01',
    );
    expect((await run(['agence'], env)).stdout).toContain('L’identité de l’agence n’est pas encore définie');

    const logo = path.join(dataDir, 'logo.png');
    writeFileSync(logo, Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
    const ok = await run(
      [
        'agence',
        '--nom',
        'Cabinet Test',
        '--slogan',
        'depuis 1904',
        '--iban',
        'FR76 3000 6000 0112 3456 7890 189',
        '--bic',
        'agrifrpp',
        '--site',
        'cabinet-test.example',
        '--logo',
        logo,
        '--plafond-paiement',
        '5000',
        '--couleur',
        '#1f5a8c',
      ],
      env,
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Plafond de paiement\u00a0: 5\u202f000,00\u00a0€');
    expect(ok.stdout).toContain('Nom\u00a0: Cabinet Test');
    expect(ok.stdout).toContain('IBAN\u00a0: FR7630006000011234567890189');
    expect(ok.stdout).toContain('Site\u00a0: https://cabinet-test.example');
    expect(ok.stdout).toContain('Couleur\u00a0: #1F5A8C');
    const files = readdirSync(path.join(dataDir, 'files'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^logo-[0-9a-f]{16}\.png$/);
    expect(ok.stdout).toContain(`Logo\u00a0: ${files[0]}`);

    const shown = await run(['agence'], env);
    expect(shown.stdout).toContain('Slogan\u00a0: depuis 1904');
  }, 60_000);

  it('loads the demonstration data idempotently and prints a reference and code to try', async () => {
    const first = await run(['demo'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Données de démonstration chargées : 9 comptes');
    expect(first.stdout).toContain('Identifiant : 10001');
    const code = /Mot de passe : (\S+)/.exec(first.stdout)![1];
    const accounts = await count('client_accounts');
    const entries = await count('ledger_entries');

    expect((await run(['agence'], env)).stdout).toContain('Couleur\u00a0: #1F5A8C');
    expect(readdirSync(path.join(dataDir, 'files'))).toEqual([expect.stringMatching(/^logo-[0-9a-f]{16}\.svg$/)]);

    const second = await run(['demo'], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`Mot de passe : ${code}`);
    expect(await count('client_accounts')).toBe(accounts);
    expect(await count('ledger_entries')).toBe(entries);
  }, 60_000);

  it('works on PostgreSQL through DATABASE_URL', async () => {
    const pg = await createTestDb('postgres');
    try {
      const r = await run(['import', 'referentiel', path.join(FIXTURES, 'referentiel.csv')], {
        ...env,
        DATABASE_URL: pg.url,
      });
      expect(r.code).toBe(0);
      const n = await pg.db.selectFrom('client_accounts').select('reference').execute();
      expect(n).toHaveLength(4);
    } finally {
      await pg.destroy();
    }
  }, 30_000);
});
