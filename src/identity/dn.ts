import { GatewayError } from '../errors.js';

/*
 * nginx prints `$ssl_client_s_dn` with OpenSSL's X509_NAME_print_ex(XN_FLAG_RFC2253)
 * (https://nginx.org/en/docs/http/ngx_http_ssl_module.html#var_ssl_client_s_dn): the RDNs in
 * reverse certificate order, joined with ',' and multi-valued ones with '+', no spaces around
 * either. ASN1_STRFLGS_ESC_MSB turns every byte of a non-ASCII character into `\XX`, so a name
 * arrives as escaped UTF-8 bytes; `,+"\<>;` are escaped with a backslash, as are a leading '#'
 * or space and a trailing space; values of unknown string types are dumped as `#` and DER hex.
 * We accept the RFC 4514 grammar (https://www.rfc-editor.org/rfc/rfc4514#section-3), which
 * covers all of that, plus RFC 2253 quoted values.
 */

export interface DnAttribute {
  type: string;
  value: string;
  rdn: number;
}

/** A DN longer than this is refused before any work is done on it. */
export const MAX_DN_LENGTH = 16 * 1024;

const DESCRIPTOR = /^[A-Za-z][A-Za-z0-9-]*$/;
/**
 * nginx escapes every byte outside printable ASCII; a raw one means the text was not printed
 * by nginx, and reading it anyway (as Latin-1, say) would misread a name.
 */
const NOT_PRINTED_BY_NGINX = /[^\x20-\x7e]/;
const NUMERIC_OID = /^[0-9]+(?:\.[0-9]+)+$/;
const HEX_DIGIT = /^[0-9A-Fa-f]$/;
/** What may follow a backslash as itself: RFC 4514 `escaped / SPACE / SHARP / EQUALS`. */
const ESCAPABLE = new Set([',', '+', '"', '\\', '<', '>', ';', '=', '#', ' ']);
/** Characters that must be escaped anywhere in a value; ',' and '+' end it instead. */
const MUST_ESCAPE = new Set(['"', ';', '<', '>']);

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

interface Scanned<T> {
  result: T;
  end: number;
}

/**
 * Decodes a subject DN as nginx prints it into its attributes, in printed order, with values
 * fully decoded. Throws a DN_MALFORMED GatewayError (message `subject DN: <problem> at position
 * <n>`, never quoting the DN) on malformed text, invalid UTF-8, or text over 16 KiB.
 */
export function decodeDn(text: string): DnAttribute[] {
  return decodeDistinguishedName(text, 'subject DN');
}

/**
 * Decodes DN text as nginx prints it into attributes in printed order. Throws a DN_MALFORMED
 * GatewayError, whose message starts with `label` and gives a position but never the text.
 */
export function decodeDistinguishedName(text: string, label: string): DnAttribute[] {
  const fail = (problem: string): GatewayError =>
    new GatewayError('DN_MALFORMED', `${label}: ${problem}`);
  if (typeof text !== 'string') throw fail('is not text');
  if (text.length > MAX_DN_LENGTH) {
    throw fail(`is ${text.length} characters long, more than the ${MAX_DN_LENGTH} allowed`);
  }

  if (text === '') return [];

  const raw = NOT_PRINTED_BY_NGINX.exec(text);
  if (raw) {
    throw fail(
      `raw character outside printable ASCII at position ${raw.index}; nginx escapes those`,
    );
  }

  const attributes: DnAttribute[] = [];
  let position = 0;
  let rdn = 0;
  for (;;) {
    const type = scanType(text, position, fail);
    const value = scanValue(text, type.end + 1, { type: type.result, fail });
    attributes.push({ type: type.result, value: value.result, rdn });
    if (value.end === text.length) return attributes;

    if (text[value.end] === ',') rdn += 1;
    position = value.end + 1;
  }
}

type Fail = (problem: string) => GatewayError;

function scanType(text: string, start: number, fail: Fail): Scanned<string> {
  let end = start;
  while (end < text.length && !'=,+'.includes(text[end] as string)) end += 1;
  const type = text.slice(start, end);

  if (type === '') throw fail(`attribute type missing at position ${start}`);

  if (type.startsWith(' ') && text[start - 1] === ',') {
    throw fail(`space after ',' at position ${start}, as when the header is sent twice`);
  }

  if (!DESCRIPTOR.test(type) && !NUMERIC_OID.test(type)) {
    throw fail(`attribute type at position ${start} is neither a name nor a dotted OID`);
  }

  if (text[end] !== '=') throw fail(`attribute type at position ${start} has no '='`);

  return { result: type, end };
}

