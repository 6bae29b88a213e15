import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Query parameters whose values are bearer tokens: Jitsi's page token and its BOSH/websocket token. */
const SECRET_QUERY_PARAMETERS = /([?&](?:jwt|token)=)[^&#]*/gi;

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

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    level: options.level ?? 'info',
    base: { service: 'jitsi-cert-gateway' },
    serializers: { req: serializeRequest, err: pino.stdSerializers.err },
    // A second line of defence: even if a caller passes one of these by mistake, it never prints.
    redact: {
      paths: [
        'token',
        '*.token',
        'jwt',
        '*.jwt',
        'secret',
        '*.secret',
        'cookie',
        '*.cookie',
        'headers',
        '*.headers',
        'certificate',
        '*.certificate',
      ],
      censor: '[redacted]',
    },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
