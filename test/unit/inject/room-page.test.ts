import { describe, expect, it } from 'vitest';
import { isPageNavigation, readRoomPath, roomNode } from '../../../src/inject/room-page.js';

describe('roomNode', () => {
  it.each([
    ['MyRoom', 'myroom'],
    ['My%20Room', 'my%20room'],
    ['R%C3%A4ksm%C3%B6rg%C3%A5s', 'r%c3%a4ksm%c3%b6rg%c3%a5s'],
    ['Room(1)', 'room1'],
    ['my.room', 'my.room'],
    ['Team%20Sync', 'team%20sync'],
    ['%C3%84RGER', '%c3%a4rger'],
    ['%CE%A3%CE%BF%CF%86%CE%AF%CE%B1', '%cf%83%ce%bf%cf%86%ce%af%ce%b1'],
    ['%EF%BC%A1%EF%BC%A2', 'ab'],
    ['a:b@c!d$e&f*g+h,i;j=k', 'abcdefghijk'],
    ['100%', '100%25'],
    ['%E0%A4%A', '%25e0%25a4%25a'],
    ['caf%C3%A9%2Ecom', 'caf%c3%a9.com'],
    ['%F0%9F%98%80party', '%f0%9f%98%80party'],
  ])('turns the raw segment %s into the room node %s', (raw, node) => {
    expect(roomNode(raw)).toBe(node);
  });
});

describe('readRoomPath', () => {
  it('reads a plain room', () => {
    expect(readRoomPath('/Team%20Sync')).toEqual({ room: 'team%20sync' });
  });

  it('reads a room in a tenant', () => {
    expect(readRoomPath('/Acme/Standup')).toEqual({ room: 'standup', tenant: 'acme' });
  });

  it.each([
    '/',
    '/config.js',
    '/interface_config.js',
    '/external_api.js',
    '/http-bind',
    '/xmpp-websocket',
    '/favicon.ico',
    '/libs/app.bundle.min.js',
    '/css/all.css',
    '/static/close.html',
    '/colibri-ws/abc',
    '/acme/config.js',
    '/acme/http-bind',
    '/acme/xmpp-websocket',
    '/a/b/c',
    '//evil.example',
    '/\\evil.example',
    '/%2F%2Fevil.example',
    '/%5Cevil.example',
    '/a%2Fb',
    '/room:1',
    "/it's",
    '/%E0%A4%A',
    'http://evil.example/room',
    '/room/',
    '/:::',
  ])('does not treat %s as a room page', (path) => {
    expect(readRoomPath(path)).toBeUndefined();
  });
});

describe('isPageNavigation', () => {
  it('accepts a top-level document navigation', () => {
    const headers = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
    expect(isPageNavigation('GET', headers)).toBe(true);
    expect(isPageNavigation('HEAD', headers)).toBe(true);
  });

  it('accepts an iframe navigation', () => {
    expect(
      isPageNavigation('GET', { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' }),
    ).toBe(true);
  });

  it('accepts an older browser asking for HTML', () => {
    expect(isPageNavigation('GET', { accept: 'text/html,application/xhtml+xml' })).toBe(true);
  });

  it.each([
    [
      'a fetch',
      'GET',
      { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty', accept: 'text/html' },
    ],
    ['a script', 'GET', { 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' }],
    ['a POST form', 'POST', { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }],
    ['a request without Accept', 'GET', {}],
    ['a JSON request', 'GET', { accept: 'application/json' }],
  ])('rejects %s', (_name, method, headers) => {
    expect(isPageNavigation(method, headers)).toBe(false);
  });
});
