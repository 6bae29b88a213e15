import type { IncomingMessage, ServerResponse } from 'node:http';
import cookieParser from 'cookie-parser';
import type { Request, Response } from 'express';
import type { Config } from '../config/index.js';
import { GatewayError, type GatewayErrorCode } from '../errors.js';
import type { GuestReason, Identity, IdentityReader, IdentityReading } from '../identity/index.js';
import type { Logger } from '../log.js';
import {
  buildClaims,
  checkPresentedToken,
  type PresentedToken,
  type RoomTarget,
  type TokenSigner,
} from '../token/index.js';
import type { Backstop } from './backstop.js';
import { decide, type Decision, type NavigationFacts } from './decide.js';
import { sendTokenRedirect, setMarkerCookie } from './handover.js';
import { ruleHolder } from './holder.js';
import { tokenParameters } from './location.js';
import { markerSubject, readMarkerCookie, type Marker, type MarkerKeys } from './marker.js';
import type { RoomNavigation } from './room-page.js';

export interface InjectDependencies {
  config: Readonly<Config>;
  logger: Logger;
  identity: IdentityReader;
  signer: TokenSigner;
  backstop: Backstop;
  /** Epoch seconds; read once per request. */
  clock: () => number;
  observer: DecisionObserver;
}

/** A room page decision as it appears in the request's log line. */
export interface DecisionRecord {
  decision: Decision['outcome'];
  reason: Decision['reason'] | 'holder-refused' | 'fragment-handover';
  /** Which rule refused a holder. */
  rule?: number;
  room: string;
  tenant?: string;
  /** What the URL carried: absent, usable, foreign, or why it was unusable. */
  presentedToken: string;
  /** The holder's pseudonymous id; names and emails stay out of the info line. */
  holder?: string;
  guest?: GuestReason;
  error?: GatewayErrorCode;
}

/** Receives each decision once it has been applied; the server turns it into logs and metrics. */
export interface DecisionObserver {
  /** A logger bound to this request's id. */
  loggerFor(res: ServerResponse): Logger;
  decided(res: ServerResponse, record: DecisionRecord): void;
  tokenMinted(): void;
}

/** Called with no argument to pass the request on to Jitsi, or with the error that ends it. */
export type NavigationNext = (error?: unknown) => void;

export type NavigationHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  navigation: RoomNavigation,
  next: NavigationNext,
) => void;

/**
 * Applies the inject decision to a room page navigation (see readRoomNavigation): redirects
 * with a token, refuses, or passes it on with `next()`. It runs on plain node:http objects:
 * a redirect is the gateway's busiest answer, and an express app in front of it costs more
 * than all the rest of its work.
 */
