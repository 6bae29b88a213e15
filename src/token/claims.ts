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

/**
 * Claims the configured rules add (src/rules). `moderator` and `affiliation` count only where
 * Prosody loads `token_affiliation`; `features`, when present, is already a complete set.
 */
export interface ClaimExtras {
  readonly moderator?: boolean;
  readonly affiliation?: string;
  readonly avatar?: string;
  readonly group?: string;
  readonly features?: Readonly<Record<string, boolean>>;
}

export interface JitsiUser {
  id: string;
  name: string;
  email?: string;
  avatar?: string;
  moderator?: boolean;
  affiliation?: string;
}

export interface JitsiContext {
  user: JitsiUser;
  group?: string;
  features?: Record<string, boolean>;
}

export interface JitsiClaims {
  iss: string;
  aud: string;
  sub: string;
  room: string;
  iat: number;
  nbf: number;
  exp: number;
  context: JitsiContext;
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
  identity: Identity & { readonly extras?: ClaimExtras },
  target: RoomTarget,
  settings: ClaimSettings,
  now: number,
): JitsiClaims {
  const { avatar, moderator, affiliation, group, features } = identity.extras ?? {};
  const user: JitsiUser = { id: identity.id, name: identity.name };
  if (identity.email !== undefined) user.email = identity.email;
  if (avatar !== undefined) user.avatar = avatar;
  if (moderator !== undefined) user.moderator = moderator;
  if (affiliation !== undefined) user.affiliation = affiliation;
  const context: JitsiContext = { user };
  if (group !== undefined) context.group = group;
  if (features !== undefined) context.features = { ...features };

  return {
    iss: settings.appId,
    aud: settings.audience,
    sub: target.tenant ?? (settings.subjectWithoutTenant === '*' ? '*' : settings.xmppDomain),
    room: settings.roomClaim === '*' ? '*' : target.room,
    iat: now,
    nbf: now - settings.clockSkewSeconds,
    exp: now + settings.lifetimeSeconds,
    context,
  };
}
