import type { Request, RequestHandler, Response } from 'express';
import { GatewayError } from '../errors.js';
import { errorPage } from '../pages.js';
import { buildClaims } from '../token/index.js';
import { sendTokenRedirect } from './handover.js';
import { ruleHolder } from './holder.js';
import { markerSubject } from './marker.js';
import type { InjectDependencies } from './navigation.js';
import { readTokenRequest } from './token-request.js';

const NO_ROOM = 'This sign-in link does not name a meeting room.';
const NO_CERTIFICATE = 'This meeting needs a client certificate.';
const TOO_MANY =
  'Tokens for this room were handed out several times in a short while without reaching the meeting. Please wait a minute and open the meeting link again.';

/**
 * The target of Jitsi's `tokenAuthUrl` (docker `TOKEN_AUTH_URL`): Jitsi sends the browser here
 * when it has no usable token, and a holder is redirected back to the room on this site with a
 * fresh one. Guests are refused with a page, since sending them back would only bring them here
 * again. Every other path goes on to the next handler.
 */
export function createTokenEndpoint(deps: InjectDependencies): RequestHandler {
  const { config } = deps;

  return (req, res, next) => {
    const question = req.url.indexOf('?');
    const rawPath = question === -1 ? req.url : req.url.slice(0, question);
    if (rawPath !== config.inject.tokenEndpointPath) return next();

    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.set('Allow', 'GET, HEAD');
      sendPage(res, 405, 'This address only answers browser navigations.');
      return;
    }
    const rawQuery = question === -1 ? '' : req.url.slice(question + 1);
    handOverToken(req, res, rawQuery).catch(next);
  };

  async function handOverToken(req: Request, res: Response, rawQuery: string): Promise<void> {
    const peer = req.socket.remoteAddress;
    const request = readTokenRequest(rawQuery);
    if (request.kind === 'invalid') {
      deps.logger.warn(
        { reason: 'room-invalid', problem: request.problem, peer },
        'token endpoint',
      );
      sendPage(res, 400, NO_ROOM);
      return;
    }

    const { target, rawPath } = request;
    const fields = { room: target.room, tenant: target.tenant, peer };
    const identity = deps.identity.read(peer, req.headersDistinct);
    if (identity.kind === 'invalid') throw identity.error;
    if (identity.kind === 'guest') {
      deps.logger.info(
        { ...fields, decision: 'refuse', reason: 'guest-refused' },
        'token endpoint',
      );
      throw new GatewayError('GUEST_REFUSED', NO_CERTIFICATE);
    }

    const holder = identity.identity.id;
    const ruled = ruleHolder(identity.identity, config.rules.list, target);
    if (ruled.kind === 'refused') {
      const refusal = { decision: 'refuse', reason: 'holder-refused', rule: ruled.rule, holder };
      deps.logger.info({ ...fields, ...refusal }, 'token endpoint');
      throw ruled.error;
    }

    const now = deps.clock();
    const subject = markerSubject(ruled.identity.id, target);
    // Jitsi comes back here whenever the token did not work; the backstop ends that cycle.
    if (deps.backstop.count(subject, now) >= config.inject.backstopMaxRedirects) {
      deps.logger.warn(
        { ...fields, decision: 'refuse', reason: 'backstop', holder },
        'token endpoint',
      );
      throw new GatewayError('HOLDER_REFUSED', TOO_MANY);
    }

    const token = await deps.signer.sign(buildClaims(ruled.identity, target, config.token, now));
    deps.observer.tokenMinted();
    deps.backstop.record(subject, now);
    const marker = { state: 'sent' as const, subject, issuedAt: now };
    sendTokenRedirect(res, { rawPath, rawQuery: '', token, marker }, config);
    deps.logger.info(
      { ...fields, decision: 'redirect', reason: 'token-endpoint', holder },
      'token endpoint',
    );
  }
}

function sendPage(res: Response, status: number, message: string): void {
  const page = errorPage(status, message);
  res.writeHead(page.status, page.headers).end(page.body);
}
