import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.voxctl/**', '.bench-tmp/**', '.ci/cache/**', '.ci/artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The inspector page: a browser ES module (no build step), with the browser's globals.
    files: ['templates/inspector/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        ['document', 'navigator', 'EventSource', 'fetch', 'CSS', 'Blob', 'HTMLInputElement', 'HTMLTextAreaElement', 'HTMLSelectElement', 'queueMicrotask'].map((g) => [g, 'readonly']),
      ),
    },
  },
  {
    // Only the UI layer, the bin and the benchmarks talk to the console directly.
    files: ['src/**/*.ts'],
    ignores: ['src/ui/**'],
    rules: { 'no-console': 'error' },
  },
  {
    // No import loops: a cycle fails `npm run lint` (TypeScript sources import `./x.js`).
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'], extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
);
