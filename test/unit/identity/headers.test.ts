import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/index.js';
import {
  hasIdentityHeaders,
  identityHeaderNames,
  listHeaderNames,
  readIdentityHeaders,
  stripIdentityHeaders,
} from '../../../src/identity/headers.js';

const settings = configSchema.parse({}).identity;
const names = identityHeaderNames(settings);

describe('identity header names', () => {
  it('uses the configured names in lower case, with the fixed fingerprint name', () => {
    const custom = configSchema.parse({
      identity: { subjectDnHeader: 'X-Client-DN', verifyHeader: 'X-Client-Verify' },
    }).identity;

    expect(identityHeaderNames(custom)).toEqual({
      verify: 'x-client-verify',
      subjectDn: 'x-client-dn',
      issuerDn: 'x-ssl-client-i-dn',
      serial: 'x-ssl-client-serial',
      fingerprint: 'x-ssl-client-fingerprint',
      certificate: 'x-ssl-client-cert',
    });
  });

  it('lists every header to strip once, including the legacy DN headers nginx sends', () => {
    expect(listHeaderNames(names)).toEqual([
      'x-ssl-client-verify',
      'x-ssl-client-s-dn',
      'x-ssl-client-i-dn',
      'x-ssl-client-serial',
      'x-ssl-client-fingerprint',
      'x-ssl-client-cert',
      'x-ssl-client-s-dn-legacy',
      'x-ssl-client-i-dn-legacy',
    ]);
  });
});

describe('reading identity headers', () => {
  it('reads a header sent once as its value and a missing one as absent', () => {
    const raw = readIdentityHeaders({ 'x-ssl-client-verify': 'SUCCESS' }, names);

    expect(raw.verify).toEqual({ kind: 'single', value: 'SUCCESS' });
    expect(raw.subjectDn).toEqual({ kind: 'absent' });
  });

  it('reads a one-element array as a header sent once', () => {
    const raw = readIdentityHeaders({ 'x-ssl-client-s-dn': ['CN=Alice'] }, names);

    expect(raw.subjectDn).toEqual({ kind: 'single', value: 'CN=Alice' });
  });

  it('reports a header sent several times as repeated, with the count', () => {
    const raw = readIdentityHeaders({ 'x-ssl-client-s-dn': ['CN=Alice', 'CN=Mallory'] }, names);

    expect(raw.subjectDn).toEqual({ kind: 'repeated', count: 2 });
  });

  it('counts the same header under names of different case as repeated', () => {
    const raw = readIdentityHeaders(
      { 'X-SSL-Client-Verify': 'SUCCESS', 'x-ssl-client-verify': 'SUCCESS' },
      names,
    );

    expect(raw.verify).toEqual({ kind: 'repeated', count: 2 });
  });

  it('reads a header whose name is not in lower case', () => {
    const raw = readIdentityHeaders({ 'X-SSL-Client-Serial': '0A' }, names);

    expect(raw.serial).toEqual({ kind: 'single', value: '0A' });
  });

  it('reads an empty array and values that are not text as absent', () => {
    const headers = { 'x-ssl-client-verify': [], 'x-ssl-client-serial': 42 } as unknown as Record<
      string,
      string
    >;
    const raw = readIdentityHeaders(headers, names);

    expect(raw.verify).toEqual({ kind: 'absent' });
    expect(raw.serial).toEqual({ kind: 'absent' });
  });
});

describe('detecting identity headers', () => {
  const list = listHeaderNames(
    identityHeaderNames(
      configSchema.parse({ identity: { subjectDnHeader: 'X-Client-DN' } }).identity,
    ),
  );

  it.each([
    ['a configured name', { 'x-client-dn': 'CN=Mallory' }],
    ['a configured name in another case', { 'X-Client-DN': 'CN=Mallory' }],
    ['any X-SSL-Client- header', { 'X-SSL-Client-V-Remain': '30' }],
  ])('finds %s', (_case, headers) => {
    expect(hasIdentityHeaders(headers, list)).toBe(true);
  });

  it('finds nothing among ordinary headers', () => {
    const headers = { host: 'meet.example.org', 'x-forwarded-for': '127.0.0.1', 'x-ssl': '1' };

    expect(hasIdentityHeaders(headers, list)).toBe(false);
  });
});

describe('stripIdentityHeaders', () => {
  it('removes the named headers and every X-SSL-Client- header, whatever their case', () => {
    const headers: Record<string, unknown> = {
      host: 'meet.example.org',
      'X-Client-DN': 'CN=Mallory',
      'x-ssl-client-verify': 'SUCCESS',
      'X-SSL-CLIENT-S-DN': 'CN=Mallory',
      'x-ssl-client-raw-cert': 'x',
      'x-ssl-clientele': 'kept',
      'x-forwarded-for': '127.0.0.1',
      cookie: 'a=b',
    };

    stripIdentityHeaders(headers, ['x-client-dn', 'x-ssl-client-verify']);

    expect(headers).toEqual({
      host: 'meet.example.org',
      'x-ssl-clientele': 'kept',
      'x-forwarded-for': '127.0.0.1',
      cookie: 'a=b',
    });
  });

  it('removes a named header given in upper case from a lower-case record', () => {
    const headers: Record<string, unknown> = { 'x-client-dn': 'CN=Mallory', accept: '*/*' };

    stripIdentityHeaders(headers, ['X-Client-DN']);

    expect(headers).toEqual({ accept: '*/*' });
  });
});
