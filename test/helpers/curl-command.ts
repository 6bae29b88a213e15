// Reads the curl commands a program prints and does what they say over plain HTTP, as curl
// would: headers, following redirects with `-L`, and a cookie jar with `-c`/`-b`.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface CurlCommand {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly followRedirects: boolean;
  readonly keepsCookies: boolean;
}

export interface CurlResult {
  /** Every status on the way, the last one is the page shown. */
  readonly statuses: readonly number[];
  readonly body: string;
}

/** Splits a POSIX shell command line into words; understands single quotes and `\`-newlines. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const joined = text.replace(/\\\n/g, ' ');
  for (let index = 0; index < joined.length; index += 1) {
    const char = joined[index] as string;
    if (char === "'") {
      const end = joined.indexOf("'", index + 1);
      if (end < 0) throw new Error('unterminated quote in a curl command');
      word = (word ?? '') + joined.slice(index + 1, end);
      index = end;
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + char;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Every `curl` command in `text`: lines starting with `curl`, continued by a trailing `\`. */
export function findCurlCommands(text: string): string[] {
  const commands: string[] = [];
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    if (!current && line.trimStart().startsWith('curl ')) current = [];
    if (!current) continue;
    current.push(line);
    if (!line.endsWith('\\')) {
      commands.push(current.join('\n'));
      current = undefined;
    }
  }
  return commands;
}

/** Reads the options this helper understands; throws on any other, so nothing is ignored. */
export function parseCurlCommand(command: string): CurlCommand {
  const [program, ...words] = shellWords(command);
  if (program !== 'curl') throw new Error(`not a curl command: ${program ?? ''}`);

  const headers: Record<string, string> = {};
  let url: string | undefined;
  let followRedirects = false;
  let keepsCookies = false;
  for (let index = 0; index < words.length; index += 1) {
    const word = words[index] as string;
    if (word === '-H') {
      const header = words[(index += 1)] ?? '';
      const colon = header.indexOf(':');
      headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
    } else if (word === '-c' || word === '-b') {
      index += 1;
      keepsCookies = true;
    } else if (/^-[sSLi]+$/.test(word)) {
      followRedirects ||= word.includes('L');
    } else if (!word.startsWith('-') && url === undefined) {
      url = word;
    } else {
      throw new Error(`curl option not understood here: ${word}`);
    }
  }
  if (url === undefined) throw new Error('the curl command names no URL');
  return { url, headers, followRedirects, keepsCookies };
}

interface Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

function get(url: string, headers: Record<string, string>): Promise<Response> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('error', reject);
      response.once('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    outgoing.once('error', reject);
    outgoing.end();
  });
}

const MAX_REDIRECTS = 10;

/**
 * Sends the command's GET, and with `-L` follows redirects on the same site, carrying the
 * cookies that were set on the way when the command keeps a jar. Rejects after ten redirects.
 */
export async function runCurlCommand(command: CurlCommand): Promise<CurlResult> {
  const cookies = new Map<string, string>();
  const statuses: number[] = [];
  let url = command.url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
    const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await get(url, { ...command.headers, ...(cookie ? { cookie } : {}) });
    statuses.push(response.status);
    if (command.keepsCookies) {
      for (const line of response.headers['set-cookie'] ?? []) {
        const [pair = ''] = line.split(';');
        const equals = pair.indexOf('=');
        cookies.set(pair.slice(0, equals), pair.slice(equals + 1));
      }
    }
    const location = response.headers.location;
    const redirected = response.status >= 300 && response.status < 400 && location;
    if (!command.followRedirects || !redirected) return { statuses, body: response.body };

    url = new URL(location, url).href;
  }
  throw new Error(`more than ${MAX_REDIRECTS} redirects`);
}
