import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../config/index.js';

/**
 * Every variable nginx offers about the client certificate is conventionally passed as an
 * `X-SSL-Client-*` header; whatever the configured names, headers with this prefix never reach
 * the upstream and, from an untrusted peer, mark a spoofing attempt.
 */
export const IDENTITY_HEADER_PREFIX = 'x-ssl-client-';

/** `$ssl_client_fingerprint` has no setting of its own; this is the name in our nginx example. */
export const FINGERPRINT_HEADER = 'x-ssl-client-fingerprint';

/** Sent by the recorded nginx configuration, never read: listed so that they are removed. */
const LEGACY_DN_HEADERS = ['x-ssl-client-s-dn-legacy', 'x-ssl-client-i-dn-legacy'];

export type HeaderInput =
  IncomingHttpHeaders | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface IdentityHeaderNames {
  readonly verify: string;
  readonly subjectDn: string;
  readonly issuerDn: string;
  readonly serial: string;
  readonly fingerprint: string;
  readonly certificate: string;
}

/** One header as received: absent, sent once, or sent several times (never trusted then). */
export type HeaderValue =
  | { readonly kind: 'absent' }
  | { readonly kind: 'single'; readonly value: string }
  | { readonly kind: 'repeated'; readonly count: number };

export type RawIdentityHeaders = { readonly [Field in keyof IdentityHeaderNames]: HeaderValue };

export function identityHeaderNames(settings: Config['identity']): IdentityHeaderNames {
  return {
    verify: settings.verifyHeader.toLowerCase(),
    subjectDn: settings.subjectDnHeader.toLowerCase(),
    issuerDn: settings.issuerDnHeader.toLowerCase(),
    serial: settings.serialHeader.toLowerCase(),
    fingerprint: FINGERPRINT_HEADER,
    certificate: settings.certificateHeader.toLowerCase(),
  };
}

/** The configured names, the fixed ones and the legacy DN names, each once. */
export function listHeaderNames(names: IdentityHeaderNames): string[] {
  return [...new Set([...Object.values(names), ...LEGACY_DN_HEADERS])];
}

/**
 * Reads the identity headers into one value each. Names are matched case-insensitively, so a
 * plain record with `X-SSL-Client-Verify` and `x-ssl-client-verify` counts as a repeated header.
 * Node's own `req.headers` joins a repeated custom header with ', ' into one string instead
 * (https://nodejs.org/api/http.html#messageheaders); the readers of each value catch that.
 */
export function readIdentityHeaders(
  headers: HeaderInput,
  names: IdentityHeaderNames,
): RawIdentityHeaders {
  const values = collectValues(headers, new Set(Object.values(names)));
  const read = (name: string): HeaderValue => toHeaderValue(values.get(name) ?? []);

  return {
    verify: read(names.verify),
    subjectDn: read(names.subjectDn),
    issuerDn: read(names.issuerDn),
    serial: read(names.serial),
    fingerprint: read(names.fingerprint),
    certificate: read(names.certificate),
  };
}

/**
 * Is any identity header present, under one of `names` or with the `X-SSL-Client-` prefix, in
 * any case and with '_' for '-'?
 */
export function hasIdentityHeaders(headers: HeaderInput, names: readonly string[]): boolean {
  const wanted = new Set(names.map((name) => name.toLowerCase()));
  return Object.keys(headers).some((key) => isIdentityHeader(key, wanted));
}

/**
 * Deletes, in place, every header named in `names` and every header starting with
 * `X-SSL-Client-`, whatever the case of its name and with '_' for '-'. Never throws.
 */
export function stripIdentityHeaders(
  headers: Record<string, unknown>,
  names: readonly string[],
): void {
  const wanted = new Set(names.map((name) => name.toLowerCase()));
  for (const key of Object.keys(headers)) {
    if (isIdentityHeader(key, wanted)) delete headers[key];
  }
}

/**
 * The first characters an identity header name can start with, as `charCode | 0x20`, which is
 * the lower-case letter for both cases of a letter: a header whose first character is not among
 * them is no identity header, and every request's every header is asked. `_` stands for `-`.
 */
export function identityHeaderInitials(names: readonly string[]): ReadonlySet<number> {
  const initials = new Set<number>();
  for (const name of [...names, IDENTITY_HEADER_PREFIX]) {
    const first = name.toLowerCase().charCodeAt(0);
    initials.add(first | 0x20);
    if (first === 0x2d) initials.add(0x5f | 0x20);
  }
  return initials;
}

/**
 * Is `name` one of `wanted` (lower-case names) or an `X-SSL-Client-` header, in any case and
 * with '_' for '-'? nginx drops names with underscores by default (`underscores_in_headers`),
 * but a server that maps headers to CGI-style variables reads `X_SSL_Client_Verify` as
 * `HTTP_X_SSL_CLIENT_VERIFY`, the same as `X-SSL-Client-Verify`.
 */
export function isIdentityHeader(name: string, wanted: ReadonlySet<string>): boolean {
  const lower = name.toLowerCase();
  const normalized = lower.includes('_') ? lower.replaceAll('_', '-') : lower;
  return wanted.has(normalized) || normalized.startsWith(IDENTITY_HEADER_PREFIX);
}

function collectValues(headers: HeaderInput, wanted: ReadonlySet<string>): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const [key, value] of Object.entries(headers)) {
    const name = key.toLowerCase();
    if (!wanted.has(name)) continue;

    const list = values.get(name) ?? [];
    list.push(...toStrings(value));
    values.set(name, list);
  }
  return values;
}

/** Headers typed as strings can still hold anything at runtime; only strings count. */
function toStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

function toHeaderValue(values: readonly string[]): HeaderValue {
  const [first] = values;
  if (first === undefined) return { kind: 'absent' };
  if (values.length > 1) return { kind: 'repeated', count: values.length };
  return { kind: 'single', value: first };
}
