import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GatewayError } from '../errors.js';

/** What Prosody's luajwtjitsi can verify (`resources/prosody-plugins/luajwtjitsi.lib.lua`). */
export const TOKEN_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512'] as const;
export type TokenAlgorithm = (typeof TOKEN_ALGORITHMS)[number];

export interface KeySettings {
  algorithm: string;
  secret?: string;
  secretFile?: string;
  keyFile?: string;
  keyId?: string;
  previousKeyFile?: string;
  previousKeyId?: string;
}

export interface TokenKey {
  key: KeyObject;
  /** Set for RS* keys: Prosody fetches the public key by it. */
  kid?: string;
}

/** A public key as the gateway serves it. */
export interface PublishedKey {
  kid: string;
  /** `<lowercase hex sha256 of kid>.pem`, the name Prosody's `asap_key_server` asks for. */
  fileName: string;
  pem: string;
  jwk: JsonWebKey;
}

export interface KeySet {
  algorithm: TokenAlgorithm;
  /** Signs every new token. */
  signing: TokenKey;
  /** A token signed with any of these is ours: the signing key and, in a rotation, the previous one. */
  verifying: readonly TokenKey[];
  /** Empty with a shared secret. */
  published: readonly PublishedKey[];
}

const MIN_SECRET_LENGTH = 32;
const MIN_RSA_BITS = 2048;

/** The operator's spelling of each setting, for messages. */
const NAMES = {
  algorithm: 'token.algorithm (GATEWAY_TOKEN_ALGORITHM)',
  secret: 'token.secret (JWT_APP_SECRET)',
  secretFile: 'token.secretFile (JWT_APP_SECRET_FILE)',
  keyFile: 'token.keyFile (GATEWAY_TOKEN_KEY_FILE)',
  previousKeyFile: 'token.previousKeyFile (GATEWAY_TOKEN_PREVIOUS_KEY_FILE)',
  previousKeyId: 'token.previousKeyId (GATEWAY_TOKEN_PREVIOUS_KEY_ID)',
} as const;

/**
 * Reads and checks the keys once, at start. Throws a KEY_INVALID GatewayError naming the
 * setting and the file for a missing, unreadable or unsuitable key or an unsupported algorithm;
 * the message never contains key material.
 */
export function loadKeys(settings: KeySettings): KeySet {
  const algorithm = settings.algorithm;
  if (!isTokenAlgorithm(algorithm)) {
    throw invalid(
      `${NAMES.algorithm}: ${algorithm} is not supported; use one of ${TOKEN_ALGORITHMS.join(', ')}`,
    );
  }

  return algorithm.startsWith('HS')
    ? loadSharedSecret(algorithm, settings)
    : loadKeyPair(algorithm, settings);
}

function loadSharedSecret(algorithm: TokenAlgorithm, settings: KeySettings): KeySet {
  if (settings.keyFile !== undefined) {
    throw invalid(
      `${NAMES.keyFile}: is set, but ${algorithm} signs with the shared secret; set ${NAMES.algorithm} to RS256 to sign with the key`,
    );
  }
  // Prosody uses app_secret as raw bytes, so do we.
  const signing = { key: createSecretKey(Buffer.from(readSecret(settings), 'utf8')) };
  return { algorithm, signing, verifying: [signing], published: [] };
}

function readSecret(settings: KeySettings): string {
  const { secret, secretFile } = settings;
  if (secretFile !== undefined && secret !== undefined && secret !== '') {
    throw invalid(`${NAMES.secretFile}: set either it or ${NAMES.secret}, not both`);
  }
  if (secretFile === undefined) {
    if (secret === undefined || secret === '') {
      throw invalid(`${NAMES.secret}: is required; or set ${NAMES.secretFile}`);
    }
    return secret;
  }

  const text = readText(secretFile, NAMES.secretFile).replace(/\r?\n$/, '');
  if (text.length < MIN_SECRET_LENGTH) {
    throw invalid(
      `${NAMES.secretFile}: ${secretFile} holds ${text.length} characters; at least ${MIN_SECRET_LENGTH} are needed`,
    );
  }
  return text;
}

function loadKeyPair(algorithm: TokenAlgorithm, settings: KeySettings): KeySet {
  if (settings.keyFile === undefined) {
    throw invalid(`${NAMES.keyFile}: is required with ${algorithm}`);
  }

  const privateKey = readPrivateKey(settings.keyFile, algorithm);
  const current = publish(createPublicKey(privateKey), settings.keyId, algorithm);
  const signing = { key: privateKey, kid: current.kid };
  if (settings.previousKeyFile === undefined) {
    return { algorithm, signing, verifying: [signing], published: [current] };
  }

  const previousKey = readPublicKey(settings.previousKeyFile, algorithm);
  const previous = publish(previousKey, settings.previousKeyId, algorithm);
  if (previous.kid === current.kid) {
    // Prosody caches a public key by kid for as long as it runs.
    throw invalid(
      `${NAMES.previousKeyId}: is the same kid as the signing key's; a new key needs a new kid`,
    );
  }
  return {
    algorithm,
    signing,
    verifying: [signing, { key: previousKey, kid: previous.kid }],
    published: [current, previous],
  };
}

function readPrivateKey(file: string, algorithm: TokenAlgorithm): KeyObject {
  const pem = readText(file, NAMES.keyFile);
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw invalid(
      `${NAMES.keyFile}: ${file} holds no readable private key (PEM, PKCS#8 or PKCS#1, unencrypted)`,
      error,
    );
  }
  checkRsa(key, `${NAMES.keyFile}: ${file}`, algorithm);
  return key;
}

/** A public key, or the public half of a private one: either may be kept after a rotation. */
function readPublicKey(file: string, algorithm: TokenAlgorithm): KeyObject {
  const pem = readText(file, NAMES.previousKeyFile);
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw invalid(`${NAMES.previousKeyFile}: ${file} holds no readable PEM key`, error);
  }
  checkRsa(key, `${NAMES.previousKeyFile}: ${file}`, algorithm);
  return key;
}

function checkRsa(key: KeyObject, where: string, algorithm: TokenAlgorithm): void {
  if (key.asymmetricKeyType !== 'rsa') {
    throw invalid(
      `${where} holds a key of type ${key.asymmetricKeyType ?? 'unknown'}; ${algorithm} needs an RSA key`,
    );
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) {
    throw invalid(
      `${where} holds a ${bits}-bit RSA key; ${algorithm} needs at least ${MIN_RSA_BITS} bits`,
    );
  }
}

function publish(
  publicKey: KeyObject,
  kid: string | undefined,
  algorithm: TokenAlgorithm,
): PublishedKey {
  const jwk = publicKey.export({ format: 'jwk' });
  const id = kid ?? thumbprint(jwk);
  return {
    kid: id,
    fileName: `${createHash('sha256').update(id).digest('hex')}.pem`,
    pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    jwk: { ...jwk, kid: id, alg: algorithm, use: 'sig' },
  };
}

/** RFC 7638: SHA-256 over the required RSA members in lexicographic order, base64url. */
function thumbprint(jwk: JsonWebKey): string {
  const members = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return createHash('sha256').update(members).digest('base64url');
}

function readText(file: string, name: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw invalid(`${name}: ${file} cannot be read (${code})`, error);
  }
}

function isTokenAlgorithm(value: string): value is TokenAlgorithm {
  return (TOKEN_ALGORITHMS as readonly string[]).includes(value);
}

function invalid(message: string, cause?: unknown): GatewayError {
  return new GatewayError('KEY_INVALID', message, cause === undefined ? undefined : { cause });
}
