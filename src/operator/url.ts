/**
 * Room URLs as an operator pastes them: a path (`/Team%20Sync`) or a whole address, perhaps with
 * the token still on it. The path is taken as raw text, since `new URL` would rewrite it
 * (backslashes, spaces) where Jitsi's client does not.
 */

const SCHEME_AND_HOST = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

export interface RoomUrl {
  rawPath: string;
  rawQuery: string;
  fragment: string;
}

export function splitRoomUrl(url: string): RoomUrl {
  const rest = url.replace(SCHEME_AND_HOST, '');
  const hash = rest.indexOf('#');
  const beforeHash = hash === -1 ? rest : rest.slice(0, hash);
  const question = beforeHash.indexOf('?');
  return {
    rawPath: question === -1 ? beforeHash : beforeHash.slice(0, question),
    rawQuery: question === -1 ? '' : beforeHash.slice(question + 1),
    fragment: hash === -1 ? '' : rest.slice(hash + 1),
  };
}

/**
 * The token the page at this URL would use, read as the client reads it: `#jwt=` (a JSON value)
 * first, then the last `jwt` query parameter (parseJWTFromURLParams in jitsi-meet's
 * react/features/base/jwt/functions.ts).
 */
export function tokenInUrl(url: RoomUrl): string | undefined {
  for (const part of url.fragment.split('&')) {
    const [name, value] = part.split('=');
    if (name !== 'jwt' || value === undefined) continue;

    const text = decodeOnce(value);
    try {
      const parsed: unknown = JSON.parse(text);
      return typeof parsed === 'string' ? parsed : text;
    } catch {
      return text;
    }
  }

  return new URLSearchParams(url.rawQuery).getAll('jwt').at(-1);
}

function decodeOnce(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
