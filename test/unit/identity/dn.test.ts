import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { decodeDn } from '../../../src/identity/index.js';
import { decodeDistinguishedName } from '../../../src/identity/dn.js';

function values(text: string): string[] {
  return decodeDn(text).map((attribute) => attribute.value);
}

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('decodeDn', () => {
  it('decodes each attribute with its type and RDN index, in the order nginx prints them', () => {
    expect(decodeDn('emailAddress=alice@example.org,CN=Alice Example,OU=Staff,C=DE')).toEqual([
      { type: 'emailAddress', value: 'alice@example.org', rdn: 0 },
      { type: 'CN', value: 'Alice Example', rdn: 1 },
      { type: 'OU', value: 'Staff', rdn: 2 },
      { type: 'C', value: 'DE', rdn: 3 },
    ]);
  });

  it('gives the attributes of a multi-valued RDN one shared index', () => {
    expect(decodeDn('UID=carol01+CN=Carol Admin,OU=Staff,OU=Admins')).toEqual([
      { type: 'UID', value: 'carol01', rdn: 0 },
      { type: 'CN', value: 'Carol Admin', rdn: 0 },
      { type: 'OU', value: 'Staff', rdn: 1 },
      { type: 'OU', value: 'Admins', rdn: 2 },
    ]);
  });

  it.each([
    [
      'UTF-8 bytes escaped as \\XX',
      'CN=Jos\\C3\\A9 M\\C3\\BCller-\\C5\\81ukasz',
      'José Müller-Łukasz',
    ],
    ['lower-case hex escapes', 'CN=Jos\\c3\\a9', 'José'],
    ['a four-byte character', 'CN=\\F0\\9F\\98\\80 smile', '😀 smile'],
    ['a hex-escaped comma', 'CN=a\\2Cb', 'a,b'],
    [
      'every backslash-escaped special',
      'CN=a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h\\=i',
      'a,b+c"d\\e<f>g;h=i',
    ],
    ['an escaped leading hash', 'CN=\\#hash', '#hash'],
    ['escaped leading and trailing spaces', 'CN=\\ Frank\\ ', ' Frank '],
    ['inner spaces', 'CN=a  b', 'a  b'],
    ['an unescaped equals sign', 'CN=a=b', 'a=b'],
    ['an empty value', 'CN=', ''],
    ['a quoted value with separators', 'CN="Smith, Bob+Co; <x>"', 'Smith, Bob+Co; <x>'],
    ['a quoted value with escapes', 'CN="a\\"b\\C3\\A9"', 'a"bé'],
  ])('decodes %s', (_case, text, value) => {
    expect(values(text)).toEqual([value]);
  });

  it('keeps a #hex DER value as written, under its dotted OID', () => {
    expect(decodeDn('1.2.3.4=#0C0568656C6C6F,CN=x')).toEqual([
      { type: '1.2.3.4', value: '#0C0568656C6C6F', rdn: 0 },
      { type: 'CN', value: 'x', rdn: 1 },
    ]);
  });

  it('decodes an empty DN as no attributes', () => {
    expect(decodeDn('')).toEqual([]);
  });

  it('accepts a DN of exactly 16 KiB', () => {
    const text = `CN=${'a'.repeat(16 * 1024 - 3)}`;

    expect(values(text)).toEqual(['a'.repeat(16 * 1024 - 3)]);
  });

  it.each([
    ['CN=Alice Smith\\', 'dangling backslash at position 14'],
    ['CN=Jos\\C3', 'CN value has invalid UTF-8 at position 6'],
    ['CN=Jos\\C3 x', 'CN value has invalid UTF-8 at position 6'],
    ['O=\\C3\\28', 'O value has invalid UTF-8 at position 2'],
    ['CN=\\C0\\AF', 'CN value has invalid UTF-8 at position 3'],
    ['CN=\\ED\\A0\\80', 'CN value has invalid UTF-8 at position 3'],
    ['CN="\\FF"', 'CN value has invalid UTF-8 at position 4'],
    ['CN=a\\qb', 'backslash at position 4 escapes neither a special character nor a hex pair'],
    ['CN=a\\4', 'backslash at position 4 escapes neither a special character nor a hex pair'],
    ['CN=Alice, O=Example', "space after ',' at position 9, as when the header is sent twice"],
    ['CN=Alice,', 'attribute type missing at position 9'],
    [',CN=Alice', 'attribute type missing at position 0'],
    ['CN=a+', 'attribute type missing at position 5'],
    ['=Alice', 'attribute type missing at position 0'],
    ['CN', "attribute type at position 0 has no '='"],
    ['CN=a,O', "attribute type at position 5 has no '='"],
    ['C N=x', 'attribute type at position 0 is neither a name nor a dotted OID'],
    ['1.2.=x', 'attribute type at position 0 is neither a name nor a dotted OID'],
    [' CN=x', 'attribute type at position 0 is neither a name nor a dotted OID'],
    ['CN=a;O=b', "unescaped ';' at position 4"],
    ['CN=a"b', "unescaped '\"' at position 4"],
    ['CN=a<b', "unescaped '<' at position 4"],
    ['CN=a>b', "unescaped '>' at position 4"],
    ['CN=a\0b', 'raw character outside printable ASCII at position 4; nginx escapes those'],
    // UTF-8 that a proxy sent unescaped arrives as one character per byte (Latin-1).
    [
      'CN=J\u00c3\u00bcrgen',
      'raw character outside printable ASCII at position 4; nginx escapes those',
    ],
    ['CN=a\nb', 'raw character outside printable ASCII at position 4; nginx escapes those'],
    ['CN= a', 'unescaped leading space at position 3'],
    ['CN=a ,O=b', 'unescaped trailing space at position 4'],
    ['CN=#', "'#' value at position 3 needs an even, non-zero number of hex digits"],
    ['CN=#ABC', "'#' value at position 3 needs an even, non-zero number of hex digits"],
    ['CN=#ABxy', "'#' value at position 3 has a character that is not a hex digit"],
    ['CN="abc', 'quoted value starting at position 3 is not closed'],
    ['CN="abc"d', 'quoted value starting at position 3 is followed by more text'],
  ])('refuses %j with DN_MALFORMED: %s', (text, problem) => {
    const error = caught(() => decodeDn(text));

    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: 'DN_MALFORMED', message: `subject DN: ${problem}` });
  });

  it('refuses a DN over 16 KiB with DN_MALFORMED, giving its length', () => {
    const error = caught(() => decodeDn(`CN=${'a'.repeat(16 * 1024)}`));

    expect(error).toMatchObject({
      code: 'DN_MALFORMED',
      message: 'subject DN: is 16387 characters long, more than the 16384 allowed',
    });
  });

  it('refuses a value that is not text with DN_MALFORMED', () => {
    const error = caught(() => decodeDn(undefined as unknown as string));

    expect(error).toMatchObject({ code: 'DN_MALFORMED', message: 'subject DN: is not text' });
  });

  it('names the DN it was given in its messages', () => {
    const error = caught(() => decodeDistinguishedName('CN=x\\', 'issuer DN'));

    expect(error).toMatchObject({ message: 'issuer DN: dangling backslash at position 4' });
  });

  it('never quotes the DN in its message', () => {
    const error = caught(() => decodeDn('CN=Secret Person,O=Hidden Org\\'));

    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).message).not.toMatch(/Secret|Hidden/);
  });

  it('returns attributes or throws a DN_MALFORMED GatewayError for any mix of special characters', () => {
    const alphabet = ['C', 'N', '=', ',', '+', '\\', '"', '#', ' ', 'A', '9', 'é', ';', '\0'];
    let seed = 20_240_601;
    const next = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };

    for (let round = 0; round < 5_000; round += 1) {
      const length = next() % 24;
      const text = Array.from({ length }, () => alphabet[next() % alphabet.length]).join('');
      try {
        expect(Array.isArray(decodeDn(`CN=${text}`))).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(GatewayError);
        expect(error).toMatchObject({ code: 'DN_MALFORMED' });
      }
    }
  });
});
