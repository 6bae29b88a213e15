// The benchmark: `npm run bench [-- --quick] [-- --soak] [-- --only static-1k,redirect]`.
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { runHttpLoad, type HttpLoad, type LoadResult, type RequestShape } from './load-http.js';
import { closeAll, openMany, runEcho } from './load-websocket.js';
import { NGINX_BINARY } from './nginx.js';
import { canPin, coreTicks, cpuTicks, rssBytes, TICKS_PER_SECOND } from './processes.js';
import { formatIdle, formatRows, writeResults, type IdleRow, type Row } from './report.js';
import { runSoak, type SoakResult } from './soak.js';
import { startLab, TARGET_CPU, type Target } from './targets.js';
import {
  BOSH_BODY,
  BOSH_POST,
  firstVisits,
  holderHeaders,
  NAVIGATION,
  returns,
  SCRIPT_LOAD,
} from './workloads.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BUILD = fileURLToPath(new URL('.', import.meta.url));
const LOAD_CPU = 0;
const MB = 1024 * 1024;

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    soak: { type: 'boolean', default: false },
    'soak-seconds': { type: 'string', default: '300' },
    rounds: { type: 'string' },
    only: { type: 'string' },
    // `ulimit -n` of the processes under test, from run.sh.
    'file-limit': { type: 'string', default: '1048576' },
  },
});

/**
 * This virtual machine's speed drifts by a third over minutes. Each figure is therefore measured
 * in rounds, every target once per round in turn, and the round with the median rate is the
 * row: a slow minute falls on all targets alike instead of on whichever ran in it.
 */
const settings = flags.quick
  ? { warmupSeconds: 1, seconds: 3, rounds: 1, idleConnections: 2000, soakWarmupSeconds: 10 }
  : { warmupSeconds: 1, seconds: 4, rounds: 3, idleConnections: 10_000, soakWarmupSeconds: 60 };
if (flags.rounds !== undefined) {
  const rounds = Number(flags.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`--rounds must be a whole number of at least 1, not "${flags.rounds}"`);
  }
  settings.rounds = rounds;
}

/**
 * A proxy holds two sockets per websocket, one to each side: with fewer open files allowed than
 * that needs (and a margin for everything else), fewer idle websockets are opened, and said so.
 */
const idleConnections = Math.min(
  settings.idleConnections,
  Math.floor((Number(flags['file-limit']) - 1000) / 2),
);

interface HttpWorkload {
  name: string;
  load(target: Target): Omit<HttpLoad, 'origin' | 'seconds'>;
}

type Probed = Pick<Row, 'targetCpuPercent' | 'targetCorePercent' | 'loadCorePercent'>;

/** Measures CPU time of the processes under test and how busy each core was, over a window. */
function startProbe(target: Target): () => Probed {
  const pids = target.pids();
  const ticks = cpuTicks(pids);
  const cores = coreTicks();
  const started = performance.now();
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const after = coreTicks();
    const busy = (core: number): number => {
      const delta = (after[core]?.busy ?? 0) - (cores[core]?.busy ?? 0);
      const total = (after[core]?.total ?? 1) - (cores[core]?.total ?? 0);
      return (100 * delta) / Math.max(total, 1);
    };
    return {
      targetCpuPercent: (100 * (cpuTicks(pids) - ticks)) / TICKS_PER_SECOND / seconds,
      loadCorePercent: busy(LOAD_CPU),
      targetCorePercent: busy(TARGET_CPU),
    };
  };
}

function toRow(
  workload: string,
  target: Target,
  unit: Row['unit'],
  result: LoadResult,
  probe: Probed,
): Row {
  const cpuSeconds = (probe.targetCpuPercent / 100) * result.seconds;
  return {
    workload,
    target: target.name,
    unit,
    rate: result.rate,
    p50Ms: result.p50,
    p99Ms: result.p99,
    failures: result.failures,
    cpuUsPerOp: result.count > 0 ? (cpuSeconds / result.count) * 1e6 : Number.NaN,
    ...probe,
  };
}

