import type { Config } from '../config/index.js';
import { createIdentityReader } from '../identity/index.js';
import { readRoomPath } from '../inject/index.js';
import { applyRules } from '../rules/index.js';
import { buildClaims, createSigner, loadKeys, type JitsiClaims } from '../token/index.js';
import { splitRoomUrl } from './url.js';

/** What nginx would tell the gateway about a certificate, as an operator types it. */
export interface MintRequest {
  subjectDn: string;
  /** A room page path (`/Team%20Sync`, `/acme/Weekly`) or a whole room URL. */
  room: string;
  issuerDn?: string;
  serial?: string;
  fingerprint?: string;
  /** Stands for the certificate's subjectAltName email, which the gateway reads from the PEM. */
  email?: string;
}

export type MintResult =
  | { kind: 'token'; token: string; claims: JitsiClaims }
  | { kind: 'refused'; reason: string; rule: number }
  | { kind: 'invalid'; problem: string };

/** The escaped certificate is not needed here; nginx's fingerprint header has a fixed name. */
const FINGERPRINT_HEADER = 'x-ssl-client-fingerprint';

/**
 * The token the gateway would mint for this certificate on this room page at `now`, through
 * the same identity reading, rules and signing as a request. Throws only when the signing key
 * cannot be used.
 */
export async function mintToken(
  config: Readonly<Config>,
  request: MintRequest,
  now: number,
): Promise<MintResult> {
  const { rawPath } = splitRoomUrl(request.room);
  const target = readRoomPath(rawPath);
  if (!target) return { kind: 'invalid', problem: `--room: ${rawPath} is not a room page` };

  // The headers stand for our nginx, so they are read as from a trusted peer.
  const reader = createIdentityReader({ ...config.identity, trustedProxies: ['loopback'] });
  const reading = reader.read('127.0.0.1', {
    [config.identity.verifyHeader]: 'SUCCESS',
    [config.identity.subjectDnHeader]: request.subjectDn,
    [config.identity.issuerDnHeader]: request.issuerDn,
    [config.identity.serialHeader]: request.serial,
    [FINGERPRINT_HEADER]: request.fingerprint,
  });
  if (reading.kind !== 'holder') {
    const problem = reading.kind === 'invalid' ? reading.error.message : 'not a holder';
    return { kind: 'invalid', problem };
  }

  const identity = request.email ? { ...reading.identity, email: request.email } : reading.identity;
  const outcome = applyRules(identity, config.rules.list, target);
  if (outcome.kind === 'refuse')
    return { kind: 'refused', reason: outcome.reason, rule: outcome.rule };

  const claims = buildClaims(outcome.identity, target, config.token, now);
  const token = await createSigner(loadKeys(config.token)).sign(claims);
  return { kind: 'token', token, claims };
}
