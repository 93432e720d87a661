import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

const SRC = 'packages/server/src';

/**
 * The features of the server, each a folder of `src/`, with the files other folders may import
 * ("exports"): its services, its plugin, its table types (one Database schema; a query may join
 * another feature's tables), and the few shared files other features need. Any other
 * import from outside the feature fails; to share a file, add it here, on purpose.
 */
const FEATURES = {
  audit: ['audit-tables.ts', 'audit-service.ts', 'audit-plugin.ts', 'audit-trail.ts', 'audit-chain.ts'],
  consent: ['consent-tables.ts', 'consent-service.ts', 'consent-plugin.ts', 'consent.ts'],
  datamap: [
    'datamap-tables.ts',
    'datamap-service.ts',
    'graph-service.ts',
    'report-service.ts',
    'discovery/discovery-service.ts',
    'datamap-plugin.ts',
    'datamap-snapshot.ts',
  ],
  manifests: ['manifest-service.ts', 'manifests-plugin.ts'],
  overview: ['overview-service.ts', 'overview-plugin.ts'],
  requests: [
    'request-tables.ts',
    'request-service.ts',
    'request-report-service.ts',
    'connector-service.ts',
    'requests-plugin.ts',
    'request-status.ts',
    'request-progress.ts',
    'request-vault.ts',
    'identifiers.ts',
  ],
  retention: [
    'retention-tables.ts',
    'policy-service.ts',
    'retention-service.ts',
    'system-service.ts',
    'telemetry-service.ts',
    'retention-plugin.ts',
    'catalog-cache.ts',
    'retention-recompute.ts',
    'transports/nats-usage-ingest.ts',
    // Legal holds: rights requests read the standing holds before an erasure task runs.
    'holds/hold-rules.ts',
    'holds/hold-service.ts',
  ],
  session: ['session-tables.ts', 'session-plugin.ts'],
  streams: [
    'stream-tables.ts',
    'exports/stream-export-tables.ts',
    'stream-service.ts',
    'contract-service.ts',
    'field-key-service.ts',
    'exports/stream-export-service.ts',
    'streams-plugin.ts',
  ],
};
const FEATURE_DIRS = Object.keys(FEATURES).map((feature) => `${SRC}/${feature}`);

/**
 * Pure rule files: decisions computed from values, with no I/O and no knowledge of the store, the
 * HTTP layer or the CLI, so they are tested without either. A new pure rule file is added here.
 */
const PURE_RULE_FILES = [
  'audit/audit-chain.ts',
  'consent/consent.ts',
  'consent/consent-import.ts',
  'consent/tcf-consent.ts',
  'datamap/datamap.ts',
  'datamap/datamap-drift.ts',
  'datamap/graph/*.ts',
  'datamap/ropa.ts',
  'datamap/discovery/discovery-names.ts',
  'datamap/discovery/exposition*.ts',
  'datamap/discovery/line-cursor.ts',
  'datamap/discovery/sample-line.ts',
  'datamap/discovery/series-observation.ts',
  'requests/deadlines.ts',
  'requests/dsar-package.ts',
  'requests/found-record.ts',
  'requests/identifiers.ts',
  'requests/request-csv.ts',
  'requests/request-report-csv.ts',
  'requests/request-status.ts',
  'requests/task-reasons.ts',
  'requests/limited-request-view.ts',
  'requests/sql-connectors/column-masks.ts',
  'requests/sql-connectors/column-types.ts',
  'requests/sql-connectors/fides-*.ts',
  'requests/sql-connectors/typed-values.ts',
  'retention/expiry.ts',
  'retention/aging/aging.ts',
  'retention/aging/aged-refresh.ts',
  'retention/journal/journal-aggregate.ts',
  'retention/journal/journal-codec.ts',
  'retention/policy-rules.ts',
  'retention/usage-batch.ts',
  'retention/transports/otlp-logs.ts',
  'streams/data-contract/*.ts',
  'streams/field-crypto.ts',
  'streams/key-cache.ts',
].map((file) => `${SRC}/${file}`);

