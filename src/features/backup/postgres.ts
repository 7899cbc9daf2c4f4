import { spawn } from 'node:child_process';
import pg from 'pg';
import { AppError } from '../../core/errors.ts';
import type { DatabaseContents } from './sqlite.ts';

/**
 * PostgreSQL through its own tools: pg_dump for a consistent copy of a live database,
 * pg_restore (fed to psql in one transaction) to bring it back.
 */

interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * libpq's view of DATABASE_URL: the password goes through PGPASSWORD, never on a command
 * line that `ps` shows to every user of the server.
 */
export function libpqConnection(databaseUrl: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = '';
  // node-postgres accepts ssl=true, libpq does not know that parameter.
  const ssl = url.searchParams.get('ssl');
  if (ssl !== null) {
    url.searchParams.delete('ssl');
    if (!url.searchParams.has('sslmode') && ssl !== 'false' && ssl !== '0') url.searchParams.set('sslmode', 'require');
  }
  // The tools inherit the environment as any child process would (PATH, locale, PG*
  // settings); no setting of Palier is read from it, only the password is added.
  // eslint-disable-next-line no-restricted-properties
  const inherited = process.env;
  return { dbname: url.toString(), env: password ? { ...inherited, PGPASSWORD: password } : { ...inherited } };
}

function missingTool(tool: string, purpose: string): AppError {
  return new AppError(
    'backup_tool_missing',
    `${tool} not found in PATH`,
    `« ${tool} » est introuvable : installez le client PostgreSQL (paquet postgresql-client, de la même version majeure que le serveur ou plus récente) pour ${purpose}.`,
  );
}

function run(tool: string, args: string[], env: NodeJS.ProcessEnv, purpose: string): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT' ? missingTool(tool, purpose) : err));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** The last lines of a tool's complaint, enough to act on. */
function tail(stderr: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  return lines.slice(-3).join(' / ') || 'sans message';
}

