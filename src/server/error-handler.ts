import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler } from 'express';
import { isGatewayError } from '../errors.js';
import { redactUrl, type Logger } from '../log.js';
import { errorPage } from '../pages.js';

/**
 * Turns any error into a status and a short page. A GatewayError's message is written for the
 * person in front of the browser; anything else is logged and shown as a plain 500, never as a
 * stack. A response already under way cannot change its status: its connection is cut.
 */
export function sendError(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
): void {
  const url = redactUrl((req as { originalUrl?: string }).originalUrl ?? req.url ?? '');
  if (isGatewayError(error)) {
    logger.info({ code: error.code, method: req.method, url }, error.message);
  } else {
    logger.error({ err: error, method: req.method, url }, 'request failed');
  }

  if (res.headersSent) {
    res.destroy();
    return;
  }
  const page = isGatewayError(error)
    ? errorPage(error.status, error.message)
    : errorPage(500, 'The gateway could not handle this request.');
  res.writeHead(page.status, page.headers).end(page.body);
}

/** The express app's last handler. */
export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  // express recognises an error handler by its four parameters, so `_next` must stay.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  return (error: unknown, req, res, _next) => sendError(logger, req, res, error);
}
