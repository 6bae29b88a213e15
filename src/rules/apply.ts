import { cleanDisplayName, type Identity } from '../identity/index.js';
import type { buildClaims, RoomTarget } from '../token/index.js';
import { completeFeatures } from './features.js';
import { matches, readFacts } from './match.js';
import type { Effects, Rule } from './schema.js';
import { parseTemplate, renderTemplate } from './template.js';

/** The claims rules add, as buildClaims takes them. */
type ClaimExtras = NonNullable<Parameters<typeof buildClaims>[0]['extras']>;

/** An identity as the rules present it, with the claims they add. */
export type RuledIdentity = Identity & { readonly extras: ClaimExtras };

export type RulesOutcome =
  | { readonly kind: 'grant'; readonly identity: RuledIdentity; readonly matched: number[] }
  | { readonly kind: 'refuse'; readonly reason: string; readonly rule: number };

/**
 * Applies every rule whose `when` matches, in order: a later rule's claim replaces an earlier
 * one's, and a `features` set replaces any earlier set as a whole. One matching `refuse`
 * refuses the holder whatever the other rules say; the first one gives the reason. Conditions
 * are checked against the certificate and the room's tenant, never against claims set by
 * earlier rules. Never throws.
 */
export function applyRules(
  identity: Identity,
  rules: readonly Rule[],
  target?: RoomTarget,
): RulesOutcome {
  const facts = readFacts(identity, target);
  const matched = rules.flatMap((rule, index) => (matches(rule.when, facts) ? [index] : []));

  const refusing = matched.find((index) => rules[index]?.refuse !== undefined);
  if (refusing !== undefined) {
    return { kind: 'refuse', reason: rules[refusing]?.refuse as string, rule: refusing };
  }

  const effects: Effects = Object.assign({}, ...matched.map((index) => rules[index]?.set));
  return { kind: 'grant', identity: withEffects(identity, effects), matched };
}

function withEffects(identity: Identity, effects: Effects): RuledIdentity {
  const lookUp = placeholderValues(identity);
  const fill = (template: string | undefined, encode?: (value: string) => string) => {
    const parts = template === undefined ? undefined : parseTemplate(template);
    return Array.isArray(parts) ? renderTemplate(parts, lookUp, encode) : undefined;
  };

  const email = fill(effects.email) ?? identity.email;
  const extras: { -readonly [Claim in keyof ClaimExtras]: ClaimExtras[Claim] } = {};
  if (effects.moderator !== undefined) extras.moderator = effects.moderator;
  if (effects.affiliation !== undefined) extras.affiliation = effects.affiliation;
  if (effects.group !== undefined) extras.group = effects.group;
  if (effects.features !== undefined) extras.features = completeFeatures(effects.features);
  const avatar = fill(effects.avatar, encodeURIComponent);
  if (avatar !== undefined) extras.avatar = avatar;

  // Object.assign, not spreads: V8 makes a new hidden class for every property a literal adds
  // after a spread, and this runs on every room page a holder opens.
  const ruled: RuledIdentity = Object.assign({}, identity, {
    id: fill(effects.id) ?? identity.id,
    name: displayName(fill(effects.name)) ?? identity.name,
    extras,
  });
  if (email !== undefined) ruled.email = email;
  return ruled;
}

/** Placeholder names are case-insensitive; certificate facts first, then subject attributes. */
function placeholderValues(identity: Identity): (name: string) => string | undefined {
  const facts = new Map([
    ['email', identity.email],
    ['pseudonym', identity.id],
    ['serial', identity.serial],
    ['fingerprint', identity.fingerprint],
  ]);
  return (name) => {
    const lower = name.toLowerCase();
    if (facts.has(lower)) return facts.get(lower);

    return identity.attributes.find((attribute) => attribute.type.toLowerCase() === lower)?.value;
  };
}

/** A template's name, cleaned as a certificate's is; a blank one keeps the default name. */
function displayName(filled: string | undefined): string | undefined {
  const name = filled === undefined ? undefined : cleanDisplayName(filled).trim();
  return name === '' ? undefined : name;
}
