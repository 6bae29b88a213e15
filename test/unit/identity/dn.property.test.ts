// Properties of the subject DN reader over DNs generated the way nginx prints them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/index.js';
import { GatewayError } from '../../../src/errors.js';
import {
  createIdentityReader,
  decodeDn,
  type DnAttribute,
  type IdentityReading,
} from '../../../src/identity/index.js';

const NGINX_PEER = '127.0.0.1';
const reader = createIdentityReader(configSchema.parse({}).identity);
/** Every generated value holds this, so that a message quoting the DN is caught. */
const SENTINEL = 'Qz7Sentinel';

interface Attribute {
  type: string;
  value: string;
  /** `#` and DER hex, printed as written (OpenSSL's dump of a non-text value). */
  dumped: boolean;
  /** Per character: print it as `\XX` bytes even where OpenSSL would not, and in lower case. */
  hex: boolean[];
  lower: boolean;
}

type Rdn = Attribute[];

const NAMED_TYPES = [
  'CN',
  'O',
  'OU',
  'C',
  'L',
  'ST',
  'DC',
  'UID',
  'emailAddress',
  'serialNumber',
  'title',
  'GN',
  'SN',
  'street',
  'postalCode',
  'pseudonym',
  'x500UniqueIdentifier',
];

const numericOid = fc
  .array(fc.nat({ max: 99_999 }), { minLength: 1, maxLength: 8 })
  .chain((rest) => fc.constantFrom(0, 1, 2).map((first) => [first, ...rest].join('.')));

const attributeType = fc.oneof(fc.constantFrom(...NAMED_TYPES), numericOid);

/** RFC 2253 specials, spaces and '#' where they need escapes, controls, and Unicode of every width. */
const valueChar = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(',', '+', '"', '\\', '<', '>', ';', '=', '#', ' ') },
  { weight: 3, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom('é', 'Ł', 'ß', '中', '😀', '𝔘', '\u{10FFFF}', '\u0000') },
);

const textAttribute: fc.Arbitrary<Attribute> = fc
  .array(fc.tuple(valueChar, fc.boolean()), { maxLength: 24 })
  .chain((chars) =>
    fc.record({
      type: attributeType,
      value: fc.constant(chars.map(([char]) => char).join('')),
      dumped: fc.constant(false),
      hex: fc.constant(chars.flatMap(([char, hex]) => [...char].map(() => hex))),
      lower: fc.boolean(),
    }),
  );

const dumpedAttribute: fc.Arbitrary<Attribute> = fc.record({
  type: numericOid,
  value: fc
    .uint8Array({ minLength: 1, maxLength: 24 })
    .chain((bytes) =>
      fc.boolean().map((lower) => `#${lowerOrUpper(Buffer.from(bytes).toString('hex'), lower)}`),
    ),
  dumped: fc.constant(true),
  hex: fc.constant([]),
  lower: fc.constant(false),
});

const attribute = fc.oneof({ weight: 6, arbitrary: textAttribute }, dumpedAttribute);
const rdn: fc.Arbitrary<Rdn> = fc.array(attribute, { minLength: 1, maxLength: 3 });
const rdns: fc.Arbitrary<Rdn[]> = fc.array(rdn, { minLength: 1, maxLength: 6 });

function lowerOrUpper(text: string, lower: boolean): string {
  return lower ? text.toLowerCase() : text.toUpperCase();
}

function hexBytes(char: string, lower: boolean): string {
  return [...Buffer.from(char, 'utf8')]
    .map((byte) => `\\${lowerOrUpper(byte.toString(16).padStart(2, '0'), lower)}`)
    .join('');
}

/**
 * Prints one value as OpenSSL's X509_NAME_print_ex with XN_FLAG_RFC2253 does: bytes of
 * non-ASCII characters and controls as `\XX` (ESC_MSB, ESC_CTRL), `,+"\<>;` with a backslash,
 * a leading '#' or space and a trailing space with a backslash. Characters marked `hex` are
 * printed as `\XX` bytes instead, which RFC 4514 allows for any character.
 */
