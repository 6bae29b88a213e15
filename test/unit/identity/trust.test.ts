import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { compileTrust } from '../../../src/identity/trust.js';

describe('trusted proxy check', () => {
  describe('with the default loopback range', () => {
    const isTrustedPeer = compileTrust(['loopback']);

    it.each(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])(
      'trusts the loopback peer %s',
      (peer) => {
        expect(isTrustedPeer(peer)).toBe(true);
      },
    );

    it.each(['10.0.0.1', '203.0.113.7', '::ffff:203.0.113.7', '2001:db8::1', 'fe80::1'])(
      'does not trust the peer %s',
      (peer) => {
        expect(isTrustedPeer(peer)).toBe(false);
      },
    );

    it.each([
      ['a missing peer address', undefined],
      ['an empty address', ''],
      ['a host name', 'localhost'],
      ['text that is not an address', '127.0.0.1, 10.0.0.1'],
      ['an address padded to 200 characters', `127.0.0.1${' '.repeat(191)}`],
    ])('does not trust %s', (_case, peer) => {
      expect(isTrustedPeer(peer)).toBe(false);
    });
  });

  describe('with a list of addresses and CIDR ranges', () => {
    const isTrustedPeer = compileTrust(['10.0.0.0/8', '192.168.1.5', '2001:db8::/32']);

    it.each(['10.1.2.3', '::ffff:10.1.2.3', '192.168.1.5', '::ffff:192.168.1.5', '2001:db8::5'])(
      'trusts the listed peer %s',
      (peer) => {
        expect(isTrustedPeer(peer)).toBe(true);
      },
    );

    it.each(['192.168.1.6', '11.0.0.1', '2001:db9::5', '127.0.0.1', '::1'])(
      'does not trust the unlisted peer %s',
      (peer) => {
        expect(isTrustedPeer(peer)).toBe(false);
      },
    );
  });

  it('trusts no peer at all when the list is empty', () => {
    const isTrustedPeer = compileTrust([]);

    expect(isTrustedPeer('127.0.0.1')).toBe(false);
    expect(isTrustedPeer('::1')).toBe(false);
  });

  it('refuses unusable entries with CONFIG_INVALID, naming every one of them', () => {
    const compile = (): unknown => compileTrust(['loopback', '10.0.0.0/33', 'nginx', '::1']);

    expect(compile).toThrow(GatewayError);
    expect(compile).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message:
          'identity.trustedProxies: "10.0.0.0/33", "nginx" must be an address, a CIDR range, or one of loopback, linklocal, uniquelocal',
      }),
    );
  });
});
