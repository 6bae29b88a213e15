import { describe, expect, it } from 'vitest';
import { readTokenRequest } from '../../../src/inject/token-request.js';

/** What Jitsi puts in `{state}`: encodeURIComponent of a JSON object (functions.any.ts). */
function state(value: unknown): string {
  return `state=${encodeURIComponent(JSON.stringify(value))}`;
}

describe('the room a token endpoint request names', () => {
  it.each([
    // `{room}` is the raw room of the page URL; query decoding has decoded it once.
    ['room=MyRoom', '/MyRoom', { room: 'myroom' }],
    ['room=Team%20Sync', '/Team%20Sync', { room: 'team%20sync' }],
    [
      'room=R%C3%A4ksm%C3%B6rg%C3%A5s',
      '/R%C3%A4ksm%C3%B6rg%C3%A5s',
      { room: 'r%c3%a4ksm%c3%b6rg%c3%a5s' },
    ],
    ['room=100%25', '/100%25', { room: '100%25' }],
    ['room=my.room&lang=de', '/my.room', { room: 'my.room' }],
    // `{state}` carries the raw room segment and the raw tenant path.
    [
      state({ room: 'Team%20Sync', roomSafe: 'team%20sync' }),
      '/Team%20Sync',
      { room: 'team%20sync' },
    ],
    [state({ room: 'Weekly', tenant: 'Acme' }), '/Acme/Weekly', { room: 'weekly', tenant: 'acme' }],
    [
      `${state({ room: 'Weekly', tenant: 'acme', 'config.startWithAudioMuted': true })}&room=Other`,
      '/acme/Weekly',
      { room: 'weekly', tenant: 'acme' },
    ],
  ])('reads %s as %s', (query, rawPath, target) => {
    expect(readTokenRequest(query)).toEqual({ kind: 'room', rawPath, target });
  });

  it.each([
    ['', 'needs exactly one state or one room parameter'],
    ['room=a&room=b', 'needs exactly one state or one room parameter'],
    ['room=', 'room is empty'],
    ['room=%2F%2Fevil.example', 'room has a slash, a backslash or a control character'],
    ['room=//evil.example', 'room has a slash, a backslash or a control character'],
    ['room=/%5Cevil.example', 'room has a slash, a backslash or a control character'],
    ['room=%5C%5Cevil.example', 'room has a slash, a backslash or a control character'],
    ['room=https://evil.example/x', 'room has a slash, a backslash or a control character'],
    ['room=https:evil.example', 'does not name a room page'],
    ['room=a%0D%0ASet-Cookie:%20x=1', 'room has a slash, a backslash or a control character'],
    ['room=a%0Ab', 'room has a slash, a backslash or a control character'],
    ['room=..', 'room is a dot segment'],
    ['room=config.js', 'does not name a room page'],
    ['room=http-bind', 'does not name a room page'],
    [`room=${'a'.repeat(513)}`, 'room is too long'],
    ['state=not-json', 'state is not JSON'],
    ['state=%5B%5D', 'state has no room'],
    [state({ tenant: 'acme' }), 'state has no room'],
    [state({ room: '%2F%2Fevil.example' }), 'room has a slash, a backslash or a control character'],
    [
      state({ room: 'x', tenant: '//evil.example' }),
      'tenant has a slash, a backslash or a control character',
    ],
    [state({ room: 'x', tenant: 'a/b' }), 'tenant has a slash, a backslash or a control character'],
    [
      state({ room: 'x', tenant: 'evil.example%2Fx' }),
      'tenant has a slash, a backslash or a control character',
    ],
    [state({ room: 'x', tenant: 42 }), 'state has a tenant that is not text'],
    [
      `${state({ room: 'a' })}&${state({ room: 'b' })}`,
      'needs exactly one state or one room parameter',
    ],
  ])('refuses %s: %s', (query, problem) => {
    expect(readTokenRequest(query)).toEqual({ kind: 'invalid', problem });
  });

  it('builds a path that stays on the site for any room name', () => {
    const hostile = [
      '//evil',
      '/\\evil',
      '\\\\evil',
      'http://evil',
      '%2f%2fevil',
      '.',
      '@evil',
      '?x',
      '#x',
    ];
    for (const room of hostile) {
      const request = readTokenRequest(`room=${encodeURIComponent(room)}`);
      const path = request.kind === 'room' ? request.rawPath : '/refused';
      expect(path).toMatch(/^\/[^/\\][^\\]*$/);
    }
  });
});
