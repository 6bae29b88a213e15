import type { Config } from '../config/index.js';
import { readRoomPath } from '../inject/index.js';
import { JITSI_FEATURES } from '../rules/index.js';
import type { TokenSigner } from '../token/index.js';
import { splitRoomUrl } from './url.js';

/**
 * Says, claim by claim, whether Prosody's token plugins would accept a token for one room URL
 * with this gateway's deployment settings (JITSI.md section 2; token/util.lib.lua and
 * luajwtjitsi.lib.lua in jitsi-meet's resources/prosody-plugins).
 */

export type Verdict = 'ok' | 'fail' | 'warn' | 'skip';

export interface Check {
  readonly item: string;
  readonly verdict: Verdict;
  readonly detail: string;
}

export interface Explanation {
  readonly acceptable: boolean;
  readonly checks: readonly Check[];
}

export interface ExplainInput {
  token: string;
  /** The room URL or path the token is meant for. */
  url: string;
  config: Readonly<Config>;
  signer: TokenSigner;
  /** Epoch seconds. */
  now: number;
}

/** The signer's algorithm (token/sign.ts); Prosody refuses any other than the one it is set to. */

type Json = Record<string, unknown>;

/** Never throws for a bad token: a token that cannot be decoded is one failed check. */
export async function explainToken(input: ExplainInput): Promise<Explanation> {
  const decoded = decodeToken(input.token);
  if (typeof decoded === 'string') return finish([fail('token', decoded)]);

  const { header, payload } = decoded;
  const headerChecks = [checkTyp(header.typ), checkAlg(header.alg, input.signer.algorithm)];
  const checks = [
    ...headerChecks,
    await checkSignature(input, payload, headerChecks),
    ...checkAddressing(payload, input),
    ...checkTimes(payload, input.now),
    ...checkContext(payload.context),
  ];
  return finish(checks);
}

function finish(checks: Check[]): Explanation {
  return { acceptable: checks.every((check) => check.verdict !== 'fail'), checks };
}

function decodeToken(token: string): { header: Json; payload: Json } | string {
  const parts = token.trim().split('.');
  if (parts.length !== 3)
    return `is not a signed JWT: ${parts.length} dot-separated part(s), not 3`;

  const header = decodePart(parts[0] as string);
  const payload = decodePart(parts[1] as string);
  if (!header) return 'header is not base64url-encoded JSON object';
  if (!payload) return 'payload is not base64url-encoded JSON object';
  return { header, payload };
}

function decodePart(part: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Json)
      : undefined;
  } catch {
    return undefined;
  }
}

function checkTyp(typ: unknown): Check {
  return typ === 'JWT'
    ? ok('header typ', '"JWT"')
    : fail('header typ', `is ${show(typ)}; Prosody accepts only "JWT"`);
}

function checkAlg(alg: unknown, expected: string): Check {
  return alg === expected
    ? ok('header alg', `${show(alg)}, the configured algorithm`)
    : fail('header alg', `is ${show(alg)}; the deployment verifies ${expected}`);
}

/**
 * The signature alone: verified at a moment inside the token's own validity, so that an expired
 * token still shows whether the key is right. The times get their own checks.
 */
async function checkSignature(input: ExplainInput, payload: Json, header: Check[]): Promise<Check> {
  if (header.some((check) => check.verdict === 'fail')) {
    return skip('signature', 'not checked: the header is refused');
  }

  const { nbf, exp, iat } = payload;
  const times = [nbf, exp, iat].filter((value) => value !== undefined);
  if (!times.every((value) => typeof value === 'number')) {
    return skip('signature', 'not checked: nbf, exp or iat is not a number');
  }

  if (typeof exp === 'number' && typeof nbf === 'number' && nbf >= exp) {
    return skip('signature', 'not checked: nbf is not before exp, so the token is never valid');
  }

  // Only the signature: the times are judged claim by claim below.
  const verified = await input.signer.readSigned(input.token);
  return verified
    ? ok('signature', 'verifies with the configured key')
    : fail('signature', 'does not verify with the configured key (token.secret or token.keyFile)');
}

function checkAddressing(payload: Json, input: ExplainInput): Check[] {
  const { token } = input.config;
  const rawPath = splitRoomUrl(input.url).rawPath;
  const target = readRoomPath(rawPath);
  const expectedSub = target?.tenant ?? token.xmppDomain;

  return [
    exactly('iss', payload.iss, token.appId, 'the configured issuer (token.appId)'),
    exactly('aud', payload.aud, token.audience, 'the configured audience (token.audience)'),
    checkSub(payload.sub, expectedSub, target?.tenant !== undefined),
    target
      ? checkRoom(payload.room, target.room, rawPath)
      : fail('room', `${rawPath} is not a room page, so Jitsi joins no room there`),
  ];
}

function exactly(item: string, value: unknown, expected: string, what: string): Check {
  if (value === undefined) return fail(item, 'is missing; Prosody requires it');
  if (Array.isArray(value)) return fail(item, 'is a list; Prosody compares one string');
  return value === expected
    ? ok(item, `${show(value)}, ${what}`)
    : fail(item, `is ${show(value)}, not ${show(expected)}, ${what}`);
}

