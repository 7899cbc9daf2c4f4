import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { TestClient, textOf } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { createBuilding, createManager, createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { CODE_ALPHABET, hashAccessCode } from '../../core/security/access-code.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npx palier …` in a child process, on the test app's database and DATA_DIR. */
function palier(t: TestApp, args: string[]): Promise<Run> {
  const env = { ...process.env };
  // Vitest sets BASE_URL="/" for Vite: the CLI must see only the configuration the test gives it.
  for (const key of ['BASE_URL', 'DATABASE_URL', 'DATA_DIR', 'PORT', 'HOST', 'SMTP_URL', 'MAIL_FROM', 'LOG_LEVEL']) {
    delete env[key];
  }
  Object.assign(env, { DATABASE_URL: t.config.databaseUrl, DATA_DIR: t.config.dataDir, BASE_URL: t.config.baseUrl });
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'src/cli.ts', ...args], { cwd: ROOT, env }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const GOOD_PASSWORD = 'Palier#Lune42';

describe.each(dialects)('npx palier codes nouveau | debloquer, espaces (%s)', (dialect) => {
  let t: TestApp;
  let ipSeq = 0;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => {
    await t?.close();
  });

  const visitor = () => new TestClient(t.app, { ip: `10.30.0.${++ipSeq}` });
  const step1 = (reference: string, code: string) => visitor().submit('/creer-mon-espace', { reference, code });
  const audit = (action: string) =>
    t.db.selectFrom('audit_events').selectAll().where('action', '=', action).orderBy('id').execute();

  it('issues a new code: printed once with the postal address, the old one refused at step 1, the new one accepted', async () => {
    const building = await createBuilding(t.db, { code: `NOUV${dialect}`, name: 'Le Belvédère' });
    const account = await seedAccount(t.db, t.config, {
      buildingId: building.id,
      firstName: 'Paul',
      lastName: 'DURAND',
    });
    // A step 1 passed with the old code before the new one is issued.
    const before = await step1(account.reference, account.accessCode);
    expect(before.statusCode).toBe(303);
    const oldTicket = new URL(String(before.headers.location), 'http://palier.test').searchParams.get('ticket')!;

    // Typed as on the letter, lowercase and with spaces.
    const r = await palier(t, ['codes', 'nouveau', ` ${account.reference.toLowerCase()} `]);
    expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain(
      `Nouveau code d’accès pour Copropriétaire N° ${account.reference} — Le Belvédère (NOUV${dialect}).`,
    );
    expect(r.stdout).toContain(`  Identifiant\u00a0: ${account.reference}\n`);
    const code = new RegExp(
      `Mot de passe\u00a0: ([${CODE_ALPHABET}]{4}-[${CODE_ALPHABET}]{4}-[${CODE_ALPHABET}]{4})\n`,
    ).exec(r.stdout)?.[1];
    expect(code, r.stdout).toBeDefined();
    expect(r.stdout).toContain('Adresse postale\u00a0:\n  M. Paul DURAND\n  12 rue des Alpes\n  38000 GRENOBLE\n');
    expect(r.stdout).toContain('http://palier.test/');

    const stored = await t.db
      .selectFrom('client_accounts')
      .selectAll()
      .where('id', '=', account.id)
      .executeTakeFirstOrThrow();
    expect(stored).toMatchObject({
      access_code_hash: hashAccessCode(t.config.secrets.hmacKey, code!),
      access_code_encrypted: null,
      access_code_origin: 'palier',
      access_code_used_at: null,
    });
    const [issued] = await audit('codes.issue');
    expect(issued).toMatchObject({ outcome: 'success', account_id: account.id });
    expect(JSON.parse(issued!.details_json!)).toEqual({ reference: account.reference, by: 'cli' });
    expect(issued!.details_json).not.toContain(code!);

    // The old code no longer opens the account, nor does the ticket it gave; the new one does.
    expect((await step1(account.reference, account.accessCode)).statusCode).toBe(401);
    const stale = await visitor().get(`/creer-mon-espace/etape-2?ticket=${oldTicket}`);
    expect(stale.statusCode).toBe(400);
    const ok: LightMyRequestResponse = await step1(account.reference, code!.toLowerCase());
    expect(ok.statusCode, textOf(ok.body).slice(0, 300)).toBe(303);
    expect(String(ok.headers.location)).toMatch(/^\/creer-mon-espace\/etape-2\?ticket=/);
  }, 60_000);

  it('unlocks a reference locked by wrong codes', async () => {
    const account = await seedAccount(t.db, t.config);
    for (let i = 1; i <= 5; i++) await step1(account.reference, `FAUX-CODE-${i}`);
    expect((await step1(account.reference, account.accessCode)).statusCode).toBe(429);

    const r = await palier(t, ['codes', 'debloquer', account.reference]);
    expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(
      `Référence «\u00a0${account.reference}\u00a0» débloquée\u00a0: 5 essais effacés\u202f; le titulaire peut saisir son code dès maintenant.\n`,
    );
    expect((await step1(account.reference, account.accessCode)).statusCode).toBe(303);
    const [unlock] = await audit('codes.unlock');
    expect(unlock).toMatchObject({ outcome: 'success', account_id: account.id });

    const again = await palier(t, ['codes', 'debloquer', account.reference]);
    expect(again.stdout).toContain('n’était pas bloquée');
  }, 60_000);

  it('refuses an unknown reference in French with exit code 1, changing nothing', async () => {
    const count = async () =>
      (await t.db.selectFrom('audit_events').select('id').where('action', 'like', 'codes.%').execute()).length;
    const audited = await count();
    for (const command of ['nouveau', 'debloquer']) {
      const r = await palier(t, ['codes', command, 'INCONNUE-42']);
      expect(r).toMatchObject({ code: 1, stdout: '' });
      expect(r.stderr).toBe(
        'Aucun compte client ne porte la référence «\u00a0INCONNUE-42\u00a0»\u202f; rien n’a été modifié.\n',
      );
    }
    expect(await count()).toBe(audited);
  }, 60_000);

  it('lists who created which space and when, for one building, as a table or CSV', async () => {
    const building = await createBuilding(t.db, { code: `ESP${dialect}`, name: 'Les Glycines' });
    const manager = await createManager(t.db);
    const claimed = await seedAccount(t.db, t.config, { buildingId: building.id, managerId: manager.id });
    const unclaimed = await seedAccount(t.db, t.config, { buildingId: building.id, managerId: manager.id });
    // A space created through « Créez votre espace »: not confirmed yet, signed in once.
    const c = visitor();
    const s1 = await c.submit('/creer-mon-espace', { reference: claimed.reference, code: claimed.accessCode });
    const ticket = new URL(String(s1.headers.location), 'http://palier.test').searchParams.get('ticket')!;
    const email = `espace.${dialect}.${Date.now()}@exemple.test`;
    const s2 = await c.submit(
      `/creer-mon-espace/etape-2?ticket=${ticket}`,
      {
        ticket,
        civility: 'Mme',
        lastName: 'LEROY',
        firstName: 'Inès',
        email,
        password: GOOD_PASSWORD,
        confirm: GOOD_PASSWORD,
        phone: '06 00 00 00 00',
        address: '3 rue Félix-Poulat',
        postalCode: '38000',
        city: 'Grenoble',
      },
      '/creer-mon-espace/etape-2',
    );
    expect(s2.statusCode, textOf(s2.body).slice(0, 300)).toBe(303);
    // And someone who attached it too, confirmed, never signed in.
    const other = await createUser(t.db, { firstName: 'Marc', lastName: 'LEROY', accountIds: [claimed.id] });

    const table = await palier(t, ['espaces', '--immeuble', `ESP${dialect}`]);
    expect(table, table.stderr).toMatchObject({ code: 0, stderr: '' });
    const lines = table.stdout.split('\n');
    expect(lines[0]).toBe(
      `Espaces clients de l’immeuble «\u00a0ESP${dialect}\u00a0» (Les Glycines)\u00a0: 1 compte sur 2 rattaché à un espace, 2 rattachements.`,
    );
    expect(lines[2]).toMatch(/^Référence +Immeuble +Titulaire +Email +Confirmé +Rattaché le +Dernière connexion$/);
    const day = '\\d{2}/\\d{2}/\\d{4} \\d{2}:\\d{2}';
    expect(lines[4]).toMatch(
      new RegExp(
        `^${claimed.reference} +ESP${dialect} +Mme Inès LEROY +${email.replace(/\./g, '\\.')} +non +${day} +${day}$`,
      ),
    );
    expect(lines[5]).toMatch(new RegExp(`^ +Mme Marc LEROY +${other.email.replace(/\./g, '\\.')} +oui +${day} +—$`));
    expect(table.stdout).not.toContain(unclaimed.reference);

    const csv = await palier(t, ['espaces', '--immeuble', `ESP${dialect}`, '--csv']);
    expect(csv.code).toBe(0);
    const rows = csv.stdout.replace(/^\uFEFF/, '').split('\r\n');
    expect(rows[0]).toBe(
      'reference;immeuble_code;immeuble_nom;civilite;nom;prenom;email;email_confirme;rattache_le;derniere_connexion',
    );
    expect(rows[1]).toMatch(
      new RegExp(
        `^${claimed.reference};ESP${dialect};Les Glycines;Mme;LEROY;Inès;${email.replace(/\./g, '\\.')};non;${day};${day}$`,
      ),
    );
    expect(rows[2]).toMatch(new RegExp(`;Marc;${other.email.replace(/\./g, '\\.')};oui;${day};$`));

    const all = await palier(t, ['espaces']);
    expect(all.stdout).toContain(claimed.reference);
    const unknown = await palier(t, ['espaces', '--immeuble', 'NULLEPART']);
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toContain('Aucun immeuble ne porte le code «\u00a0NULLEPART\u00a0»');
  }, 90_000);
});
