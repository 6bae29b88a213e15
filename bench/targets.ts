// Everything the benchmark measures, started side by side on 127.0.0.1.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NGINX_BINARY, proxyConfig, splitConfig, startNginx } from './nginx.js';
import { freePort, processTree, startProcess, stopProcess, waitForPort } from './processes.js';

/** The processes under test get the second core; the load generator and the upstream the first. */
export const TARGET_CPU = 1;

export const BENCH_APP_SECRET = 'bench-app-secret-that-is-long-enough-012345';
const BENCH_COOKIE_SECRET = 'bench-cookie-secret-that-is-long-enough-0123';

export interface Target {
  name: string;
  origin: string;
  /** Does it run the gateway's inject step on room pages? */
  injects: boolean;
  /** The processes under test: their CPU time and memory are what a row reports. */
  pids(): number[];
}

export interface Lab {
  targets: Target[];
  gatewayOrigin: string;
  /** Starts one more gateway on its own, for the soak; stopped with the lab. */
  startSpareGateway(): Promise<Target>;
  stop(): Promise<void>;
}

interface Paths {
  root: string;
  build: string;
}

/**
 * Starts the shared upstream (first core), and on the second core: a second upstream to measure
 * directly, the minimal Node proxy, the gateway, and where nginx is installed nginx in front of
 * the upstream, nginx in front of the gateway (the full drop-in), and the split example.
 */
export async function startLab(paths: Paths): Promise<Lab> {
  const children: ChildProcess[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'jcg-bench-'));
  const stop = async (): Promise<void> => {
    await Promise.all(children.map(stopProcess));
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const upstreamPort = await freePort();
    const upstream = startProcess(
      process.execPath,
      [join(paths.build, 'upstream.js'), String(upstreamPort)],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(upstream);
    await waitForPort(upstreamPort, upstream);

    const startGateway = async (): Promise<Target> => {
      const port = await freePort();
      const child = startProcess(process.execPath, [join(paths.root, 'dist', 'cli.js')], {
        cpu: TARGET_CPU,
        cwd: paths.root,
        env: {
          ...process.env,
          GATEWAY_HOST: '127.0.0.1',
          GATEWAY_PORT: String(port),
          GATEWAY_UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}`,
          JWT_APP_SECRET: BENCH_APP_SECRET,
          GATEWAY_COOKIE_SECRET: BENCH_COOKIE_SECRET,
          // The room page returns are made once, at the start, and replayed through the whole
          // run and the soak: their tokens must not expire on the way.
          GATEWAY_TOKEN_LIFETIME: '7200',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(child);
      await waitForPort(port, child);
      const pid = child.pid as number;
      return { name: 'gateway', origin: origin(port), injects: true, pids: () => [pid] };
    };

    const direct = await startNode(paths, children, 'upstream.js', []);
    const minimal = await startNode(paths, children, 'minimal-proxy.js', [upstreamPort]);
    const gateway = await startGateway();
    const targets: Target[] = [
      { name: 'direct', origin: origin(direct.port), injects: false, pids: () => [direct.pid] },
      {
        name: 'minimal Node proxy',
        origin: origin(minimal.port),
        injects: false,
        pids: () => [minimal.pid],
      },
    ];

    if (NGINX_BINARY) {
      const gatewayPort = Number(new URL(gateway.origin).port);
      const nginx = async (name: string, config: (port: number) => Promise<string>) => {
        const port = await freePort();
        const child = await startNginx(join(dir, name), await config(port), port, TARGET_CPU);
        children.push(child);
        return { port, pid: child.pid as number };
      };
      const plain = await nginx('nginx', async (port) =>
        proxyConfig(join(dir, 'nginx'), port, upstreamPort, false),
      );
      const full = await nginx('full', async (port) =>
        proxyConfig(join(dir, 'full'), port, gatewayPort, true),
      );
      const split = await nginx('split', (port) =>
        splitConfig(
          join(dir, 'split'),
          join(paths.root, 'deploy/nginx/jitsi-cert-gateway-split.conf'),
          {
            port,
            gatewayPort,
            upstreamPort,
          },
        ),
      );
      targets.push(
        {
          name: 'nginx',
          origin: origin(plain.port),
          injects: false,
          pids: () => processTree(plain.pid),
        },
        gateway,
        {
          name: 'nginx + gateway',
          origin: origin(full.port),
          injects: true,
          pids: () => [...processTree(full.pid), ...gateway.pids()],
        },
        {
          name: 'nginx split',
          origin: origin(split.port),
          injects: true,
          pids: () => [...processTree(split.pid), ...gateway.pids()],
        },
      );
    } else {
      targets.push(gateway);
    }

    return { targets, gatewayOrigin: gateway.origin, startSpareGateway: startGateway, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function origin(port: number): string {
  return `http://127.0.0.1:${port}`;
}

async function startNode(
  paths: Paths,
  children: ChildProcess[],
  script: string,
  args: number[],
): Promise<{ port: number; pid: number }> {
  const port = await freePort();
  const child = startProcess(
    process.execPath,
    // The gateway turns V8's allocation-site pretenuring off (src/server/listen.ts); the Node
    // processes it is compared with get the same, or websockets would slow them down alone.
    [
      '--no-allocation-site-pretenuring',
      join(paths.build, script),
      String(port),
      ...args.map(String),
    ],
    { cpu: TARGET_CPU, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(child);
  await waitForPort(port, child);
  return { port, pid: child.pid as number };
}
