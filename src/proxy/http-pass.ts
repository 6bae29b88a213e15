import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import { errorPage } from '../pages.js';
import { reportFailure, timeoutError } from './failure.js';
import { browserResponseHeaders, upstreamRequestHeaders, type HeaderPolicy } from './headers.js';
import type { UpstreamTarget } from './target.js';

export interface HttpPassOptions {
  target: UpstreamTarget;
  policy: HeaderPolicy;
  timeoutSeconds: number;
  longPollTimeoutSeconds: number;
  onError?(code: string): void;
  logger: Logger;
}

/** `/http-bind` and its tenant form `/<tenant>/http-bind`. */
const LONG_POLL = /^\/(?:[^/?]+\/)?http-bind(?:[/?]|$)/;

/** Is this request target a BOSH long-poll, which Prosody may hold for up to a minute? */
export function isLongPoll(url: string): boolean {
  return LONG_POLL.test(url);
}

/**
 * A request handler that sends the request to the upstream and its response back, both
 * streamed, on a kept-alive connection. It does nothing else per request, because every static
 * file, BOSH poll and config fetch pays for whatever it does.
 */
export function createHttpPass(
  options: HttpPassOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { target, policy, logger } = options;

  const fail = (error: Error, req: IncomingMessage, res: ServerResponse): void => {
    // The browser went away first; we cut the upstream request ourselves.
    if (res.destroyed) return;

    const { timedOut } = reportFailure(error, req, logger, options.onError);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const page = timedOut
      ? errorPage(504, 'Jitsi did not answer in time.')
      : errorPage(502, 'Jitsi cannot be reached right now.');
    res.writeHead(page.status, page.headers).end(page.body);
  };

  return (req, res) => {
    const url = req.url ?? '/';
    const upstreamReq = target.send({
      method: req.method,
      path: target.pathPrefix + url,
      headers: upstreamRequestHeaders(req, policy),
    });
    const seconds = LONG_POLL.test(url) ? options.longPollTimeoutSeconds : options.timeoutSeconds;
    upstreamReq.setTimeout(seconds * 1000, () => upstreamReq.destroy(timeoutError()));

    upstreamReq.on('response', (upstreamRes) => relay(upstreamRes, res));
    upstreamReq.on('error', (error) => fail(error, req, res));
    res.on('close', () => abandon(upstreamReq, res));
    req.pipe(upstreamReq);
  };
}

function relay(upstreamRes: IncomingMessage, res: ServerResponse): void {
  const status = upstreamRes.statusCode ?? 502;
  const headers = browserResponseHeaders(upstreamRes);
  if (res.getHeaderNames().length === 0) {
    res.writeHead(status, upstreamRes.statusMessage, headers);
  } else {
    // The inject step set the marker cookie before passing a room page on: appending keeps it
    // beside the upstream's own Set-Cookie, where writeHead's list would replace it.
    for (let index = 0; index < headers.length; index += 2) {
      res.appendHeader(headers[index] as string, headers[index + 1] as string);
    }
    res.writeHead(status, upstreamRes.statusMessage);
  }
  // A body cut off by the upstream must reach the browser as a cut-off response, not a hang.
  upstreamRes.on('error', () => res.destroy());
  upstreamRes.pipe(res);
}

/** The browser closed before the response was complete: free the upstream connection. */
function abandon(upstreamReq: ClientRequest, res: ServerResponse): void {
  if (!res.writableFinished) upstreamReq.destroy();
}
