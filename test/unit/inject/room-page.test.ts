import { describe, expect, it } from 'vitest';
import {
  isPageNavigation,
  readRoomPath,
  roomNode,
  tenantName,
} from '../../../src/inject/room-page.js';

// Each row: the raw path segment as the browser sends it, and the room node Jitsi's client
// joins (`getBackendSafeRoomName` after `parseURIString`, jitsi-meet
// react/features/base/util/uri.ts). Expected values are written out byte for byte.
const ROOM_NODES: [string, string, string][] = [
  ['ASCII upper case', 'MyRoom', 'myroom'],
  ['an encoded space', 'My%20Room', 'my%20room'],
  ['Swedish letters', 'R%C3%A4ksm%C3%B6rg%C3%A5s', 'r%c3%a4ksm%c3%b6rg%c3%a5s'],
  ['parentheses, stripped raw', 'Room(1)', 'room1'],
  ['a dot', 'my.room', 'my.room'],
  ['a capital umlaut', '%C3%84RGER', '%c3%a4rger'],
  ['lower-case hex in, lower-case hex out', 'my%c3%a4', 'my%c3%a4'],
  [
    'Greek with a capital sigma first',
    '%CE%A3%CE%BF%CF%86%CE%AF%CE%B1',
    '%cf%83%ce%bf%cf%86%ce%af%ce%b1',
  ],
  [
    'a final capital sigma, which becomes ς',
    '%CE%9F%CE%94%CE%9F%CE%A3',
    '%ce%bf%ce%b4%ce%bf%cf%82',
  ],
  ['a capital sigma alone, which becomes σ', '%CE%A3', '%cf%83'],
  ['a final small sigma, kept apart from σ', '%CF%82', '%cf%82'],
  ['Turkish dotted capital İ, which keeps its dot', '%C4%B0stanbul', 'i%cc%87stanbul'],
  ['Turkish dotless ı beside ASCII I', 'I%C4%B1', 'i%c4%b1'],
  ['German ß, not turned into ss', 'Stra%C3%9Fe', 'stra%c3%9fe'],
  ['German capital ẞ', 'GRO%E1%BA%9E', 'gro%c3%9f'],
  ['full-width letters', '%EF%BC%A1%EF%BC%A2', 'ab'],
  ['full-width word and digit', '%EF%BC%B2%EF%BD%8F%EF%BD%8F%EF%BD%8D%EF%BC%91', 'room1'],
  ['the ligature ﬁ', '%EF%AC%81le', 'file'],
  ['a circled digit', 'Room%E2%91%A0', 'room1'],
  ['a superscript', 'x%C2%B2', 'x2'],
  ['the Kelvin sign', '%E2%84%AA', 'k'],
  ['the Ångström sign', '%E2%84%AB', '%c3%a5'],
  ['a Roman numeral', '%E2%85%AB', 'xii'],
  ['half-width katakana', '%EF%BD%B6', '%e3%82%ab'],
  ['e and a combining acute, composed', 'e%CC%81', '%c3%a9'],
  ['a no-break space, which NFKC makes a space', 'a%C2%A0b', 'a%20b'],
  ['a titlecase digraph', '%C7%85', 'd%c5%be'],
  ['Cherokee, whose small letters lie in another block', '%E1%8E%A0', '%ea%ad%b0'],
  ['Georgian Mtavruli', '%E1%B2%90', '%e1%83%90'],
  ['Armenian', '%D4%B1', '%d5%a1'],
  ['Cyrillic', '%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0', '%d0%bc%d0%be%d1%81%d0%ba%d0%b2%d0%b0'],
  ['an emoji', '%F0%9F%98%80party', '%f0%9f%98%80party'],
  ['an encoded dot', 'caf%C3%A9%2Ecom', 'caf%c3%a9.com'],
  ['raw characters the client strips', 'a:b@c!d$e&f*g+h,i;j=k', 'abcdefghijk'],
  ['raw brackets and angle brackets', 'a[b]c<d>e', 'abcde'],
  ['raw whitespace', 'a b\tc', 'abc'],
  ['an encoded @, decoded after stripping', 'a%40b', 'a%40b'],
  ['an encoded !, which encodeURIComponent leaves alone', 'a%21b', 'a!b'],
  ['encoded parentheses', 'Room%28x%29', 'room(x)'],
  ['an encoded plus', 'a%2Bb', 'a%2bb'],
  ['an encoded tilde', 'a%7Eb', 'a~b'],
  ['an encoded tab', 'a%09b', 'a%09b'],
  ['a lone percent sign, kept and encoded', '100%', '100%25'],
  ['a cut-off escape', '%E0%A4%A', '%25e0%25a4%25a'],
  ['a broken escape after valid ones', '%C3%A4%ZZ', '%25c3%25a4%25zz'],
  ['bytes that are not UTF-8', '%C3%28', '%25c3%2528'],
  ['a Latin-1 byte', 'caf%E9', 'caf%25e9'],
  ['nothing but stripped characters', '(((', ''],
];

