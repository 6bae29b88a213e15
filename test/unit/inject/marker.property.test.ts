// Properties of reading a presented marker cookie: only an unaltered marker of ours counts.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeMarker,
  readMarkerCookie,
  type Marker,
  type MarkerKeys,
} from '../../../src/inject/marker.js';

const NOW = 1_800_000_000;
const SECRET = 'current-marker-secret-that-is-long-enough';
const OLD_SECRET = 'previous-marker-secret-that-is-long-enough';
const keys: MarkerKeys = { secret: SECRET, previousSecrets: [], maxAgeSeconds: 600 };

/** The cookie value as express's res.cookie(..., { signed: true }) writes it, decoded. */
function signed(value: string, secret: string): string {
  const mac = createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '');
  return `s:${value}.${mac}`;
}

const marker: fc.Arbitrary<Marker> = fc.record({
  state: fc.constantFrom('sent' as const, 'arrived' as const),
  subject: fc.stringMatching(/^[0-9a-f]{32}$/),
  issuedAt: fc.integer({ min: NOW - 600, max: NOW }),
});

describe('readMarkerCookie', () => {
  it('reads back every marker it signed, within its age', () => {
    fc.assert(
      fc.property(marker, (value) => {
        expect(readMarkerCookie(signed(encodeMarker(value), SECRET), keys, NOW)).toEqual({
          kind: 'valid',
          marker: value,
          previousSecret: false,
        });
      }),
    );
  });

  it('ignores every marker with one character changed, added or removed', () => {
    const edit = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('change', 'insert', 'delete'),
      char: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }),
    });
    fc.assert(
      fc.property(marker, edit, (value, { at, kind, char }) => {
        const cookie = signed(encodeMarker(value), SECRET);
        const index = at % cookie.length;
        const altered =
          kind === 'insert'
            ? `${cookie.slice(0, index)}${char}${cookie.slice(index)}`
            : `${cookie.slice(0, index)}${kind === 'change' ? char : ''}${cookie.slice(index + 1)}`;
        fc.pre(altered !== cookie);

        expect(readMarkerCookie(altered, keys, NOW).kind).toBe('ignored');
      }),
      { numRuns: 5_000 },
    );
  });

  it('ignores any text that was not signed by us', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 120 }), (text) => {
        expect(readMarkerCookie(text, keys, NOW).kind).toBe('ignored');
        expect(readMarkerCookie(`s:${text}`, keys, NOW).kind).toBe('ignored');
      }),
      { numRuns: 3_000 },
    );
  });

  it('ignores a value signed with our secret that is not a marker', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 60 }), (text) => {
        fc.pre(!/^[sa]\.\d{1,12}\.[0-9a-f]{32}$/.test(text));
        expect(readMarkerCookie(signed(text, SECRET), keys, NOW)).toEqual({
          kind: 'ignored',
          reason: 'marker-malformed',
        });
      }),
    );
  });

  it('ignores every marker older than its maximum age, or from the future', () => {
    const age = fc.oneof(
      fc.integer({ min: 601, max: 10 ** 8 }),
      fc.integer({ min: -(10 ** 8), max: -61 }),
    );
    fc.assert(
      fc.property(marker, age, (value, seconds) => {
        const old = { ...value, issuedAt: NOW - seconds };
        expect(readMarkerCookie(signed(encodeMarker(old), SECRET), keys, NOW)).toEqual({
          kind: 'ignored',
          reason: 'marker-expired',
        });
      }),
    );
  });

  it('accepts a marker of a previous secret only before the end of its grace period', () => {
    const graceEnd = fc.integer({ min: NOW - 10_000, max: NOW + 10_000 });
    fc.assert(
      fc.property(marker, graceEnd, (value, until) => {
        const cookie = signed(encodeMarker(value), OLD_SECRET);
        const rotated = { ...keys, previousSecrets: [OLD_SECRET], previousUntil: until };
        const reading = readMarkerCookie(cookie, rotated, NOW);

        expect(reading).toEqual(
          NOW < until
            ? { kind: 'valid', marker: value, previousSecret: true }
            : { kind: 'ignored', reason: 'marker-old-secret' },
        );
      }),
    );
  });

  it('ignores a marker of a previous secret that is not configured as one', () => {
    fc.assert(
      fc.property(marker, (value) => {
        const cookie = signed(encodeMarker(value), OLD_SECRET);
        expect(readMarkerCookie(cookie, keys, NOW)).toEqual({
          kind: 'ignored',
          reason: 'marker-signature-invalid',
        });
      }),
    );
  });
});
