import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDb, dialects } from '../../../test/helpers/db.ts';
import { createManager } from '../../../test/helpers/factories.ts';
import { loadConfig } from '../../config.ts';
import { AppError } from '../errors.ts';
import { createDb } from '../../db/db.ts';
import { getSecretsFingerprint } from './secrets.repository.ts';
import { openDatabase, secretsFingerprint, verifySecrets, writeNewSecrets } from './secrets.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'palier-secrets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const boot = (dataDir: string, databaseUrl: string) =>
  loadConfig({ DATA_DIR: dataDir, DATABASE_URL: databaseUrl, BASE_URL: 'http://palier.test', LOG_LEVEL: 'silent' });

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe.each(dialects)('secrets and their database (%s)', (dialect) => {
  it('a new install creates its secrets with the database, and only records their fingerprint', async () => {
    const tdb = await createTestDb(dialect);
    const dir = path.join(tmp, `neuf-${dialect}`);
    try {
      const { config, db } = await openDatabase(boot(dir, tdb.url));
      await db.destroy();
      expect(JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8'))).toEqual(config.secrets);
      expect(statSync(path.join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
      const recorded = await getSecretsFingerprint(tdb.db);
      expect(recorded).toBe(secretsFingerprint(config.secrets));
      for (const key of Object.values(config.secrets)) expect(recorded).not.toContain(key);

      // Opened again: the same keys, nothing created.
      const again = await openDatabase(boot(dir, tdb.url));
      await again.db.destroy();
      expect(again.config.secrets).toEqual(config.secrets);
      expect(readdirSync(dir)).toEqual(['secrets.json']);
    } finally {
      await tdb.destroy();
    }
  });

  it('two processes opening a new install at once end with one set of keys', async () => {
    const tdb = await createTestDb(dialect);
    const dir = path.join(tmp, `ensemble-${dialect}`);
    try {
      const [a, b] = await Promise.all([openDatabase(boot(dir, tdb.url)), openDatabase(boot(dir, tdb.url))]);
      await a.db.destroy();
      await b.db.destroy();
      expect(a.config.secrets).toEqual(b.config.secrets);
      expect(readdirSync(dir)).toEqual(['secrets.json']);
    } finally {
      await tdb.destroy();
    }
  });

  it('refuses a database that has data but no secrets beside it, and creates none', async () => {
    // A database from before fingerprints, with data, opened from an empty DATA_DIR.
    const tdb = await createTestDb(dialect);
    const dir = path.join(tmp, `vide-${dialect}`);
    try {
      await createManager(tdb.db);
      const err = await refusal(openDatabase(boot(dir, tdb.url)));
      expect(err.code).toBe('secrets_missing');
      expect(err.userMessage).toContain(`Les secrets de DATA_DIR (${dir}) sont introuvables`);
      expect(existsSync(dir)).toBe(false);
      expect(await getSecretsFingerprint(tdb.db)).toBeNull();
    } finally {
      await tdb.destroy();
    }
  });

  it('takes the secrets found beside a database older than fingerprints, then holds to them', async () => {
    const tdb = await createTestDb(dialect);
    const dir = path.join(tmp, `ancienne-${dialect}`);
    const other = path.join(tmp, `autre-${dialect}`);
    try {
      const secrets = writeNewSecrets(dir);
      await createManager(tdb.db);
      const { config, db } = await openDatabase(boot(dir, tdb.url));
      await db.destroy();
      expect(config.secrets).toEqual(secrets);
      expect(await getSecretsFingerprint(tdb.db)).toBe(secretsFingerprint(secrets));

      writeNewSecrets(other);
      const err = await refusal(openDatabase(boot(other, tdb.url)));
      expect(err.code).toBe('secrets_different');
      expect(err.userMessage).toContain(`Les secrets de DATA_DIR (${other}) ne correspondent pas à cette base\u00a0: `);
      expect((await refusal(verifySecrets(boot(other, tdb.url)))).code).toBe('secrets_different');
    } finally {
      await tdb.destroy();
    }
  });

  it('sauvegarde’s check never creates secrets, even for an empty database', async () => {
    const tdb = await createTestDb(dialect);
    const dir = mkdtempSync(path.join(tmp, `verif-${dialect}-`));
    try {
      const err = await refusal(verifySecrets(boot(dir, tdb.url)));
      expect(err.code).toBe('secrets_missing');
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await tdb.destroy();
    }
  });

  it('refuses a secrets.json that is not one, saying which file', async () => {
    const tdb = await createTestDb(dialect);
    const dir = mkdtempSync(path.join(tmp, `abime-${dialect}-`));
    try {
      writeFileSync(path.join(dir, 'secrets.json'), '{"cookieSecret": "x"}');
      const err = await refusal(openDatabase(boot(dir, tdb.url)));
      expect(err.code).toBe('secrets_unreadable');
      expect(err.userMessage).toContain(`Les secrets de DATA_DIR (${dir}) sont illisibles`);
    } finally {
      await tdb.destroy();
    }
  });
});

it('a SQLite install in a new DATA_DIR is a new install', async () => {
  const dir = path.join(tmp, 'sqlite-par-defaut');
  const { config, db } = await openDatabase(loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' }));
  await db.destroy();
  const check = createDb(config.databaseUrl);
  try {
    expect(await getSecretsFingerprint(check)).toBe(secretsFingerprint(config.secrets));
  } finally {
    await check.destroy();
  }
});
