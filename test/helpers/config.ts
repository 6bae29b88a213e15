import { loadConfig, type Config } from '../../src/config/index.js';

export const TEST_APP_SECRET = 'test-app-secret-that-is-long-enough-0123';
export const TEST_COOKIE_SECRET = 'test-cookie-secret-that-is-long-enough-01';

/** A valid configuration for tests: the default file plus these environment values. */
export function testConfig(env: Record<string, string> = {}): Readonly<Config> {
  const result = loadConfig({
    env: {
      GATEWAY_PORT: '0',
      JWT_APP_SECRET: TEST_APP_SECRET,
      GATEWAY_COOKIE_SECRET: TEST_COOKIE_SECRET,
      ...env,
    },
  });
  if (!result.ok) throw new Error(`test config is invalid:\n${result.problems.join('\n')}`);
  return result.config;
}
