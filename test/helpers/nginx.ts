// A real nginx in front of the gateway (or any upstream), as in production, on a free port.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { constants, watch } from 'node:fs';
import { access, chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { delimiter, join } from 'node:path';
import { tmpdir } from 'node:os';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import type { Pki } from './certificates.js';

const run = promisify(execFile);

export type VerifyClient = 'optional' | 'optional_no_ca';

export interface StartNginxOptions {
  readonly pki: Pki;
  /** The port on 127.0.0.1 that `location /` proxies to. */
  readonly gatewayPort: number;
  readonly verifyClient: VerifyClient;
  /** Appended verbatim inside `location /`. */
  readonly extraLocationDirectives?: string;
}

export interface RunningNginx {
  readonly port: number;
  readonly origin: string;
  /** The certificates nginx was started with; the HTTPS client helpers take them from here. */
  readonly pki: Pki;
  readonly dir: string;
  readonly errorLogPath: string;
  /** Stops nginx and removes its folder. Safe to call more than once. */
  stop(): Promise<void>;
}

const NOT_INSTALLED = 'nginx is not installed: apt-get install nginx-light';
const START_ATTEMPTS = 5;

/** Modules whose temp path must point inside our folder, unless this nginx was built without them. */
export const TEMP_PATH_MODULES = ['fastcgi', 'uwsgi', 'scgi'] as const;

export interface NginxBinary {
  readonly path: string;
  readonly configureArguments: string;
}

let binaryLookup: Promise<NginxBinary> | undefined;

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// Debian puts nginx in /usr/sbin, which is not on an ordinary user's PATH.
async function lookUpNginx(): Promise<NginxBinary> {
  const pathDirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const candidates = [...pathDirs, '/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'];
  for (const dir of candidates) {
    const path = join(dir, 'nginx');
    if (await isExecutable(path)) {
      // `nginx -V` prints the build options (on stderr), which name the modules left out.
      const { stderr } = await run(path, ['-V']);
      return { path, configureArguments: stderr };
    }
  }

  throw new Error(NOT_INSTALLED);
}

export function findNginx(): Promise<NginxBinary> {
  binaryLookup ??= lookUpNginx();
  return binaryLookup;
}

function listenOnFreePort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** One free port on 127.0.0.1, for a server that binds it right after. */
export async function freePort(): Promise<number> {
  const server = await listenOnFreePort();
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Two different free ports: both probes hold their port until each has one. */
async function freePorts(): Promise<NginxPorts> {
  const servers = await Promise.all([listenOnFreePort(), listenOnFreePort()]);
  const [port, httpPort] = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return { port: port as number, httpPort: httpPort as number };
}

interface ConfigInput extends StartNginxOptions {
  readonly dir: string;
  readonly port: number;
  readonly binary: NginxBinary;
}

/**
 * Everything outside `http { }`, and the start of it: pid, logs and temp folders inside `dir`,
 * so that nginx runs without root and touches nothing of the system's. `http` is appended as
 * the rest of the `http { }` block.
 */
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
  access_log ${join(dir, 'access.log')};
  client_body_temp_path ${join(dir, 'client_body_temp')};
  proxy_temp_path ${join(dir, 'proxy_temp')};
${tempPaths.join('\n')}
  default_type application/octet-stream;

${http}
}
`;
}

function renderConfig(input: ConfigInput): string {
  const { dir, port, pki, gatewayPort, verifyClient, binary } = input;

  return mainConfig(
    dir,
    binary,
    `  # https://nginx.org/en/docs/http/websocket.html
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' close;
  }

  server {
    listen 127.0.0.1:${port} ssl;
    server_name localhost;

    ssl_certificate ${pki.serverCert};
    ssl_certificate_key ${pki.serverKey};
    ssl_client_certificate ${pki.caCert};
    ssl_verify_client ${verifyClient};
    ssl_verify_depth 2;

    location / {
      proxy_pass http://127.0.0.1:${gatewayPort};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      # nginx is the edge: replace, never extend, what the browser claims.
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;

      proxy_set_header X-SSL-Client-Verify      $ssl_client_verify;
      proxy_set_header X-SSL-Client-S-DN        $ssl_client_s_dn;
      proxy_set_header X-SSL-Client-S-DN-Legacy $ssl_client_s_dn_legacy;
      proxy_set_header X-SSL-Client-I-DN        $ssl_client_i_dn;
      proxy_set_header X-SSL-Client-Serial      $ssl_client_serial;
      proxy_set_header X-SSL-Client-Fingerprint $ssl_client_fingerprint;
      proxy_set_header X-SSL-Client-Cert        $ssl_client_escaped_cert;

      proxy_buffering off;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
${input.extraLocationDirectives ?? ''}
    }
  }`,
  );
}

export class NginxExited extends Error {
  constructor(readonly output: string) {
    super(`nginx exited during startup: ${output.trim().split('\n').join(' | ')}`);
  }
}

/** Resolves once nginx has written its pid file, which it does after binding its port. */
export function waitForPidFile(
  dir: string,
  child: ChildProcess,
  stderr: () => string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir, (_event, filename) => {
      if (filename === 'nginx.pid') finish(() => resolve());
    });
    const onExit = () => finish(() => reject(new NginxExited(stderr())));
    const onError = (error: Error) => finish(() => reject(error));
    function finish(settle: () => void) {
      watcher.close();
      child.off('close', onExit);
      child.off('error', onError);
      settle();
    }
    // 'close' rather than 'exit': by then all of nginx's stderr has been read.
    child.once('close', onExit);
    child.once('error', onError);
    // On a busy machine nginx can write its pid file before the watch above begins.
    access(join(dir, 'nginx.pid')).then(
      () => finish(() => resolve()),
      () => undefined,
    );
  });
}

/** One TLS handshake, so that "started" means a client can really connect. */
export async function waitForTls(port: number, pki: Pki): Promise<void> {
  const ca = await readFile(pki.caCert);
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca }, () => {
      socket.end();
      resolve();
    });
    socket.once('error', reject);
  });
}

export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();

  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    // TERM is nginx's fast shutdown; QUIT would wait for open websockets to end.
    child.kill('SIGTERM');
  });
}

/** The ports picked for one start: TLS on `port`; `httpPort` is free for a plain HTTP listener. */
export interface NginxPorts {
  readonly port: number;
  readonly httpPort: number;
}

/** Writes the whole nginx.conf for one attempt, once the folder and the ports are known. */
type RenderConfig = (dir: string, ports: NginxPorts, binary: NginxBinary) => string;

interface Started {
  readonly child: ChildProcess;
  readonly ports: NginxPorts;
}

async function startOnFreePorts(pki: Pki, dir: string, render: RenderConfig): Promise<Started> {
  const binary = await findNginx();
  const configPath = join(dir, 'nginx.conf');
  const errorLogPath = join(dir, 'error.log');

  for (let attempt = 1; ; attempt += 1) {
    const ports = await freePorts();
    await writeFile(configPath, render(dir, ports, binary));
    const args = ['-p', `${dir}/`, '-c', configPath, '-e', errorLogPath, '-g', 'daemon off;'];
    const child = spawn(binary.path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

    try {
      await waitForPidFile(dir, child, () => stderr);
      await waitForTls(ports.port, pki);
      return { child, ports };
    } catch (error) {
      await stopProcess(child);
      // Another process took the port between our probe and nginx's bind: pick another.
      const portTaken = error instanceof NginxExited && error.output.includes('Address already');
      if (!portTaken || attempt >= START_ATTEMPTS) throw error;
    }
  }
}

interface Launched {
  readonly nginx: RunningNginx;
  readonly ports: NginxPorts;
}

async function launch(pki: Pki, render: RenderConfig): Promise<Launched> {
  const dir = await mkdtemp(join(tmpdir(), 'jcg-nginx-'));
  // When tests run as root, nginx's workers run as nobody and must reach their temp folders.
  await chmod(dir, 0o755);

  let started: Started;
  try {
    started = await startOnFreePorts(pki, dir, render);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const { child, ports } = started;
  // Should the test process exit without calling stop(), nginx must not outlive it.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      process.off('exit', killOnExit);
      await stopProcess(child);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const nginx: RunningNginx = {
    port: ports.port,
    origin: `https://127.0.0.1:${ports.port}`,
    pki,
    dir,
    errorLogPath: join(dir, 'error.log'),
    stop,
  };
  return { nginx, ports };
}

