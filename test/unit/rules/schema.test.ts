import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';

const SECRETS = { JWT_APP_SECRET: 'a'.repeat(32), GATEWAY_COOKIE_SECRET: 'b'.repeat(32) };

function problemsWith(list: unknown): string[] {
  const result = loadConfig({ env: { ...SECRETS, GATEWAY_RULES: JSON.stringify(list) } });
  return result.ok ? [] : result.problems;
}

function rulesOf(list: unknown) {
  const result = loadConfig({ env: { ...SECRETS, GATEWAY_RULES: JSON.stringify(list) } });
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.config.rules.list;
}

describe('rules in the configuration', () => {
  it('has no rules by default', () => {
    const result = loadConfig({ env: SECRETS });
    expect(result.ok && result.config.rules.list).toEqual([]);
  });

  it('accepts one value or a list wherever a list is allowed', () => {
    expect(rulesOf([{ when: { subject: { OU: 'Admins' } }, set: { moderator: true } }])).toEqual([
      { when: { subject: { OU: ['Admins'] } }, set: { moderator: true } },
    ]);
  });

  it('brings serials and fingerprints to the spelling nginx sends', () => {
    const [rule] = rulesOf([
      {
        when: {
          serial: ['0x00ab:cd'],
          fingerprint: ['56:A6:FC:29:EB:2D:67:1A:56:20:48:09:81:C5:B1:12:5C:F4:0E:B0'],
        },
        refuse: 'blocked',
      },
    ]);
    expect(rule?.when).toEqual({
      serial: ['ABCD'],
      fingerprint: ['56a6fc29eb2d671a5620480981c5b1125cf40eb0'],
    });
  });

  it('reports every invalid rule with its path, all at once', () => {
    expect(
      problemsWith([
        { when: { subject: { OU: 'Admins' } }, set: { moderator: 'yes' } },
        { when: { serial: ['not-hex'] }, refuse: 'revoked' },
        { when: { atribute: 'OU' }, set: { group: 'x' } },
        { set: { features: { recordings: true } } },
        { set: { avatar: 'ftp://avatars.example.org/{UID}' } },
        { set: { avatar: 'https://avatars.example.org/{UID.png' } },
        { when: { subject: { 'O U': 'x' } }, set: { group: 'x' } },
        { set: { group: 'x' }, refuse: 'no' },
        { when: { fingerprint: ['abcd'], emailDomain: 'localhost' }, refuse: 'no' },
      ]),
    ).toEqual([
      'rules.list.0.set.moderator: must be true or false',
      'rules.list.1.when.serial.0: must be hexadecimal (colons allowed)',
      'rules.list.2.when.atribute: is not a condition; use subject, issuer, issuerDn, emailDomain, serial, fingerprint, tenant, not',
      expect.stringMatching(
        /^rules\.list\.3\.set\.features\.recordings: is not a Jitsi feature; use branding, calendar, .*, transcription$/,
      ),
      'rules.list.4.set.avatar: must be an https:// or http:// URL (with {placeholders})',
      "rules.list.5.set.avatar: has a '{' without a '}'",
      'rules.list.6.when.subject.O U: is not an attribute type such as OU, UID, serialNumber or a dotted OID',
      'rules.list.7: needs either "set" or "refuse", not both',
      'rules.list.8.when.emailDomain: must be a domain such as example.org',
      "rules.list.8.when.fingerprint.0: must be a SHA-1 fingerprint (40 hex digits), as nginx's $ssl_client_fingerprint",
    ]);
  });

  it('reports rules in the environment that are not JSON', () => {
    const result = loadConfig({ env: { ...SECRETS, GATEWAY_RULES: '[{"when":' } });
    expect(result.ok ? [] : result.problems).toEqual([
      'rules.list (GATEWAY_RULES): is not valid JSON text',
    ]);
  });

  it('reports a rule that names no claim and no refusal', () => {
    expect(problemsWith([{ when: { subject: { OU: 'Admins' } } }])).toEqual([
      'rules.list.0: needs either "set" or "refuse", not both',
    ]);
  });
});
