import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { configSchema, environmentNames, type Config } from './schema.js';

export type { Config };

export const DEFAULT_CONFIG_FILE = fileURLToPath(
  new URL('../../config/default.json', import.meta.url),
);

const MIN_SECRET_LENGTH = 32;

export interface LoadOptions {
  /** A file read on top of the default one; `GATEWAY_CONFIG` names it when this is not given. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Set by `--development`; the setting of the same name does the same. */
  development?: boolean;
}

export type LoadResult =
  { ok: true; config: Readonly<Config>; warnings: string[] } | { ok: false; problems: string[] };

type Tree = Record<string, unknown>;

/**
 * Read the default file, the operator's file and the environment, in that order of strength,
 * and validate the result. Every problem is reported, not only the first.
 */
export function loadConfig(options: LoadOptions = {}): LoadResult {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const envKeys = environmentNames();

  const input: Tree = {};
  for (const file of [DEFAULT_CONFIG_FILE, options.file ?? env.GATEWAY_CONFIG]) {
    if (file === undefined || file === '') continue;
    const read = readJsonFile(file);
    if (typeof read === 'string') problems.push(read);
    else mergeInto(input, read);
  }
  // Compose passes `VAR=${VAR}` through as an empty text when the `.env` leaves it out, so an
  // empty variable counts as unset: the file or the default applies, as it would without it.
  for (const [name, key] of envKeys) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(input, key, value);
  }
  if (options.development) input.development = true;

  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    problems.push(
      ...parsed.error.issues.flatMap((issue) => describeIssue(issue, envKeys).split('\n')),
    );
  }
  const development = parsed.success ? parsed.data.development : input.development === true;
  const warnings: string[] = [];
  const secrets = new Map<string, string>();
  for (const secret of SECRETS) {
    const value = getPath(input, secret.key);
    if (secret.isNeeded?.(input) === false && (value === undefined || value === '')) continue;
    const result = checkSecret(value, secret, development);
    if (result.problem) problems.push(result.problem);
    if (result.warning) warnings.push(result.warning);
    if (result.value) secrets.set(secret.key, result.value);
  }
  if (!parsed.success || problems.length > 0) return { ok: false, problems };

  const config = parsed.data;
  config.token.secret = secrets.get('token.secret');
  config.inject.cookieSecret = secrets.get('inject.cookieSecret');
  return { ok: true, config: deepFreeze(config), warnings };
}

const SECRETS: { key: string; env: string; isNeeded?: (input: Tree) => boolean }[] = [
  { key: 'token.secret', env: 'JWT_APP_SECRET', isNeeded: needsInlineAppSecret },
  { key: 'inject.cookieSecret', env: 'GATEWAY_COOKIE_SECRET' },
];

/** The app secret may come from `token.secretFile` instead, and RS* tokens do not use it. */
function needsInlineAppSecret(input: Tree): boolean {
  const secretFile = getPath(input, 'token.secretFile');
  const algorithm = getPath(input, 'token.algorithm');
  const fromFile = typeof secretFile === 'string' && secretFile !== '';
  const withPrivateKey = typeof algorithm === 'string' && algorithm.startsWith('RS');
  return !fromFile && !withPrivateKey;
}

interface SecretCheck {
  value?: string;
  problem?: string;
  warning?: string;
}

/** Checks one secret's length without ever echoing it; in development mode fills a missing one. */
function checkSecret(
  value: unknown,
  secret: { key: string; env: string },
  development: boolean,
): SecretCheck {
  const name = `${secret.key} (${secret.env})`;
  if (value === undefined || value === '') {
    if (!development) return { problem: `${name}: is required and has no default` };

    return {
      value: randomBytes(32).toString('base64url'),
      warning: `DEVELOPMENT MODE: ${name} is not set; using a random value that changes at every start`,
    };
  }
  if (typeof value !== 'string') return { problem: `${name}: must be a string` };
  if (value.length < MIN_SECRET_LENGTH) {
    return {
      problem: `${name}: must be at least ${MIN_SECRET_LENGTH} characters long, but is ${value.length}`,
    };
  }
  return { value };
}

function readJsonFile(file: string): Tree | string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return `config file ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return `config file ${file}: must hold a JSON object`;
    }
    return value as Tree;
  } catch (error) {
    return `config file ${file}: is not valid JSON${jsonErrorPlace(error)}`;
  }
}

function describeIssue(issue: z.core.$ZodIssue, envKeys: Map<string, string>): string {
  const key = issue.path.join('.');
  const env = [...envKeys].find(([, setting]) => setting === key)?.[0];
  const where = key === '' ? 'config' : env ? `${key} (${env})` : key;
  if (issue.code === 'unrecognized_keys') {
    const prefix = key === '' ? '' : `${key}.`;
    return issue.keys.map((name) => `${prefix}${name}: is not a known setting`).join('\n');
  }
  return `${where}: ${issue.message}`;
}

function mergeInto(target: Tree, source: Tree): void {
  for (const [name, value] of Object.entries(source)) {
    const current = target[name];
    if (isTree(value) && isTree(current)) mergeInto(current, value);
    else target[name] = isTree(value) ? structuredClone(value) : value;
  }
}

function setPath(target: Tree, key: string, value: unknown): void {
  const names = key.split('.');
  const last = names.pop() as string;
  let node = target;
  for (const name of names) {
    if (!isTree(node[name])) node[name] = {};
    node = node[name] as Tree;
  }
  node[last] = value;
}

function getPath(tree: Tree, key: string): unknown {
  let node: unknown = tree;
  for (const name of key.split('.')) node = isTree(node) ? node[name] : undefined;
  return node;
}

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * Where JSON.parse gave up, when it says so, and nothing else: its message quotes the text
 * around the error, and a config file holds secrets.
 */
function jsonErrorPlace(error: unknown): string {
  const place = /at position \d+(?: \(line \d+ column \d+\))?/.exec((error as Error).message);
  return place ? ` (${place[0]})` : '';
}
