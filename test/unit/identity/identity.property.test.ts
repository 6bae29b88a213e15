// Properties of the identity reader: only nginx's exact `SUCCESS` from a trusted proxy counts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/index.js';
import { createIdentityReader } from '../../../src/identity/index.js';
import { readFixture } from '../../helpers/fixtures.js';

const reader = createIdentityReader(
  configSchema.parse({ identity: { trustedProxies: ['127.0.0.1'] } }).identity,
);
const alice = readFixture('plain').headers;

const junk = fc.oneof(
  fc.constantFrom(' ', '\t', ',', ', SUCCESS', ';', '"', '\0', '\u00a0', 'x', ':', '\r\n'),
  fc.string({ unit: 'binary', maxLength: 4 }),
);
const spelling = fc.constantFrom('SUCCESS', 'success', 'Success', 'SUCCES', 'SUCCESSS', 'S UCCESS');

/** SUCCESS in some spelling with something around it; never exactly `SUCCESS`. */
const decoratedVerify = fc
  .tuple(fc.array(junk, { maxLength: 3 }), spelling, fc.array(junk, { maxLength: 3 }))
  .map(([before, word, after]) => `${before.join('')}${word}${after.join('')}`)
  .filter((value) => value !== 'SUCCESS');

describe('the identity reader and the verify header', () => {
  it('makes a holder from exactly SUCCESS, so that the properties below are not empty', () => {
    expect(reader.read('127.0.0.1', alice).kind).toBe('holder');
  });

  it.each(['SUCCESS ', ' SUCCESS', 'SUCCESS, SUCCESS', 'success', 'SUCCESS\t'])(
    'makes no holder from the verify value %j',
    (verify) => {
      expect(reader.read('127.0.0.1', { ...alice, 'x-ssl-client-verify': verify }).kind).toBe(
        'guest',
      );
    },
  );

  it('makes no holder from any verify value that is not exactly SUCCESS', () => {
    fc.assert(
      fc.property(decoratedVerify, (verify) => {
        const reading = reader.read('127.0.0.1', { ...alice, 'x-ssl-client-verify': verify });
        expect(reading).toEqual({ kind: 'guest', reason: 'verify-failed' });
      }),
      { numRuns: 3_000 },
    );
  });

  it('makes no holder from a verify header sent more than once, whatever its values', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('SUCCESS', 'NONE', 'FAILED:x'), { minLength: 2 }),
        (values) => {
          const reading = reader.read('127.0.0.1', { ...alice, 'x-ssl-client-verify': values });
          expect(reading.kind).toBe('guest');
        },
      ),
    );
  });

  it('makes no holder from any peer outside the trusted proxies, whatever the headers say', () => {
    const peer = fc.oneof(
      fc.ipV4().filter((address) => address !== '127.0.0.1'),
      // IPv4-mapped forms of 127.0.0.1 are the trusted proxy itself.
      fc.ipV6().filter((address) => !/ffff/i.test(address)),
      fc.constantFrom('::ffff:127.0.0.2', '127.0.0.1 ', 'localhost', '', '0.0.0.0'),
    );
    fc.assert(
      fc.property(peer, (address) => {
        expect(reader.read(address, alice)).toEqual({ kind: 'guest', reason: 'untrusted-peer' });
      }),
      { numRuns: 2_000 },
    );
  });
});