describe('roomNode', () => {
  it.each(ROOM_NODES)('turns %s (%s) into the room node %s', (_case, raw, node) => {
    expect(roomNode(raw)).toBe(node);
  });

  it('gives rooms that differ only in case outside ASCII the same node', () => {
    expect(roomNode('%C3%84RGER')).toBe(roomNode('%C3%A4rger'));
    expect(roomNode('%D0%9C%D0%9E%D0%A1%D0%9A%D0%92%D0%90')).toBe(
      roomNode('%D0%BC%D0%BE%D1%81%D0%BA%D0%B2%D0%B0'),
    );
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
    ['/Acme/Standup', 'acme'],
    ['/ACME/Standup', 'acme'],
    ['/my.team/Standup', 'my_team'],
    ['/a.b.c/Standup', 'a_b_c'],
    ['/%41cme/Standup', 'acme'],
    ['/team-1_x/Standup', 'team-1_x'],
  ])('names the tenant of %s as %s', (path, tenant) => {
    expect(readRoomPath(path)?.tenant).toBe(tenant);
  });

  it.each([
    ['/caf%E9', 'caf%25e9'],
    ['/%C3%28', '%25c3%2528'],
    ['/x%0Ay', 'x%0ay'],
    ['/Room%E2%91%A0', 'room1'],
  ])('reads %s, which nginx takes as a room, as the room %s', (path, room) => {
    expect(readRoomPath(path)).toEqual({ room });
  });

  it.each([
    '/',
    '/config.js',
    '/index.html',
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
    '/_gateway',
    '/_gateway/keys',
    '/%5Fgateway/keys',
    '/a/b/c',
    '//evil.example',
    '/_GATEWAY/healthz',
    '/_Gateway/Room',
    '/\\evil.example',
    '/%2F%2Fevil.example',
    '/%5Cevil.example',
    '/a%2Fb',
    '/a%2fb/c',
    '/room:1',
    '/room%3A1',
    "/it's",
    '/it%27s',
    '/a%22b',
    '/%E0%A4%A',
    '/100%',
    '/a%00b',
    '/./x',
    '/%2E',
    '/%2e%2e/x',
    '/caf\u00e9',
    '/a\u00a0b',
    'http://evil.example/room',
    '/room/',
    '/:::',
    '/(((',
    '/a%20b/room',
    '/b%C3%BCcher/room',
    '/a+b/room',
    '/a(b)/room',
  ])('does not treat %s as a room page', (path) => {
    expect(readRoomPath(path)).toBeUndefined();
  });
});

describe('tenantName', () => {
  it.each([
    ['Acme', 'acme'],
    ['my.Team', 'my_team'],
    ['%6D%79.team', 'my_team'],
  ])('names the tenant segment %s as %s', (raw, tenant) => {
    expect(tenantName(raw)).toBe(tenant);
  });

  it.each(['a%20b', 'b%C3%BCcher', 'a+b', '%ZZ', ''])('refuses %s as a tenant', (raw) => {
    expect(tenantName(raw)).toBeUndefined();
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
