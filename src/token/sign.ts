import { webcrypto } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { GatewayError } from '../errors.js';
import type { JitsiClaims } from './claims.js';

const ALGORITHM = 'HS256';

export interface TokenSigner {
  sign(claims: JitsiClaims): Promise<string>;
  /**
   * The payload of a token that this gateway signed and that is valid at `now`, or undefined
   * for anything else: another system's token, an expired one, garbage.
   */
  verify(token: string, now: number): Promise<JWTPayload | undefined>;
}

/** Imports the shared app secret once; Prosody uses it as raw bytes, so do we. */
export function createSigner(secret: string): TokenSigner {
  if (secret.length === 0) throw new GatewayError('KEY_INVALID', 'token.secret: is empty');
  // jose imports raw bytes (and secret key objects) again for every token; a CryptoKey it uses
  // as it is. Importing raw HMAC key bytes cannot fail, so nothing is left for the first token.
  const key = webcrypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );

  return {
    async sign(claims) {
      // Prosody requires typ "JWT"; jose leaves typ out unless told.
      return new SignJWT(claims).setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' }).sign(await key);
    },

    async verify(token, now) {
      try {
        const { payload } = await jwtVerify(token, await key, {
          algorithms: [ALGORITHM],
          typ: 'JWT',
          currentDate: new Date(now * 1000),
        });
        return payload;
      } catch (error) {
        if (error instanceof errors.JOSEError || error instanceof TypeError) return undefined;
        throw error;
      }
    },
  };
}
