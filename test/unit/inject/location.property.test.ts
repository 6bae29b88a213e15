// The redirect target over generated request paths and queries: it never leaves the site.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { locationWithToken } from '../../../src/inject/location.js';
import { readRoomPath } from '../../../src/inject/room-page.js';

const SITE = 'https://meet.example.org';

/** Pieces of path segments, ordinary and hostile. */
const segmentPiece = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~-]{1,8}$/) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '/',
      '//',
      '\\',
      '%2F',
      '%2f',
      '%5C',
      '%5c',
      '%2F%2F',
      '%252F',
      '\r',
      '\n',
      '\r\n',
      '%0D%0A',
      '\t',
      '%09',
      ' ',
      '%20',
      '\0',
      '%00',
      '#',
      '%23',
      '?',
      '@',
      ':',
      '..',
      '.',
      '%2E%2E',
      '%',
      '%G1',
      '%E0%A4%A',
      '%C3%A9',
      'é',
      '😀',
      '"',
      '<',
      '>',
      '`',
      '{',
      '|',
      '^',
      '[',
      ']',
      "'",
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 3 }) },
);

const segment = fc.array(segmentPiece, { maxLength: 5 }).map((pieces) => pieces.join(''));

/** Request targets as a client may write them: origin form, absolute form, or no slash at all. */
const rawPath = fc.oneof(
  { weight: 6, arbitrary: fc.array(segment, { minLength: 1, maxLength: 3 }).map(toPath) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          '//evil.example',
          '/\\evil.example',
          '/%2F%2Fevil.example',
          '/%5Cevil.example',
          '/%5C%5Cevil.example',
          '///evil.example',
          '/\t/evil.example',
          '/\r\n/evil.example',
          'http://evil.example',
          'https://evil.example',
          '//evil.example:443',
          'evil.example',
          '*',
          '',
        ),
        segment,
      )
      .map(([prefix, rest]) => `${prefix}/${rest}`),
  },
  { weight: 1, arbitrary: fc.nat({ max: 20_000 }).map((length) => `/${'a'.repeat(length + 1)}`) },
);

const rawQuery = fc
  .array(
    fc.oneof(
      fc.stringMatching(/^[a-z]{1,5}=[A-Za-z0-9%]{0,6}$/),
      fc.constantFrom('jwt=old', 'jwt', '%6Awt=x', '&', '=', '#', '#x', '\\', ' ', '\r\n', '\t'),
      fc.constantFrom('Location: http://evil.example', 'next=//evil.example', '"<>`{}|^'),
      fc.string({ unit: 'binary', maxLength: 4 }),
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join('&'));

/** The characters a JWT is written with: base64url and dots. */
const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}\.[A-Za-z0-9_-]{1,80}\.[A-Za-z0-9_-]{1,43}$/);

function toPath(segments: string[]): string {
  return `/${segments.join('/')}`;
}

describe('the redirect target for any room path the gateway accepts', () => {
  it('stays on the site, is a valid header value and carries exactly our token', () => {
    fc.assert(
      fc.property(rawPath, rawQuery, token, (path, query, jwt) => {
        if (readRoomPath(path) === undefined) return;

        const location = locationWithToken(path, query, jwt);

        expect(location).toMatch(/^\/[^/\\]/);
        expect(location).toMatch(/^[\x21-\x7e]+$/);
        const resolved = new URL(location, SITE);
        expect(resolved.origin).toBe(SITE);
        expect(resolved.hash).toBe('');
        expect(resolved.searchParams.getAll('jwt')).toEqual([jwt]);
      }),
      { numRuns: 5_000 },
    );
  });

  it('writes a lone surrogate in the query as an encoded replacement character', () => {
    expect(locationWithToken('/room', 'x=\uD800', 'T')).toBe('/room?x=%EF%BF%BD&jwt=T');
  });

  it('refuses every path that starts with two slashes, a backslash, or their encodings', () => {
    const leader = fc.constantFrom('//', '/\\', '/%2F', '/%2f', '/%5C', '/%5c', '\\', '/\t/');
    fc.assert(
      fc.property(leader, segment, (start, rest) => {
        expect(readRoomPath(`${start}${rest}`)).toBeUndefined();
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses every path with a line break, a tab, a space or a raw fragment mark in it', () => {
    fc.assert(
      fc.property(
        segment,
        fc.constantFrom('\r', '\n', '\t', ' ', '\0', '\x7f', '#'),
        segment,
        (before, bad, after) => {
          expect(readRoomPath(`/${before}${bad}${after}`)).toBeUndefined();
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
