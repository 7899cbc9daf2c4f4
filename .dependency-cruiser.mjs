// The architecture's dependency rule, checked by `npm run depcheck` (part of `npm run check`).
//
//   src/server.ts, src/cli.ts   boot files (composition roots)
//   src/app.ts                  builds the Fastify app
//   src/config.ts, src/db/      configuration, database access and migrations
//   src/core/, src/adapters/    shared domain and technical code
//   src/features/<name>/        one folder per feature
//
// Tests (`*.test.ts(x)`), test/ and bench/ may import anything. test/architecture.test.ts proves
// that each rule below reports a wrong import.

/** Test files inside src/: exempt from every rule. */
// Test code: test files, and the test-support modules beside them (they import vitest, never shipped code's callers).
const TESTS = '(\\.test\\.tsx?|\\btest-support\\.ts)$';
const BOOT_FILES = '^src/(server|cli|app|worker)\\.ts$';
/** kysely itself, resolved in node_modules, or by name when it cannot be resolved. */
const KYSELY = '(^|/)node_modules/kysely/|^kysely(/|$)';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'core-not-to-features',
      severity: 'error',
      comment:
        'src/core/ and src/adapters/ must not import from src/features/: features depend on the core, ' +
        'never the other way round. Move the shared code into src/core/ (or src/adapters/), or pass it in as a parameter.',
      from: { path: '^src/(core|adapters)/', pathNot: TESTS },
      to: { path: '^src/features/' },
    },
    {
      name: 'core-not-to-boot-files',
      severity: 'error',
      comment:
        'src/core/ and src/adapters/ must not import a boot file (src/server.ts, src/cli.ts, src/app.ts): ' +
        'those compose the application and pass dependencies in. Take what you need as a parameter.',
      from: { path: '^src/(core|adapters)/', pathNot: TESTS },
      to: { path: BOOT_FILES },
    },
    {
      name: 'core-not-to-adapters',
      severity: 'error',
      comment:
        'src/core/ must not import src/adapters/ (not even a type): the composition root wires the adapters ' +
        'in (see the AppDeps augmentation in src/app.ts). Describe what the core needs as its own interface.',
      from: { path: '^src/core/', pathNot: TESTS },
      to: { path: '^src/adapters/' },
    },
    {
      name: 'features-not-to-boot-files',
      severity: 'error',
      comment:
        'A feature must not import a boot file (src/server.ts, src/cli.ts, src/app.ts): the boot files import ' +
        'the features, not the other way round. Only tests (*.test.ts) and test/ helpers may import src/app.ts.',
      from: { path: '^src/features/', pathNot: TESTS },
      to: { path: BOOT_FILES },
    },
    {
      name: 'db-not-to-upper-layers',
      severity: 'error',
      comment:
        'src/db/ (connection, schema, migrations) must not import from src/core/, src/adapters/ or src/features/: ' +
        'the database layer is at the bottom and knows nothing of the code that uses it.',
      from: { path: '^src/db/', pathNot: TESTS },
      to: { path: '^src/(core|adapters|features)/' },
    },
    {
      name: 'kysely-only-in-repositories',
      severity: 'error',
      comment:
        "Only repositories (*.repository.ts), src/db/db.ts and migrations (src/db/) may import values from 'kysely' " +
        '(sql, Kysely, expressionBuilder…): queries belong in a repository. Move the query into a repository, ' +
        "or, if you only need a type, write `import type { … } from 'kysely'` (type-only imports are allowed everywhere).",
      from: { path: '^src/', pathNot: ['\\.repository\\.ts$', '^src/db/', TESTS] },
      to: { path: KYSELY, dependencyTypesNot: ['type-only', 'type-import'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'This import closes a dependency cycle between files of src/. Break the cycle: move the shared part ' +
        'into a file both can import, or invert the dependency.',
      from: { path: '^src/', pathNot: TESTS },
      // A cycle closed only by type imports vanishes at run time; one value import in it counts.
      to: { circular: true, dependencyTypesNot: ['type-only'], viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    // Type-only imports (`import type`) are kept in the graph and marked 'type-only', so that the
    // kysely rule can allow them while forbidding value imports.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.d.ts', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
