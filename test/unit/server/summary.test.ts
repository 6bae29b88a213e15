import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createGateway, describeGateway } from '../../../src/server/index.js';
import { testConfig } from '../../helpers/config.js';
import { captureLog } from '../../helpers/logs.js';

const dir = mkdtempSync(join(tmpdir(), 'jcg-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The startup line of a gateway made from these settings, as `gateway started` writes it. */
function startupFields(env: Record<string, string>): Record<string, unknown> {
  const gateway = createGateway({ config: testConfig(env), logger: captureLog().logger });
  gateway.proxy.close();
  return describeGateway(gateway);
}

describe('the startup line', () => {
  it('names the algorithm and key the tokens are signed with, never a secret', () => {
    const fields = startupFields({ GATEWAY_TOKEN_ALGORITHM: 'HS512' });

    expect(fields).toMatchObject({ algorithm: 'HS512', keyId: null, tokenKey: 'secret set' });
    expect(JSON.stringify(fields)).not.toContain('test-app-secret');
  });

  it('names the RS256 key file and the kid of new tokens', () => {
    const keyFile = join(dir, 'key.pem');
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    writeFileSync(keyFile, privateKey);

    const fields = startupFields({
      GATEWAY_TOKEN_ALGORITHM: 'RS256',
      GATEWAY_TOKEN_KEY_FILE: keyFile,
      GATEWAY_TOKEN_KEY_ID: 'gateway-2026',
      JWT_APP_SECRET: '',
    });

    expect(fields).toMatchObject({
      algorithm: 'RS256',
      keyId: 'gateway-2026',
      tokenKey: `key file ${keyFile}`,
    });
  });
});
