import { createHash } from 'node:crypto';
import type { Config } from '../config/index.js';
import { GatewayError, isGatewayError, type GatewayErrorCode } from '../errors.js';
import { readCertificate } from './certificate.js';
import { decodeDistinguishedName, decodeDn, type DnAttribute } from './dn.js';
import {
  hasIdentityHeaders,
  identityHeaderInitials,
  identityHeaderNames,
  isIdentityHeader,
  listHeaderNames,
  readIdentityHeaders,
  type HeaderInput,
  type HeaderValue,
  type IdentityHeaderNames,
  type RawIdentityHeaders,
} from './headers.js';
import { compileTrust } from './trust.js';

export interface Identity {
  id: string;
  name: string;
  email?: string;
  subjectDn: string;
  issuerDn?: string;
  serial?: string;
  fingerprint?: string;
  attributes: DnAttribute[];
}

export type GuestReason = 'no-certificate' | 'verify-failed' | 'untrusted-peer';

export type IdentityReading =
  | { kind: 'holder'; identity: Identity }
  | { kind: 'guest'; reason: GuestReason }
  | { kind: 'invalid'; error: GatewayError };

export interface IdentityReader {
  isTrustedPeer(peer: string | undefined): boolean;
  read(peer: string | undefined, headers: HeaderInput): IdentityReading;
  /** lower-case names of every header to remove before a request goes upstream */
  readonly headerNames: readonly string[];
  /** Must a header of this name be removed before a request goes upstream? Any case, '_' or '-'. */
  isIdentityHeader(name: string): boolean;
}

// $ssl_client_verify values:
// https://nginx.org/en/docs/http/ngx_http_ssl_module.html#var_ssl_client_verify
const VERIFIED = 'SUCCESS';
const NO_CERTIFICATE = 'NONE';

/** RFC 5280 section 4.1.2.2 allows 20 octets; OpenSSL prints a '-' for a broken negative one. */
const SERIAL = /^-?[0-9A-Fa-f]{1,128}$/;
/** A hash in hex: nginx sends SHA-1; room for anything up to SHA-512. */
const FINGERPRINT = /^[0-9A-Fa-f]{1,128}$/;
const ID_HEX_LENGTH = 32;
/**
 * What a display name must not hold: controls (C0, C1), the bidirectional marks, embeddings,
 * overrides and isolates, and other invisible format characters (soft hyphen, zero-width space,
 * byte order mark, the deprecated format controls) and line and paragraph separators. Jitsi
 * shows the name to everyone in the room: a right-to-left mark or override would let it pose as
 * another, an invisible one make two names look alike. Zero-width joiners stay: scripts and
 * emoji need them.
 */
const INVISIBLE_IN_NAMES =
  /[\p{Cc}\u00ad\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u206f\ufeff]/gu;

/**
 * Holders read lately, by the exact identity header values they came with. The same values
 * always give the same identity, and reading the certificate again costs more than the rest of
 * a redirect. Bounded: the holder read first is forgotten first.
 */
const REMEMBERED_HOLDERS = 1000;

/**
 * Builds the reader for the `identity` settings. Throws a CONFIG_INVALID GatewayError when an
 * entry of `identity.trustedProxies` is not an address, a range or a range name.
 */
export function createIdentityReader(settings: Config['identity']): IdentityReader {
  const isTrustedPeer = compileTrust(settings.trustedProxies);
  const names = identityHeaderNames(settings);
  const headerNames: readonly string[] = Object.freeze(listHeaderNames(names));
  const wanted: ReadonlySet<string> = new Set(headerNames);
  const initials = identityHeaderInitials(headerNames);
  const holders = new Map<string, IdentityReading>();

  const readTrusted = (raw: RawIdentityHeaders): IdentityReading => {
    const key = holderKey(raw);
    if (key === undefined) return readTrustedHeaders(raw, names);

    const known = holders.get(key);
    if (known) return known;

    const reading = readTrustedHeaders(raw, names);
    if (reading.kind === 'holder') {
      holders.set(key, reading);
      if (holders.size > REMEMBERED_HOLDERS) holders.delete(holders.keys().next().value as string);
    }
    return reading;
  };

  return {
    isTrustedPeer,
    headerNames,
    isIdentityHeader(name) {
      // The quick look knows ASCII only: outside it, lower-casing can turn one letter into another.
      const first = name.charCodeAt(0);
      if (first < 0x80 && !initials.has(first | 0x20)) return false;
      return isIdentityHeader(name, wanted);
    },
    read(peer, headers) {
      if (!isTrustedPeer(peer)) {
        // Their content is not even looked at: only their presence is worth reporting.
        const spoofed = hasIdentityHeaders(headers, headerNames);
        return guest(spoofed ? 'untrusted-peer' : 'no-certificate');
      }

      return readTrusted(readIdentityHeaders(headers, names));
    },
  };
}

function readTrustedHeaders(raw: RawIdentityHeaders, names: IdentityHeaderNames): IdentityReading {
  const verify = raw.verify;
  if (verify.kind === 'absent') return guest('no-certificate');
  if (verify.kind === 'repeated') return guest('verify-failed');
  if (verify.value === NO_CERTIFICATE) return guest('no-certificate');
  if (verify.value !== VERIFIED) return guest('verify-failed');

  try {
    return { kind: 'holder', identity: buildIdentity(raw, names) };
  } catch (error) {
    if (isGatewayError(error)) return { kind: 'invalid', error };
    throw error;
  }
}

