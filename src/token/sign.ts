import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import type { JitsiClaims } from './claims.js';
import { hasValidSignature, signCompact } from './jws.js';
import type { KeySet, TokenAlgorithm } from './keys.js';

export interface TokenSigner {
  readonly algorithm: TokenAlgorithm;
  /** The `kid` of new tokens; undefined with a shared secret. */
  readonly keyId: string | undefined;
  sign(claims: JitsiClaims): Promise<string>;
  /**
   * The claims of a token that one of the gateway's keys signed, whatever they say and however
   * old it is; undefined for anything else: another system's token, a forged one, garbage.
   */
  readSigned(token: string): Promise<JWTPayload | undefined>;
  /** The same, telling garbage apart from a JWT that none of the gateway's keys signed. */
  readToken(token: string): Promise<TokenReading>;
}

/**
 * - `malformed`: not three base64url parts whose first two are JSON objects;
 * - `foreign`: a JWT, but none of the gateway's keys signed it with the gateway's algorithm;
 * - `ours`: signed by one of the gateway's keys, with its claims, whatever they say.
 */
export type TokenReading =
  { kind: 'malformed' } | { kind: 'foreign' } | { kind: 'ours'; claims: JWTPayload };

const MALFORMED: TokenReading = { kind: 'malformed' };
const FOREIGN: TokenReading = { kind: 'foreign' };

/** Signs with the signing key of `keys` and recognises tokens of every key it holds. */
export function createSigner(keys: KeySet): TokenSigner {
  const { algorithm, signing } = keys;
  // Prosody requires typ "JWT", and the kid to find a public key.
  const header = { alg: algorithm, typ: 'JWT', ...(signing.kid ? { kid: signing.kid } : {}) };
  const encodedHeader = base64url(JSON.stringify(header));

  return {
    algorithm,
    keyId: signing.kid,

    async sign(claims) {
      const signingInput = `${encodedHeader}.${base64url(JSON.stringify(claims))}`;
      return signCompact(signingInput, { algorithm, key: signing.key });
    },

    async readSigned(token) {
      const reading = readToken(token);
      return reading.kind === 'ours' ? reading.claims : undefined;
    },

    async readToken(token) {
      return readToken(token);
    },
  };

  function readToken(token: string): TokenReading {
    let header;
    let claims;
    try {
      header = decodeProtectedHeader(token);
      claims = decodeJwt(token);
    } catch {
      return MALFORMED;
    }
    // Only our own algorithm: a token with another `alg` (or `none`) is never ours.
    if (header.alg !== algorithm) return FOREIGN;

    const key = keys.verifying.find((candidate) => candidate.kid === header.kid)?.key;
    if (key === undefined || !hasValidSignature(token, { algorithm, key })) return FOREIGN;
    return { kind: 'ours', claims };
  }
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
