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
 * Characters RFC 3986 allows as they are in a path or a query (section 3.3 and 3.4), and '%'.
 * Node lets a request target hold any printable ASCII, so a query may carry '#' (which would
 * push our token into a fragment), a backslash, quotes or brackets.
 */
const OUTSIDE_URI = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]/gu;

/**
 * The same raw path and query, relative to the site, with every `jwt` parameter replaced by
 * one carrying `token`. Other parameters keep their order and spelling, except that characters
 * a URI may not hold are percent-encoded, so that the result is one valid header value. The
 * path comes from the request line, never from `Host` or a parameter; the caller has checked
 * that it is a room path (one leading slash, no backslash), so the result cannot leave the site.
 */
export function locationWithToken(rawPath: string, rawQuery: string, token: string): string {
  return siteLocation(rawPath, rawQuery, `jwt=${encodeURIComponent(token)}`);
}

/** The same, without any `jwt` parameter: for a token handed over in the fragment. */
export function locationWithoutToken(rawPath: string, rawQuery: string): string {
  return siteLocation(rawPath, rawQuery);
}

function siteLocation(rawPath: string, rawQuery: string, added?: string): string {
  const kept = splitQuery(rawQuery)
    .filter((part) => splitParameter(part)[0] !== 'jwt')
    .map(encodeOutsideUri);
  if (added !== undefined) kept.push(added);

  const path = encodeOutsideUri(rawPath);
  return kept.length === 0 ? path : `${path}?${kept.join('&')}`;
}

function encodeOutsideUri(text: string): string {
  return text.replace(OUTSIDE_URI, (char) => {
    try {
      return encodeURIComponent(char);
    } catch {
      // A lone surrogate has no UTF-8 form; U+FFFD stands in for it, as browsers do.
      return '%EF%BF%BD';
    }
  });
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