/** Every identity header value, when verification succeeded; header values hold no newline. */
function holderKey(raw: RawIdentityHeaders): string | undefined {
  if (raw.verify.kind !== 'single' || raw.verify.value !== VERIFIED) return undefined;

  return [raw.subjectDn, raw.issuerDn, raw.serial, raw.fingerprint, raw.certificate]
    .map((value) => {
      if (value.kind === 'single') return `=${value.value}`;
      return value.kind === 'repeated' ? `*${value.count}` : '-';
    })
    .join('\n');
}

function guest(reason: GuestReason): IdentityReading {
  return { kind: 'guest', reason };
}

/** Throws a DN_MALFORMED or CERT_MALFORMED GatewayError for the first header that is wrong. */
function buildIdentity(raw: RawIdentityHeaders, names: IdentityHeaderNames): Identity {
  const subjectDn = readSubjectDn(raw.subjectDn, names.subjectDn);
  const attributes = decodeDn(subjectDn);

  const issuerDn = optionalHeader(
    raw.issuerDn,
    headerRule(names.issuerDn, 'issuer DN', 'DN_MALFORMED'),
  );
  if (issuerDn !== undefined) decodeDistinguishedName(issuerDn, 'issuer DN');

  const serial = optionalHex(
    raw.serial,
    headerRule(names.serial, 'serial', 'CERT_MALFORMED'),
    SERIAL,
  );
  const fingerprint = optionalHex(
    raw.fingerprint,
    headerRule(names.fingerprint, 'fingerprint', 'CERT_MALFORMED'),
    FINGERPRINT,
  );
  const escaped = optionalHeader(
    raw.certificate,
    headerRule(names.certificate, 'certificate', 'CERT_MALFORMED'),
  );
  const altEmails = escaped === undefined ? [] : readCertificate(escaped, names.certificate).emails;

  const email = firstText([findValue(attributes, 'emailAddress'), ...altEmails]);
  if (subjectDn === '' && (issuerDn === undefined || serial === undefined)) {
    throw new GatewayError(
      'DN_MALFORMED',
      `subject DN: header ${names.subjectDn} is missing or empty, and without ${names.issuerDn} and ${names.serial} nothing names the certificate`,
    );
  }
  return {
    id: pseudonymousId(subjectDn, issuerDn, serial),
    name: chooseName(attributes, email, subjectDn || `certificate ${serial}`),
    ...(email !== undefined && { email }),
    subjectDn,
    ...(issuerDn !== undefined && { issuerDn }),
    ...(serial !== undefined && { serial }),
    ...(fingerprint !== undefined && { fingerprint }),
    attributes,
  };
}

/**
 * RFC 5280 allows an empty subject when subjectAltName names the holder, and nginx drops a
 * header whose value is empty: a missing subject DN is an empty one. Sent twice, it is refused.
 */
function readSubjectDn(value: HeaderValue, header: string): string {
  if (value.kind === 'repeated') {
    throw new GatewayError(
      'DN_MALFORMED',
      `subject DN: header ${header} was sent ${value.count} times`,
    );
  }

  return value.kind === 'single' ? value.value : '';
}

/** How to name an optional header in a message, and which code a problem with it gets. */
interface HeaderRule {
  header: string;
  label: string;
  code: GatewayErrorCode;
}

function headerRule(header: string, label: string, code: GatewayErrorCode): HeaderRule {
  return { header, label, code };
}

/** An optional header sent twice is refused; an empty one (nginx never sends those) is absent. */
function optionalHeader(value: HeaderValue, rule: HeaderRule): string | undefined {
  if (value.kind === 'repeated') {
    throw new GatewayError(
      rule.code,
      `${rule.label}: header ${rule.header} was sent ${value.count} times`,
    );
  }

  return value.kind === 'single' && value.value !== '' ? value.value : undefined;
}

function optionalHex(value: HeaderValue, rule: HeaderRule, pattern: RegExp): string | undefined {
  const text = optionalHeader(value, rule);
  if (text !== undefined && !pattern.test(text)) {
    throw new GatewayError(rule.code, `${rule.label}: header ${rule.header} is not hexadecimal`);
  }

  return text;
}

/** Issuer and serial name one certificate for good; the subject DN is the fallback. */
function pseudonymousId(subjectDn: string, issuerDn?: string, serial?: string): string {
  const source =
    issuerDn !== undefined && serial !== undefined
      ? `${issuerDn}\n${serial.toUpperCase()}`
      : subjectDn;
  return createHash('sha256').update(source).digest('hex').slice(0, ID_HEX_LENGTH);
}

/** CN, else UID, else the email, else the DN itself (or the serial, for an empty subject). */
function chooseName(
  attributes: readonly DnAttribute[],
  email: string | undefined,
  fallback: string,
): string {
  const candidates = [findValue(attributes, 'CN'), findValue(attributes, 'UID'), email, fallback];
  return firstText(candidates.map((candidate) => candidate && cleanDisplayName(candidate))) ?? '';
}

/** The text without the characters a display name must not hold (see INVISIBLE_IN_NAMES). */
export function cleanDisplayName(text: string): string {
  return text.replace(INVISIBLE_IN_NAMES, '');
}

/** The first value, in nginx's order, of an attribute type; types are case-insensitive. */
function findValue(attributes: readonly DnAttribute[], type: string): string | undefined {
  const wanted = type.toLowerCase();
  return attributes.find((attribute) => attribute.type.toLowerCase() === wanted)?.value;
}

/** The first candidate that is not blank, trimmed. */
function firstText(candidates: readonly (string | undefined)[]): string | undefined {
  for (const candidate of candidates) {
    const text = candidate?.trim();
    if (text) return text;
  }
  return undefined;
}