/**
 * Starts nginx with TLS on a free port of 127.0.0.1, client certificates checked against the
 * test CA, and `location /` proxying to the gateway port with the production X-SSL-* headers.
 * Resolves once a TLS handshake succeeds; rejects with nginx's own error when it cannot start,
 * or with "nginx is not installed" when there is no nginx binary.
 */
export async function startNginx(options: StartNginxOptions): Promise<RunningNginx> {
  const render: RenderConfig = (dir, { port }, binary) =>
    renderConfig({ ...options, dir, port, binary });
  const { nginx } = await launch(options.pki, render);
  return nginx;
}

export interface StartNginxSiteOptions {
  readonly pki: Pki;
  /**
   * Returns a site as nginx includes it inside `http { }` (maps, upstreams, server blocks), for
   * this start's folder and ports. Its TLS server must listen on `127.0.0.1:<port>` with the
   * test PKI's server certificate, or the start fails.
   */
  readonly renderSite: (dir: string, ports: NginxPorts) => string;
}

export interface RunningNginxSite extends RunningNginx {
  /** The port given to the site for plain HTTP. */
  readonly httpPort: number;
}

/**
 * Starts nginx with a site written elsewhere (such as a deployment example) inside a test's
 * own main configuration: pid, error log, temp folders, and a default access log (the
 * combined format, which logs the whole request line) at `<dir>/access.log` for any server
 * that names none. Resolves and rejects as `startNginx` does.
 */
export async function startNginxSite(options: StartNginxSiteOptions): Promise<RunningNginxSite> {
  const render: RenderConfig = (dir, ports, binary) =>
    mainConfig(dir, binary, options.renderSite(dir, ports));
  const { nginx, ports } = await launch(options.pki, render);
  return { ...nginx, httpPort: ports.httpPort };
}
