// The nginx example from deploy/, started as it is written, with only its example values
// (host ports, certificate paths, the gateway's address, the log file) replaced for a test.
import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pki } from './certificates.js';
import { startNginxSite, type NginxPorts, type RunningNginxSite } from './nginx.js';

/** The drop-in site: nginx with client certificates in front of the gateway. */
export const NGINX_EXAMPLE = fileURLToPath(
  new URL('../../deploy/nginx/jitsi-cert-gateway.conf', import.meta.url),
);

export interface ExampleValues {
  readonly pki: Pki;
  readonly gatewayPort: number;
  readonly dir: string;
  readonly ports: NginxPorts;
}

export interface RunningNginxExample extends RunningNginxSite {
  /** Where the example's own `access_log` lines were pointed. */
  readonly accessLogPath: string;
}

/** Each example value as written in the file, and what it becomes in a test. */
function replacements(values: ExampleValues): [string, string][] {
  const { pki, gatewayPort, dir, ports } = values;
  return [
    ['listen 443 ssl;', `listen 127.0.0.1:${ports.port} ssl;`],
    ['listen 80;', `listen 127.0.0.1:${ports.httpPort};`],
    ['/etc/nginx/tls/site.crt', pki.serverCert],
    ['/etc/nginx/tls/site.key', pki.serverKey],
    ['/etc/nginx/tls/client-ca.pem', pki.caCert],
    ['server 127.0.0.1:8080;', `server 127.0.0.1:${gatewayPort};`],
    ['/var/log/nginx/access.log', join(dir, 'access.log')],
  ];
}

/**
 * Replaces every example value in an nginx example's text. Throws, naming the value, when
 * one is missing: the example has changed, and the test would no longer run it as written.
 */
export function renderNginxExample(site: string, values: ExampleValues): string {
  let rendered = site;
  for (const [example, value] of replacements(values)) {
    if (!rendered.includes(example)) {
      throw new Error(`the nginx example no longer contains the example value "${example}"`);
    }
    rendered = rendered.replaceAll(example, value);
  }
  return rendered;
}

export interface StartNginxExampleOptions {
  readonly pki: Pki;
  /** The port on 127.0.0.1 where the gateway listens. */
  readonly gatewayPort: number;
  /** The example file; the drop-in site by default. */
  readonly path?: string;
}

/**
 * Starts nginx with an example site from deploy/ on free ports of 127.0.0.1, with the test
 * PKI's certificates and the access log inside nginx's temporary folder. Rejects as
 * `startNginx` does, or when the file lacks one of the example values.
 */
export async function startNginxExample(
  options: StartNginxExampleOptions,
): Promise<RunningNginxExample> {
  const site = await readFile(options.path ?? NGINX_EXAMPLE, 'utf8');
  const { pki, gatewayPort } = options;
  const nginx = await startNginxSite({
    pki,
    renderSite: (dir, ports) => renderNginxExample(site, { pki, gatewayPort, dir, ports }),
  });
  return { ...nginx, accessLogPath: join(nginx.dir, 'access.log') };
}

/**
 * Resolves with the access log's text once `isComplete` accepts it. nginx writes a request's
 * line only after the response has gone out, so a test waits for the lines it expects.
 */
export function readAccessLogWhen(
  nginx: RunningNginxExample,
  isComplete: (text: string) => boolean,
): Promise<string> {
  return new Promise((resolve, reject) => {
    // Watching starts before the first read, so that no write falls between the two.
    const watcher = watch(nginx.accessLogPath);
    let done = false;
    const check = () => {
      readFile(nginx.accessLogPath, 'utf8').then((text) => {
        if (done || !isComplete(text)) return;
        done = true;
        watcher.close();
        resolve(text);
      }, fail);
    };
    function fail(error: unknown) {
      done = true;
      watcher.close();
      reject(error instanceof Error ? error : new Error(String(error)));
    }
    watcher.on('change', check);
    watcher.once('error', fail);
    check();
  });
}