function encodeValue(attribute: Attribute): string {
  if (attribute.dumped) return attribute.value;

  const chars = [...attribute.value];
  return chars
    .map((char, index) => {
      const code = char.codePointAt(0) as number;
      if (attribute.hex[index] || code < 0x20 || code === 0x7f || code >= 0x80) {
        return hexBytes(char, attribute.lower);
      }
      if (',+"\\<>;'.includes(char)) return `\\${char}`;
      const edge =
        (index === 0 && (char === '#' || char === ' ')) ||
        (index === chars.length - 1 && char === ' ');
      return edge ? `\\${char}` : char;
    })
    .join('');
}

function encodeAttribute(attribute: Attribute): string {
  return `${attribute.type}=${encodeValue(attribute)}`;
}

/** RDNs joined with ',' and the attributes of a multi-valued RDN with '+', no spaces. */
function encodeDn(name: readonly Rdn[]): string {
  return name.map((parts) => parts.map(encodeAttribute).join('+')).join(',');
}

function expectedAttributes(name: readonly Rdn[]): DnAttribute[] {
  return name.flatMap((parts, index) =>
    parts.map((part) => ({ type: part.type, value: part.value, rdn: index })),
  );
}

function read(subjectDn: string): IdentityReading {
  return reader.read(NGINX_PEER, {
    'x-ssl-client-verify': 'SUCCESS',
    'x-ssl-client-s-dn': subjectDn,
  });
}

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** A refusal: DN_MALFORMED, a one-line message naming the subject DN, nothing of its content. */
function expectRefusal(error: unknown): void {
  expect(error).toBeInstanceOf(GatewayError);
  const { code, message } = error as GatewayError;
  expect(code).toBe('DN_MALFORMED');
  expect(message).toMatch(/^subject DN: [^\n]+$/);
  expect(message).not.toContain(SENTINEL);
}

