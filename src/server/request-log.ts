import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { DecisionObserver, DecisionRecord } from '../inject/index.js';
import { redactUrl, type Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics/index.js';
import { isLongPoll } from '../proxy/index.js';

/**
 * One log line and the metrics for each request, written when its response closes. Call
 * `begin` first thing for every request the gateway handles, wherever that happens.
 */
export interface RequestObserver extends DecisionObserver {
  begin(req: IncomingMessage, res: ServerResponse): void;
  /** The same for a websocket upgrade: one line when its socket closes. */
  beginUpgrade(req: IncomingMessage, socket: Duplex): void;
}

export interface ObserverOptions {
  logger: Logger;
  metrics: GatewayMetrics;
  /** Level of a completed, successful access line; room page decisions are info or above. */
  accessLogLevel: 'debug' | 'info';
}

interface Observation {
  /** Made into the request id only when a line names it: most requests write none. */
  sequence: number;
  startedAt: number;
  logger?: Logger;
  record?: DecisionRecord;
}

/** nginx's code for a request whose client went away before the response began. */
const CLIENT_CLOSED = 499;

export function createRequestObserver(options: ObserverOptions): RequestObserver {
  const { logger, metrics } = options;
  // Unique enough across replicas and restarts to find one request in aggregated logs.
  const idPrefix = randomBytes(4).toString('hex');
  let sequence = 0;
  const observations = new WeakMap<ServerResponse, Observation>();

  function finish(req: IncomingMessage, res: ServerResponse, observation: Observation): void {
    const seconds = (performance.now() - observation.startedAt) / 1000;
    const aborted = !res.writableFinished;
    const status = aborted && !res.headersSent ? CLIENT_CLOSED : res.statusCode;
    const { record } = observation;
    if (record === undefined || record.decision === 'pass') {
      metrics.proxied(isLongPoll(req.url ?? '') ? 'bosh' : 'other', status, seconds);
    }

    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : options.accessLogLevel;
    // Access lines are debug by default: a static file should not pay for a line nobody reads.
    if (record === undefined && !logger.isLevelEnabled(level)) return;

    const fields = {
      reqId: requestId(observation.sequence),
      method: req.method,
      url: redactUrl((req as { originalUrl?: string }).originalUrl ?? req.url ?? ''),
      status,
      durationMs: Math.round(seconds * 10_000) / 10,
      peer: req.socket.remoteAddress,
      aborted: aborted || undefined,
    };
    if (record !== undefined) {
      // Not `{ ...fields, ...record }`: V8 builds a fresh hidden class for each property added
      // after a spread, which made this merge cost more than the rest of a redirect's logging.
      logDecision(logger, Object.assign(fields, record));
      return;
    }
    logger[level](fields, aborted ? 'request aborted' : 'request completed');
  }

  const requestId = (number: number): string => `${idPrefix}-${number.toString(36)}`;

  return {
    begin(req, res) {
      sequence += 1;
      const observation: Observation = { sequence, startedAt: performance.now() };
      observations.set(res, observation);
      // 'close' comes once; `once` would wrap the listener anew for every request.
      res.on('close', () => finish(req, res, observation));
    },
    beginUpgrade(req, socket) {
      sequence += 1;
      const reqId = requestId(sequence);
      const startedAt = performance.now();
      // Only these strings are kept: the request itself would stay in memory with the websocket.
      const { method } = req;
      const url = redactUrl(req.url ?? '');
      const peer = req.socket.remoteAddress;
      socket.on('close', () => {
        const durationMs = Math.round((performance.now() - startedAt) * 10) / 10;
        const fields = { reqId, method, url, durationMs, peer, websocket: true };
        logger[options.accessLogLevel](fields, 'websocket closed');
      });
    },
    loggerFor(res) {
      const observation = observations.get(res);
      if (observation === undefined) return logger;

      observation.logger ??= logger.child({ reqId: requestId(observation.sequence) });
      return observation.logger;
    },
    decided(res, record) {
      const observation = observations.get(res);
      if (observation === undefined) {
        // A request that bypassed begin() still gets its decision counted and logged, now.
        metrics.roomPageDecided(record.decision, record.reason);
        logDecision(logger, Object.assign({ status: res.statusCode }, record));
        return;
      }

      observation.record = record;
      const seconds = (performance.now() - observation.startedAt) / 1000;
      metrics.roomPageDecided(record.decision, record.reason, seconds);
    },
    tokenMinted: () => metrics.tokenMinted(),
  };
}

/** Loops and malformed identities point at a misconfiguration; a 5xx is ours to look at. */
function logDecision(logger: Logger, line: DecisionRecord & { status: number }): void {
  if (line.status >= 500) {
    logger.error(line, `room page: ${line.decision}`);
  } else if (line.reason === 'loop-broken' || line.reason === 'backstop') {
    logger.warn(
      line,
      'broke a redirect loop: passing the room page as it came, without a new token',
    );
  } else if (line.reason === 'identity-invalid') {
    logger.warn(line, `room page: ${line.decision}`);
  } else if (line.guest === 'untrusted-peer') {
    // Only nginx may send identity headers; from anyone else they are an attempt to pose as a holder.
    logger.warn(line, 'ignored identity headers from a peer that is not a trusted proxy');
  } else {
    logger.info(line, `room page: ${line.decision}`);
  }
}
