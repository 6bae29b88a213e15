import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/log.js';
import { captureLog } from '../helpers/logs.js';

describe('redactUrl', () => {
  it.each([
    ['/room?jwt=eyJ.a.b', '/room?jwt=[redacted]'],
    ['/http-bind?room=x&token=abc&x=1', '/http-bind?room=x&token=[redacted]&x=1'],
    ['/room?JWT=abc#frag', '/room?JWT=[redacted]#frag'],
    ['/room?lang=de', '/room?lang=de'],
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