interface ValueContext {
  type: string;
  fail: Fail;
}

function scanValue(text: string, start: number, context: ValueContext): Scanned<string> {
  if (text[start] === '#') return scanHexValue(text, start, context.fail);
  if (text[start] === '"') return scanQuotedValue(text, start, context);
  return scanStringValue(text, start, context);
}

/** `#` and the DER encoding in hex; kept as written, since it is not text. */
function scanHexValue(text: string, start: number, fail: Fail): Scanned<string> {
  let end = start + 1;
  while (end < text.length && HEX_DIGIT.test(text[end] as string)) end += 1;
  const digits = end - start - 1;

  if (digits === 0 || digits % 2 !== 0) {
    throw fail(`'#' value at position ${start} needs an even, non-zero number of hex digits`);
  }

  if (end < text.length && !isSeparator(text[end])) {
    throw fail(`'#' value at position ${start} has a character that is not a hex digit`);
  }

  return { result: text.slice(start, end), end };
}

function scanStringValue(text: string, start: number, context: ValueContext): Scanned<string> {
  const value = createValueBuilder(context);
  let position = start;
  let unescapedSpaceAt = -1;
  while (position < text.length && !isSeparator(text[position])) {
    const char = text[position] as string;
    unescapedSpaceAt = char === ' ' ? position : -1;
    if (char === '\\') {
      position = scanEscape(text, position, value, context.fail);
      continue;
    }

    if (MUST_ESCAPE.has(char)) throw context.fail(`unescaped '${char}' at position ${position}`);
    if (char === ' ' && position === start) {
      throw context.fail(`unescaped leading space at position ${position}`);
    }
    value.addText(char);
    position += 1;
  }

  if (unescapedSpaceAt !== -1) {
    throw context.fail(`unescaped trailing space at position ${unescapedSpaceAt}`);
  }
  return { result: value.finish(), end: position };
}

/** RFC 2253 section 4 quoting: everything up to the closing quote is literal except escapes. */
function scanQuotedValue(text: string, start: number, context: ValueContext): Scanned<string> {
  const value = createValueBuilder(context);
  let position = start + 1;
  while (text[position] !== '"') {
    if (position >= text.length) {
      throw context.fail(`quoted value starting at position ${start} is not closed`);
    }

    if (text[position] === '\\') {
      position = scanEscape(text, position, value, context.fail);
      continue;
    }
    value.addText(text[position] as string);
    position += 1;
  }

  const end = position + 1;
  if (end < text.length && !isSeparator(text[end])) {
    throw context.fail(`quoted value starting at position ${start} is followed by more text`);
  }
  return { result: value.finish(), end };
}

/** Reads one `\X` or `\XX` escape at `position` into `value`; returns the position after it. */
function scanEscape(text: string, position: number, value: ValueBuilder, fail: Fail): number {
  const next = text[position + 1];
  if (next === undefined) throw fail(`dangling backslash at position ${position}`);

  const pair = text.slice(position + 1, position + 3);
  if (pair.length === 2 && [...pair].every((digit) => HEX_DIGIT.test(digit))) {
    value.addByte(Number.parseInt(pair, 16), position);
    return position + 3;
  }

  if (!ESCAPABLE.has(next)) {
    throw fail(
      `backslash at position ${position} escapes neither a special character nor a hex pair`,
    );
  }
  value.addText(next);
  return position + 2;
}

interface ValueBuilder {
  addText(text: string): void;
  addByte(byte: number, position: number): void;
  finish(): string;
}

/**
 * Collects a value: runs of `\XX` bytes are decoded as UTF-8 when the run ends, and a run that
 * is not valid UTF-8 (a lone byte, a truncated sequence, an overlong form) is refused.
 */
function createValueBuilder(context: ValueContext): ValueBuilder {
  let text = '';
  let bytes: number[] = [];
  let bytesStart = 0;
  const flush = (): void => {
    if (bytes.length === 0) return;

    try {
      text += utf8.decode(Uint8Array.from(bytes));
    } catch {
      throw context.fail(`${context.type} value has invalid UTF-8 at position ${bytesStart}`);
    }
    bytes = [];
  };

  return {
    addText(more) {
      flush();
      text += more;
    },
    addByte(byte, position) {
      if (bytes.length === 0) bytesStart = position;
      bytes.push(byte);
    },
    finish() {
      flush();
      return text;
    },
  };
}

function isSeparator(char: string | undefined): boolean {
  return char === ',' || char === '+';
}
