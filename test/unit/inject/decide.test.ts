import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import type { IdentityReading } from '../../../src/identity/index.js';
import { decide, type NavigationFacts } from '../../../src/inject/decide.js';

const NOW = 1_800_000_000;
const settings = { guests: 'pass' as const, loopWindowSeconds: 30, backstopMaxRedirects: 3 };
const holder: IdentityReading = {
  kind: 'holder',
  identity: { id: 'h1', name: 'Alice Example', subjectDn: 'CN=Alice Example', attributes: [] },
};

function facts(overrides: Partial<NavigationFacts> = {}): NavigationFacts {
  return {
    identity: holder,
    token: 'absent',
    marker: undefined,
    subject: 'subject-1',
    unansweredRedirects: 0,
    now: NOW,
    ...overrides,
  };
}

describe('decide', () => {
  it('redirects a holder without a token and marks the redirect as sent', () => {
    expect(decide(facts(), settings)).toEqual({
      outcome: 'redirect',
      reason: 'no-token',
      marker: { state: 'sent', subject: 'subject-1', issuedAt: NOW },
    });
  });

  it('passes a holder whose token fits and marks it as arrived', () => {
    expect(decide(facts({ token: 'usable' }), settings)).toEqual({
      outcome: 'pass',
      reason: 'token-usable',
      marker: { state: 'arrived', subject: 'subject-1', issuedAt: NOW },
    });
  });

  it('replaces a token that does not fit', () => {
    expect(decide(facts({ token: 'unusable' }), settings)).toMatchObject({
      outcome: 'redirect',
      reason: 'token-replaced',
    });
  });

  it('breaks a loop when the page comes back without the token it was just sent', () => {
    const marker = { state: 'sent' as const, subject: 'subject-1', issuedAt: NOW - 2 };
    expect(decide(facts({ marker }), settings)).toEqual({ outcome: 'pass', reason: 'loop-broken' });
  });

  it('redirects again once the loop window has passed', () => {
    const marker = { state: 'sent' as const, subject: 'subject-1', issuedAt: NOW - 30 };
    expect(decide(facts({ marker }), settings)).toMatchObject({ outcome: 'redirect' });
  });

  it('gives a fresh token on a reload after the token arrived, however soon', () => {
    const marker = { state: 'arrived' as const, subject: 'subject-1', issuedAt: NOW - 1 };
    expect(decide(facts({ marker }), settings)).toMatchObject({
      outcome: 'redirect',
      reason: 'reload',
    });
  });

  it('ignores a marker for another holder or room', () => {
    const marker = { state: 'sent' as const, subject: 'subject-2', issuedAt: NOW - 1 };
    expect(decide(facts({ marker }), settings)).toMatchObject({
      outcome: 'redirect',
      reason: 'no-token',
    });
  });

  it('stops redirecting at the backstop when no marker comes back', () => {
    expect(decide(facts({ unansweredRedirects: 3 }), settings)).toEqual({
      outcome: 'pass',
      reason: 'backstop',
    });
    expect(decide(facts({ unansweredRedirects: 2 }), settings)).toMatchObject({
      outcome: 'redirect',
    });
  });

  it('passes a guest by default and refuses one when guests are refused', () => {
    const guest: IdentityReading = { kind: 'guest', reason: 'no-certificate' };
    expect(decide(facts({ identity: guest }), settings)).toEqual({
      outcome: 'pass',
      reason: 'guest',
    });
    expect(decide(facts({ identity: guest }), { ...settings, guests: 'refuse' })).toEqual({
      outcome: 'refuse',
      reason: 'guest-refused',
    });
  });

  it('refuses an identity that cannot be read', () => {
    const invalid: IdentityReading = {
      kind: 'invalid',
      error: new GatewayError('DN_MALFORMED', 'subject DN: dangling backslash'),
    };
    expect(decide(facts({ identity: invalid }), settings)).toEqual({
      outcome: 'refuse',
      reason: 'identity-invalid',
    });
  });
});
