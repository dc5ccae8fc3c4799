// @ts-check
/**
 * Lint, including the layering rule that keeps the architecture honest
 * (VS Code's layer rule, ../shared/STYLE.md §1):
 *   api ← engine ← {shell, server, cli};  api ← preload;  api ← src-renderer (types + channel names).
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import svelteConfig from './svelte.config.js';

const electronBan = {
  name: 'electron',
  message: 'Only src-main/shell and src-main/preload may import electron (layering rule).',
};

/** Electron settings that must never appear (reference/reliability.md §2). */
const insecureWebPreferences = [
  ['nodeIntegration', true],
  ['nodeIntegrationInWorker', true],
  ['nodeIntegrationInSubFrames', true],
  ['sandbox', false],
  ['contextIsolation', false],
  ['webSecurity', false],
  ['allowRunningInsecureContent', true],
  ['webviewTag', true],
  ['experimentalFeatures', true],
].map(([key, value]) => ({
  selector: `Property[key.name='${key}'][value.value=${value}]`,
  message: `${key}: ${value} is forbidden by the security checklist.`,
}));

export default tseslint.config(
  {
    ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'resources/**', 'coverage/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        ...insecureWebPreferences,
        { selector: "Property[key.name='enableBlinkFeatures']", message: 'enableBlinkFeatures is forbidden.' },
        {
          selector: "CallExpression[callee.property.name='openExternal']",
          message: 'Open links only through openExternalSafe() in src-main/shell/security.ts.',
        },
        { selector: "CallExpression[callee.name='eval']", message: 'eval is banned.' },
        { selector: "NewExpression[callee.name='Function']", message: 'new Function is banned.' },
      ],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: { projectService: false, extraFileExtensions: ['.svelte'], parser: tseslint.parser, svelteConfig },
    },
  },
  {
    files: ['src-main/shell/security.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['src-main/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electronBan],
          patterns: [
            { group: ['node:*'], message: 'api/ is pure TypeScript: no node:*.' },
            { group: ['../*', '!../api/*'], message: 'api/ imports nothing from the rest of src-main.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electronBan],
          patterns: [
            {
              group: ['**/shell/*', '**/server/*', '**/cli/*', '**/preload/*'],
              message: 'engine/ must not depend on its hosts.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/server/**/*.ts', 'src-main/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electronBan],
          patterns: [
            {
              group: ['**/engine/*/**', '**/engine/*', '!**/engine/index.js'],
              message: 'Hosts use the engine only through src-main/engine/index.ts.',
            },
            { group: ['**/shell/*', '**/preload/*'], message: 'server and cli do not depend on the Electron shell.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/shell/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/engine/*/**', '**/engine/*', '!**/engine/index.js'],
              message: 'Hosts use the engine only through src-main/engine/index.ts.',
            },
            {
              group: ['**/server/*', '**/cli/*', '**/preload/*'],
              message: 'The shell does not depend on other hosts.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/preload/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/engine/**', '**/shell/**', '**/server/**', '**/cli/**'],
              message: 'preload depends on api/ only.',
            },
            { group: ['node:*'], message: 'A sandboxed preload cannot require node modules.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src-renderer/**/*.ts', 'src-renderer/**/*.svelte'],
    ignores: ['src-renderer/src/lib/api.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [{ ...electronBan, allowTypeImports: false }],
          patterns: [
            {
              group: ['**/src-main/*', '**/src-main/**', '!**/src-main/api', '!**/src-main/api/**'],
              message: 'The renderer talks to the main process only through src/lib/api.ts.',
            },
            {
              group: ['**/src-main/api', '**/src-main/api/**'],
              allowTypeImports: true,
              message: 'Outside src/lib/api.ts the renderer imports only types from src-main/api.',
            },
            { group: ['node:*'], message: 'The renderer has no Node.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src-renderer/src/lib/api.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electronBan],
          patterns: [
            {
              group: ['**/src-main/*', '**/src-main/**', '!**/src-main/api', '!**/src-main/api/**'],
              message: 'The renderer may import only src-main/api.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['bin/**/*.js', '*.config.js', 'test/e2e/**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
);
