// A mixed load held for minutes against one gateway, watching its memory.
import { setTimeout as delay } from 'node:timers/promises';
import { runHttpLoad, type RequestShape } from './load-http.js';
import { runEcho } from './load-websocket.js';
import { rssBytes } from './processes.js';
import type { Target } from './targets.js';
import { BOSH_BODY, BOSH_POST, firstVisits, returns, SCRIPT_LOAD } from './workloads.js';

export interface SoakOptions {
  target: Target;
  holders: readonly Record<string, string>[];
  returnShapes: readonly RequestShape[];
  warmupSeconds: number;
  seconds: number;
}

export interface SoakResult {
  warmupSeconds: number;
  seconds: number;
  /** [seconds since start, RSS in MB] every few seconds */
  samples: [number, number][];
  rssAfterWarmupMb: number;
  rssMaxMb: number;
  rssEndMb: number;
  /**
   * The lowest RSS of the last minute over the lowest of the first minute after warm-up, minus
   * one. RSS swings by tens of MB, for up to a minute, between two full garbage collections;
   * what is left after one is what state the gateway keeps, and that is what must not grow.
   */
  growth: number;
  /** The same with the median of each minute, which a swing can fill. */
  medianGrowth: number;
  failures: number;
}

const SAMPLE_EVERY_SECONDS = 5;
const MB = 1024 * 1024;

/**
 * Static files, room page returns, first visits to new rooms (which the loop guard's backstop
 * remembers), BOSH long-polls and websocket messages, all at once at steady rates.
 */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { target } = options;
  const total = options.warmupSeconds + options.seconds;
  const samples: [number, number][] = [];
  const started = Date.now();
  let running = true;

  const sampler = (async () => {
    while (running) {
      samples.push([(Date.now() - started) / 1000, rssBytes(target.pids()) / MB]);
      await delay(SAMPLE_EVERY_SECONDS * 1000);
    }
  })();

  const common = { origin: target.origin, seconds: total, expectedStatus: 200 };
  const loads = await Promise.all([
    runHttpLoad({
      ...common,
      connections: 20,
      rate: 1000,
      shape: { path: '/static/1k.bin', headers: SCRIPT_LOAD },
    }),
    runHttpLoad({
      ...common,
      connections: 10,
      rate: 200,
      shape: options.returnShapes[0] as RequestShape,
      vary: returns(options.returnShapes),
    }),
    runHttpLoad({
      ...common,
      connections: 10,
      rate: 100,
      expectedStatus: 302,
      shape: { path: '/' },
      vary: firstVisits(options.holders),
    }),
    runHttpLoad({
      ...common,
      connections: 200,
      method: 'POST',
      body: BOSH_BODY,
      shape: { path: '/http-bind?hold=300', headers: BOSH_POST },
    }),
    runEcho({
      url: `${target.origin.replace('http:', 'ws:')}/xmpp-websocket`,
      connections: 200,
      warmupSeconds: 0,
      seconds: total,
      pauseMs: 100,
    }),
  ]);
  running = false;
  await sampler;

  const afterWarmup = samples.filter(([at]) => at >= options.warmupSeconds);
  const rssAfterWarmupMb = afterWarmup[0]?.[1] ?? Number.NaN;
  const rssMaxMb = Math.max(...afterWarmup.map(([, rss]) => rss));
  return {
    warmupSeconds: options.warmupSeconds,
    seconds: options.seconds,
    samples,
    rssAfterWarmupMb,
    rssMaxMb,
    rssEndMb: samples[samples.length - 1]?.[1] ?? Number.NaN,
    growth: lowest(lastMinute(afterWarmup)) / lowest(firstMinute(afterWarmup)) - 1,
    medianGrowth: median(lastMinute(afterWarmup)) / median(firstMinute(afterWarmup)) - 1,
    failures: loads.reduce((sum, load) => sum + load.failures, 0),
  };
}

function firstMinute(samples: readonly [number, number][]): number[] {
  const start = samples[0]?.[0] ?? 0;
  return samples.filter(([at]) => at < start + 60).map(([, rss]) => rss);
}

function lastMinute(samples: readonly [number, number][]): number[] {
  const end = samples[samples.length - 1]?.[0] ?? 0;
  return samples.filter(([at]) => at > end - 60).map(([, rss]) => rss);
}

/** NaN for no values, where Math.min would give Infinity. */
function lowest(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.min(...values);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
