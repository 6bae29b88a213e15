import { X509Certificate } from 'node:crypto';
import { GatewayError } from '../errors.js';

/** A PEM certificate is a few KiB; even a large one escaped stays well under this. */
export const MAX_ESCAPED_CERTIFICATE_LENGTH = 64 * 1024;

/**
 * `$ssl_client_escaped_cert` is the PEM escaped with ngx_escape_uri(NGX_ESCAPE_URI_COMPONENT),
 * which leaves only letters, digits and `-._~` unescaped. A ',' or a space can only come from
 * Node joining a header that was sent twice.
 */
const ESCAPED_PEM = /^[A-Za-z0-9%._~-]+$/;
const ONE_PEM_CERTIFICATE =
  /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?$/;

/** rfc822Name is an IA5String (RFC 5280 section 4.2.1.6): printable ASCII only. */
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

export interface CertificateFacts {
  /** rfc822Name entries of the subjectAltName, in certificate order. */
  emails: string[];
}

/**
 * Reads the escaped PEM from `header`. Throws a CERT_MALFORMED GatewayError naming the header
 * and the rule broken; the message never quotes the certificate.
 */
export function readCertificate(escaped: string, header: string): CertificateFacts {
  const fail = (problem: string, cause?: unknown): GatewayError =>
    new GatewayError('CERT_MALFORMED', `certificate: header ${header} ${problem}`, { cause });
  if (escaped.length > MAX_ESCAPED_CERTIFICATE_LENGTH) {
    throw fail(
      `is ${escaped.length} characters long, more than the ${MAX_ESCAPED_CERTIFICATE_LENGTH} allowed`,
    );
  }

  if (!ESCAPED_PEM.test(escaped)) {
    throw fail('has characters nginx never leaves unescaped, as when the header is sent twice');
  }

  const pem = decodePercent(escaped);
  if (pem === undefined) throw fail('has a broken percent-escape');
  if (!ONE_PEM_CERTIFICATE.test(pem)) throw fail('does not hold exactly one PEM certificate');

  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (error) {
    throw fail('does not hold a certificate that can be parsed', error);
  }
  const emails = readSubjectAltNameEmails(certificate.subjectAltName);
  if (emails === undefined) throw fail('has a subjectAltName that cannot be read');
  return { emails };
}

/**
 * Picks the email entries out of Node's subjectAltName text: entries joined with ", ", each
 * `type:value`. Since Node 17.3.1 and 16.13.2 (CVE-2021-44532) a value holding a comma, a
 * quote, a backslash, an apostrophe or a non-printable character is written as a JSON string
 * (`email:"a\u002cb@x"`), and some entries are quoted whole (`"othername:..."`): see
 * `PrintAltName` in Node's src/crypto/crypto_common.cc. Returns undefined when the text does not
 * follow that form.
 */
export function readSubjectAltNameEmails(text: string | undefined): string[] | undefined {
  const entries = splitSubjectAltName(text ?? '');
  if (entries === undefined) return undefined;

  return entries
    .filter((entry) => entry.type === 'email' && PRINTABLE_ASCII.test(entry.value))
    .map((entry) => entry.value);
}

interface AltName {
  type: string;
  value: string;
}

function splitSubjectAltName(text: string): AltName[] | undefined {
  const entries: AltName[] = [];
  let position = 0;
  while (position < text.length) {
    const entry = scanAltName(text, position);
    if (entry === undefined) return undefined;

    entries.push(entry.name);
    position = entry.end;
    if (position === text.length) break;
    if (!text.startsWith(', ', position)) return undefined;
    position += 2;
  }
  return entries;
}

function scanAltName(text: string, start: number): { name: AltName; end: number } | undefined {
  if (text[start] === '"') {
    const whole = scanJsonString(text, start);
    const colon = whole?.value.indexOf(':') ?? -1;
    if (whole === undefined || colon === -1) return undefined;
    return { name: splitAt(whole.value, colon), end: whole.end };
  }

  const colon = text.indexOf(':', start);
  if (colon === -1) return undefined;

  const type = text.slice(start, colon);
  if (text[colon + 1] === '"') {
    const quoted = scanJsonString(text, colon + 1);
    return quoted && { name: { type, value: quoted.value }, end: quoted.end };
  }
  const next = text.indexOf(', ', colon);
  const end = next === -1 ? text.length : next;
  return { name: { type, value: text.slice(colon + 1, end) }, end };
}

/** The JSON string starting at the quote at `start`, and the position after its closing quote. */
function scanJsonString(text: string, start: number): { value: string; end: number } | undefined {
  let position = start + 1;
  while (position < text.length && text[position] !== '"') {
    position += text[position] === '\\' ? 2 : 1;
  }
  if (position >= text.length) return undefined;

  try {
    const value: unknown = JSON.parse(text.slice(start, position + 1));
    return typeof value === 'string' ? { value, end: position + 1 } : undefined;
  } catch {
    return undefined;
  }
}

function splitAt(text: string, colon: number): AltName {
  return { type: text.slice(0, colon), value: text.slice(colon + 1) };
}

function decodePercent(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
