import type { RoomTarget } from '../token/index.js';

/**
 * Paths that Jitsi serves as files or services, never as rooms: those its nginx names, and
 * `index.html`, the page itself, which nginx serves as the file it is (`try_files $uri`).
 */
const SERVICE_NAMES = new Set([
  'index.html',
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

/**
 * First path segments that start a file or service tree. `_gateway` is the gateway's own
 * namespace (its public keys live there by default), so it is never a room or a tenant.
 */
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
  '_gateway',
]);

/** nginx's room locations, matched on the decoded path. */
const ROOM_SEGMENT = /^[^/?&:'"]+$/;

/**
 * Anything but printable ASCII (browsers send nothing else), a backslash (browsers read it as a
 * slash), a raw '#' (a browser never sends one; anyone else reads it as the start of a
 * fragment), or an encoded slash or backslash: nginx and the client would not agree on such a path.
 */
const UNSAFE_IN_PATH = /[^\x21-\x7e]|[\\#]|%2f|%5c/i;

/** A `%` that does not start an escape: nginx answers such a request with 400 itself. */
const BROKEN_ESCAPE = /%(?![0-9a-f]{2})/i;

/**
 * Characters the client deletes from each raw path segment before it builds the room node
 * (`_ROOM_EXCLUDE_PATTERN` in jitsi-meet `react/features/base/util/uri.ts`).
 */
const CLIENT_STRIPPED = /[:?#[\]@!$&'()*+,;=></"]/g;

/**
 * A tenant becomes a label of an XMPP domain name (`muc.<tenant>.meet.jitsi`), so only
 * letters, digits, `-`, `_` and `.` (which Jitsi turns into `_`) make a tenant that Jitsi and
 * Prosody read the same way as we do.
 */
const TENANT_SEGMENT = /^[A-Za-z0-9_.-]+$/;

/**
 * Reads a raw request path (no query) as nginx and Jitsi's client do, or returns undefined when
 * it is not a room page. A path that nginx and the client would read differently (an encoded
 * slash or backslash, a raw backslash or non-ASCII byte, a broken escape, a dot segment, more
 * than one tenant level, a tenant that cannot be a domain label) is not a room page, so it never
 * gets a token.
 */
export function readRoomPath(rawPath: string): RoomTarget | undefined {
  if (!rawPath.startsWith('/') || UNSAFE_IN_PATH.test(rawPath)) {
    return undefined;
  }

  const rawSegments = rawPath.slice(1).split('/');
  if (rawSegments.length > 2) return undefined;

  const decoded = rawSegments.map(decodeAsNginx);
  if (!decoded.every(isNginxRoomSegment)) return undefined;
  if (SERVICE_PREFIXES.has(decoded[0] as string)) return undefined;
  // The gateway answers its own namespace in any spelling, so it is never a tenant either.
  if ((decoded[0] as string).toLowerCase() === '_gateway') return undefined;
  if (SERVICE_NAMES.has(decoded[decoded.length - 1] as string)) return undefined;

  const room = roomNode(rawSegments[rawSegments.length - 1] as string);
  if (room === '') return undefined;
  if (rawSegments.length === 1) return { room };

  const tenant = tenantName(rawSegments[0] as string);
  return tenant === undefined ? undefined : { room, tenant };
}

/**
 * The MUC room node the client derives from one raw path segment, byte for byte: strip
 * whitespace and the excluded characters, percent-decode (keeping the text when that fails),
 * NFKC, full Unicode lower-casing, encode again as `encodeURIComponent` does, lower-case the
 * escapes. See `parseURIString` and `getBackendSafeRoomName` in jitsi-meet
 * `react/features/base/util/uri.ts`; `createConference` in
 * `react/features/base/conference/actions.any.ts` joins the room under this name. Prosody
 * compares the claim with it after ASCII-only lower-casing and never decodes, so only this
 * exact form matches every room. Returns an empty string when nothing is left.
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

/**
 * The tenant as the `sub` claim must name it, or undefined when the segment cannot be a tenant.
 * nginx hands the decoded first segment to config.js, which lower-cases it and replaces `.` by
 * `_` to build the MUC domain `muc.<tenant>.<xmpp domain>` (docker-jitsi-meet
 * `web/rootfs/defaults/system-config.js` and `meet.conf`); mod_muc_domain_mapper turns that into
 * the room `[<tenant>]<room>`, and `verify_room` in jitsi-meet
 * `resources/prosody-plugins/token/util.lib.lua` compares it with the lower-cased `sub`.
 */
export function tenantName(rawSegment: string): string | undefined {
  const decoded = decodeAsNginx(rawSegment);
  if (decoded === undefined || !TENANT_SEGMENT.test(decoded)) return undefined;

  return decoded.replace(/\./g, '_').toLowerCase();
}

/**
 * Percent-decodes to bytes (one character per byte) as nginx does before it matches locations,
 * or undefined for what nginx refuses with 400 itself: a broken escape or an encoded NUL.
 */
function decodeAsNginx(rawSegment: string): string | undefined {
  if (BROKEN_ESCAPE.test(rawSegment)) return undefined;

  const bytes = rawSegment.replace(/%([0-9a-f]{2})/gi, (_escape, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
  return bytes.includes('\0') ? undefined : bytes;
}

/** nginx's room location; `.` and `..` are dot segments that nginx removes from the path. */
function isNginxRoomSegment(segment: string | undefined): segment is string {
  return segment !== undefined && ROOM_SEGMENT.test(segment) && segment !== '.' && segment !== '..';
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

/** A browser navigation to a room page, read once, before anything else is done with it. */
export interface RoomNavigation {
  target: RoomTarget;
  rawPath: string;
  rawQuery: string;
}

/**
 * The room page a request navigates to, or undefined for anything else: static files, BOSH,
 * fetches. Asked of every request, so it asks the cheap questions first: the method, then the
 * three headers that tell a navigation, read from `rawHeaders` (node builds `req.headers` for
 * all headers on first use, and the proxy never needs it), then the path.
 */
export function readRoomNavigation(req: {
  method?: string;
  url?: string;
  rawHeaders: readonly string[];
}): RoomNavigation | undefined {
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  if (!isPageNavigation(req.method, navigationHeaders(req.rawHeaders))) return undefined;

  const url = req.url ?? '/';
  const question = url.indexOf('?');
  const rawPath = question === -1 ? url : url.slice(0, question);
  const target = readRoomPath(rawPath);
  if (!target) return undefined;

  return { target, rawPath, rawQuery: question === -1 ? '' : url.slice(question + 1) };
}

/** Their names are 14 and 6 characters long, which navigationHeaders relies on. */
const NAVIGATION_HEADERS = new Set(['sec-fetch-mode', 'sec-fetch-dest', 'accept']);

/** Those headers as `req.headers` would hold them: repeated ones joined with ', '. */
function navigationHeaders(rawHeaders: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const raw = rawHeaders[index] as string;
    // Every request is asked this: most names are of another length, and need no lower-case copy.
    if (raw.length !== 6 && raw.length !== 14) continue;
    const name = raw.toLowerCase();
    if (!NAVIGATION_HEADERS.has(name)) continue;

    const value = rawHeaders[index + 1] as string;
    const earlier = headers[name];
    headers[name] = earlier === undefined ? value : `${earlier}, ${value}`;
  }
  return headers;
}
