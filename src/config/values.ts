import { isIP } from 'node:net';
import proxyaddr from 'proxy-addr';
import { z } from 'zod';

/** The kinds of value settings hold, with the rules an environment string must follow. */

/**
 * Environment values are strings; a comma list becomes an array, items trimmed and empty ones
 * dropped. A text with no items at all counts as unset, so that the default applies.
 */
function splitList(value: unknown): unknown {
  if (typeof value !== 'string') return value;

  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return items.length === 0 ? undefined : items;
}

/** A comma list in the environment, or a JSON array of strings in a file. */
export function list<T extends z.ZodType>(schema: T) {
  return z.preprocess(splitList, schema);
}

export const textList = z.array(z.string().min(1));

/**
 * docker-jitsi-meet's `JWT_ACCEPTED_AUDIENCES` is the comma list of audiences Prosody accepts,
 * and our Compose example shares its `.env`. A token carries one `aud`, and Prosody compares it
 * as one string, so tokens name the first audience of the list.
 */
export const audienceList = textList
  .min(1, 'must name at least one audience')
  // The check above leaves at least one item.
  .transform((items) => items[0]!);

export const flag = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  const lower = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(lower)) return false;
  return value;
}, z.boolean());

/**
 * A whole number: a JSON number, or plain decimal digits in a string. `Number()` alone would
 * also take `0x50`, `1e3`, `0b1` and an empty text (as 0).
 */
export function wholeNumber(min: number, max?: number) {
  const rule =
    max === undefined
      ? `must be a whole number of at least ${min}`
      : `must be a whole number between ${min} and ${max}`;
  const number = z.number({ error: rule }).int({ error: rule }).min(min, { error: rule });
  return z.preprocess(
    (value) => (typeof value === 'string' && /^\s*[0-9]+\s*$/.test(value) ? Number(value) : value),
    max === undefined ? number : number.max(max, { error: rule }),
  );
}

export const port = wholeNumber(0, 65_535);
export const seconds = wholeNumber(1);
/** An empty value means "not set" here, not port 0. */
export const optionalPort = z.preprocess(
  (value) => (value === '' ? undefined : value),
  port.optional(),
);

/** An optional text such as a file path; an empty value counts as unset. */
export function optionalText() {
  return z.preprocess((value) => (value === '' ? undefined : value), z.string().min(1).optional());
}

/** Secrets are never echoed: the message gives the rule only. */
export const secretList = z.preprocess(
  (value) => (typeof value === 'string' ? value.split(',').filter((item) => item !== '') : value),
  z.array(z.string().min(32, 'must be at least 32 characters long')),
);

export const headerName = z
  .string()
  .regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name')
  .transform((name) => name.toLowerCase());

const EVERY_ADDRESS =
  "trusting every address lets anyone assert a certificate identity; list nginx's addresses";

/** proxy-addr, which reads the list at runtime, is also the judge of what it may hold. */
export function validProxyList(context: z.core.ParsePayload<string[]>): void {
  for (const entry of context.value) {
    const message = proxyEntryProblem(entry);
    if (message) context.issues.push({ code: 'custom', input: entry, message });
  }
}

function proxyEntryProblem(entry: string): string | undefined {
  const quoted = JSON.stringify(entry);
  let trust: (address: string, index: number) => boolean;
  try {
    trust = proxyaddr.compile(entry);
  } catch {
    // proxy-addr refuses a prefix of 0 as an invalid range, which would be a misleading answer.
    return hasEmptyMask(entry)
      ? `${quoted} covers every address: ${EVERY_ADDRESS}`
      : `${quoted} is not an address, a CIDR range or a known name`;
  }

  // One range that holds both ends of a family holds all of it (`::ffff:0.0.0.0/96` does).
  const everyIPv4 = trust('0.0.0.0', 0) && trust('255.255.255.255', 0);
  const everyIPv6 = trust('::', 0) && trust('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 0);
  return everyIPv4 || everyIPv6 ? `${quoted} covers every address: ${EVERY_ADDRESS}` : undefined;
}

/** `0.0.0.0/0`, `::/0`, `10.0.0.0/0.0.0.0`: an address whose prefix or netmask is all zeros. */
function hasEmptyMask(entry: string): boolean {
  const slash = entry.lastIndexOf('/');
  if (slash === -1 || isIP(entry.slice(0, slash)) === 0) return false;

  const mask = entry.slice(slash + 1);
  return /^0+$/.test(mask) || (isIP(mask) !== 0 && /^[0.:]+$/.test(mask));
}

/**
 * The upstream's path is kept as a prefix of every request path; anything else in the URL would
 * be dropped silently (a query, a fragment) or printed in the startup line (a password).
 * Messages never quote the URL, which may hold a password.
 */
export const upstreamUrl = z.string().superRefine((text, context) => {
  const message = upstreamUrlProblem(text);
  if (message) context.addIssue({ code: 'custom', message });
});

function upstreamUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute http or https URL such as http://127.0.0.1:8000';
  }

  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return 'must start with http:// or https://';
  if (url.username !== '' || url.password !== '') {
    return 'must not hold a user name or password: the gateway sends no credentials upstream';
  }
  if (text.includes('?')) {
    return "must not have a query: each request's own query is sent upstream unchanged";
  }
  if (text.includes('#')) return 'must not have a fragment';
  return undefined;
}