async function measureHttp(workload: HttpWorkload, target: Target): Promise<Row> {
  const load = { ...workload.load(target), origin: target.origin };
  const warmup = await runHttpLoad({ ...load, seconds: settings.warmupSeconds });
  const probe = startProbe(target);
  const result = await runHttpLoad({ ...load, seconds: settings.seconds });
  const row = toRow(workload.name, target, 'req/s', result, probe());
  // A failure while warming up is a failure all the same.
  return { ...row, failures: row.failures + warmup.failures };
}

async function measureEcho(target: Target): Promise<Row> {
  let stopProbe: ReturnType<typeof startProbe> | undefined;
  let probed: Probed | undefined;
  const result = await runEcho({
    url: websocketUrl(target),
    connections: 1000,
    warmupSeconds: settings.warmupSeconds,
    seconds: settings.seconds,
    window: {
      start: () => (stopProbe = startProbe(target)),
      end: () => (probed = stopProbe?.()),
    },
  });
  if (!probed) throw new Error('the websocket load never measured');
  return toRow('websocket', target, 'msg/s', result, probed);
}

async function measureIdle(target: Target): Promise<IdleRow> {
  const before = rssBytes(target.pids());
  const sockets = await openMany(websocketUrl(target), idleConnections);
  await delay(2000);
  const rss = rssBytes(target.pids());
  await closeAll(sockets);
  await delay(1000);
  return {
    target: target.name,
    connections: sockets.length,
    rssBeforeMb: before / MB,
    rssMb: rss / MB,
    kbPerConnection: (rss - before) / 1024 / sockets.length,
  };
}

/**
 * Measures every target once per round, in turn. Each target's row is its median round, with
 * the failures of all rounds.
 */
async function inRounds(
  targets: readonly Target[],
  measure: (target: Target) => Promise<Row>,
): Promise<Row[]> {
  const rounds = targets.map((): Row[] => []);
  for (let round = 0; round < settings.rounds; round += 1) {
    for (const [index, target] of targets.entries()) {
      rounds[index]?.push(await measure(target));
      process.stdout.write('.');
    }
  }
  return rounds.map((measured) => {
    const byRate = [...measured].sort((a, b) => a.rate - b.rate);
    const median = byRate[Math.floor((byRate.length - 1) / 2)] as Row;
    return {
      ...median,
      // A failure in any round counts: the row must not hide one in a round it did not pick.
      failures: measured.reduce((sum, row) => sum + row.failures, 0),
      roundRates: measured.map((row) => row.rate),
    };
  });
}

function websocketUrl(target: Target): string {
  return `${target.origin.replace('http:', 'ws:')}/xmpp-websocket`;
}

