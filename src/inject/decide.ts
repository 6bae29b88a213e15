import type { IdentityReading } from '../identity/index.js';
import type { Marker } from './marker.js';

/** What the gateway found out about a room page navigation, as plain values. */
export interface NavigationFacts {
  identity: IdentityReading;
  /** The `jwt` in the URL: none, one we minted that still fits, or anything else. */
  token: 'absent' | 'usable' | 'unusable';
  /** The verified marker cookie, if any; `subject` says which holder and room this visit is. */
  marker: Marker | undefined;
  subject: string;
  /** Redirects for this subject whose token never arrived, within the backstop window. */
  unansweredRedirects: number;
  /** Epoch seconds. */
  now: number;
}

export interface DecisionSettings {
  guests: 'pass' | 'refuse';
  loopWindowSeconds: number;
  backstopMaxRedirects: number;
}

export type PassReason = 'guest' | 'token-usable' | 'loop-broken' | 'backstop';
export type RedirectReason = 'no-token' | 'token-replaced' | 'reload';
export type RefuseReason = 'guest-refused' | 'identity-invalid';

export type Decision =
  | { outcome: 'pass'; reason: PassReason; marker?: Marker }
  | { outcome: 'redirect'; reason: RedirectReason; marker: Marker }
  | { outcome: 'refuse'; reason: RefuseReason };

/**
 * Pass, redirect or refuse one room page navigation.
 *
 * The marker tells a loop from a reload: a page that comes back without the token we added a
 * moment ago (marker `sent`, recent) never received it, so redirecting again would loop; a page
 * that comes back after the token arrived (marker `arrived`) is a reload, which Jitsi causes by
 * clearing the address bar, and needs a fresh token. The backstop ends loops for browsers that
 * return no marker at all.
 */
export function decide(facts: NavigationFacts, settings: DecisionSettings): Decision {
  const { identity, marker, now } = facts;
  if (identity.kind === 'invalid') return { outcome: 'refuse', reason: 'identity-invalid' };

  if (identity.kind === 'guest') {
    return settings.guests === 'refuse'
      ? { outcome: 'refuse', reason: 'guest-refused' }
      : { outcome: 'pass', reason: 'guest' };
  }

  if (facts.token === 'usable') {
    return {
      outcome: 'pass',
      reason: 'token-usable',
      marker: { state: 'arrived', subject: facts.subject, issuedAt: now },
    };
  }

  const ours = marker !== undefined && marker.subject === facts.subject ? marker : undefined;
  if (ours?.state === 'sent' && now - ours.issuedAt < settings.loopWindowSeconds) {
    return { outcome: 'pass', reason: 'loop-broken' };
  }

  if (facts.unansweredRedirects >= settings.backstopMaxRedirects) {
    return { outcome: 'pass', reason: 'backstop' };
  }

  return {
    outcome: 'redirect',
    reason: redirectReason(facts.token, ours),
    marker: { state: 'sent', subject: facts.subject, issuedAt: now },
  };
}

function redirectReason(token: 'absent' | 'unusable', marker: Marker | undefined): RedirectReason {
  if (token === 'unusable') return 'token-replaced';
  return marker?.state === 'arrived' ? 'reload' : 'no-token';
}
