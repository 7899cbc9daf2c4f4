import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseOptions, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The dependency rule of .dependency-cruiser.mjs, run on a small fake tree: each wrong import is
 * reported under its rule, the allowed ones are not, and the `depcheck` script of `npm run check`
 * fails on it.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CONFIG = '.dependency-cruiser.mjs';

const KYSELY = /(^|\/)node_modules\/kysely\//;

const FIXTURE: Record<string, string> = {
  // Boot files.
  'src/app.ts': "import { routes } from './features/demo/demo.routes.ts';\nexport const buildApp = () => routes;\n",
  'src/cli.ts': "import { buildApp } from './app.ts';\nexport const main = () => buildApp();\n",
  'src/db/db.ts': "import { Kysely } from 'kysely';\nexport const K = Kysely;\n",
  'src/core/format.ts': 'export const format = (n: number) => String(n);\n',

  // Wrong imports (one cycle is reported once).
  'src/core/bad-core.ts': "import { hello } from '../features/demo/demo.service.ts';\nexport const x = hello;\n",
  'src/adapters/bad-adapter.ts': "import { main } from '../cli.ts';\nexport const y = main;\n",
  'src/features/demo/raw-query.ts': "import { sql } from 'kysely';\nexport const q = sql`select 1`;\n",
  'src/features/demo/uses-app.ts': "import { buildApp } from '../../app.ts';\nexport const z = buildApp;\n",
  'src/db/bad-db.ts': "import { format } from '../core/format.ts';\nexport const w = format;\n",
  'src/core/cycle-a.ts': "import { b } from './cycle-b.ts';\nexport const a = () => b;\n",
  'src/core/cycle-b.ts': "import { a } from './cycle-a.ts';\nexport const b = () => a;\n",

  // Allowed imports.
  'src/features/demo/demo.service.ts':
    "import { format } from '../../core/format.ts';\nexport const hello = format(1);\n",
  'src/features/demo/demo.routes.ts': "import { hello } from './demo.service.ts';\nexport const routes = [hello];\n",
  'src/features/demo/demo.repository.ts': "import { sql } from 'kysely';\nexport const count = sql`select count(*)`;\n",
  'src/features/demo/types-only.ts': [
    "import type { Selectable } from 'kysely';",
    "import { type Kysely } from 'kysely';",
    'export type Row = Selectable<{ id: number }>;',
    'export type Db = Kysely<Record<string, never>>;',
    "export type Ins = import('kysely').Insertable<{ id: number }>;",
    '',
  ].join('\n'),
  'src/features/demo/demo.test.ts': [
    "import { sql } from 'kysely';",
    "import { buildApp } from '../../app.ts';",
    'export const t = [sql, buildApp];',
    '',
  ].join('\n'),
};

/** The violations every run on the fixture must report, and nothing else. */
const EXPECTED = [
  { from: 'src/adapters/bad-adapter.ts', to: 'src/cli.ts', rule: 'core-not-to-boot-files' },
  { from: 'src/core/bad-core.ts', to: 'src/features/demo/demo.service.ts', rule: 'core-not-to-features' },
  { from: 'src/core/cycle-a.ts', to: 'src/core/cycle-b.ts', rule: 'no-circular' },
  { from: 'src/db/bad-db.ts', to: 'src/core/format.ts', rule: 'db-not-to-upper-layers' },
  { from: 'src/features/demo/raw-query.ts', to: 'kysely', rule: 'kysely-only-in-repositories' },
  { from: 'src/features/demo/uses-app.ts', to: 'src/app.ts', rule: 'features-not-to-boot-files' },
];

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'palier-architecture-'));
  for (const [file, content] of Object.entries(FIXTURE)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
  // The fixture resolves 'kysely' from the project's node_modules, and runs with its config.
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  copyFileSync(path.join(ROOT, CONFIG), path.join(dir, CONFIG));
  copyFileSync(path.join(ROOT, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the dependency rule (.dependency-cruiser.mjs)', () => {
  it('reports each wrong import under its rule, and no allowed import', async () => {
    const options: ICruiseOptions = { ...(await extractDepcruiseOptions(path.join(ROOT, CONFIG))), baseDir: dir };
    const tsConfig = extractTSConfig(path.join(ROOT, 'tsconfig.json'));
    const result = await cruise(['src'], options, undefined, { tsConfig });
    const output = result.output as ICruiseResult;

    const found = output.summary.violations
      .map((v) => ({ from: v.from, to: KYSELY.test(v.to) ? 'kysely' : v.to, rule: v.rule.name }))
      .sort((a, b) => `${a.from} ${a.to}`.localeCompare(`${b.from} ${b.to}`));
    expect(found).toEqual(EXPECTED);
    expect(output.summary.error).toBe(EXPECTED.length);

    // The type-only kysely imports were seen, and allowed, not missed.
    const typesOnly = output.modules.find((m) => m.source === 'src/features/demo/types-only.ts');
    const kyselyImports = typesOnly?.dependencies.filter((d) => KYSELY.test(d.resolved)) ?? [];
    expect(kyselyImports.length).toBeGreaterThan(0);
    expect(kyselyImports.every((d) => d.valid)).toBe(true);
  });

  it('makes the depcheck script of `npm run check` fail, naming the rules', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.check).toContain('npm run depcheck');
    const run = spawnSync(pkg.scripts.depcheck!, {
      cwd: dir,
      shell: true,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${path.join(ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}` },
    });
    expect(run.status, run.stderr).not.toBe(0);
    for (const { from, rule } of EXPECTED) expect(run.stdout).toContain(`error ${rule}: ${from} → `);
    expect(run.stdout).toContain(`${EXPECTED.length} dependency violations (${EXPECTED.length} errors, 0 warnings)`);
  });
});
