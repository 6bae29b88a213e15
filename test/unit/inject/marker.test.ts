import { describe, expect, it } from 'vitest';
import { decodeMarker, encodeMarker, markerSubject } from '../../../src/inject/marker.js';

describe('marker', () => {
  const subject = markerSubject('holder-1', { room: 'team%20sync' });

  it('round-trips through its cookie value', () => {
    const marker = { state: 'sent' as const, subject, issuedAt: 1_800_000_000 };
    expect(decodeMarker(encodeMarker(marker))).toEqual(marker);
  });

  it('names a different subject for another holder, room or tenant', () => {
    expect(markerSubject('holder-2', { room: 'team%20sync' })).not.toBe(subject);
    expect(markerSubject('holder-1', { room: 'other' })).not.toBe(subject);
    expect(markerSubject('holder-1', { room: 'team%20sync', tenant: 'acme' })).not.toBe(subject);
  });

  it.each(['', 'x.1.abc', `s.-1.${subject}`, `s.1.${subject}x`, `q.1.${subject}`])(
    'reads %j as no marker',
    (value) => {
      expect(decodeMarker(value)).toBeUndefined();
    },
  );
});
