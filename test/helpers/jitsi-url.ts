/**
 * The token a Jitsi page would use from its own URL, read the way the client reads it:
 * `#jwt=` first, URI-decoded and parsed as JSON, then the last `jwt` query parameter raw
 * (parseJWTFromURLParams and parseURLParams in jitsi-meet's react/features/base).
 */
export function parseJwtLikeJitsi(href: string): string | undefined {
  const url = new URL(href);
  for (const part of url.hash.slice(1).split('&')) {
    const [key, value] = part.split('=');
    if (key !== 'jwt' || value === undefined) continue;

    const decoded = decodeURIComponent(value);
    try {
      return JSON.parse(decoded) as string;
    } catch {
      return decoded;
    }
  }
  return url.searchParams.getAll('jwt').at(-1) ?? undefined;
}
