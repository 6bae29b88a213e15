import type { PublishedKey } from './keys.js';

/** A complete answer the server writes as it is. */
export interface KeyServerAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface KeyServer {
  /**
   * The answer for a request whose path lies under the key path (the path itself included), or
   * undefined for every other path. Everything under the key path is answered here, so none of
   * it is ever read as a room or passed to Jitsi.
   */
  answer(method: string, rawPath: string): KeyServerAnswer | undefined;
}

const JWKS_NAME = 'jwks.json';

// A key never changes under its kid (a new key gets a new kid), so a short cache is safe.
const COMMON_HEADERS = {
  'Cache-Control': 'public, max-age=300',
  'X-Content-Type-Options': 'nosniff',
};

/**
 * Serves the public keys where Prosody's `asap_key_server` looks for them: it fetches
 * `<asap_key_server>/<lowercase hex sha256 of kid>.pem` (`get_public_key` in jitsi-meet
 * `resources/prosody-plugins/token/util.lib.lua`). The same keys are a JWKS at `jwks.json`.
 */
export function createKeyServer(published: readonly PublishedKey[], keyPath: string): KeyServer {
  const files = new Map(published.map((key) => [key.fileName, key.pem]));
  const jwks = `${JSON.stringify({ keys: published.map((key) => key.jwk) })}\n`;

  return {
    answer(method, rawPath) {
      const path = safeDecode(rawPath);
      if (path !== keyPath && !path.startsWith(`${keyPath}/`)) return undefined;

      if (method !== 'GET' && method !== 'HEAD') {
        return text(405, 'method not allowed\n', { Allow: 'GET, HEAD' });
      }

      const name = path.slice(keyPath.length + 1);
      if (name === JWKS_NAME) {
        return {
          status: 200,
          headers: { ...COMMON_HEADERS, 'Content-Type': 'application/jwk-set+json' },
          body: jwks,
        };
      }
      const pem = files.get(name);
      if (pem !== undefined) {
        return {
          status: 200,
          headers: { ...COMMON_HEADERS, 'Content-Type': 'application/x-pem-file' },
          body: pem,
        };
      }
      return text(404, 'no such key\n');
    },
  };
}

function text(status: number, body: string, extra: Record<string, string> = {}): KeyServerAnswer {
  return {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...extra },
    body,
  };
}

/** nginx matches on the decoded path, so `%5Fgateway` is `_gateway` here too. */
function safeDecode(rawPath: string): string {
  try {
    return decodeURIComponent(rawPath);
  } catch {
    return rawPath;
  }
}