export function createNavigationHandler(deps: InjectDependencies): NavigationHandler {
  const { config, observer } = deps;
  // Parsing only: the marker is verified in readMarkerCookie, which needs the signed value
  // as sent to try the secrets from before a rotation.
  const parseCookies = cookieParser();
  const markerKeys: MarkerKeys = {
    secret: config.inject.cookieSecret ?? '',
    previousSecrets: config.inject.previousCookieSecrets,
    previousUntil: epochSeconds(config.inject.previousCookieSecretsUntil),
    maxAgeSeconds: Math.max(config.token.lifetimeSeconds, config.inject.loopWindowSeconds),
  };

  /** The request's cookies, parsed by cookie-parser from the one header it reads. */
  const readCookies = (header: string | undefined): Record<string, unknown> => {
    const holder = { headers: { cookie: header } } as { cookies?: Record<string, unknown> };
    parseCookies(holder as Request, {} as Response, () => undefined);
    return holder.cookies ?? {};
  };

  return (req, res, navigation, next) => {
    const { cookie, identityHeaders } = readNavigationHeaders(
      req.rawHeaders,
      deps.identity.isIdentityHeader,
    );
    const cookies = readCookies(cookie);
    handleNavigation({ req, res, next, deps, cookies, identityHeaders, ...navigation }).catch(next);
  };

  interface Navigation {
    req: IncomingMessage;
    res: ServerResponse;
    next: NavigationNext;
    deps: InjectDependencies;
    cookies: Record<string, unknown>;
    identityHeaders: Record<string, string[]>;
    target: RoomTarget;
    rawPath: string;
    rawQuery: string;
  }

  async function handleNavigation(nav: Navigation): Promise<void> {
    const { req, res, target } = nav;
    const now = deps.clock();
    const identity = deps.identity.read(req.socket.remoteAddress, nav.identityHeaders);
    const holder =
      identity.kind === 'holder' ? applyRules(res, identity.identity, target) : undefined;
    const subject = holder ? markerSubject(holder.id, target) : '';

    // A logger bound to the request id is made only for a line that is written.
    const log = (): Logger => observer.loggerFor(res);
    const presented = holder ? await checkToken(nav.rawQuery, holder, target, now) : ABSENT;
    const facts: NavigationFacts = {
      identity,
      token: tokenFact(presented),
      marker: readMarker(req, nav.cookies, log, now, subject),
      subject,
      unansweredRedirects: holder ? deps.backstop.count(subject, now) : 0,
      now,
    };
    const decision = decide(facts, config.inject);
    if (deps.logger.isLevelEnabled('debug')) {
      log().debug(
        {
          identity: identity.kind,
          subjectDn: holder?.subjectDn,
          serial: holder?.serial,
          presentedToken: facts.token,
          marker: facts.marker?.state,
          unansweredRedirects: facts.unansweredRedirects,
        },
        'room page facts',
      );
    }
    const record = decisionRecord(decision, target, identity, presented);
    // With the token in the fragment the gateway never sees it arrive: the tokenless visit right
    // after a redirect is how every hand-over looks, so it is no loop there.
    if (decision.reason === 'loop-broken' && config.inject.tokenPlacement === 'fragment') {
      record.reason = 'fragment-handover';
    }

    switch (decision.outcome) {
      case 'refuse':
        observer.decided(res, record);
        throw identity.kind === 'invalid'
          ? identity.error
          : new GatewayError('GUEST_REFUSED', 'This meeting needs a client certificate.');
      case 'redirect':
        await redirectWithToken(nav, holder as Identity, decision.marker, now);
        observer.decided(res, record);
        return;
      case 'pass':
        if (decision.marker) setMarkerCookie(res, decision.marker, config);
        if (decision.reason === 'token-usable') deps.backstop.clear(subject);
        observer.decided(res, record);
        nav.next();
        return;
    }
  }

  async function redirectWithToken(
    nav: Navigation,
    holder: Identity,
    marker: Marker,
    now: number,
  ): Promise<void> {
    const token = await deps.signer.sign(buildClaims(holder, nav.target, config.token, now));
    observer.tokenMinted();
    deps.backstop.record(marker.subject, now);
    sendTokenRedirect(
      nav.res,
      { rawPath: nav.rawPath, rawQuery: nav.rawQuery, token, marker },
      config,
    );
  }

  /** The holder as the rules present them; a holder the rules refuse ends the request with 403. */
  function applyRules(res: ServerResponse, identity: Identity, target: RoomTarget): Identity {
    const ruled = ruleHolder(identity, config.rules.list, target);
    if (ruled.kind === 'granted') return ruled.identity;

    observer.decided(res, {
      decision: 'refuse',
      reason: 'holder-refused',
      rule: ruled.rule,
      presentedToken: 'unread',
      room: target.room,
      tenant: target.tenant,
      holder: identity.id,
    });
    throw ruled.error;
  }

  /** Only a single `jwt` that we signed, for this room and holder, with time left, is kept. */
  function checkToken(
    rawQuery: string,
    holder: Identity,
    target: RoomTarget,
    now: number,
  ): Promise<PresentedToken> {
    const values = tokenParameters(rawQuery);
    // Most navigations carry no token: nothing to build the expected claims for.
    if (values.length === 0) return Promise.resolve(ABSENT);

    const expected = buildClaims(holder, target, config.token, now);
    const check = { expected, renewMarginSeconds: config.token.renewMarginSeconds, now };
    return checkPresentedToken(values, check, deps.signer);
  }

  /** A token none of our keys signed is another system's: the operator decides its fate. */
  function tokenFact(presented: PresentedToken): NavigationFacts['token'] {
    switch (presented.kind) {
      case 'absent':
      case 'usable':
        return presented.kind;
      case 'foreign':
        return config.token.foreignTokens === 'keep' ? 'usable' : 'unusable';
      case 'unusable':
        return 'unusable';
    }
  }

  /**
   * The marker of this holder and room, if the browser sent a usable one. Anything else is
   * handled as no marker; a forged, replayed or outdated one is logged at warn, never its value.
   */
  function readMarker(
    req: IncomingMessage,
    cookies: Record<string, unknown>,
    log: () => Logger,
    now: number,
    subject: string,
  ): Marker | undefined {
    const cookie = cookies[config.inject.markerCookieName];
    if (cookie === undefined) return undefined;

    const reading = readMarkerCookie(typeof cookie === 'string' ? cookie : '', markerKeys, now);
    if (reading.kind === 'ignored') {
      log().warn({ reason: reading.reason, peer: req.socket.remoteAddress }, 'ignored a marker');
      return undefined;
    }

    if (reading.marker.subject !== subject) {
      // The usual trace of moving from one room to another, not an attack.
      log().debug({ reason: 'marker-other-subject' }, 'ignored a marker for another room');
      return undefined;
    }
    if (reading.previousSecret) {
      log().debug({ reason: 'marker-previous-secret' }, 'accepted a marker of a previous secret');
    }
    return reading.marker;
  }
}

function decisionRecord(
  decision: Decision,
  target: RoomTarget,
  identity: IdentityReading,
  presented: PresentedToken,
): DecisionRecord {
  return {
    decision: decision.outcome,
    reason: decision.reason,
    // Not `token`: the logger redacts that name wherever it appears.
    presentedToken: presented.kind === 'unusable' ? presented.reason : presented.kind,
    room: target.room,
    tenant: target.tenant,
    holder: identity.kind === 'holder' ? identity.identity.id : undefined,
    guest: identity.kind === 'guest' ? identity.reason : undefined,
    error: identity.kind === 'invalid' ? identity.error.code : undefined,
  };
}

const ABSENT: PresentedToken = { kind: 'absent' };

/**
 * The two things a room page decision reads from the headers, in one pass over `rawHeaders`:
 * node would otherwise build `req.headers` (for cookie-parser) and `req.headersDistinct` (for
 * the identity) from every header of every room page. Repeated cookie headers are joined as
 * node joins them; identity headers keep each value, since a repeated one is never trusted.
 */
function readNavigationHeaders(
  rawHeaders: readonly string[],
  isIdentityHeader: (name: string) => boolean,
): { cookie?: string; identityHeaders: Record<string, string[]> } {
  let cookie: string | undefined;
  const identityHeaders: Record<string, string[]> = Object.create(null);
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = (rawHeaders[index] as string).toLowerCase();
    const value = rawHeaders[index + 1] as string;
    if (name === 'cookie') {
      cookie = cookie === undefined ? value : `${cookie}; ${value}`;
    } else if (isIdentityHeader(name)) {
      (identityHeaders[name] ??= []).push(value);
    }
  }
  return { cookie, identityHeaders };
}

function epochSeconds(isoTime: string | undefined): number | undefined {
  return isoTime === undefined ? undefined : Math.floor(Date.parse(isoTime) / 1000);
}
