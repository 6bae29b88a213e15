// Whatever request target a client writes, no answer of the gateway sends the browser away.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/server/index.js';
import { testConfig } from '../helpers/config.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';
import { readFixture } from '../helpers/fixtures.js';
import { captureLog } from '../helpers/logs.js';
import { headerValues, sendRaw, type RawResponse } from '../helpers/raw-http.js';

const SITE = 'https://meet.example.org';
const alice = readFixture('plain').headers;
const HOLDER_LINES = [
  'Sec-Fetch-Mode: navigate',
  'Sec-Fetch-Dest: document',
  `X-SSL-Client-Verify: ${alice['x-ssl-client-verify']}`,
  `X-SSL-Client-S-DN: ${alice['x-ssl-client-s-dn']}`,
];

let upstream: EchoUpstream;
let gateway: RunningGateway;

beforeAll(async () => {
  upstream = await startEchoUpstream();
  gateway = await startGateway({
    config: testConfig({ GATEWAY_UPSTREAM_URL: upstream.url }),
    logger: captureLog().logger,
  });
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

/** A holder's page load of `target`, with a `Host` and forwarding headers naming another site. */
function navigate(target: string): Promise<RawResponse> {
  const lines = [
    `GET ${target} HTTP/1.1`,
    'Host: evil.example',
    'X-Forwarded-Host: evil.example',
    'X-Forwarded-Proto: https',
    ...HOLDER_LINES,
  ];
  return sendRaw({ port: gateway.port }, lines.join('\r\n'));
}

function expectOnSite(response: RawResponse): void {
  for (const location of headerValues(response, 'location')) {
    expect(location).toMatch(/^\/[^/\\]/);
    expect(location).toMatch(/^[\x21-\x7e]+$/);
    const resolved = new URL(location, SITE);
    expect(resolved.origin).toBe(SITE);
    expect(resolved.searchParams.getAll('jwt')).toHaveLength(1);
  }
}

const ODD_TARGETS = [
  'http://evil.example/room',
  'https://evil.example/room',
  'http://evil.example',
  '//evil.example/room',
  '///evil.example/room',
  '/\\evil.example/room',
  '\\\\evil.example\\room',
  '/%2F%2Fevil.example',
  '/%2f%2fevil.example',
  '/%5Cevil.example',
  '/%5C%5Cevil.example/room',
  '/%252F%252Fevil.example',
  'evil.example:443',
  'evil.example/room',
  '*',
  '/room-a#//evil.example',
  '/room-b?x=#//evil.example',
  '/room-c?next=//evil.example&jwt=x',
  '/room-d?next=http://evil.example',
  '/room-e?a="<>`{}|^\\',
  `/${'a'.repeat(4_000)}`,
  '/room-f/%0D%0ALocation:%20http://evil.example',
  '/%0D%0ALocation:%20http://evil.example',
  '/%09/evil.example',
  '/%E0%A4%A',
  '/%',
];

/** Printable ASCII only: Node refuses anything else in a request target before we see it. */
const targetPiece = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~-]{1,6}$/),
  fc.constantFrom('/', '//', '\\', '%2F', '%5C', '%0D%0A', '%09', '%20', '#', '?', '&', '='),
  fc.constantFrom('jwt=', 'http:', '//evil.example', '@evil.example', '..', '%', '%G1', '"<>'),
);
const generatedTarget = fc
  .tuple(fc.constantFrom('/', '//', 'http://evil.example/', ''), fc.array(targetPiece))
  .map(([start, pieces]) => `${start}${pieces.join('')}`)
  .filter((target) => target !== '' && /^[\x21-\x7e]+$/.test(target));

describe('redirect targets over HTTP', () => {
  it.each(ODD_TARGETS)(
    'answers the request target %j without sending the browser away',
    async (target) => {
      expectOnSite(await navigate(target));
    },
  );

  it('keeps the token in the query when the request target holds a raw fragment mark', async () => {
    const response = await navigate('/fragment?x=1#//evil.example');

    expect(response.status).toBe(302);
    const location = new URL(headerValues(response, 'location')[0] as string, SITE);
    expect(location.pathname).toBe('/fragment');
    expect(location.hash).toBe('');
    expect(location.searchParams.get('x')).toBe('1#//evil.example');
    expect(location.searchParams.getAll('jwt')).toHaveLength(1);
  });

  it('answers every generated request target without sending the browser away', async () => {
    await fc.assert(
      fc.asyncProperty(generatedTarget, async (target) => {
        expectOnSite(await navigate(target));
      }),
      { numRuns: 300 },
    );
  });

  it('redirects an ordinary room page of a holder, so that the checks above see redirects', async () => {
    const response = await navigate('/Team%20Sync?lang=de');

    expect(response.status).toBe(302);
    expect(headerValues(response, 'location')[0]).toMatch(/^\/Team%20Sync\?lang=de&jwt=/);
  });
});
