// Debian's Chromium driven by playwright-core; Playwright presents each context's client
// certificate to nginx itself, and everything above TLS is Chromium's own.
import { access, constants, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Response,
} from 'playwright-core';
import type { ClientName } from './certificates.js';
import type { RunningNginx } from './nginx.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const NOT_INSTALLED = `chromium is not installed at ${CHROMIUM_PATH}: apt-get install chromium`;

async function ensureChromium(): Promise<void> {
  try {
    await access(CHROMIUM_PATH, constants.X_OK);
  } catch (error) {
    // A missing browser fails the run: the browser suites are not optional.
    throw new Error(NOT_INSTALLED, { cause: error });
  }
}

/** Starts headless Chromium; rejects with "chromium is not installed" when it is missing. */
export async function launchBrowser(): Promise<Browser> {
  await ensureChromium();
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS });
}

/**
 * Options for a browser context that talks to `nginx` and, when `client` is named, presents that
 * client's certificate there. Playwright makes the TLS connection itself, so Chromium never sees
 * nginx's test certificate: certificate errors are ignored.
 */
export function contextOptions(nginx: RunningNginx, client?: ClientName): BrowserContextOptions {
  const certificate = client === undefined ? undefined : nginx.pki.clients[client];
  return {
    ignoreHTTPSErrors: true,
    viewport: { width: 800, height: 600 },
    clientCertificates: certificate
      ? [{ origin: nginx.origin, certPath: certificate.cert, keyPath: certificate.key }]
      : [],
  };
}

/** A fresh context (cookies, storage, cache) in a shared browser, as a new person opens it. */
export function newPersonContext(
  browser: Browser,
  nginx: RunningNginx,
  client?: ClientName,
): Promise<BrowserContext> {
  return browser.newContext(contextOptions(nginx, client));
}

export interface CookieRefusingBrowser {
  readonly context: BrowserContext;
  /** Closes the browser and removes its profile folder. */
  close(): Promise<void>;
}

/**
 * A browser whose profile refuses every cookie, first and third party: the content setting
 * `cookies` = 2 (block) in the profile's Preferences. Only a persistent context reads a profile,
 * so this starts a browser process of its own.
 */
export async function launchCookieRefusingBrowser(
  nginx: RunningNginx,
  client?: ClientName,
): Promise<CookieRefusingBrowser> {
  await ensureChromium();
  const profile = await mkdtemp(join(tmpdir(), 'jcg-chromium-'));
  const preferences = { profile: { default_content_setting_values: { cookies: 2 } } };
  await mkdir(join(profile, 'Default'));
  await writeFile(join(profile, 'Default', 'Preferences'), JSON.stringify(preferences));

  try {
    const context = await chromium.launchPersistentContext(profile, {
      ...contextOptions(nginx, client),
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_FLAGS,
    });
    return {
      context,
      close: async () => {
        await context.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}

export interface NavigationResponse {
  readonly url: string;
  readonly status: number;
  /** The `Location` of a redirect, as sent. */
  readonly location: string | undefined;
  /** Whether the navigation was the top-level page's or an iframe's. */
  readonly frame: 'page' | 'iframe';
}

export interface NavigationLog {
  /** Every response to a page or iframe navigation in the context, in arrival order. */
  readonly responses: NavigationResponse[];
  /** The redirects among them. */
  redirects(): NavigationResponse[];
}

/** Records the responses to navigations (redirects included) from now on. */
export function recordNavigations(context: BrowserContext): NavigationLog {
  const responses: NavigationResponse[] = [];
  context.on('response', (response: Response) => {
    const request = response.request();
    if (!request.isNavigationRequest()) return;

    const frame = request.frame();
    responses.push({
      url: response.url(),
      status: response.status(),
      location: response.headers().location,
      frame: frame.parentFrame() === null ? 'page' : 'iframe',
    });
  });
  return {
    responses,
    redirects: () => responses.filter((entry) => entry.status >= 300 && entry.status < 400),
  };
}
