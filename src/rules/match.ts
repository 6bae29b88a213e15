import { decodeDn, type DnAttribute, type Identity } from '../identity/index.js';
import type { RoomTarget } from '../token/index.js';
import { tenantKey, type Condition } from './schema.js';

/** The certificate facts a condition is checked against, read once per holder. */
export interface Facts {
  readonly subject: readonly DnAttribute[];
  readonly issuer: readonly DnAttribute[];
  readonly issuerDn?: string;
  readonly emailDomain?: string;
  readonly serial?: string;
  readonly fingerprint?: string;
  readonly tenant?: string;
}

/** The certificate's facts, and the tenant of the room URL when there is one. */
export function readFacts(identity: Identity, target?: RoomTarget): Facts {
  const at = identity.email?.lastIndexOf('@') ?? -1;
  return {
    subject: identity.attributes,
    issuer: decodeIssuer(identity.issuerDn),
    issuerDn: identity.issuerDn,
    emailDomain: at === -1 ? undefined : identity.email?.slice(at + 1).toLowerCase(),
    // The same spelling the rule lists were brought to (schema.ts).
    serial: identity.serial?.toUpperCase().replace(/^0+(?=.)/, ''),
    fingerprint: identity.fingerprint?.toLowerCase(),
    tenant: target?.tenant === undefined ? undefined : tenantKey(target.tenant),
  };
}

/** Every condition given must hold; `not` holds when none of its conditions holds. */
export function matches(condition: Condition | undefined, facts: Facts): boolean {
  if (condition === undefined) return true;

  return (
    matchesAttributes(condition.subject, facts.subject) &&
    matchesAttributes(condition.issuer, facts.issuer) &&
    isListed(condition.issuerDn, facts.issuerDn) &&
    isListed(condition.emailDomain, facts.emailDomain) &&
    isListed(condition.serial, facts.serial) &&
    isListed(condition.fingerprint, facts.fingerprint) &&
    isListed(condition.tenant, facts.tenant) &&
    (condition.not ?? []).every((excluded) => !matches(excluded, facts))
  );
}

/**
 * Each named type must have a value in the list. Types are compared case-insensitively, and so
 * are values, as X.520 does for names; a repeated type (two OUs) matches through either value.
 */
function matchesAttributes(
  wanted: Readonly<Record<string, readonly string[]>> | undefined,
  attributes: readonly DnAttribute[],
): boolean {
  if (wanted === undefined) return true;

  return Object.entries(wanted).every(([type, values]) => {
    const accepted = new Set(values.map((value) => value.toLowerCase()));
    return attributes.some(
      (attribute) =>
        attribute.type.toLowerCase() === type.toLowerCase() &&
        accepted.has(attribute.value.toLowerCase()),
    );
  });
}

function isListed(list: readonly string[] | undefined, value: string | undefined): boolean {
  return list === undefined || (value !== undefined && list.includes(value));
}

/** The identity module has already refused an issuer DN it cannot decode. */
function decodeIssuer(issuerDn: string | undefined): DnAttribute[] {
  if (issuerDn === undefined) return [];

  try {
    return decodeDn(issuerDn);
  } catch {
    return [];
  }
}
