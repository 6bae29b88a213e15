import cookieParser from 'cookie-parser';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Config } from '../config/index.js';
import { GatewayError } from '../errors.js';
import type { Identity, IdentityReader, IdentityReading } from '../identity/index.js';
import type { Logger } from '../log.js';
import { buildClaims, type RoomTarget, type TokenSigner } from '../token/index.js';
import type { Backstop } from './backstop.js';
import { decide, type Decision, type NavigationFacts } from './decide.js';
import { sendTokenRedirect, setMarkerCookie } from './handover.js';
import { ruleHolder } from './holder.js';
import { tokenParameters } from './location.js';
import { decodeMarker, markerSubject, type Marker } from './marker.js';
import { isPageNavigation, readRoomPath } from './room-page.js';

export interface InjectDependencies {
  config: Readonly<Config>;
  logger: Logger;
  identity: IdentityReader;
  signer: TokenSigner;
  backstop: Backstop;
  /** Epoch seconds; read once per request. */
  clock: () => number;
}

/**
 * Applies the inject decision to room page navigations. Every other request goes straight on
 * to the proxy without being read further.
 */
export function createInjectMiddleware(deps: InjectDependencies): RequestHandler {
  const { config, logger } = deps;
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
    const holder =
      identity.kind === 'holder' ? applyRules(req, identity.identity, target) : undefined;
    const subject = holder ? markerSubject(holder.id, target) : '';

    const facts: NavigationFacts = {
      identity,
      token: holder ? await checkToken(nav.rawQuery, holder, target, now) : 'absent',
      marker: readMarker(req),
      subject,
      unansweredRedirects: holder ? deps.backstop.count(subject, now) : 0,
      now,
    };
    const decision = decide(facts, config.inject);
    logDecision(req, decision, target, identity);

    switch (decision.outcome) {
      case 'refuse':
        throw identity.kind === 'invalid'
          ? identity.error
          : new GatewayError('GUEST_REFUSED', 'This meeting needs a client certificate.');
      case 'redirect':
        await redirectWithToken(nav, holder as Identity, decision.marker, now);
        return;
      case 'pass':
        if (decision.marker) setMarkerCookie(res, decision.marker, config);
        if (decision.reason === 'token-usable') deps.backstop.clear(subject);
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
    deps.backstop.record(marker.subject, now);
    sendTokenRedirect(
      nav.res,
      { rawPath: nav.rawPath, rawQuery: nav.rawQuery, token, marker },
      config,
    );
  }

  /** The holder as the rules present them; a holder the rules refuse ends the request with 403. */
  function applyRules(req: Request, identity: Identity, target: RoomTarget): Identity {
    const ruled = ruleHolder(identity, config.rules.list, target);
    if (ruled.kind === 'granted') return ruled.identity;

    const fields = { decision: 'refuse', reason: 'holder-refused', rule: ruled.rule };
    const where = { room: target.room, tenant: target.tenant, holder: identity.id };
    logger.info({ ...fields, ...where, peer: req.socket.remoteAddress }, 'room page: refuse');
    throw ruled.error;
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

  function readMarker(req: Request): Marker | undefined {
    const value: unknown = req.signedCookies?.[config.inject.markerCookieName];
    if (value === undefined) return undefined;
    const marker = typeof value === 'string' ? decodeMarker(value) : undefined;
    if (!marker)
      logger.warn({ reason: 'marker-invalid' }, 'ignored a marker cookie that does not verify');
    return marker;
  }

  function logDecision(
    req: Request,
    decision: Decision,
    target: RoomTarget,
    identity: IdentityReading,
  ): void {
    const fields = {
      decision: decision.outcome,
      reason: decision.reason,
      room: target.room,
      tenant: target.tenant,
      holder: identity.kind === 'holder' ? identity.identity.id : undefined,
      guest: identity.kind === 'guest' ? identity.reason : undefined,
      error: identity.kind === 'invalid' ? identity.error.code : undefined,
      peer: req.socket.remoteAddress,
    };
    // With the token in the fragment, the gateway never sees it arrive: the tokenless visit
    // right after a redirect is how every hand-over looks, so it is no warning there.
    if (decision.reason === 'loop-broken' && config.inject.tokenPlacement === 'fragment') {
      logger.info({ ...fields, reason: 'fragment-handover' }, 'room page: pass');
    } else if (decision.reason === 'loop-broken' || decision.reason === 'backstop') {
      logger.warn(fields, 'broke a redirect loop: passing the room page without a token');
    } else {
      logger.info(fields, `room page: ${decision.outcome}`);
    }
  }
}

function splitUrl(url: string): { rawPath: string; rawQuery: string } {
  const question = url.indexOf('?');
  return question === -1
    ? { rawPath: url, rawQuery: '' }
    : { rawPath: url.slice(0, question), rawQuery: url.slice(question + 1) };
}
