import { compactVerify, decodeJwt, errors, SignJWT, type JWTPayload } from 'jose';
import type { JitsiClaims } from './claims.js';
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
}

/** Signs with the signing key of `keys` and recognises tokens of every key it holds. */
export function createSigner(keys: KeySet): TokenSigner {
  const { algorithm, signing, verifying } = keys;

  return {
    algorithm,
    keyId: signing.kid,

    sign(claims) {
      // Prosody requires typ "JWT" (jose leaves it out unless told), and the kid to find the key.
      const header = { alg: algorithm, typ: 'JWT', ...(signing.kid ? { kid: signing.kid } : {}) };
      return new SignJWT(claims).setProtectedHeader(header).sign(signing.key);
    },

    async readSigned(token) {
      try {
        // Only our own algorithm: a token with another `alg` (or `none`) is never ours.
        await compactVerify(
          token,
          (header) => {
            const found = verifying.find((candidate) => candidate.kid === header.kid);
            if (!found) throw new errors.JWKSNoMatchingKey();
            return found.key;
          },
          { algorithms: [algorithm] },
        );
        return decodeJwt(token);
      } catch (error) {
        if (error instanceof errors.JOSEError || error instanceof TypeError) return undefined;
        throw error;
      }
    },
  };
}
