import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Parameters whose values are credentials: Jitsi's page token (`jwt`), its BOSH and websocket
 * token (`token`), and the password the bridge's websockets carry (`/colibri-ws/…?pwd=`).
 */
const SECRET_NAMES = ['jwt', 'token', 'pwd'];
const SECRET_PARAMETERS = new Set(SECRET_NAMES);
/** A decoded name that starts with a secret one. */
const SECRET_PREFIX = new RegExp(`^(?:${SECRET_NAMES.join('|')})`);

/** Cheaper than PARAMETER: a text without any of these cannot hold a secret parameter. */
const MAY_NAME_SECRET = new RegExp(`${SECRET_NAMES.join('|')}|%`, 'i');

/**
 * One parameter after `?`, `&` or `#`: a name, and `=value` if there is one. It ends at
 * whitespace too, since error messages and stacks quote URLs inside other text.
 */
const PARAMETER = /([?&#])([^=&#?\s]*)(=[^&#\s]*)?/g;

/**
 * Replace the values of `jwt`, `token` and `pwd` parameters, in the query and in the fragment,
 * so that a URL can be logged. Tokens travel in URLs, and a logged token is a usable credential
 * until it expires. A parameter whose decoded name only starts with one of them (`jwt%3D<token>`,
 * `token%00=<token>`) is redacted whole: it may be a token under a name a client misreads.
 * Never throws.
 */
export function redactUrl(url: string): string {
  // Called for every logged request: most URLs have neither query nor fragment, and most
  // queries name no secret, even escaped.
  if (!url.includes('?') && !url.includes('#')) return url;
  if (!MAY_NAME_SECRET.test(url)) return url;

  return url.replace(PARAMETER, (parameter, separator: string, rawName: string, value?: string) => {
    const name = decodeName(rawName);
    if (SECRET_PARAMETERS.has(name))
      return value === undefined ? parameter : `${separator}${rawName}=[redacted]`;
    return SECRET_PREFIX.test(name) ? `${separator}[redacted]` : parameter;
  });
}

/**
 * The room page reads `%6Awt` as `jwt` (it percent-decodes names as URLSearchParams does), so
 * names are compared decoded, escape by escape so that one bad escape does not hide the rest,
 * and without regard to case.
 */
function decodeName(rawName: string): string {
  const name = rawName.includes('%')
    ? rawName.replace(/%([0-9A-Fa-f]{2})/g, (_escape, hex: string) =>
        String.fromCharCode(Number.parseInt(hex, 16)),
      )
    : rawName;
  return name.toLowerCase();
}

/**
 * The request fields we log. Headers are left out on purpose: they carry cookies, the
 * certificate and `Authorization` bearer tokens.
 */
function serializeRequest(req: { method?: string; url?: string }): Record<string, unknown> {
  return { method: req.method, url: redactUrl(req.url ?? '') };
}

/** Error messages and stacks can quote a request URL (a URIError, a library's message). */
function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;

  const serialized = pino.stdSerializers.err(error);
  return {
    ...serialized,
    message: redactUrl(serialized.message),
    stack: serialized.stack === undefined ? undefined : redactUrl(serialized.stack),
  };
}

/** Whatever a caller passes as `url`, only its redacted form is written. */
function redactUrlField(fields: Record<string, unknown>): Record<string, unknown> {
  return typeof fields.url === 'string' ? { ...fields, url: redactUrl(fields.url) } : fields;
}

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    level: options.level ?? 'info',
    base: { service: 'jitsi-cert-gateway' },
    serializers: { req: serializeRequest, err: serializeError },
    formatters: { log: redactUrlField },
    // A second line of defence: even if a caller passes one of these by mistake, it never prints.
    // Named paths only: a wildcard path (`*.token`) makes every log call about four times as
    // costly, and a room page redirect writes one line.
    redact: {
      paths: [
        'token',
        'jwt',
        'secret',
        'cookie',
        'headers',
        'authorization',
        'certificate',
        'req.headers',
        'res.headers',
        'err.headers',
      ],
      censor: '[redacted]',
    },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
