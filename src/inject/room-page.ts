import type { RoomTarget } from '../token/index.js';

/** Paths that Jitsi serves as files or services, never as rooms (JITSI.md section 3). */
const SERVICE_NAMES = new Set([
  'config.js',
  'interface_config.js',
  'external_api.js',
  'http-bind',
  'xmpp-websocket',
  '_unlock',
  'pwa-worker.js',
  'manifest.json',
  'favicon.ico',
  'robots.txt',
]);

/** First path segments that start a file or service tree. */
const SERVICE_PREFIXES = new Set([
  'libs',
  'css',
  'static',
  'images',
  'fonts',
  'lang',
  'sounds',
  'connection_optimization',
  '.well-known',
  'transcripts',
  '_api',
  'conference-request',
  'colibri-ws',
  'colibri-relay-ws',
  'etherpad',
  'socket.io',
  'rtcstats-ws',
]);

/** nginx's room locations, matched on the decoded path. */
const ROOM_SEGMENT = /^[^/?&:'"]+$/;

/**
 * A backslash (browsers read it as a slash), an encoded slash or backslash, whitespace or a
 * control character, a raw '#' (a browser never sends one; anyone else reads it as the start
 * of a fragment): nginx and the client would not agree on such a path.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_PATH = /[\\#\u0000-\u0020\u007f]|%2f|%5c/i;

/** Characters the client deletes from each raw path segment before it builds the room node. */
const CLIENT_STRIPPED = /[:?#[\]@!$&'()*+,;=></"]/g;

/**
 * Reads a raw request path (no query) as Jitsi does, or returns undefined when it is not a room
 * page. A path that nginx and the client would read differently (an encoded slash or backslash,
 * a raw backslash, an undecodable escape, more than one tenant level) is not a room page, so it
 * never gets a token.
 */
export function readRoomPath(rawPath: string): RoomTarget | undefined {
  if (!rawPath.startsWith('/') || UNSAFE_IN_PATH.test(rawPath)) {
    return undefined;
  }

  const rawSegments = rawPath.slice(1).split('/');
  if (rawSegments.length > 2) return undefined;

  const decoded = rawSegments.map(tryDecode);
  if (!decoded.every((segment) => segment !== undefined && ROOM_SEGMENT.test(segment))) {
    return undefined;
  }
  if (SERVICE_PREFIXES.has(decoded[0] as string)) return undefined;
  if (SERVICE_NAMES.has(decoded[decoded.length - 1] as string)) return undefined;

  const room = roomNode(rawSegments[rawSegments.length - 1] as string);
  if (room === '') return undefined;
  if (rawSegments.length === 1) return { room };

  const tenant = tenantName(rawSegments[0] as string);
  return tenant === '' ? undefined : { room, tenant };
}

/**
 * The MUC room node the client derives from one raw path segment: strip, decode, NFKC,
 * lower-case, encode again, lower-case the escapes. Prosody compares the claim with it after
 * ASCII-only lower-casing and never decodes, so only this exact form matches every room.
 */
export function roomNode(rawSegment: string): string {
  const stripped = rawSegment.replace(/\s/g, '').replace(CLIENT_STRIPPED, '');
  const decoded = tryDecode(stripped) ?? stripped;
  try {
    return encodeURIComponent(decoded.normalize('NFKC').toLowerCase()).toLowerCase();
  } catch {
    return '';
  }
}

/** The tenant as the `sub` claim names it: the segment read like a room node. */
export function tenantName(rawSegment: string): string {
  return roomNode(rawSegment);
}

function tryDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

export type HeaderValue = string | string[] | undefined;

/**
 * Is this request a browser loading a page (a top-level document or an iframe), rather than a
 * fetch, a script, an image or a websocket? Browsers that send `Sec-Fetch-*` say so; for older
 * ones, asking for HTML is the signal.
 */
export function isPageNavigation(
  method: string | undefined,
  headers: Record<string, HeaderValue>,
): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;

  const mode = headers['sec-fetch-mode'];
  const dest = headers['sec-fetch-dest'];
  if (mode !== undefined || dest !== undefined) {
    return mode === 'navigate' && (dest === 'document' || dest === 'iframe');
  }

  const accept = headers.accept;
  return typeof accept === 'string' && accept.toLowerCase().includes('text/html');
}
