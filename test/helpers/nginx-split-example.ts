// nginx started on one of the shipped examples in deploy/nginx, adapted only where a test must.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pki } from './certificates.js';
import {
  findNginx,
  freePort,
  NginxExited,
  stopProcess,
  TEMP_PATH_MODULES,
  waitForPidFile,
  waitForTls,
  type NginxBinary,
} from './nginx.js';

export interface ExampleOptions {
  readonly pki: Pki;
  /** The example's path, relative to the repository. */
  readonly example: string;
  /** What the example's upstream addresses become: `127.0.0.1:8080` to `127.0.0.1:<port>`. */
  readonly upstreams: Readonly<Record<string, number>>;
}

export interface RunningExample {
  readonly port: number;
  readonly origin: string;
  readonly pki: Pki;
  /** The access log the example writes, with its own log format. */
  readonly accessLogPath: string;
  readAccessLog(): Promise<string>;
  /** Stops nginx and removes its folder. Safe to call more than once. */
  stop(): Promise<void>;
}

const REPOSITORY = new URL('../../', import.meta.url);
const START_ATTEMPTS = 5;

/**
 * The example with the test's port, certificates, log file and upstream ports. Each place is
 * replaced exactly where the example has it; an example that no longer has one fails the test
 * here, rather than run with a production path.
 */
function adapt(text: string, dir: string, port: number, options: ExampleOptions): string {
  const replacements: [RegExp, string][] = [
    [/^(\s*)listen 443 ssl;$/m, `$1listen 127.0.0.1:${port} ssl;`],
    [/^(\s*ssl_certificate)\s+\S+;$/m, `$1 ${options.pki.serverCert};`],
    [/^(\s*ssl_certificate_key)\s+\S+;$/m, `$1 ${options.pki.serverKey};`],
    [/^(\s*ssl_client_certificate)\s+\S+;$/m, `$1 ${options.pki.caCert};`],
    [/^(\s*access_log)\s+\S+/m, `$1 ${join(dir, 'access.log')}`],
    ...Object.entries(options.upstreams).map(([address, upstreamPort]): [RegExp, string] => [
      new RegExp(`^(\\s*server) ${address.replace(/\./g, '\\.')};$`, 'm'),
      `$1 127.0.0.1:${upstreamPort};`,
    ]),
  ];
  let adapted = text;
  for (const [pattern, replacement] of replacements) {
    if (adapted.search(pattern) === -1) throw new Error(`${options.example} has no ${pattern}`);
    adapted = adapted.replace(pattern, replacement);
  }
  return adapted;
}

function mainConfig(dir: string, binary: NginxBinary, http: string): string {
  const tempPaths = TEMP_PATH_MODULES.filter(
    (name) => !binary.configureArguments.includes(`--without-http_${name}_module`),
  ).map((name) => `  ${name}_temp_path ${join(dir, `${name}_temp`)};`);

  return `worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} notice;

events {
  worker_connections 512;
}

http {
  client_body_temp_path ${join(dir, 'client_body_temp')};
  proxy_temp_path ${join(dir, 'proxy_temp')};
${tempPaths.join('\n')}
  default_type application/octet-stream;

${http}
}
`;
}

async function startOnFreePort(options: ExampleOptions, dir: string) {
  const binary = await findNginx();
  const example = await readFile(new URL(options.example, REPOSITORY), 'utf8');
  const configPath = join(dir, 'nginx.conf');
  const errorLogPath = join(dir, 'error.log');

  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    await writeFile(configPath, mainConfig(dir, binary, adapt(example, dir, port, options)));
    const args = ['-p', `${dir}/`, '-c', configPath, '-e', errorLogPath, '-g', 'daemon off;'];
    const child: ChildProcess = spawn(binary.path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

    try {
      await waitForPidFile(dir, child, () => stderr);
      await waitForTls(port, options.pki);
      return { child, port };
    } catch (error) {
      await stopProcess(child);
      // Another process took the port between our probe and nginx's bind: pick another.
      const portTaken = error instanceof NginxExited && error.output.includes('Address already');
      if (!portTaken || attempt >= START_ATTEMPTS) throw error;
    }
  }
}

/**
 * Starts nginx on a shipped example (see `adapt` for what changes), on a free port of
 * 127.0.0.1. Resolves once a TLS handshake succeeds; rejects with nginx's own error when the
 * example does not load.
 */
export async function startNginxExample(options: ExampleOptions): Promise<RunningExample> {
  const dir = await mkdtemp(join(tmpdir(), 'jcg-nginx-example-'));
  // When tests run as root, nginx's workers run as nobody and must reach their folders.
  await chmod(dir, 0o755);

  let started: Awaited<ReturnType<typeof startOnFreePort>>;
  try {
    started = await startOnFreePort(options, dir);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const { child, port } = started;
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  let stopping: Promise<void> | undefined;
  const accessLogPath = join(dir, 'access.log');

  return {
    port,
    origin: `https://127.0.0.1:${port}`,
    pki: options.pki,
    accessLogPath,
    readAccessLog: () => readFile(accessLogPath, 'utf8'),
    stop: () => {
      stopping ??= (async () => {
        process.off('exit', killOnExit);
        await stopProcess(child);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
