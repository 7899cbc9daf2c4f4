import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { DialectName } from '../../db/db.ts';

/**
 * The archive's table of contents, written first in it as manifest.json, and its signature
 * by the backup key (manifest.hmac, see backup-key.ts). Restoring checks the signature, then
 * every member against the manifest, before anything is written, and the restored
 * database's row counts against `tables`.
 */
export const MANIFEST_NAME = 'manifest.json';
export const MANIFEST_MAC_NAME = 'manifest.hmac';
export const SECRETS_MEMBER = 'secrets.json';
export const FILES_PREFIX = 'files/';
export const DATABASE_MEMBER: Record<DialectName, string> = {
  sqlite: 'database.sqlite',
  postgres: 'database.pgdump',
};

const memberPath = z
  .string()
  .min(1)
  .max(1000)
  // Only our own names; a crafted manifest cannot point outside the staging folder.
  .refine(
    (p) =>
      p === SECRETS_MEMBER ||
      Object.values(DATABASE_MEMBER).includes(p) ||
      (p.startsWith(FILES_PREFIX) &&
        p.length > FILES_PREFIX.length &&
        !p.split('/').some((s) => s === '..' || s === '' || s === '.')),
    'chemin de membre inattendu',
  );

export const manifestSchema = z.object({
  format: z.literal('palier-sauvegarde'),
  /** 2: signed by a backup key. Version 1 archives (unsigned) cannot be authenticated. */
  format_version: z.literal(2),
  /** Identifier of the backup key that signed it, to say which key a restore needs. */
  key_id: z.string().regex(/^[0-9a-f]{16}$/),
  palier_version: z.string(),
  dialect: z.enum(['sqlite', 'postgres']),
  created_at: z.iso.datetime(),
  /** Migrations applied to the saved database, oldest first. */
  migrations: z.array(z.string()),
  /** Row count of every table at the instant of the copy. */
  tables: z.record(z.string(), z.number().int().nonnegative()),
  /** Number of stored files (DATA_DIR/files). */
  file_count: z.number().int().nonnegative(),
  members: z.array(
    z.object({
      path: memberPath,
      size: z.number().int().nonnegative(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestMember = Manifest['members'][number];

/** The version in package.json, recorded so a restore can tell which Palier wrote the archive. */
export function palierVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? 'inconnue';
}
