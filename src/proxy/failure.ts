import type { IncomingMessage } from 'node:http';
import { redactUrl, type Logger } from '../log.js';

/** The code we give our own timeout, so that it reads apart from a refused connection. */
const TIMED_OUT = 'UPSTREAM_TIMEOUT';

export function timeoutError(): Error {
  return Object.assign(new Error('upstream timed out'), { code: TIMED_OUT });
}

export interface Failure {
  code: string;
  timedOut: boolean;
}

/** Logs an upstream failure without the query's tokens, and says whether it was a timeout. */
export function reportFailure(
  error: Error,
  req: IncomingMessage,
  logger: Logger,
  onError?: (code: string) => void,
): Failure {
  const code = (error as NodeJS.ErrnoException).code ?? 'ERROR';
  onError?.(code);
  logger.warn(
    { reason: 'upstream-error', code, method: req.method, url: redactUrl(req.url ?? '') },
    'the upstream failed',
  );
  return { code, timedOut: code === TIMED_OUT };
}
