import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const frameworks = {
  paths: [
    {
      name: 'express',
      message: 'Core modules take plain values; express stays in server/ and inject/middleware.',
    },
    {
      name: 'http-proxy-middleware',
      message: 'Core modules take plain values; the proxy stays in proxy/.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', 'test-output/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    files: [
      'src/identity/**/*.ts',
      'src/token/**/*.ts',
      'src/config/**/*.ts',
      'src/rules/**/*.ts',
      'src/operator/**/*.ts',
      'src/inject/decide.ts',
      'src/inject/holder.ts',
      'src/inject/token-request.ts',
    ],
    rules: { 'no-restricted-imports': ['error', frameworks] },
  },
);
