import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/log.js';
import { captureLog } from '../helpers/logs.js';

describe('redactUrl', () => {
  it.each([
    ['/room?jwt=eyJ.a.b', '/room?jwt=[redacted]'],
    ['/http-bind?room=x&token=abc&x=1', '/http-bind?room=x&token=[redacted]&x=1'],
    ['/room?JWT=abc#frag', '/room?JWT=[redacted]#frag'],
    ['/room?lang=de', '/room?lang=de'],
    ['/room', '/room'],
    ['/colibri-ws/jvb1/ep1/user1?pwd=SECRET', '/colibri-ws/jvb1/ep1/user1?pwd=[redacted]'],
    ['/R1?%6Awt=SECRET', '/R1?%6Awt=[redacted]'],
    ['/R1?%6a%57%54=SECRET&x=1', '/R1?%6a%57%54=[redacted]&x=1'],
    ['/R1?j%77t=SECRET%zz&lang=de', '/R1?j%77t=[redacted]&lang=de'],
    ['/http-bind?%74oken=SECRET', '/http-bind?%74oken=[redacted]'],
    ['/colibri-ws/x?PWD=SECRET', '/colibri-ws/x?PWD=[redacted]'],
    ['/room#jwt=%22SECRET%22', '/room#jwt=[redacted]'],
    ['/room?lang=de#config.a=1&jwt="SECRET"', '/room?lang=de#config.a=1&jwt=[redacted]'],
    ['/room?a=1&jwt=ONE&jwt=TWO', '/room?a=1&jwt=[redacted]&jwt=[redacted]'],
    // Names that only start with a secret one are redacted whole: over-redaction costs nothing.
    ['/room?jwtx=1&xjwt=2&pwdx=3', '/room?[redacted]&xjwt=2&[redacted]'],
    ['/Team%20Sync?jwt%3DeyJ.SECRET', '/Team%20Sync?[redacted]'],
    ['/http-bind?token%00=SECRET&x=1', '/http-bind?[redacted]&x=1'],
    ['/room?jwt', '/room?jwt'],
    ['/room?a=x%3Fjwt%3DNOT-A-PARAMETER', '/room?a=x%3Fjwt%3DNOT-A-PARAMETER'],
    ['cannot read /x?jwt=SECRET at line 1', 'cannot read /x?jwt=[redacted] at line 1'],
  ])('turns %s into %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });
});

describe('the logger', () => {
  it('redacts token values in any url field, whoever logs it', () => {
    const log = captureLog('info');
    log.logger.info({ url: '/room?jwt=secret-token' }, 'a line');
    expect(log.lines()[0]).toMatchObject({ url: '/room?jwt=[redacted]' });
    expect(log.text()).not.toContain('secret-token');
  });

  it('redacts token values quoted in an error message or stack', () => {
    const log = captureLog('info');
    log.logger.error({ err: new Error('cannot read /x?token=secret-token') }, 'failed');
    expect(log.lines()[0]).toMatchObject({ err: { message: 'cannot read /x?token=[redacted]' } });
    expect(log.text()).not.toContain('secret-token');
  });

  it('never prints cookie, authorization, certificate or header fields', () => {
    const log = captureLog('info');
    log.logger.info(
      {
        cookie: 'jcg_marker=abc',
        authorization: 'Bearer abc',
        certificate: '-----BEGIN',
        headers: { cookie: 'abc' },
      },
      'a careless line',
    );
    expect(log.lines()[0]).toMatchObject({
      cookie: '[redacted]',
      authorization: '[redacted]',
      certificate: '[redacted]',
      headers: '[redacted]',
    });
  });
});