describe('decodeDn over DNs printed as nginx prints them', () => {
  it('decodes every generated DN to exactly the attributes it was printed from', () => {
    fc.assert(
      fc.property(rdns, (name) => {
        expect(decodeDn(encodeDn(name))).toEqual(expectedAttributes(name));
      }),
      { numRuns: 2_000 },
    );
  });

  it('reads every generated DN from nginx into a holder with exactly those attributes', () => {
    fc.assert(
      fc.property(rdns, (name) => {
        const reading = read(encodeDn(name));

        expect(reading.kind).toBe('holder');
        if (reading.kind === 'holder') {
          expect(reading.identity.attributes).toEqual(expectedAttributes(name));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('decodes astral characters escaped as four UTF-8 bytes', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.integer({ min: 0x10000, max: 0x10ffff }).map(String.fromCodePoint) }),
        (value) => {
          const name: Rdn[] = [[{ type: 'CN', value, dumped: false, hex: [], lower: false }]];
          expect(decodeDn(encodeDn(name))).toEqual([{ type: 'CN', value, rdn: 0 }]);
        },
      ),
    );
  });
});

/** One way to break a printed DN, applied at the end of one attribute's value. */
interface Defect {
  name: string;
  /** Returns the attribute's printed form with the defect in it. */
  apply(printed: string): string;
}

const VALUE_DEFECTS: Defect[] = [
  { name: 'a backslash escaping a letter', apply: (printed) => `${printed}\\q` },
  { name: 'a backslash before one hex digit', apply: (printed) => `${printed}\\4` },
  { name: 'a backslash before a non-hex pair', apply: (printed) => `${printed}\\G1` },
  { name: 'a lone UTF-8 lead byte', apply: (printed) => `${printed}\\C3` },
  { name: 'a lone continuation byte', apply: (printed) => `${printed}\\80` },
  { name: 'an invalid byte', apply: (printed) => `${printed}\\FF` },
  { name: 'an overlong slash', apply: (printed) => `${printed}\\C0\\AF` },
  { name: 'an encoded surrogate', apply: (printed) => `${printed}\\ED\\A0\\80` },
  { name: 'a truncated four-byte character', apply: (printed) => `${printed}\\F0\\9F\\98` },
  { name: 'an unescaped quote', apply: (printed) => `${printed}"` },
  { name: 'an unescaped semicolon', apply: (printed) => `${printed};` },
  { name: 'an unescaped angle bracket', apply: (printed) => `${printed}<` },
  { name: 'a raw NUL', apply: (printed) => `${printed}\0` },
  { name: 'an unescaped trailing space', apply: (printed) => `${printed}x ` },
  {
    name: 'an unbalanced opening quote',
    apply: (printed) => printed.replace('=', '="'),
  },
  {
    name: 'a space after the separator, as when the header is sent twice',
    apply: (printed) => `${printed}, CN=${SENTINEL}`,
  },
  { name: 'an empty RDN after it', apply: (printed) => `${printed},` },
  { name: 'an empty RDN between', apply: (printed) => `${printed},,CN=x` },
  { name: 'an empty multi-valued part', apply: (printed) => `${printed}+,CN=x` },
];

const WHOLE_DEFECTS: Defect[] = [
  { name: 'an empty first RDN', apply: (dn) => `,${dn}` },
  { name: 'a dangling backslash at the end', apply: (dn) => `${dn}\\` },
  { name: 'a 64 KiB value', apply: (dn) => `${dn},CN=${'a'.repeat(64 * 1024)}` },
  { name: 'a 64 KiB escaped value', apply: (dn) => `${dn},CN=${'\\C3\\A9'.repeat(11_000)}` },
];

/** Every printed value carries the sentinel, so that quoting any of it shows. */
const sentinelRdns = rdns.map((name) =>
  name.map((parts) =>
    parts.map((part) =>
      part.dumped ? part : { ...part, value: `${SENTINEL}${part.value}`, hex: [] },
    ),
  ),
);

const brokenDn = fc
  .record({
    name: sentinelRdns,
    defect: fc.constantFrom(...VALUE_DEFECTS),
    at: fc.nat(),
  })
  .map(({ name, defect, at }) => {
    const printed = name.map((parts) => parts.map(encodeAttribute));
    const flat = printed.flat();
    const target = at % flat.length;
    let index = 0;
    const text = printed
      .map((parts) => parts.map((part) => (index++ === target ? defect.apply(part) : part)))
      .map((parts) => parts.join('+'))
      .join(',');
    return { text, defect: defect.name };
  });

const brokenWholeDn = fc
  .record({ name: sentinelRdns, defect: fc.constantFrom(...WHOLE_DEFECTS) })
  .map(({ name, defect }) => ({ text: defect.apply(encodeDn(name)), defect: defect.name }));

describe('decodeDn over malformed DNs', () => {
  it('refuses every DN with a defect in one value with DN_MALFORMED and a clear message', () => {
    fc.assert(
      fc.property(fc.oneof(brokenDn, brokenWholeDn), ({ text }) => {
        expectRefusal(caught(() => decodeDn(text)));
      }),
      { numRuns: 2_000 },
    );
  });

  it('reads a DN from nginx with any such defect as invalid, never as a holder', () => {
    fc.assert(
      fc.property(fc.oneof(brokenDn, brokenWholeDn), ({ text }) => {
        const reading = read(text);

        expect(reading.kind).toBe('invalid');
        if (reading.kind === 'invalid') expectRefusal(reading.error);
      }),
      { numRuns: 500 },
    );
  });

  it('returns attributes or throws DN_MALFORMED for any text at all, never another error', () => {
    const piece = fc.oneof(
      fc.constantFrom('CN', 'O', '1.2.3', '=', ',', '+', '\\', '"', '#', ' ', ';', '<'),
      fc.constantFrom('\\2C', '\\C3', '\\A9', '\\F0\\9F\\98\\80', '\\ZZ', '#0C01', 'é', '\0'),
      fc.string({ unit: 'binary', maxLength: 4 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
        const text = pieces.join('');
        const error = caught(() => decodeDn(text));
        if (error === undefined) return;

        expect(error).toBeInstanceOf(GatewayError);
        expect(error).toMatchObject({ code: 'DN_MALFORMED' });
      }),
      { numRuns: 5_000 },
    );
  });

  it('gives every attribute it returns a valid type and RDN indices that count up from zero', () => {
    const piece = fc.constantFrom('CN=', 'O=', '2.5.4.3=', 'a', '\\,', '\\C3\\A9', ',', '+', '#00');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        let attributes: DnAttribute[];
        try {
          attributes = decodeDn(pieces.join(''));
        } catch {
          return;
        }

        attributes.forEach((attribute, index) => {
          expect(attribute.type).toMatch(/^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)$/);
          const previous = index === 0 ? 0 : (attributes[index - 1] as DnAttribute).rdn;
          expect(attribute.rdn - previous).toBeGreaterThanOrEqual(0);
          expect(attribute.rdn - previous).toBeLessThanOrEqual(1);
        });
      }),
      { numRuns: 3_000 },
    );
  });
});
