import type { ServerResponse } from 'node:http';
import cookieParser from 'cookie-parser';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Config } from '../config/index.js';
import { GatewayError, type GatewayErrorCode } from '../errors.js';
import type { GuestReason, Identity, IdentityReader, IdentityReading } from '../identity/index.js';
import type { Logger } from '../log.js';
import { buildClaims, type RoomTarget, type TokenSigner } from '../token/index.js';
import type { Backstop } from './backstop.js';
import { decide, type Decision, type NavigationFacts } from './decide.js';
import { locationWithToken, tokenParameters } from './location.js';
import { decodeMarker, encodeMarker, markerSubject, type Marker } from './marker.js';
import { isPageNavigation, readRoomPath } from './room-page.js';

export interface InjectDependencies {
  config: Readonly<Config>;
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
  reason: Decision['reason'];
  room: string;
  tenant?: string;
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

/**
 * Applies the inject decision to room page navigations. Every other request goes straight on
 * to the proxy without being read further.
 */
export function createInjectMiddleware(deps: InjectDependencies): RequestHandler {
  const { config, observer } = deps;
  const parseCookies = cookieParser(config.inject.cookieSecret);

  return (req, res, next) => {
    const { rawPath, rawQuery } = splitUrl(req.url);
    if (!isPageNavigation(req.method, req.headers)) return next();
    const target = readRoomPath(rawPath);
    if (!target) return next();

    parseCookies(req, res, () => {
      handleNavigation({ req, res, next, deps, target, rawPath, rawQuery }).catch(next);
    });
  };

  interface Navigation {
    req: Request;
    res: Response;
    next: NextFunction;
    deps: InjectDependencies;
    target: RoomTarget;
    rawPath: string;
    rawQuery: string;
  }

  async function handleNavigation(nav: Navigation): Promise<void> {
    const { req, res, target } = nav;
    const now = deps.clock();
    const identity = deps.identity.read(req.socket.remoteAddress, req.headersDistinct);
    const holder = identity.kind === 'holder' ? identity.identity : undefined;
    const subject = holder ? markerSubject(holder.id, target) : '';

    const log = observer.loggerFor(res);
    const facts: NavigationFacts = {
      identity,
      token: holder ? await checkToken(nav.rawQuery, holder, target, now) : 'absent',
      marker: readMarker(req, log),
      subject,
      unansweredRedirects: holder ? deps.backstop.count(subject, now) : 0,
      now,
    };
    const decision = decide(facts, config.inject);
    log.debug(
      {
        identity: identity.kind,
        subjectDn: holder?.subjectDn,
        serial: holder?.serial,
        token: facts.token,
        marker: facts.marker?.state,
        unansweredRedirects: facts.unansweredRedirects,
      },
      'room page facts',
    );
    const record = decisionRecord(decision, target, identity);

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
        if (decision.marker) setMarker(res, decision.marker);
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

    setMarker(nav.res, marker);
    nav.res.set({
      Location: locationWithToken(nav.rawPath, nav.rawQuery, token),
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
    });
    nav.res.status(302).end();
  }

  /** Only a single `jwt` that we signed, for this room and holder, with time left, is kept. */
  async function checkToken(
    rawQuery: string,
    holder: Identity,
    target: RoomTarget,
    now: number,
  ): Promise<NavigationFacts['token']> {
    const values = tokenParameters(rawQuery);
    if (values.length === 0) return 'absent';
    if (values.length > 1) return 'unusable';

    const payload = await deps.signer.verify(values[0] as string, now);
    const context = payload?.context as { user?: { id?: unknown } } | undefined;
    const fits =
      payload !== undefined &&
      payload.room === target.room &&
      payload.sub === (target.tenant ?? config.token.xmppDomain) &&
      context?.user?.id === holder.id &&
      typeof payload.exp === 'number' &&
      payload.exp - now > config.token.renewMarginSeconds;
    return fits ? 'usable' : 'unusable';
  }

  function readMarker(req: Request, log: Logger): Marker | undefined {
    const value: unknown = req.signedCookies?.[config.inject.markerCookieName];
    if (value === undefined) return undefined;
    const marker = typeof value === 'string' ? decodeMarker(value) : undefined;
    if (!marker)
      log.warn({ reason: 'marker-invalid' }, 'ignored a marker cookie that does not verify');
    return marker;
  }

  function setMarker(res: Response, marker: Marker): void {
    res.cookie(config.inject.markerCookieName, encodeMarker(marker), {
      signed: true,
      httpOnly: true,
      secure: config.inject.secureCookie,
      sameSite: 'lax',
      path: '/',
      maxAge: Math.max(config.token.lifetimeSeconds, config.inject.loopWindowSeconds) * 1000,
    });
  }
}

function decisionRecord(
  decision: Decision,
  target: RoomTarget,
  identity: IdentityReading,
): DecisionRecord {
  return {
    decision: decision.outcome,
    reason: decision.reason,
    room: target.room,
    tenant: target.tenant,
    holder: identity.kind === 'holder' ? identity.identity.id : undefined,
    guest: identity.kind === 'guest' ? identity.reason : undefined,
    error: identity.kind === 'invalid' ? identity.error.code : undefined,
  };
}

function splitUrl(url: string): { rawPath: string; rawQuery: string } {
  const question = url.indexOf('?');
  return question === -1
    ? { rawPath: url, rawQuery: '' }
    : { rawPath: url.slice(0, question), rawQuery: url.slice(question + 1) };
}
