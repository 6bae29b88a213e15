import type { Identity } from '../identity/index.js';

/** Where a room page points: the room node as Jitsi's client computes it, and its tenant if any. */
export interface RoomTarget {
  /** The MUC room node, exactly as the client sends it (JITSI.md section 4). */
  room: string;
  /** The tenant as the `sub` claim must name it, when the URL has one. */
  tenant?: string;
}

export interface ClaimSettings {
  appId: string;
  audience: string;
  xmppDomain: string;
  lifetimeSeconds: number;
  clockSkewSeconds: number;
  /** `sub` on rooms without a tenant: the XMPP domain, or `*` for any. */
  subjectWithoutTenant: 'xmpp-domain' | '*';
  /** `room`: the exact room node, or `*` for any room. */
  roomClaim: 'exact' | '*';
}

export interface JitsiUser {
  id: string;
  name: string;
  email?: string;
}

export interface JitsiClaims {
  iss: string;
  aud: string;
  sub: string;
  room: string;
  iat: number;
  nbf: number;
  exp: number;
  context: { user: JitsiUser };
  [claim: string]: unknown;
}

/**
 * The claim set Prosody's token plugins accept for one holder in one room. `now` is epoch
 * seconds. `nbf` is back-dated because Prosody allows no clock skew at all; `exp` is always set
 * because a token without it never expires. With domain verification on, Prosody's `verify_room`
 * (`resources/prosody-plugins/token/util.lib.lua`) accepts `sub` `*` or the XMPP domain for a
 * room without a tenant, and the tenant (compared lower-cased) for `[tenant]room`.
 */
export function buildClaims(
  identity: Identity,
  target: RoomTarget,
  settings: ClaimSettings,
  now: number,
): JitsiClaims {
  const user: JitsiUser = { id: identity.id, name: identity.name };
  if (identity.email !== undefined) user.email = identity.email;

  return {
    iss: settings.appId,
    aud: settings.audience,
    sub: target.tenant ?? (settings.subjectWithoutTenant === '*' ? '*' : settings.xmppDomain),
    room: settings.roomClaim === '*' ? '*' : target.room,
    iat: now,
    nbf: now - settings.clockSkewSeconds,
    exp: now + settings.lifetimeSeconds,
    context: { user },
  };
}
