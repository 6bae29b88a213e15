// Every nginx configuration we ship, read as nginx reads it: the deploy/ sites and each nginx
// block in the README that proxies to the gateway.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/index.js';
import { identityHeaderNames, type IdentityHeaderNames } from '../../../src/identity/headers.js';
import {
  listProxyLocations,
  parseNginxConfig,
  sizeInBytes,
  targetsFor,
  type ProxyLocation,
} from '../../helpers/nginx-config.js';

const defaults = configSchema.parse({});
const gatewayAddress = `${defaults.listen.host}:${defaults.listen.port}`;
const headerNames = identityHeaderNames(defaults.identity);

/** The nginx variable behind each header the gateway reads (its settings' descriptions). */
const NGINX_VARIABLES: Readonly<Record<keyof IdentityHeaderNames, string>> = {
  verify: '$ssl_client_verify',
  subjectDn: '$ssl_client_s_dn',
  issuerDn: '$ssl_client_i_dn',
  serial: '$ssl_client_serial',
  fingerprint: '$ssl_client_fingerprint',
  certificate: '$ssl_client_escaped_cert',
};

/** nginx's default is one memory page (4k or 8k); a redirect to a long room URL needs more. */
const MIN_HEADER_BUFFER_BYTES = 16 * 1024;

function read(path: string): string {
  return readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');
}

function readmeNginxBlocks(): [string, string][] {
  const blocks = [...read('README.md').matchAll(/^```nginx\n([\s\S]*?)^```$/gm)];
  return blocks.map((block, index) => [`README.md nginx block ${index + 1}`, block[1] as string]);
}

interface Route {
  readonly source: string;
  readonly location: ProxyLocation;
  readonly toGateway: boolean;
}

const deploySites = readdirSync(new URL('../../../deploy/nginx/', import.meta.url))
  .filter((name) => name.endsWith('.conf'))
  .map((name) => `deploy/nginx/${name}`);

const sources: [string, string][] = [
  ...deploySites.map((path): [string, string] => [path, read(path)]),
  ...readmeNginxBlocks(),
];

const routes: Route[] = sources.flatMap(([source, text]) => {
  const directives = parseNginxConfig(text);
  const gatewayTargets = targetsFor(directives, gatewayAddress);
  return listProxyLocations(directives).map((location) => ({
    source,
    location,
    toGateway: gatewayTargets.has(location.target),
  }));
});

const toGateway = routes.filter((route) => route.toGateway);
const elsewhere = routes.filter((route) => !route.toGateway);

function label(route: Route): [string, Route] {
  return [`${route.source}, location ${route.location.match}`, route];
}

describe('shipped nginx configurations', () => {
  it('are all found, each deploy site and a README block with a location to the gateway', () => {
    const proxied = new Set(toGateway.map((route) => route.source));

    expect(Object.values(headerNames)).toContain('x-ssl-client-fingerprint');
    expect(deploySites).toEqual(
      expect.arrayContaining([
        'deploy/nginx/jitsi-cert-gateway.conf',
        'deploy/nginx/jitsi-cert-gateway-split.conf',
      ]),
    );
    expect(deploySites.filter((site) => !proxied.has(site))).toEqual([]);
    expect([...proxied].some((source) => source.startsWith('README.md'))).toBe(true);
  });

  it.each(toGateway.map(label))(
    'sets every identity header the gateway reads, from nginx itself: %s',
    (_name, { location }) => {
      for (const [field, header] of Object.entries(headerNames)) {
        const value = location.headers.get(header);
        expect(value, `proxy_set_header ${header} is missing`).toBeDefined();
        const variable = NGINX_VARIABLES[field as keyof IdentityHeaderNames];
        expect(['', variable], `proxy_set_header ${header} ${variable}`).toContain(value);
      }
    },
  );

  it.each(elsewhere.map(label))(
    'clears every identity header on the way straight to Jitsi: %s',
    (_name, { location }) => {
      for (const header of Object.values(headerNames)) {
        expect(location.headers.get(header), `proxy_set_header ${header} ""`).toBe('');
      }
    },
  );

  it.each(toGateway.map(label))(
    "keeps room for the gateway's redirect to a long room URL: %s",
    (_name, { location }) => {
      const size = location.settings.get('proxy_buffer_size')?.[0];
      expect(size, 'proxy_buffer_size is not set').toBeDefined();
      expect(sizeInBytes(size as string)).toBeGreaterThanOrEqual(MIN_HEADER_BUFFER_BYTES);
    },
  );
});
