// The linter npm test runs (scripts/test.sh, `npm run lint`): typescript-eslint's type-aware rules on
// src/, so a promise nobody handles, an await of a non-promise or a promise passed where nothing waits
// for it fails the build. A promise left running on purpose is `void`ed with a comment saying why
// (local rule below); an empty catch says why it is empty (no-empty counts a comment as content).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** `void somePromise` must carry a comment on its line or the line above: why nothing waits for it. */
const voidedPromiseSaysWhy = {
  meta: {
    type: 'problem',
    schema: [],
    messages: { why: 'a voided promise needs a comment (this line or the one above) saying why nothing awaits it' },
  },
  create(context) {
    const services = context.sourceCode.parserServices;
    const checker = services.program.getTypeChecker();
    const commentLines = new Set(context.sourceCode.getAllComments().flatMap((c) => [c.loc.start.line, c.loc.end.line]));
    return {
      UnaryExpression(node) {
        if (node.operator !== 'void') return;
        const type = checker.getNonNullableType(checker.getTypeAtLocation(services.esTreeNodeToTSNodeMap.get(node.argument)));
        const thenable = (type.isUnion() ? type.types : [type]).some((t) => t.getProperty('then') !== undefined);
        if (!thenable) return;
        const line = node.loc.start.line;
        if (!commentLines.has(line) && !commentLines.has(line - 1)) context.report({ node, messageId: 'why' });
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/vendor/**'] },
  {
    files: ['src/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { local: { rules: { 'voided-promise-says-why': voidedPromiseSaysWhy } } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      'local/voided-promise-says-why': 'error',
      'no-empty': ['error', { allowEmptyCatch: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      // An `async` function without `await` keeps its interface's promise contract (a throw becomes a
      // rejection, never a synchronous throw at the caller): dropping `async` to please a rule would change that.
      '@typescript-eslint/require-await': 'off',
      'max-len': ['error', { code: 200, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true }],
    },
  },
);
