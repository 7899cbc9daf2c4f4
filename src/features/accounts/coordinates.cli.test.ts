import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb } from '../../db/db.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  // Vitest sets BASE_URL="/" for Vite: the CLI must see only the configuration the test gives it.
  const inherited = { ...process.env };
  for (const key of ['BASE_URL', 'DATABASE_URL', 'DATA_DIR', 'PORT', 'HOST', 'SMTP_URL', 'MAIL_FROM', 'LOG_LEVEL']) {
    delete inherited[key];
  }
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['tsx', 'src/cli.ts', ...args],
      { cwd: ROOT, env: { ...inherited, ...env } },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const HEADER = 'type;reference;nom;telephone;ville';

describe('palier coordonnees export', () => {
  let dataDir: string;
  let env: Record<string, string>;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'palier-coords-'));
    env = { DATA_DIR: dataDir };
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  /** A client's phone correction, as « Mes coordonnées » records it. */
  async function clientCorrectsPhone(reference: string, phone: string) {
    const db = createDb(`sqlite:${path.join(dataDir, 'palier.sqlite')}`);
    try {
      const now = '2026-12-03T08:15:00.000Z';
      const account = await db
        .selectFrom('client_accounts')
        .select(['id', 'phone'])
        .where('reference', '=', reference)
        .executeTakeFirstOrThrow();
      const user = await db
        .insertInto('users')
        .values({
          email: 'lea@exemple.test',
          email_verified_at: now,
          password_hash: 'x',
          civility: 'Mme',
          last_name: 'GARNIER',
          first_name: 'Léa',
          created_at: now,
          updated_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await db.updateTable('client_accounts').set({ phone }).where('id', '=', account.id).execute();
      const change = await db
        .insertInto('contact_changes')
        .values({
          account_id: account.id,
          user_id: user.id,
          changed_at: now,
          before_json: JSON.stringify({ phone: account.phone }),
          after_json: JSON.stringify({ phone }),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await db
        .insertInto('pending_contact_fields')
        .values({
          account_id: account.id,
          field: 'phone',
          old_value: account.phone,
          new_value: phone,
          change_id: change.id,
          changed_at: now,
        })
        .execute();
    } finally {
      await db.destroy();
    }
  }

  it('keeps the client’s phone on import, exports it to stdout, and lets the next import overwrite once handled', async () => {
    const file = path.join(dataDir, 'ref.csv');
    writeFileSync(file, `${HEADER}\nlocataire;30002;Garnier;04 76 00 00 00;Grenoble\n`);
    expect((await run(['import', 'referentiel', file], env)).code).toBe(0);
    await clientCorrectsPhone('30002', '06 98 76 54 32');

    writeFileSync(file, `${HEADER}\nlocataire;30002;Garnier;04 76 00 00 00;Meylan\n`);
    const kept = await run(['import', 'referentiel', file], env);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain(
      'Compte 30002\u00a0: téléphone laissé tel que le client l’a corrigé (modification du 3 décembre 2026 en attente)',
    );

    const unwritable = path.join(dataDir, 'absent', 'corrections.csv');
    const failed = await run(['coordonnees', 'export', unwritable, '--marquer-traitees'], env);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain('rien n’a été marqué comme traité');

    const exported = await run(['coordonnees', 'export', '-', '--marquer-traitees'], env);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toBe(
      '\ufeffreference;champ;ancienne_valeur;nouvelle_valeur;date;client\r\n' +
        '30002;Téléphone;04 76 00 00 00;06 98 76 54 32;03/12/2026 09:15;Mme Léa GARNIER (lea@exemple.test)\r\n',
    );
    expect(exported.stderr).toContain('1 correction de coordonnées en attente écrite sur la sortie standard.');
    expect(exported.stderr).toContain('1 marquée comme traitée');

    const empty = path.join(dataDir, 'corrections.csv');
    const again = await run(['coordonnees', 'export', empty], env);
    expect(again.stdout).toContain('Aucune correction de coordonnées en attente');
    expect(readFileSync(empty, 'utf8')).toBe('\ufeffreference;champ;ancienne_valeur;nouvelle_valeur;date;client\r\n');

    const overwritten = await run(['import', 'referentiel', file], env);
    expect(overwritten.stdout).not.toContain('laissé tel que');
    const db = createDb(`sqlite:${path.join(dataDir, 'palier.sqlite')}`);
    try {
      const row = await db
        .selectFrom('client_accounts')
        .select('phone')
        .where('reference', '=', '30002')
        .executeTakeFirstOrThrow();
      expect(row.phone).toBe('04 76 00 00 00');
    } finally {
      await db.destroy();
    }

    const usage = await run(['coordonnees', 'importer', file], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('commande inconnue');
  }, 60_000);
});
