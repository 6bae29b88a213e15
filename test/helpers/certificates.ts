// A throwaway PKI for end-to-end tests, made with the openssl command line.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type ClientName = 'alice' | 'bob' | 'utf8' | 'expired' | 'foreign';

export interface CertificatePaths {
  readonly cert: string;
  readonly key: string;
}

export interface Pki {
  /** The temporary folder holding every file below; removed by `cleanup()`. */
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  /** The second CA that nginx does not know; it signed the `foreign` client certificate. */
  readonly foreignCaCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clients: Readonly<Record<ClientName, CertificatePaths>>;
  cleanup(): Promise<void>;
}

/** Subjects in `-subj` form; the order is the one the shared nginx fixtures were recorded with. */
const CA_SUBJECT = '/C=DE/O=Example Org/CN=Example Test Root CA';
const FOREIGN_CA_SUBJECT = '/C=DE/O=Unknown Org/CN=Unknown Test CA';
const SERVER_SUBJECT = '/C=DE/O=Example Org/CN=localhost';

const CLIENT_SUBJECTS: Readonly<Record<Exclude<ClientName, 'foreign'>, string>> = {
  alice: '/C=DE/O=Example Org/OU=Staff/CN=Alice Example/emailAddress=alice@example.org',
  bob: '/C=DE/O=Example Org/CN=Bob Builder',
  utf8: '/C=DE/O=Société Exemple/CN=José Müller-Łukasz',
  expired: '/C=DE/O=Example Org/CN=Eve Expired',
};
const FOREIGN_SUBJECT = '/CN=Mallory Foreign';

// P-256 keys take milliseconds to generate; nginx, Node and Chromium all accept them.
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/**
 * Our own openssl configuration, so that the system's openssl.cnf (which differs between
 * distributions) changes nothing. The `ca` sections exist for the expired certificate only:
 * `openssl x509 -req` in OpenSSL 3.0 cannot set a start date, `openssl ca` can.
 */
function opensslConfig(dir: string): string {
  return `
[ req ]
distinguished_name = req_dn
string_mask = utf8only

[ req_dn ]

[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ server_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ client_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ ca ]
default_ca = test_ca

[ test_ca ]
database = ${join(dir, 'ca-db', 'index.txt')}
new_certs_dir = ${join(dir, 'ca-db')}
serial = ${join(dir, 'ca-db', 'serial')}
certificate = ${join(dir, 'ca.crt')}
private_key = ${join(dir, 'ca.key')}
default_md = sha256
policy = policy_any
preserve = yes
unique_subject = no
copy_extensions = none

[ policy_any ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
emailAddress = optional
`;
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  // A positive serial without a leading zero byte, as RFC 5280 section 4.1.2.2 asks.
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x10;
  return `0x${bytes.toString('hex')}`;
}

/**
 * Runs one openssl command: `flags` are words without a value, `options` name their value, so
 * that each pair stays readable after formatting.
 */
async function openssl(
  flags: readonly string[],
  options: Readonly<Record<string, string>>,
): Promise<void> {
  const args = [...flags, ...Object.entries(options).flat()];
  try {
    await run('openssl', args);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('openssl is not installed: apt-get install openssl', { cause: error });
    }
    throw error;
  }
}

interface Issuer {
  readonly cert: string;
  readonly key: string;
}

async function makeCa(config: string, dir: string, name: string, subject: string): Promise<Issuer> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await openssl(['req', '-x509', '-new', ...NEW_KEY, '-sha256'], {
    '-config': config,
    '-extensions': 'ca_ext',
    '-subj': subject,
    '-days': '3650',
    '-keyout': key,
    '-out': cert,
  });
  return { cert, key };
}

async function makeRequest(config: string, dir: string, name: string, subject: string) {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  await openssl(['req', '-new', ...NEW_KEY, '-utf8'], {
    '-config': config,
    '-subj': subject,
    '-keyout': key,
    '-out': csr,
  });
  return { key, csr };
}

interface LeafOptions {
  readonly config: string;
  readonly dir: string;
  readonly issuer: Issuer;
  readonly name: string;
  readonly subject: string;
  readonly extensions: 'server_ext' | 'client_ext';
}

async function makeLeaf(options: LeafOptions): Promise<CertificatePaths> {
  const { config, dir, issuer, name, subject, extensions } = options;
  const { key, csr } = await makeRequest(config, dir, name, subject);
  const cert = join(dir, `${name}.crt`);
  await openssl(['x509', '-req', '-sha256'], {
    '-in': csr,
    '-CA': issuer.cert,
    '-CAkey': issuer.key,
    '-set_serial': randomSerial(),
    '-days': '825',
    '-extfile': config,
    '-extensions': extensions,
    '-out': cert,
  });
  return { cert, key };
}

async function makeExpiredLeaf(config: string, dir: string): Promise<CertificatePaths> {
  const { key, csr } = await makeRequest(config, dir, 'expired', CLIENT_SUBJECTS.expired);
  const cert = join(dir, 'expired.crt');
  await mkdir(join(dir, 'ca-db'));
  await writeFile(join(dir, 'ca-db', 'index.txt'), '');
  await openssl(['ca', '-batch', '-notext', '-utf8', '-rand_serial'], {
    '-config': config,
    '-extensions': 'client_ext',
    '-startdate': '20200101000000Z',
    '-enddate': '20200201000000Z',
    '-in': csr,
    '-out': cert,
  });
  return { cert, key };
}

/**
 * Creates a test root CA, a server certificate for 127.0.0.1 and localhost, the client
 * certificates alice, bob, utf8 and expired (all signed by that CA), and foreign (signed by
 * a second CA nginx does not know), in a new folder under `parentDir` (the system temporary
 * folder by default). Rejects, after removing the folder, when openssl fails.
 */
export async function makePki(parentDir: string = tmpdir()): Promise<Pki> {
  const dir = await mkdtemp(join(parentDir, 'jcg-pki-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });

  try {
    const config = join(dir, 'openssl.cnf');
    await writeFile(config, opensslConfig(dir));

    const [ca, foreignCa] = await Promise.all([
      makeCa(config, dir, 'ca', CA_SUBJECT),
      makeCa(config, dir, 'foreign-ca', FOREIGN_CA_SUBJECT),
    ]);
    const leaf = (
      name: string,
      subject: string,
      issuer: Issuer = ca,
      extensions: LeafOptions['extensions'] = 'client_ext',
    ) => makeLeaf({ config, dir, issuer, name, subject, extensions });
    const [server, alice, bob, utf8, expired, foreign] = await Promise.all([
      leaf('server', SERVER_SUBJECT, ca, 'server_ext'),
      leaf('alice', CLIENT_SUBJECTS.alice),
      leaf('bob', CLIENT_SUBJECTS.bob),
      leaf('utf8', CLIENT_SUBJECTS.utf8),
      makeExpiredLeaf(config, dir),
      leaf('foreign', FOREIGN_SUBJECT, foreignCa),
    ]);

    return {
      dir,
      caCert: ca.cert,
      caKey: ca.key,
      foreignCaCert: foreignCa.cert,
      serverCert: server.cert,
      serverKey: server.key,
      clients: { alice, bob, utf8, expired, foreign },
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
