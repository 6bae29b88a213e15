import { createHmac, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type { TokenAlgorithm } from './keys.js';

/**
 * Compact JWS with node:crypto, synchronously (RFC 7515 section 7.1): the base64url header and
 * payload joined by a dot, then the signature over those bytes. jose signs and verifies through
 * WebCrypto, whose every call is a job on the thread pool; on a redirect or a returning room
 * page that hop cost more than everything else the gateway does. jose still decodes what
 * arrives, and the tests check every token signed here with jose's own verification.
 */
export interface JwsKey {
  algorithm: TokenAlgorithm;
  /** A secret for HS*, a private key to sign or a public or private key to verify for RS*. */
  key: KeyObject;
}

export function signCompact(signingInput: string, { algorithm, key }: JwsKey): string {
  return `${signingInput}.${signature(signingInput, algorithm, key).toString('base64url')}`;
}

/**
 * Does the third part of `token` sign its first two with `key`? Only the one algorithm the
 * gateway signs with counts, so a token claiming `none` or another algorithm never gets here
 * (the caller checks the header). Signatures are compared in constant time.
 */
export function hasValidSignature(token: string, { algorithm, key }: JwsKey): boolean {
  const dot = token.lastIndexOf('.');
  const encoded = token.slice(dot + 1);
  if (dot === -1 || !CANONICAL_BASE64URL.test(encoded)) return false;

  const presented = Buffer.from(encoded, 'base64url');
  // Node decodes loosely: only the one spelling that encodes these bytes counts.
  if (presented.toString('base64url') !== encoded) return false;

  const signingInput = token.slice(0, dot);
  if (key.type === 'secret') {
    const expected = signature(signingInput, algorithm, key);
    return expected.length === presented.length && timingSafeEqual(expected, presented);
  }
  return verify(hashOf(algorithm), Buffer.from(signingInput), key, presented);
}

const CANONICAL_BASE64URL = /^[A-Za-z0-9_-]+$/;

function signature(signingInput: string, algorithm: TokenAlgorithm, key: KeyObject): Buffer {
  return key.type === 'secret'
    ? createHmac(hashOf(algorithm), key).update(signingInput).digest()
    : sign(hashOf(algorithm), Buffer.from(signingInput), key);
}

/** HS256 and RS256 use SHA-256, and so on. */
function hashOf(algorithm: TokenAlgorithm): string {
  return `sha${algorithm.slice(2)}`;
}
