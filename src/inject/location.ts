/**
 * The query handling of the redirect: find the `jwt` parameters a URL carries, and build the
 * site-relative `Location` that carries exactly one, ours.
 */

/** Every `jwt` parameter value in a raw query string (without the `?`), in order. */
export function tokenParameters(rawQuery: string): string[] {
  const values: string[] = [];
  for (const part of splitQuery(rawQuery)) {
    const [name, value] = splitParameter(part);
    if (name === 'jwt') values.push(value);
  }
  return values;
}

/**
 * The same raw path and query, relative to the site, with every `jwt` parameter replaced by
 * one carrying `token`. Other parameters keep their order and spelling. The path comes from the
 * request line, never from `Host` or a parameter; the caller has checked that it is a room path
 * (one leading slash, no backslash), so the result cannot leave the site.
 */
export function locationWithToken(rawPath: string, rawQuery: string, token: string): string {
  const kept = splitQuery(rawQuery).filter((part) => splitParameter(part)[0] !== 'jwt');
  kept.push(`jwt=${encodeURIComponent(token)}`);
  return `${rawPath}?${kept.join('&')}`;
}

function splitQuery(rawQuery: string): string[] {
  return rawQuery.split('&').filter((part) => part !== '');
}

/** Name and value decoded the way the browser's URLSearchParams decodes them. */
function splitParameter(part: string): [string, string] {
  const equals = part.indexOf('=');
  const rawName = equals === -1 ? part : part.slice(0, equals);
  const rawValue = equals === -1 ? '' : part.slice(equals + 1);
  return [decodeComponent(rawName), decodeComponent(rawValue)];
}

function decodeComponent(text: string): string {
  const spaced = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}
