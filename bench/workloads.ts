// What the load generator sends: browser-like requests, and holders as nginx would present them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestShape } from './load-http.js';

const BROWSER = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36',
  'accept-language': 'de-DE,de;q=0.9,en;q=0.8',
  'accept-encoding': 'gzip, deflate, br',
};

export const NAVIGATION = {
  ...BROWSER,
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
  'sec-fetch-site': 'none',
};

export const SCRIPT_LOAD = {
  ...BROWSER,
  accept: '*/*',
  'sec-fetch-mode': 'no-cors',
  'sec-fetch-dest': 'script',
  'sec-fetch-site': 'same-origin',
};

export const BOSH_POST = {
  ...BROWSER,
  accept: '*/*',
  'content-type': 'text/xml; charset=utf-8',
  'sec-fetch-mode': 'cors',
  'sec-fetch-dest': 'empty',
  'sec-fetch-site': 'same-origin',
};

export const BOSH_BODY =
  "<body rid='2342' sid='a8f1' xmlns='http://jabber.org/protocol/httpbind'><presence/></body>";

/**
 * One certificate, escaped as nginx's $ssl_client_escaped_cert, made with openssl for this run.
 * Every holder presents it: the gateway reads only its subjectAltName email from it.
 */
function escapedCertificate(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jcg-bench-'));
  try {
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
        ...['-subj', '/C=DE/O=Example Org/CN=Bench Holder', '-days', '2'],
        ...['-addext', 'subjectAltName=email:holder@example.org'],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      ],
      { stdio: 'ignore' },
    );
    return encodeURIComponent(readFileSync(join(dir, 'cert.pem'), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The headers nginx sends for `count` different holders, each with their own DN and serial. */
export function holderHeaders(count: number): Record<string, string>[] {
  const certificate = escapedCertificate();
  return Array.from({ length: count }, (_, index) => ({
    'x-ssl-client-verify': 'SUCCESS',
    'x-ssl-client-s-dn': `emailAddress=holder${index}@example.org,CN=Holder ${index},OU=Staff,O=Example Org,C=DE`,
    'x-ssl-client-i-dn': 'CN=Example Test Root CA,O=Example Org,C=DE',
    'x-ssl-client-serial': (0x1000_0000 + index).toString(16).toUpperCase(),
    'x-ssl-client-cert': certificate,
  }));
}

/**
 * First visits: a new room each time, so that neither the loop guard's backstop nor any cache
 * turns a redirect into something cheaper.
 */
export function firstVisits(holders: readonly Record<string, string>[]): () => RequestShape {
  let visit = 0;
  return () => {
    visit += 1;
    const holder = holders[visit % holders.length] as Record<string, string>;
    return { path: `/Bench%20Room%20${visit}?lang=de`, headers: { ...NAVIGATION, ...holder } };
  };
}

/** Cycles through room page loads that carry their token and marker, as after a redirect. */
export function returns(shapes: readonly RequestShape[]): () => RequestShape {
  let visit = 0;
  return () => {
    visit += 1;
    return shapes[visit % shapes.length] as RequestShape;
  };
}
