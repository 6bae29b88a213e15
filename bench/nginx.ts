// nginx configurations for the benchmark: a plain reverse proxy, and the split example as shipped.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startProcess, waitForPort } from './processes.js';

export const NGINX_BINARY = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find(
  (path) => existsSync(path),
);

/**
 * The load generator plays the part of nginx's TLS side: it sends the identity headers nginx
 * would set from the client certificate, and nginx passes them on by the same names.
 */
const IDENTITY_FROM_REQUEST = `
      proxy_set_header X-SSL-Client-Verify $http_x_ssl_client_verify;
      proxy_set_header X-SSL-Client-S-DN   $http_x_ssl_client_s_dn;
      proxy_set_header X-SSL-Client-I-DN   $http_x_ssl_client_i_dn;
      proxy_set_header X-SSL-Client-Serial $http_x_ssl_client_serial;
      proxy_set_header X-SSL-Client-Cert   $http_x_ssl_client_cert;`;

function mainConfig(dir: string, http: string): string {
  return `worker_processes 1;
worker_rlimit_nofile 200000;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;

events {
  worker_connections 60000;
}

http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path ${join(dir, 'client_body_temp')};
  proxy_temp_path ${join(dir, 'proxy_temp')};
  fastcgi_temp_path ${join(dir, 'fastcgi_temp')};
  uwsgi_temp_path ${join(dir, 'uwsgi_temp')};
  scgi_temp_path ${join(dir, 'scgi_temp')};
  default_type application/octet-stream;
${http}
}
`;
}

/** nginx in front of one target, as the README's example: everything to it. */
export function proxyConfig(dir: string, port: number, targetPort: number, identity: boolean) {
  return mainConfig(
    dir,
    `
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' '';
  }
  upstream target {
    server 127.0.0.1:${targetPort};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://target;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;${identity ? IDENTITY_FROM_REQUEST : ''}
      proxy_read_timeout 900s;
    }
  }`,
  );
}

export interface SplitPorts {
  port: number;
  gatewayPort: number;
  upstreamPort: number;
}

/**
 * deploy/nginx/jitsi-cert-gateway-split.conf as shipped, with plain HTTP on `port` instead of
 * TLS and the identity headers taken from the request (see IDENTITY_FROM_REQUEST).
 */
export async function splitConfig(dir: string, example: string, ports: SplitPorts) {
  const text = await readFile(example, 'utf8');
  const replaced = [
    [/listen 443 ssl;/, `listen 127.0.0.1:${ports.port};`],
    [/^\s*ssl_[a-z_]+\s.*$/gm, ''],
    [/^\s*access_log .*$/gm, ''],
    [/server 127\.0\.0\.1:8080;/, `server 127.0.0.1:${ports.gatewayPort};`],
    [/server 127\.0\.0\.1:8000;/, `server 127.0.0.1:${ports.upstreamPort};`],
    [/\$ssl_client_escaped_cert/g, '$http_x_ssl_client_cert'],
    [/\$ssl_client_(verify|s_dn|i_dn|serial)/g, '$http_x_ssl_client_$1'],
  ] as const;
  let config = text;
  for (const [pattern, replacement] of replaced) {
    if (config.search(pattern) === -1)
      throw new Error(`the split example no longer has ${pattern}`);
    config = config.replace(pattern, replacement);
  }
  return mainConfig(dir, config);
}

/** Starts nginx on its configuration, pinned; resolves once it accepts connections. */
export async function startNginx(
  dir: string,
  config: string,
  port: number,
  cpu: number | undefined,
): Promise<ChildProcess> {
  if (!NGINX_BINARY) throw new Error('nginx is not installed');
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'nginx.conf');
  await writeFile(path, config);
  const check = spawnSync(NGINX_BINARY, ['-t', '-p', `${dir}/`, '-c', path], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx rejects its configuration:\n${check.stderr}`);

  const child = startProcess(
    NGINX_BINARY,
    ['-p', `${dir}/`, '-c', path, '-e', join(dir, 'error.log'), '-g', 'daemon off;'],
    { cpu, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  await waitForPort(port, child);
  return child;
}
