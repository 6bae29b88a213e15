import { createHash } from 'node:crypto';
import type { RoomTarget } from '../token/index.js';

/**
 * The marker records the last redirect we made for one holder and room, and whether its token
 * arrived. Its signature comes from cookie-parser; this module only shapes the value.
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
