import { createHash } from 'node:crypto';
import cookieParser from 'cookie-parser';
import type { RoomTarget } from '../token/index.js';

/**
 * The marker records the last redirect we made for one holder and room, and whether its token
 * arrived. Its signature comes from cookie-parser (HMAC-SHA256, compared in constant time);
 * this module shapes the value and decides whether a presented cookie can be used.
 *
 * - `sent`: we redirected at `issuedAt` and have not yet seen the token come back.
 * - `arrived`: the page came back with the token; a later visit without one is a reload.
 */
export type MarkerState = 'sent' | 'arrived';

export interface Marker {
  state: MarkerState;
  /** Which holder and room, as a short hash: the cookie names neither. */
  subject: string;
  /** Epoch seconds of the redirect or of the arrival. */
  issuedAt: number;
}

const STATE_LETTERS: Record<MarkerState, string> = { sent: 's', arrived: 'a' };
const MARKER_VALUE = /^([sa])\.(\d{1,12})\.([0-9a-f]{32})$/;

export function markerSubject(holderId: string, target: RoomTarget): string {
  return createHash('sha256')
    .update(`${holderId}\n${target.tenant ?? ''}\n${target.room}`)
    .digest('hex')
    .slice(0, 32);
}

export function encodeMarker(marker: Marker): string {
  return `${STATE_LETTERS[marker.state]}.${marker.issuedAt}.${marker.subject}`;
}

/** The marker in a verified cookie value, or undefined when the value is not one of ours. */
export function decodeMarker(value: string): Marker | undefined {
  const match = MARKER_VALUE.exec(value);
  if (!match) return undefined;

  return {
    state: match[1] === 's' ? 'sent' : 'arrived',
    issuedAt: Number(match[2]),
    subject: match[3] as string,
  };
}

/** What verifies a presented marker cookie. */
export interface MarkerKeys {
  /** Signs new markers; verifies presented ones. */
  secret: string;
  /** Secrets from before a rotation: they verify markers until `previousUntil`, never sign. */
  previousSecrets: readonly string[];
  /** Epoch seconds at which the previous secrets stop counting. */
  previousUntil?: number;
  /**
   * The cookie's Max-Age. Browsers never send the expiry back, and drop the cookie after it, so
   * an older marker was kept or copied on purpose.
   */
  maxAgeSeconds: number;
}

export type MarkerIgnoredReason =
  | 'marker-unsigned'
  | 'marker-signature-invalid'
  | 'marker-old-secret'
  | 'marker-malformed'
  | 'marker-expired';

export type MarkerReading =
  | { kind: 'valid'; marker: Marker; previousSecret: boolean }
  | { kind: 'ignored'; reason: MarkerIgnoredReason };

/** Markers are issued by our own clock; replicas may disagree by this much. */
const FUTURE_TOLERANCE_SECONDS = 60;

/**
 * Verifies a marker cookie value as the browser sent it (`s:<value>.<signature>`) and reads the
 * marker in it, at `now` (epoch seconds). A value that is unsigned, signed with an unknown key or
 * with a previous secret after its grace period, not ours, or older than the cookie's Max-Age
 * is ignored, with the reason. Never throws.
 */
export function readMarkerCookie(cookie: string, keys: MarkerKeys, now: number): MarkerReading {
  const verified = verifySignature(cookie, keys, now);
  if (typeof verified === 'string') return { kind: 'ignored', reason: verified };

  const marker = decodeMarker(verified.value);
  if (!marker) return { kind: 'ignored', reason: 'marker-malformed' };

  const age = now - marker.issuedAt;
  if (age > keys.maxAgeSeconds || age < -FUTURE_TOLERANCE_SECONDS) {
    return { kind: 'ignored', reason: 'marker-expired' };
  }
  return { kind: 'valid', marker, previousSecret: verified.previousSecret };
}

type Verified = { value: string; previousSecret: boolean } | MarkerIgnoredReason;

function verifySignature(cookie: string, keys: MarkerKeys, now: number): Verified {
  if (!cookie.startsWith('s:')) return 'marker-unsigned';

  const current = cookieParser.signedCookie(cookie, keys.secret);
  if (current !== false) return { value: current, previousSecret: false };

  const previous =
    keys.previousSecrets.length === 0
      ? false
      : cookieParser.signedCookie(cookie, [...keys.previousSecrets]);
  if (previous === false) return 'marker-signature-invalid';
  // A previous secret may have been retired because it leaked: past the grace period, a
  // marker it signed could have been made by anyone.
  if (keys.previousUntil === undefined || now >= keys.previousUntil) return 'marker-old-secret';

  return { value: previous, previousSecret: true };
}
