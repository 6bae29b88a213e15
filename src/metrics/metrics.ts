import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric of ours starts with this, like `oauth2_proxy_` or `nginx_` do for theirs. */
const PREFIX = 'jitsi_cert_gateway_';

/** A long-poll is held by Prosody for up to a minute; a static file takes milliseconds. */
export type ProxiedRoute = 'bosh' | 'other';

/**
 * The gateway's metrics, as small calls that can be made from wherever a request is handled.
 * Label values come from closed lists (decisions, reasons, error codes), never from a URL, so
 * the number of series stays bounded.
 */
export interface GatewayMetrics {
  readonly registry: Registry;
  /** A room page decision has been applied, `seconds` after the request arrived (if known). */
  roomPageDecided(decision: string, reason: string, seconds?: number): void;
  tokenMinted(): void;
  /** A request passed to the upstream has completed with `status`. */
  proxied(route: ProxiedRoute, status: number, seconds: number): void;
  upstreamFailed(code: string): void;
  websocketOpened(): void;
  websocketClosed(): void;
  configReloaded(result: 'applied' | 'rejected'): void;
}

/** Reasons for which the gateway passed a room page on purpose instead of redirecting again. */
const LOOP_REASONS = new Set(['loop-broken', 'backstop']);

/** An errno-style code (`ECONNREFUSED`, `UPSTREAM_TIMEOUT`); anything else is folded into one. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]{1,39}$/;

/**
 * A registry of its own for each gateway, so that several gateways (tests, or a reload that
 * keeps its counters) never share state through prom-client's global registry.
 */
export function createMetrics(): GatewayMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  const decisions = new Counter({
    name: `${PREFIX}room_page_decisions_total`,
    help: 'Room page navigations by decision (pass, redirect, refuse) and reason.',
    labelNames: ['decision', 'reason'],
    registers,
  });
  const decisionSeconds = new Histogram({
    name: `${PREFIX}room_page_decision_duration_seconds`,
    help: 'Time from a room page request to its decision being applied (token signing included).',
    labelNames: ['decision'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  });
  const tokens = new Counter({
    name: `${PREFIX}tokens_minted_total`,
    help: 'Tokens signed for a redirect.',
    registers,
  });
  const loops = new Counter({
    name: `${PREFIX}loops_broken_total`,
    help: 'Room pages passed without a token to end a redirect loop, by reason (loop-broken: the marker; backstop: the per-holder count).',
    labelNames: ['reason'],
    registers,
  });
  const proxiedSeconds = new Histogram({
    name: `${PREFIX}proxied_request_duration_seconds`,
    help: 'Duration of requests passed to the upstream, by route (bosh or other) and status class.',
    labelNames: ['route', 'status_class'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers,
  });
  const upstreamErrors = new Counter({
    name: `${PREFIX}upstream_errors_total`,
    help: 'Requests and websockets the upstream failed (refused, reset, timed out), by error code.',
    labelNames: ['code'],
    registers,
  });
  const websockets = new Gauge({
    name: `${PREFIX}websockets_open`,
    help: 'Websocket connections currently proxied to the upstream.',
    registers,
  });
  const reloads = new Counter({
    name: `${PREFIX}config_reloads_total`,
    help: 'Configuration reloads on SIGHUP, by result (applied or rejected).',
    labelNames: ['result'],
    registers,
  });

  return {
    registry,
    roomPageDecided(decision, reason, seconds) {
      decisions.inc({ decision, reason });
      if (seconds !== undefined) decisionSeconds.observe({ decision }, seconds);
      if (LOOP_REASONS.has(reason)) loops.inc({ reason });
    },
    tokenMinted: () => tokens.inc(),
    proxied(route, status, seconds) {
      proxiedSeconds.observe({ route, status_class: statusClass(status) }, seconds);
    },
    upstreamFailed(code) {
      upstreamErrors.inc({ code: ERROR_CODE.test(code) ? code : 'OTHER' });
    },
    websocketOpened: () => websockets.inc(),
    websocketClosed: () => websockets.dec(),
    configReloaded: (result) => reloads.inc({ result }),
  };
}

function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}