function checkSub(sub: unknown, expected: string, tenant: boolean): Check {
  if (sub === undefined) return fail('sub', 'is missing; Prosody requires it');
  if (sub === '*') return ok('sub', '"*" matches any domain and tenant');

  const what = tenant ? 'the tenant of this URL' : 'the XMPP domain (token.xmppDomain)';
  return sub === expected
    ? ok('sub', `${show(sub)}, ${what}`)
    : fail('sub', `is ${show(sub)}, not ${show(expected)}, ${what}`);
}

/** Prosody lower-cases the claim with ASCII rules only and compares it with the room node. */
function checkRoom(room: unknown, node: string, rawPath: string): Check {
  if (room === undefined) return fail('room', 'is missing; Prosody requires it');
  if (typeof room !== 'string') return fail('room', `is ${show(room)}, not text`);
  if (room === '*') return ok('room', '"*" opens any room');

  const lower = room.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
  return lower === node
    ? ok('room', `${show(room)} is the room node of ${rawPath}`)
    : fail('room', `is ${show(room)}, but the client joins ${show(node)} from ${rawPath}`);
}

/** luajwtjitsi checks both against the clock with no leeway at all. */
function checkTimes(payload: Json, now: number): Check[] {
  const { nbf, exp } = payload;
  const checks: Check[] = [];
  if (nbf === undefined) checks.push(ok('nbf', 'absent: valid from the start'));
  else if (typeof nbf !== 'number') checks.push(fail('nbf', `is ${show(nbf)}, not a number`));
  else if (now < nbf) checks.push(fail('nbf', `${at(nbf)}, ${nbf - now} s from now`));
  else checks.push(ok('nbf', `${at(nbf)}, passed`));

  if (exp === undefined) checks.push(warn('exp', 'absent: accepted, but the token never expires'));
  else if (typeof exp !== 'number') checks.push(fail('exp', `is ${show(exp)}, not a number`));
  else if (now >= exp) checks.push(fail('exp', `${at(exp)}, expired ${now - exp} s ago`));
  else checks.push(ok('exp', `${at(exp)}, ${exp - now} s left`));
  return checks;
}

function checkContext(context: unknown): Check[] {
  if (context === undefined) return [warn('context', 'absent: Jitsi shows no name for this user')];
  if (!isObject(context)) return [fail('context', 'is not an object')];

  const { user, features, group } = context;
  const checks: Check[] = [];
  if (user === undefined) checks.push(warn('context.user', 'absent: no name, id or email'));
  else if (!isObject(user)) checks.push(fail('context.user', 'is not an object'));
  else {
    for (const field of ['id', 'name', 'email', 'avatar']) {
      const value = user[field];
      if (value === undefined) continue;
      checks.push(
        typeof value === 'string'
          ? ok(`context.user.${field}`, show(value))
          : fail(`context.user.${field}`, `is ${show(value)}; it must be text`),
      );
    }
  }
  if (isObject(user)) checks.push(...checkRole(user));
  if (group !== undefined && typeof group !== 'string') {
    checks.push(warn('context.group', `is ${show(group)}, not text`));
  }
  if (features !== undefined) checks.push(checkFeatures(features));
  return checks;
}

/** What token_affiliation makes of the user: owner for moderator true or an owner-like affiliation. */
function checkRole(user: Json): Check[] {
  const { moderator, affiliation } = user;
  const checks: Check[] = [];
  if (moderator !== undefined) {
    checks.push(
      [true, false, 'true', 'false'].includes(moderator as string)
        ? ok('context.user.moderator', `${show(moderator)} (needs token_affiliation)`)
        : warn('context.user.moderator', `is ${show(moderator)}; only true or false mean anything`),
    );
  }
  if (affiliation !== undefined) {
    checks.push(
      typeof affiliation === 'string'
        ? ok('context.user.affiliation', `${show(affiliation)} (needs token_affiliation)`)
        : warn('context.user.affiliation', `is ${show(affiliation)}, not text`),
    );
  }
  return checks;
}

/** The client reports unknown keys and values other than true/false (validateJwt). */
function checkFeatures(features: unknown): Check {
  if (!isObject(features)) return warn('context.features', 'is not an object');

  const known: readonly string[] = JITSI_FEATURES;
  const unknown = Object.keys(features).filter((key) => !known.includes(key));
  const badValues = Object.entries(features)
    .filter(([, value]) => ![true, false, 'true', 'false'].includes(value as string))
    .map(([key]) => key);
  if (unknown.length > 0) return warn('context.features', `unknown: ${unknown.join(', ')}`);
  if (badValues.length > 0)
    return warn('context.features', `not true/false: ${badValues.join(', ')}`);

  const off = known.filter((key) => String(features[key]) !== 'true');
  return ok('context.features', off.length === 0 ? 'all on' : `off: ${off.join(', ')}`);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  return value === undefined ? 'absent' : JSON.stringify(value);
}

function at(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString();
}

const check =
  (verdict: Verdict) =>
  (item: string, detail: string): Check => ({ item, verdict, detail });
const ok = check('ok');
const fail = check('fail');
const warn = check('warn');
const skip = check('skip');
