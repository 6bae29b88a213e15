import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Query parameters whose values are bearer tokens: Jitsi's page token and its BOSH/websocket token. */
const SECRET_QUERY_PARAMETERS = /([?&](?:jwt|token)=)[^&#\s]*/gi;

/**
 * Replace the values of `jwt` and `token` query parameters, so that a URL can be logged.
 * Tokens travel in URLs, and a logged token is a usable credential until it expires.
 */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY_PARAMETERS, '$1[redacted]');
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