async function tablesOf(client: pg.Client): Promise<{ schema: string; name: string }[]> {
  const { rows } = await client.query<{ schema: string; name: string }>(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
        AND table_schema NOT LIKE 'pg\\_%'
      ORDER BY table_schema, table_name`,
  );
  return rows;
}

/** Functions of the database's own (Palier's triggers call one), not those of an extension. */
async function routinesOf(client: pg.Client): Promise<{ schema: string; name: string; args: string }[]> {
  const { rows } = await client.query<{ schema: string; name: string; args: string }>(
    `SELECT n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE p.prokind IN ('f', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg\\_%'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')`,
  );
  return rows;
}

const qualified = (t: { schema: string; name: string }) =>
  `"${t.schema.replace(/"/g, '""')}"."${t.name.replace(/"/g, '""')}"`;
const label = (t: { schema: string; name: string }) => (t.schema === 'public' ? t.name : `${t.schema}.${t.name}`);

async function contentsOf(client: pg.Client): Promise<DatabaseContents> {
  const tables: Record<string, number> = {};
  const list = await tablesOf(client);
  for (const t of list) {
    const { rows } = await client.query<{ n: string | number }>(`SELECT COUNT(*) AS n FROM ${qualified(t)}`);
    tables[label(t)] = Number(rows[0]!.n);
  }
  const migrations = list.some((t) => t.schema === 'public' && t.name === 'kysely_migration')
    ? (await client.query<{ name: string }>('SELECT name FROM public.kysely_migration ORDER BY name')).rows.map(
        (r) => r.name,
      )
    : [];
  return { migrations, tables };
}

async function connect(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
  } catch (err) {
    throw new AppError(
      'backup_pg_connect',
      `cannot connect: ${(err as Error).message}`,
      `Connexion à la base PostgreSQL de DATABASE_URL impossible : ${(err as Error).message}`,
    );
  }
  return client;
}

/**
 * `pg_dump --format=custom` of the live database into `dest`. The row counts and
 * migrations recorded in the manifest are read in the very snapshot pg_dump copies.
 */
export async function snapshotPostgres(databaseUrl: string, dest: string): Promise<DatabaseContents> {
  const { dbname, env } = libpqConnection(databaseUrl);
  await run('pg_dump', ['--version'], env, 'sauvegarder une base PostgreSQL');
  const client = await connect(databaseUrl);
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    const contents = await contentsOf(client);
    const dump = await run(
      'pg_dump',
      ['--format=custom', `--snapshot=${rows[0]!.id}`, '--no-password', `--file=${dest}`, `--dbname=${dbname}`],
      env,
      'sauvegarder une base PostgreSQL',
    );
    if (dump.code !== 0) {
      throw new AppError(
        'backup_pg_dump_failed',
        `pg_dump exited with ${dump.code}: ${dump.stderr}`,
        `pg_dump a échoué (${tail(dump.stderr)}) : aucune sauvegarde écrite.`,
      );
    }
    await client.query('COMMIT');
    return contents;
  } finally {
    await client.end();
  }
}

/** Tables of the DATABASE_URL database, by name (empty for a new database). */
export async function postgresTables(databaseUrl: string): Promise<string[]> {
  const client = await connect(databaseUrl);
  try {
    return (await tablesOf(client)).map(label);
  } finally {
    await client.end();
  }
}

/** Reads the dump's table of contents: a damaged or foreign dump is refused before the database is touched. */
export async function checkDump(databaseUrl: string, dumpFile: string): Promise<void> {
  const { env } = libpqConnection(databaseUrl);
  const list = await run('pg_restore', ['--list', dumpFile], env, 'restaurer une base PostgreSQL');
  if (list.code !== 0) {
    throw new AppError(
      'restore_bad_dump',
      `pg_restore --list: ${list.stderr}`,
      `La copie PostgreSQL de l’archive est illisible pour pg_restore (${tail(list.stderr)}) : rien n’a été restauré.`,
    );
  }
  await run('psql', ['--version'], env, 'restaurer une base PostgreSQL');
}

/**
 * Restores the dump in ONE transaction (pg_restore's SQL fed to psql --single-transaction):
 * a failure halfway leaves the database exactly as it was. With `replace`, the existing
 * tables and functions are dropped first, inside that same transaction.
 */
export async function restorePostgres(
  databaseUrl: string,
  dumpFile: string,
  opts: { replace: boolean },
): Promise<DatabaseContents> {
  const { dbname, env } = libpqConnection(databaseUrl);
  let prologue = '';
  if (opts.replace) {
    const client = await connect(databaseUrl);
    try {
      const tables = (await tablesOf(client)).map((t) => `DROP TABLE IF EXISTS ${qualified(t)} CASCADE;\n`);
      // The dump creates the trigger functions again.
      const routines = (await routinesOf(client)).map(
        (r) => `DROP ROUTINE IF EXISTS ${qualified(r)}(${r.args}) CASCADE;\n`,
      );
      prologue = [...tables, ...routines].join('');
    } finally {
      await client.end();
    }
  }
  const result = await new Promise<{ restore: ToolRun; psql: ToolRun }>((resolve, reject) => {
    const restore = spawn('pg_restore', ['--no-owner', '--no-privileges', '--file=-', dumpFile], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const psql = spawn(
      'psql',
      [
        '--no-psqlrc',
        '--quiet',
        '--single-transaction',
        '--set=ON_ERROR_STOP=1',
        '--no-password',
        `--dbname=${dbname}`,
      ],
      { env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const out = { restore: { code: -1, stdout: '', stderr: '' }, psql: { code: -1, stdout: '', stderr: '' } };
    let pending = 2;
    const done = () => --pending === 0 && resolve(out);
    restore.stderr.on('data', (d: Buffer) => (out.restore.stderr += d.toString()));
    psql.stderr.on('data', (d: Buffer) => (out.psql.stderr += d.toString()));
    psql.stdout.on('data', () => {});
    // psql stopping on an error closes its input: pg_restore then gets EPIPE, which is expected.
    psql.stdin.on('error', () => {});
    restore.on('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? missingTool('pg_restore', 'restaurer une base PostgreSQL') : err),
    );
    psql.on('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? missingTool('psql', 'restaurer une base PostgreSQL') : err),
    );
    restore.on('close', (code) => {
      out.restore.code = code ?? 1;
      done();
    });
    psql.on('close', (code) => {
      out.psql.code = code ?? 1;
      if (out.restore.code === -1) restore.kill();
      done();
    });
    psql.stdin.write(prologue);
    restore.stdout.pipe(psql.stdin);
  });
  if (result.psql.code !== 0 || result.restore.code !== 0) {
    const why = result.psql.code !== 0 ? tail(result.psql.stderr) : tail(result.restore.stderr);
    throw new AppError(
      'restore_pg_failed',
      `pg_restore ${result.restore.code} / psql ${result.psql.code}: ${result.restore.stderr} ${result.psql.stderr}`,
      `La restauration PostgreSQL a échoué (${why}) : la base est restée telle qu’elle était.`,
    );
  }
  const client = await connect(databaseUrl);
  try {
    return await contentsOf(client);
  } finally {
    await client.end();
  }
}
