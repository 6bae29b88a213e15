import type { ServerResponse } from 'node:http';
import { sign } from 'cookie-signature';
import type { Config } from '../config/index.js';
import { locationWithoutToken, locationWithToken } from './location.js';
import { encodeMarker, type Marker } from './marker.js';

export type TokenPlacement = Config['inject']['tokenPlacement'];

export interface HandOver {
  /** The raw path of a room page, already checked to be one: the result stays on this site. */
  rawPath: string;
  rawQuery: string;
  token: string;
  marker: Marker;
}

/**
 * Answers 302 to the room page with the token, the marker that records the redirect, and
 * headers that keep the URL out of caches and referrers.
 */
export function sendTokenRedirect(
  res: ServerResponse,
  handOver: HandOver,
  config: Readonly<Config>,
): void {
  const { rawPath, rawQuery, token, marker } = handOver;
  setMarkerCookie(res, marker, config);
  res.writeHead(302, {
    Location: tokenLocation(rawPath, rawQuery, token, config.inject.tokenPlacement),
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'Content-Length': '0',
  });
  res.end();
}

/**
 * The site-relative `Location` that carries the token in the query (`jwt=`) or in the fragment.
 * Jitsi reads `#jwt=` first, as a JSON value, then the `jwt` query parameter
 * (parseJWTFromURLParams in jitsi-meet's react/features/base/jwt/functions.ts). A fragment never
 * reaches a server log, but a `Location` with one replaces the fragment the browser had.
 */
export function tokenLocation(
  rawPath: string,
  rawQuery: string,
  token: string,
  placement: TokenPlacement,
): string {
  if (placement === 'query') return locationWithToken(rawPath, rawQuery, token);

  // A stale `jwt` in the query would only confuse: the client prefers the fragment anyway.
  const location = locationWithoutToken(rawPath, rawQuery);
  return `${location}#jwt=${encodeURIComponent(JSON.stringify(token))}`;
}

/**
 * Adds the signed marker cookie, beside any other Set-Cookie of the response. The value is ours
 * (letters, digits, dots) and signed as cookie-parser verifies it (`s:<value>.<signature>`).
 */
export function setMarkerCookie(
  res: ServerResponse,
  marker: Marker,
  config: Readonly<Config>,
): void {
  const { markerCookieName, cookieSecret, secureCookie } = config.inject;
  const signed = `s:${sign(encodeMarker(marker), cookieSecret ?? '')}`;
  const maxAgeSeconds = Math.max(config.token.lifetimeSeconds, config.inject.loopWindowSeconds);
  res.appendHeader(
    'Set-Cookie',
    `${markerCookieName}=${encodeURIComponent(signed)}; Max-Age=${maxAgeSeconds}; Path=/; ` +
      `HttpOnly${secureCookie ? '; Secure' : ''}; SameSite=Lax`,
  );
}