/** Modules a pure rule file never imports: I/O and database drivers. */
const IO_MODULES = [
  'node:fs',
  'node:fs/promises',
  'node:net',
  'node:http',
  'node:https',
  'node:child_process',
  'better-sqlite3',
  'pg',
  'mysql2',
  'mysql2/promise',
  'kysely',
  'nats',
  '@grpc/grpc-js',
  'fastify',
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'lethe-data/**', '.bench-data/**', '.scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // One program for the server, API, client, their tests and the benches; one for the dashboard.
        project: ['./tsconfig.test.json', './packages/dashboard/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      // Leaving properties out with a rest pattern (`const { createdAt, ...rest } = x`) is how we omit them.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // A `default:` is this codebase's deliberate "everything else" (status codes, CLI actions).
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      // Fastify hooks and Promise-returning interfaces are `async` without awaiting, so that a throw
      // becomes a rejection; dropping `async` would change that.
      '@typescript-eslint/require-await': 'off',
      // `String(value)` of an unknown value (a driver's cell, a thrown error) is the deliberate last resort.
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  // Plain JavaScript (this file, the CLI shim) is outside the TypeScript programs.
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  // Tests read JSON answers as `any` on purpose (the assertions check their shape) and pass methods
  // to `expect` and spies unbound.
  {
    files: ['**/*.test.ts', '**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  // The dashboard's React code: the rules of hooks, dependencies of effects.
  { files: ['packages/dashboard/src/**/*.{ts,tsx}'], ...reactHooks.configs.flat.recommended },

  // The shape of the server: a core (store, auth, http, lib, cli) under feature folders.
  {
    files: [`${SRC}/**/*.ts`],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.test.json' })],
    },
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: import.meta.dirname,
          zones: [
            {
              target: `${SRC}/lib`,
              from: SRC,
              except: ['./lib'],
              message: 'lib/ imports nothing from the rest of src, only lib/ and packages.',
            },
            {
              target: PURE_RULE_FILES,
              from: [`${SRC}/{store,http,cli}/**`, `${SRC}/**/*-{service,queries,routes,plugin}.ts`],
              message: 'A pure rule file imports no store/, http/, cli/, service, queries, routes or plugin.',
            },
            {
              // Routes are mounted by http/app.ts and by a feature's own plugin, nowhere else.
              target: [`${SRC}/*.ts`, `${SRC}/!(http)/**/!(*-plugin).ts`, `${SRC}/http/!(app).ts`],
              from: `${SRC}/**/*-routes.ts`,
              message: 'Only http/app.ts and a feature plugin (<feature>/<feature>-plugin.ts) import routes.',
            },
            {
              target: [`${SRC}/store`, `${SRC}/auth`, `${SRC}/lib`],
              from: `${SRC}/**/*-{routes,plugin,service}.ts`,
              message: 'The core (store, auth, lib) imports no feature routes, plugins or services.',
            },
            {
              target: `${SRC}/store`,
              from: FEATURE_DIRS.map((dir) => `${dir}/**`),
              except: ['**/*-queries.ts', '**/*-tables.ts', ...PURE_RULE_FILES.map((file) => `**/${file}`)],
              message:
                'store/ imports from features only their *-queries.ts, *-tables.ts and pure rule files.',
            },
            ...Object.entries(FEATURES).map(([feature, exports]) => ({
              target: FEATURE_DIRS.filter((dir) => dir !== `${SRC}/${feature}`),
              from: `${SRC}/${feature}`,
              except: exports.map((file) => `./${file}`),
              message: `Another feature reaches ${feature}/ only through its exports (FEATURES.${feature} in eslint.config.js).`,
            })),
          ],
        },
      ],
    },
  },
  {
    files: PURE_RULE_FILES,
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: IO_MODULES.map((name) => ({ name, message: 'A pure rule file does no I/O.' })) },
      ],
    },
  },
  {
    files: [`${SRC}/**/*.ts`],
    // The store's Kysely handle is for the store and the feature queries; the SQL connectors'
    // `.db` is a customer database, not ours.
    ignores: [
      `${SRC}/store/**`,
      `${SRC}/**/*-queries.ts`,
      `${SRC}/**/*.test.ts`,
      `${SRC}/requests/sql-connectors/**`,
    ],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'MemberExpression[property.name="db"]',
          message:
            'Only store/ and *-queries.ts files touch the database handle (.db); call a repository method.',
        },
      ],
    },
  },
  {
    files: ['packages/*/src/**/*.{ts,tsx}'],
    ignores: ['**/*.test.{ts,tsx}'],
    rules: {
      'max-lines': ['error', { max: 500, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 120 }],
    },
  },
  // Tests too stay readable files; a `describe` is a list of cases, so only the file is bounded.
  {
    files: ['**/*.test.{ts,tsx}', 'packages/*/test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 500, skipBlankLines: false, skipComments: false }] },
  },
);
