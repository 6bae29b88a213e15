// What `npm run demo` prints: how to try the gateway with curl standing in for nginx.
import { join } from 'node:path';

export interface DemoInstructionsOptions {
  /** Where the gateway listens, `http://host:port`. */
  readonly gatewayUrl: string;
  /** Where the demo room page server listens. */
  readonly roomServerUrl: string;
  /** A folder for the visitors' cookie jars. */
  readonly cookieDir: string;
}

interface Visitor {
  readonly name: string;
  readonly says: string;
  /** The subject DN nginx would send after verifying this visitor's certificate. */
  readonly subjectDn?: string;
}

const ROOM_PATH = '/Team%20Sync';

const VISITORS: readonly Visitor[] = [
  {
    name: 'alice',
    says: 'A holder opens a room link. The gateway redirects once to the same link with a token in her name; -L follows the redirect, and the cookie jar keeps the marker. Run it twice: the second visit is a reload and gets a fresh token.',
    subjectDn: 'emailAddress=alice@example.org,CN=Alice Example,OU=Staff,O=Example Org,C=DE',
  },
  {
    name: 'bob',
    says: 'A second holder opens the same link and gets a token in his own name.',
    subjectDn: 'CN=Bob Builder,O=Example Org,C=DE',
  },
  {
    name: 'guest',
    says: 'A guest (no certificate: nginx sends X-SSL-Client-Verify: NONE) is passed on without a token.',
  },
];

/** Single-quotes a word for a POSIX shell. */
function quote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function curlCommand(visitor: Visitor, options: DemoInstructionsOptions): string {
  const jar = quote(join(options.cookieDir, `${visitor.name}.cookies`));
  // Only holders are redirected, so only they need a cookie jar for the marker.
  const start = visitor.subjectDn ? `curl -sSL -c ${jar} -b ${jar}` : 'curl -sSL';
  const identity = visitor.subjectDn
    ? [
        `-H 'X-SSL-Client-Verify: SUCCESS'`,
        `-H ${quote(`X-SSL-Client-S-DN: ${visitor.subjectDn}`)}`,
      ]
    : [`-H 'X-SSL-Client-Verify: NONE'`];
  const parts = [
    start,
    // What a browser sends when it opens a page: only those navigations are redirected.
    `-H 'Sec-Fetch-Mode: navigate' -H 'Sec-Fetch-Dest: document'`,
    ...identity,
    quote(`${options.gatewayUrl}${ROOM_PATH}`),
  ];
  return `  ${parts.join(' \\\n    ')}`;
}

function wrap(text: string, width = 92): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line].join('\n');
}

/**
 * The text `npm run demo` prints once both servers listen: where they are, and ready-to-paste
 * curl commands that send what nginx would send for a holder, a second holder and a guest.
 */
export function describeDemo(options: DemoInstructionsOptions): string {
  const visits = VISITORS.map(
    (visitor) => `${wrap(visitor.says)}\n\n${curlCommand(visitor, options)}\n`,
  );
  return [
    '',
    `The gateway listens on ${options.gatewayUrl}, in front of a demo room page server on`,
    `${options.roomServerUrl} that stands in for Jitsi: it shows the token each visitor arrives`,
    'with, decoded. Here curl plays nginx: it sends the headers nginx sends after checking a',
    'client certificate, and the gateway believes them because curl connects from loopback',
    '(identity.trustedProxies). Each visit also writes a JSON log line below.',
    '',
    ...visits,
    'To see the redirect itself, use -si instead of -sSL. Press Ctrl-C to stop the demo.',
    '',
  ].join('\n');
}
