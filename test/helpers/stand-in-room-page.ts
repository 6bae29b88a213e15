// The stand-in's room page: a few lines of browser script that treat the token the way Jitsi
// Meet's web client does (JITSI.md section 1) and show what a person would see, and how a test
// reads that back.
import type { FrameLocator, Page } from 'playwright-core';

/**
 * The query switch that makes the page go back to the URL it was opened with when its websocket
 * drops, as Jitsi does after a connection error.
 */
export const RELOAD_SWITCH = 'standin-reload';

/** Matches once the page's websocket is open, the address bar cleared, the person in the room. */
export const JOINED = '#state[data-state="joined"]';

/** What the room page shows; each field is the text on the page. */
export interface RoomPageView {
  /** The name from the token, or "Guest". */
  readonly who: string | null;
  readonly email: string | null;
  /** The room node the page derived from its path, as Jitsi's client sends it. */
  readonly room: string | null;
  /** "from the link", or "none: joining as a guest". */
  readonly token: string | null;
  /** `config.*` and `interfaceConfig.*` overrides read from the fragment, or "none". */
  readonly overrides: string | null;
}

/** Reads the room page in a page or an iframe. */
export async function readRoomPage(where: Page | FrameLocator): Promise<RoomPageView> {
  const text = (id: string) => where.locator(`#${id}`).textContent();
  const [who, email, room, token, overrides] = await Promise.all([
    text('who'),
    text('email'),
    text('room'),
    text('token'),
    text('overrides'),
  ]);
  return { who, email, room, token, overrides };
}

/**
 * Runs in the browser. Jitsi reads `#jwt=` (a JSON value) before the `jwt` query parameter
 * (the last one wins), derives the room node from the path (uri.ts), opens its XMPP websocket
 * with `room` and `token` in the query, and once connected clears query and fragment from the
 * address bar, except inside an iframe. After a connection error it goes back to the URL it was
 * opened with, token and all. Text goes in with `textContent` only: a token is untrusted input.
 */
const ROOM_SCRIPT = `
(() => {
  const original = location.href;
  const query = new URLSearchParams(location.search);
  const fragment = new URLSearchParams(location.hash.slice(1));
  const show = (id, text) => { document.getElementById(id).textContent = text; };
  const setState = (state, text) => {
    const element = document.getElementById('state');
    element.dataset.state = state;
    element.textContent = text;
  };

  function readToken() {
    const inFragment = fragment.get('jwt');
    if (inFragment !== null) {
      try { return JSON.parse(inFragment); } catch { return inFragment; }
    }
    const inQuery = query.getAll('jwt');
    return inQuery.length > 0 ? inQuery[inQuery.length - 1] : undefined;
  }

  function roomNode(rawSegment) {
    const stripped = rawSegment.replace(/\\s/g, '').replace(/[:?#[\\]@!$&'()*+,;=></"]/g, '');
    let decoded = stripped;
    try { decoded = decodeURIComponent(stripped); } catch {}
    return encodeURIComponent(decoded.normalize('NFKC').toLowerCase()).toLowerCase();
  }

  function userIn(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const bytes = Uint8Array.from(atob(part), (char) => char.charCodeAt(0));
      const payload = JSON.parse(new TextDecoder().decode(bytes));
      return payload.context && payload.context.user ? payload.context.user : undefined;
    } catch {
      return undefined;
    }
  }

  const token = readToken();
  const user = token === undefined ? undefined : userIn(token);
  const segments = location.pathname.split('/').filter((segment) => segment !== '');
  const room = roomNode(segments[segments.length - 1] || '');
  const tenant = segments.length > 1 ? segments[0] : undefined;
  const overrides = [...fragment.entries()]
    .filter(([name]) => name.startsWith('config.') || name.startsWith('interfaceConfig.'))
    .map(([name, value]) => name + '=' + value);

  const name = user && typeof user.name === 'string' ? user.name : 'Guest';
  show('who', name);
  show('avatar', name.split(/\\s+/).map((word) => word.charAt(0)).join('').slice(0, 2));
  show('email', user && typeof user.email === 'string' ? user.email : '');
  show('room', room);
  show('token', token === undefined ? 'none: joining as a guest' : 'from the link');
  show('overrides', overrides.length > 0 ? overrides.join(', ') : 'none');
  show('address', location.href);

  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const service = (tenant === undefined ? '' : '/' + tenant) + '/xmpp-websocket';
  const url = scheme + '//' + location.host + service + '?room=' + room +
    (token === undefined ? '' : '&token=' + token);
  const socket = new WebSocket(url, 'xmpp');
  socket.addEventListener('open', () => {
    if (window.top === window) history.replaceState(history.state, '', location.pathname);
    show('address', location.href);
    setState('joined', 'in the meeting');
  });
  socket.addEventListener('close', () => {
    setState('disconnected', 'connection lost');
    if (query.has('${RELOAD_SWITCH}')) location.replace(original);
  });
})();
`;

const STYLE = `
  body { margin: 0; min-height: 100vh; display: grid; place-items: center;
    background: #1c2025; color: #e8eaed; font: 16px/1.5 system-ui, sans-serif; }
  main { width: 32rem; padding: 2rem; border-radius: 12px; background: #2a3038;
    text-align: center; box-shadow: 0 8px 24px rgb(0 0 0 / 40%); }
  .brand { margin: 0 0 1.5rem; color: #9aa0a6; font-size: 0.8rem; letter-spacing: 0.08em;
    text-transform: uppercase; }
  .avatar { width: 5rem; height: 5rem; margin: 0 auto 1rem; border-radius: 50%;
    display: grid; place-items: center; background: #246fe5; font-size: 2rem; font-weight: 600; }
  h1 { margin: 0; font-size: 1.5rem; }
  #email { margin: 0 0 1.5rem; color: #9aa0a6; min-height: 1.5em; }
  dl { display: grid; grid-template-columns: auto 1fr; gap: 0.4rem 1rem; margin: 0;
    text-align: left; }
  dt { color: #9aa0a6; }
  dd { margin: 0; overflow-wrap: anywhere; }
  #state[data-state="joined"] { color: #5fd68b; }
  #address { font: 0.85rem/1.7 ui-monospace, monospace; }
`;

/**
 * The room page HTML. `receivedJson` is the request as the stand-in saw it, already escaped for
 * a script element; it stays on one line so that tests can read it back with a regex.
 */
export function roomPage(receivedJson: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Jitsi stand-in</title><style>${STYLE}</style></head>
<body>
<script id="received" type="application/json">${receivedJson}</script>
<main>
  <p class="brand">Jitsi Meet stand-in</p>
  <div class="avatar" id="avatar"></div>
  <h1 id="who"></h1>
  <p id="email"></p>
  <dl>
    <dt>Room</dt><dd id="room"></dd>
    <dt>Token</dt><dd id="token"></dd>
    <dt>Connection</dt><dd id="state" data-state="connecting">connecting</dd>
    <dt>Link settings</dt><dd id="overrides"></dd>
    <dt>Address bar</dt><dd id="address"></dd>
  </dl>
</main>
<script>${ROOM_SCRIPT}</script>
</body>
</html>
`;
}
