import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'lethe-data/**', '.bench-data/**', '.scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      // Leaving properties out with a rest pattern (`const { createdAt, ...rest } = x`) is how we omit them.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  // The dashboard's React code: the rules of hooks, dependencies of effects.
  { files: ['packages/dashboard/src/**/*.{ts,tsx}'], ...reactHooks.configs.flat.recommended },
);
