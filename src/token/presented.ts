import type { JWTPayload } from 'jose';
import type { JitsiClaims } from './claims.js';
import type { TokenSigner } from './sign.js';

/** Why a token of ours in the URL is not kept. */
export type UnusableReason =
  | 'several'
  | 'malformed'
  | 'expiring'
  | 'not-yet-valid'
  | 'other-room'
  | 'other-holder'
  | 'other-claims';

/**
 * What a `jwt` already on a room page URL is worth:
 * - `absent`: there is none;
 * - `usable`: one of our keys signed it, for this room and holder, with time left;
 * - `foreign`: a JWT that none of our keys signed (another system's, or forged);
 * - `unusable`: anything else, with the reason.
 */
export type PresentedToken =
  | { kind: 'absent' }
  | { kind: 'usable' }
  | { kind: 'foreign' }
  | { kind: 'unusable'; reason: UnusableReason };

export interface PresentedCheck {
  /** The claims the gateway would mint for this holder and room page now. */
  expected: JitsiClaims;
  /** A token with this little time left, or less, is not kept. */
  renewMarginSeconds: number;
  /** Epoch seconds. */
  now: number;
}

/**
 * Judges the `jwt` parameter values of one URL, in order. Several values are never kept: the
 * client reads only the last, and a URL that carries two was not made by us. Never throws for
 * bad input.
 */
export async function checkPresentedToken(
  values: readonly string[],
  check: PresentedCheck,
  signer: Pick<TokenSigner, 'readToken'>,
): Promise<PresentedToken> {
  if (values.length === 0) return { kind: 'absent' };
  if (values.length > 1) return unusable('several');

  const reading = await signer.readToken(values[0] as string);
  if (reading.kind === 'malformed') return unusable('malformed');
  if (reading.kind === 'foreign') return { kind: 'foreign' };

  const reason = misfit(reading.claims, check);
  return reason ? unusable(reason) : { kind: 'usable' };
}

/** The first way in which our own token does not fit this visit, if any. */
function misfit(claims: JWTPayload, check: PresentedCheck): UnusableReason | undefined {
  const { expected, now } = check;
  if (typeof claims.exp !== 'number' || claims.exp - now <= check.renewMarginSeconds) {
    return 'expiring';
  }
  if (typeof claims.nbf === 'number' && claims.nbf > now) return 'not-yet-valid';
  if (claims.room !== expected.room || claims.sub !== expected.sub) return 'other-room';
  if (holderId(claims) !== expected.context.user.id) return 'other-holder';
  if (claims.iss !== expected.iss || claims.aud !== expected.aud) return 'other-claims';
  return undefined;
}

function holderId(claims: JWTPayload): unknown {
  const context = claims.context as { user?: { id?: unknown } } | undefined;
  return context?.user?.id;
}

function unusable(reason: UnusableReason): PresentedToken {
  return { kind: 'unusable', reason };
}