/** A first visit through the gateway, returning the redirect's token and marker as a return. */
function visitOnce(origin: string, shape: RequestShape): Promise<RequestShape> {
  return new Promise((resolve, reject) => {
    const outgoing = request(`${origin}${shape.path}`, { headers: shape.headers }, (response) => {
      response.resume();
      const location = response.headers.location;
      const marker = response.headers['set-cookie']?.[0]?.split(';')[0];
      if (response.statusCode !== 302 || !location || !marker) {
        reject(new Error(`expected a redirect with a marker, got ${response.statusCode}`));
        return;
      }
      resolve({ path: location, headers: { ...shape.headers, cookie: marker } });
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** Adds each row's throughput relative to the direct upstream and the minimal Node proxy. */
function withRatios(rows: Row[]): Row[] {
  return rows.map((row) => {
    const same = rows.filter((other) => other.workload === row.workload);
    const direct = same.find((other) => other.target === 'direct')?.rate;
    const minimal = same.find((other) => other.target === 'minimal Node proxy')?.rate;
    return {
      ...row,
      vsDirect: direct ? row.rate / direct : undefined,
      vsMinimal: minimal ? row.rate / minimal : undefined,
    };
  });
}

function environment() {
  // nginx prints its version on stderr.
  const nginx = NGINX_BINARY
    ? spawnSync(NGINX_BINARY, ['-v'], { encoding: 'utf8' }).stderr
    : undefined;
  return {
    date: new Date().toISOString(),
    node: process.version,
    nginx: nginx?.trim() || (NGINX_BINARY ? 'installed' : 'not installed'),
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    pinned: canPin()
      ? `targets on core ${TARGET_CPU}, load generator and upstream on core ${LOAD_CPU}`
      : 'not pinned',
    loadAverageAtStart: loadavg(),
    settings,
  };
}

async function main(): Promise<void> {
  const env = environment();
  const only = flags.only?.split(',');
  const wanted = (name: string): boolean => !only || only.includes(name);
  console.log(`jitsi-cert-gateway benchmark, ${env.date}\n${JSON.stringify(env)}\n`);

  const holders = holderHeaders(1000);
  const lab = await startLab({ root: ROOT, build: BUILD });
  const stopOnSignal = () => void lab.stop().then(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);

  try {
    const returnShapes = await Promise.all(
      holders.slice(0, 500).map((holder, index) =>
        visitOnce(lab.gatewayOrigin, {
          path: `/Return%20Room%20${index}?lang=de`,
          headers: { ...NAVIGATION, ...holder },
        }),
      ),
    );

    // One sequence for every target and round: the targets behind nginx share the gateway, and a
    // room visited again without its token would meet the loop guard instead of a redirect.
    const visits = firstVisits(holders);
    const httpWorkloads: HttpWorkload[] = [
      {
        name: 'static-1k',
        load: () => ({
          connections: 50,
          shape: { path: '/static/1k.bin', headers: SCRIPT_LOAD },
          expectedStatus: 200,
        }),
      },
      {
        name: 'static-100k',
        load: () => ({
          connections: 50,
          shape: { path: '/static/100k.bin', headers: SCRIPT_LOAD },
          expectedStatus: 200,
        }),
      },
      {
        name: 'redirect',
        load: (target) => ({
          connections: 50,
          shape: { path: '/' },
          vary: visits,
          expectedStatus: target.injects ? 302 : 200,
        }),
      },
      {
        name: 'pass-with-marker',
        load: () => ({
          connections: 50,
          shape: returnShapes[0] as RequestShape,
          vary: returns(returnShapes),
          expectedStatus: 200,
        }),
      },
      {
        name: 'bosh',
        load: () => ({
          connections: 2000,
          method: 'POST',
          body: BOSH_BODY,
          shape: { path: '/http-bind?hold=300', headers: BOSH_POST },
          expectedStatus: 200,
        }),
      },
    ];

    const idle: IdleRow[] = [];
    if (wanted('idle-websockets')) {
      if (idleConnections < settings.idleConnections) {
        console.log(
          `idle websockets: ${idleConnections}, not ${settings.idleConnections}: the open-file limit is ${flags['file-limit']}`,
        );
      }
      for (const target of lab.targets) idle.push(await measureIdle(target));
      console.log(`${formatIdle(idle)}\n`);
    }

    const rows: Row[] = [];
    if (wanted('websocket')) {
      rows.push(...(await inRounds(lab.targets, (target) => measureEcho(target))));
    }
    for (const workload of httpWorkloads.filter((item) => wanted(item.name))) {
      rows.push(...(await inRounds(lab.targets, (target) => measureHttp(workload, target))));
    }
    const table = withRatios(rows);
    console.log(`\n${formatRows(table)}\n`);

    let soak: SoakResult | undefined;
    if (flags.soak) {
      const target = await lab.startSpareGateway();
      soak = await runSoak({
        target,
        holders,
        returnShapes,
        warmupSeconds: settings.soakWarmupSeconds,
        seconds: Number(flags['soak-seconds']),
      });
      console.log(
        `soak: RSS ${soak.rssAfterWarmupMb.toFixed(0)} MB after warm-up, at most ` +
          `${soak.rssMaxMb.toFixed(0)} MB over ${soak.seconds} s, ${soak.rssEndMb.toFixed(0)} MB ` +
          `at the end; last minute against the first: lowest ${(soak.growth * 100).toFixed(1)}%, ` +
          `median ${(soak.medianGrowth * 100).toFixed(1)}%; ${soak.failures} failed\n`,
      );
    }

    const path = await writeResults(ROOT, {
      environment: { ...env, loadAverageAtEnd: loadavg() },
      rows: table,
      idle,
      soak,
    });
    console.log(`results written to ${path}`);
  } finally {
    process.off('SIGINT', stopOnSignal);
    await lab.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
