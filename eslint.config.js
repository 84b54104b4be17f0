// Lint for mistakes, not for layout (Prettier owns that): ESLint's and typescript-eslint's recommended rules.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/', 'node_modules/']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {globals: {...globals.node}},
    rules: {
      // `{id: _id, ...rest}` drops a field on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true},
      ],
    },
  },
  {
    // Migrations see the schema as it was when they landed, which no current type describes (Kysely's advice is
    // Kysely<any> there); tests read the CLI's --json output, which is untyped JSON by nature.
    files: ['migrations/**', 'test/**'],
    rules: {'@typescript-eslint/no-explicit-any': 'off'},
  },
  {
    files: ['src/lib/web/static/**/*.js'],
    languageOptions: {globals: {...globals.browser}},
  },
)
