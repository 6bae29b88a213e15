import type { RoomTarget } from '../token/index.js';
import { readRoomPath } from './room-page.js';

/** The room page a token endpoint request names, or why it names none. */
export type TokenRequest =
  { kind: 'room'; rawPath: string; target: RoomTarget } | { kind: 'invalid'; problem: string };

const MAX_NAME_LENGTH = 512;

// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const NOT_IN_A_NAME = /[/\\\u0000-\u001f\u007f]/;

/**
 * Reads the room from the query Jitsi's `tokenAuthUrl` sends (getTokenAuthUrl in jitsi-meet's
 * react/features/authentication/functions.web.ts): `{room}` is the room as it appears in the
 * page URL, put into the query without further encoding, so the query decoding has already
 * decoded it once; `{state}` is encodeURIComponent of a JSON object whose `room` is that raw
 * room segment and whose `tenant`, when there is one, is the raw tenant path. `state` wins when
 * both are sent.
 *
 * The path to redirect to is built from those two names alone, each decoded and encoded again
 * as a single path segment, then checked to be a room page: whatever the names hold (`//host`,
 * a backslash, a scheme, an encoded slash, CR or LF), the result is a path on this site.
 */
export function readTokenRequest(rawQuery: string): TokenRequest {
  const query = new URLSearchParams(rawQuery);
  const states = query.getAll('state');
  const rooms = query.getAll('room');
  if (states.length > 1 || (states.length === 0 && rooms.length !== 1)) {
    return invalid('needs exactly one state or one room parameter');
  }

  const names = states.length === 1 ? readState(states[0] as string) : { room: rooms[0] };
  if (typeof names === 'string') return invalid(names);

  const room = pathSegment(names.room, 'room');
  if ('problem' in room) return invalid(room.problem);

  let rawPath = `/${room.segment}`;
  if (names.tenant !== undefined) {
    const tenant = pathSegment(names.tenant, 'tenant');
    if ('problem' in tenant) return invalid(tenant.problem);
    rawPath = `/${tenant.segment}${rawPath}`;
  }

  const target = readRoomPath(rawPath);
  return target ? { kind: 'room', rawPath, target } : invalid('does not name a room page');
}

interface RoomNames {
  room?: string;
  tenant?: string;
}

/** The state's room and tenant are raw URL text: decode them once, as the query did for room. */
function readState(text: string): RoomNames | string {
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    return 'state is not JSON';
  }
  if (typeof state !== 'object' || state === null) return 'state is not a JSON object';

  const { room, tenant } = state as Record<string, unknown>;
  if (typeof room !== 'string') return 'state has no room';
  if (tenant !== undefined && tenant !== null && typeof tenant !== 'string') {
    return 'state has a tenant that is not text';
  }
  return {
    room: decodeOnce(room),
    ...(typeof tenant === 'string' && tenant !== '' && { tenant: decodeOnce(tenant) }),
  };
}

type Segment = { segment: string } | { problem: string };

function pathSegment(name: string | undefined, label: string): Segment {
  if (name === undefined || name === '') return { problem: `${label} is empty` };
  if (name.length > MAX_NAME_LENGTH) return { problem: `${label} is too long` };
  if (NOT_IN_A_NAME.test(name)) {
    return { problem: `${label} has a slash, a backslash or a control character` };
  }
  if (name === '.' || name === '..') return { problem: `${label} is a dot segment` };

  return { segment: encodeURIComponent(name) };
}

function decodeOnce(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function invalid(problem: string): TokenRequest {
  return { kind: 'invalid', problem };
}
