import { z } from 'zod';
// The rules language alone: the rules engine reads identities, and config stays below identity.
import { ruleListSchema } from '../rules/schema.js';
import {
  audienceList,
  flag,
  headerName,
  list,
  optionalPort,
  optionalText,
  port,
  seconds,
  secretList,
  textList,
  upstreamUrl,
  validProxyList,
  wholeNumber,
} from './values.js';

/**
 * Every setting the gateway has: its type, default, environment variable and meaning.
 * The README's configuration table is checked against `describeSettings()`.
 */

interface SettingMeta {
  env?: string;
  description: string;
}

const settingMeta = z.registry<SettingMeta>();

function setting<T extends z.ZodType>(type: T, meta: SettingMeta): T {
  settingMeta.add(type, meta);
  return type;
}

/** A previous marker key without an end would verify markers for ever, even after a leak. */
function requireGraceEnd(
  inject: { previousCookieSecrets: string[]; previousCookieSecretsUntil?: string },
  context: z.RefinementCtx,
): void {
  if (inject.previousCookieSecrets.length > 0 && inject.previousCookieSecretsUntil === undefined) {
    context.addIssue({
      code: 'custom',
      path: ['previousCookieSecretsUntil'],
      message: 'is required when inject.previousCookieSecrets is set',
    });
  }
}

/** Node refuses to start a server whose headers timeout is longer than its request timeout. */
function requireHeadersWithinRequest(
  limits: { headersTimeoutSeconds: number; requestTimeoutSeconds: number },
  context: z.RefinementCtx,
): void {
  if (limits.headersTimeoutSeconds > limits.requestTimeoutSeconds) {
    context.addIssue({
      code: 'custom',
      path: ['requestTimeoutSeconds'],
      message: 'must be at least limits.headersTimeoutSeconds',
    });
  }
}

export const configSchema = z.strictObject({
  development: setting(flag.default(false), {
    env: 'GATEWAY_DEVELOPMENT',
    description:
      'Development mode: missing secrets are replaced by random ones at each start, with a loud warning. Never in production.',
  }),
  logLevel: setting(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    { env: 'GATEWAY_LOG_LEVEL', description: 'Lowest log level written to stdout.' },
  ),
  listen: z
    .strictObject({
      host: setting(z.string().min(1).default('127.0.0.1'), {
        env: 'GATEWAY_HOST',
        description: 'Address the gateway listens on.',
      }),
      port: setting(port.default(8080), {
        env: 'GATEWAY_PORT',
        description: 'Port the gateway listens on (0 picks a free one).',
      }),
    })
    .prefault({}),
  upstream: z
    .strictObject({
      url: setting(upstreamUrl.default('http://127.0.0.1:8000'), {
        env: 'GATEWAY_UPSTREAM_URL',
        description:
          'The Jitsi web server that receives everything the gateway passes on: http or https, with an optional base path; no user name, password, query or fragment.',
      }),
      timeoutSeconds: setting(seconds.default(30), {
        env: 'GATEWAY_UPSTREAM_TIMEOUT',
        description:
          'How long an ordinary request may wait for the upstream to answer before a 504. BOSH long-polls and websockets are not cut.',
      }),
      longPollTimeoutSeconds: setting(seconds.default(120), {
        env: 'GATEWAY_UPSTREAM_LONG_POLL_TIMEOUT',
        description:
          'The same limit for BOSH (`/http-bind`) requests, which Prosody holds open for up to a minute.',
      }),
    })
    .prefault({}),
  identity: z
    .strictObject({
      trustedProxies: setting(list(textList.check(validProxyList).default(['loopback'])), {
        env: 'GATEWAY_TRUSTED_PROXIES',
        description:
          'Peers allowed to assert identity headers: addresses, CIDR ranges, or the names loopback, linklocal, uniquelocal, not every address. Comma list in the environment; `[]` in a file trusts none.',
      }),
      verifyHeader: setting(headerName.prefault('X-SSL-Client-Verify'), {
        env: 'GATEWAY_VERIFY_HEADER',
        description: "Header carrying nginx's $ssl_client_verify.",
      }),
      subjectDnHeader: setting(headerName.prefault('X-SSL-Client-S-DN'), {
        env: 'GATEWAY_SUBJECT_DN_HEADER',
        description: "Header carrying nginx's $ssl_client_s_dn (RFC 4514 form).",
      }),
      issuerDnHeader: setting(headerName.prefault('X-SSL-Client-I-DN'), {
        env: 'GATEWAY_ISSUER_DN_HEADER',
        description: "Header carrying nginx's $ssl_client_i_dn.",
      }),
      serialHeader: setting(headerName.prefault('X-SSL-Client-Serial'), {
        env: 'GATEWAY_SERIAL_HEADER',
        description: "Header carrying nginx's $ssl_client_serial.",
      }),
      certificateHeader: setting(headerName.prefault('X-SSL-Client-Cert'), {
        env: 'GATEWAY_CERTIFICATE_HEADER',
        description:
          "Header carrying nginx's $ssl_client_escaped_cert (optional; gives the subjectAltName email).",
      }),
    })
    .prefault({}),
  token: z
    .strictObject({
      appId: setting(z.string().min(1).default('jitsi'), {
        env: 'JWT_APP_ID',
        description: 'The `iss` claim; must be one of the issuers Prosody accepts.',
      }),
      secret: setting(z.string().optional(), {
        env: 'JWT_APP_SECRET',
        description: "Prosody's app_secret, used as raw bytes for HS256; at least 32 characters.",
      }),
      audience: setting(list(audienceList.default('jitsi')), {
        env: 'JWT_ACCEPTED_AUDIENCES',
        description:
          'The audiences Prosody accepts, a comma list as in docker-jitsi-meet; tokens carry the first as their one `aud` claim.',
      }),
      xmppDomain: setting(z.string().min(1).default('meet.jitsi'), {
        env: 'XMPP_DOMAIN',
        description: 'The XMPP base domain, used as `sub` on rooms without a tenant.',
      }),
      lifetimeSeconds: setting(seconds.default(600), {
        env: 'GATEWAY_TOKEN_LIFETIME',
        description:
          'How long a minted token is valid. It only has to outlive the join: Jitsi keeps a running meeting past `exp`.',
      }),
      clockSkewSeconds: setting(wholeNumber(0).default(60), {
        env: 'GATEWAY_CLOCK_SKEW',
        description: '`nbf` is set this far in the past, since Prosody allows no skew at all.',
      }),
      renewMarginSeconds: setting(wholeNumber(0).default(60), {
        env: 'GATEWAY_TOKEN_RENEW_MARGIN',
        description: 'A token already in the URL with less than this left is replaced.',
      }),
      subjectWithoutTenant: setting(z.enum(['xmpp-domain', '*']).default('xmpp-domain'), {
        env: 'GATEWAY_TOKEN_SUBJECT_WITHOUT_TENANT',
        description:
          'The `sub` claim on rooms without a tenant: the XMPP domain (`token.xmppDomain`), or `*` for any domain. Tenant rooms always name their tenant.',
      }),
      roomClaim: setting(z.enum(['exact', '*']).default('exact'), {
        env: 'GATEWAY_TOKEN_ROOM_CLAIM',
        description:
          'The `room` claim: the exact room node the client joins, or `*`, which lets a token open any room (of its tenant, with domain verification).',
      }),
      foreignTokens: setting(z.enum(['replace', 'keep']).default('replace'), {
        env: 'GATEWAY_FOREIGN_TOKENS',
        description:
          "What happens to a token in the URL that none of the gateway's keys signed (another system's): replace it with the gateway's own, or keep it and pass the page through.",
      }),
      algorithm: setting(
        z.enum(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512']).default('HS256'),
        {
          env: 'GATEWAY_TOKEN_ALGORITHM',
          description:
            "How tokens are signed: HS* with the shared app secret (Prosody's app_secret), RS* with `token.keyFile` (Prosody's asap_key_server).",
        },
      ),
      secretFile: setting(optionalText(), {
        env: 'JWT_APP_SECRET_FILE',
        description:
          'A file holding the shared app secret instead of `token.secret` (one trailing newline is ignored); at least 32 characters.',
      }),
      keyFile: setting(optionalText(), {
        env: 'GATEWAY_TOKEN_KEY_FILE',
        description:
          'The PEM private RSA key (PKCS#8 or PKCS#1, unencrypted, at least 2048 bits) that signs RS* tokens.',
      }),
      keyId: setting(optionalText(), {
        env: 'GATEWAY_TOKEN_KEY_ID',
        description:
          'The `kid` of tokens signed with `token.keyFile`; by default the RFC 7638 thumbprint of its public key.',
      }),
      previousKeyFile: setting(optionalText(), {
        env: 'GATEWAY_TOKEN_PREVIOUS_KEY_FILE',
        description:
          'During a key rotation, the PEM key (public or private) signed with before: still served and still accepted in URLs, never used to sign.',
      }),
      previousKeyId: setting(optionalText(), {
        env: 'GATEWAY_TOKEN_PREVIOUS_KEY_ID',
        description:
          'The `kid` of the previous key; by default the RFC 7638 thumbprint of its public key.',
      }),
      keyServerPath: setting(
        z
          .string()
          .regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'must be a path such as /_gateway/keys')
          .default('/_gateway/keys'),
        {
          env: 'GATEWAY_KEY_SERVER_PATH',
          description:
            "Where the gateway serves its public keys: `<path>/<sha256 hex of kid>.pem` for Prosody's asap_key_server, and `<path>/jwks.json`. Rooms and tenants under it are never reached.",
        },
      ),
    })
    .prefault({}),
  inject: z
    .strictObject({
      guests: setting(z.enum(['pass', 'refuse']).default('pass'), {
        env: 'GATEWAY_GUESTS',
        description:
          'What happens to a room page visit without a verified certificate: pass it to Jitsi, or refuse it with 403.',
      }),
      cookieSecret: setting(z.string().optional(), {
        env: 'GATEWAY_COOKIE_SECRET',
        description: 'Key that signs the marker cookie; at least 32 characters.',
      }),
      markerCookieName: setting(
        z
          .string()
          .regex(/^[A-Za-z0-9_-]+$/)
          .default('jcg_marker'),
        { env: 'GATEWAY_MARKER_COOKIE', description: 'Name of the marker cookie.' },
      ),
      secureCookie: setting(flag.default(true), {
        env: 'GATEWAY_SECURE_COOKIE',
        description: 'Mark the marker cookie Secure (the site is served over HTTPS by nginx).',
      }),
      loopWindowSeconds: setting(seconds.default(30), {
        env: 'GATEWAY_LOOP_WINDOW',
        description:
          'A room page that comes back without the token we just added, within this time, is a loop and is passed through.',
      }),
      backstopMaxRedirects: setting(wholeNumber(1, 10).default(3), {
        env: 'GATEWAY_BACKSTOP_MAX_REDIRECTS',
        description:
          'Redirects per holder and room whose token never arrived, within the backstop window, before the gateway stops redirecting (for browsers without cookies).',
      }),
      backstopWindowSeconds: setting(seconds.default(60), {
        env: 'GATEWAY_BACKSTOP_WINDOW',
        description: 'The backstop window.',
      }),
      backstopMaxEntries: setting(wholeNumber(100).default(100_000), {
        env: 'GATEWAY_BACKSTOP_MAX_ENTRIES',
        description:
          'Holder-and-room pairs the backstop remembers at most; the oldest are forgotten first.',
      }),
      previousCookieSecrets: setting(secretList.default([]), {
        env: 'GATEWAY_PREVIOUS_COOKIE_SECRETS',
        description:
          'Marker keys from before a rotation: they still verify markers until `inject.previousCookieSecretsUntil`, and never sign. Comma list in the environment.',
      }),
      previousCookieSecretsUntil: setting(z.iso.datetime({ offset: true }).optional(), {
        env: 'GATEWAY_PREVIOUS_COOKIE_SECRETS_UNTIL',
        description:
          'End of the grace period for `inject.previousCookieSecrets`, as an ISO 8601 time (`2026-05-01T12:00:00Z`); required with them. Afterwards their markers are ignored.',
      }),
      tokenPlacement: setting(z.enum(['query', 'fragment']).default('query'), {
        env: 'GATEWAY_TOKEN_PLACEMENT',
        description:
          'Where the redirect puts the token: the `jwt` query parameter, or the fragment (`#jwt="…"`), which never reaches server logs but replaces fragment config overrides.',
      }),
      tokenEndpointPath: setting(
        z
          .string()
          .regex(
            /^(?:\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*){2,}$/,
            'must be a path of two or more segments such as /_gateway/token-auth',
          )
          .default('/_gateway/token-auth'),
        {
          env: 'GATEWAY_TOKEN_ENDPOINT_PATH',
          description:
            "Path of the token endpoint for Jitsi's `tokenAuthUrl` (`TOKEN_AUTH_URL`): it redirects a holder back to the room with a fresh token.",
        },
      ),
    })
    .superRefine(requireGraceEnd)
    .prefault({}),
  limits: z
    .strictObject({
      headersTimeoutSeconds: setting(seconds.default(20), {
        env: 'GATEWAY_HEADERS_TIMEOUT',
        description:
          'A request whose line and headers have not all arrived this long after it began is answered 408 and its connection closed, which ends slow-header (slowloris) attacks. nginx sends them at once.',
      }),
      requestTimeoutSeconds: setting(seconds.default(120), {
        env: 'GATEWAY_REQUEST_TIMEOUT',
        description:
          'The same for the whole request, body included; the response is not limited (held BOSH requests, websockets). At least `limits.headersTimeoutSeconds`.',
      }),
      keepAliveTimeoutSeconds: setting(seconds.default(5), {
        env: 'GATEWAY_KEEP_ALIVE_TIMEOUT',
        description: 'An idle connection between two requests is closed after this long.',
      }),
      maxHeaderBytes: setting(wholeNumber(4096, 1024 * 1024).default(32 * 1024), {
        env: 'GATEWAY_MAX_HEADER_BYTES',
        description:
          'Largest request line and headers together, in bytes; more is answered 431. The escaped client certificate alone takes a few KiB.',
      }),
      maxConnectionsPerPeer: setting(wholeNumber(0).default(256), {
        env: 'GATEWAY_MAX_CONNECTIONS_PER_PEER',
        description:
          'Connections one peer that is not a trusted proxy may hold open at once; more are answered 503 and closed. 0 for no limit. Trusted proxies are not limited: every browser comes through them.',
      }),
    })
    .superRefine(requireHeadersWithinRequest)
    .prefault({}),
  server: z
    .strictObject({
      shutdownGraceSeconds: setting(seconds.default(8), {
        env: 'GATEWAY_SHUTDOWN_GRACE',
        description:
          "On SIGTERM or SIGINT, how long in-flight requests and BOSH polls may take to finish before they are cut. Below Docker's default 10 s stop timeout.",
      }),
      accessLogLevel: setting(z.enum(['debug', 'info']).default('debug'), {
        env: 'GATEWAY_ACCESS_LOG_LEVEL',
        description:
          'Level of the access line for a request that is not a room page and did not fail (4xx lines are warn, 5xx error). Room page decisions are always info or above.',
      }),
      metricsHost: setting(z.string().min(1).default('127.0.0.1'), {
        env: 'GATEWAY_METRICS_HOST',
        description: 'Address of the separate listener for /metrics, /healthz and /readyz.',
      }),
      metricsPort: setting(optionalPort, {
        env: 'GATEWAY_METRICS_PORT',
        description:
          'Port of that listener (Prometheus uses 9464 by convention; 0 picks a free one). Unset: no separate listener.',
      }),
      publicMetrics: setting(flag.default(false), {
        env: 'GATEWAY_PUBLIC_METRICS',
        description:
          'Also serve metrics at /_gateway/metrics on the main port, which nginx exposes unless told otherwise.',
      }),
    })
    .prefault({}),
  rules: z
    .strictObject({
      list: setting(ruleListSchema.default([]), {
        env: 'GATEWAY_RULES',
        description:
          'Rules that turn certificate facts into claims or refuse a holder (see "Rules: from certificate to claims"). JSON text in the environment.',
      }),
    })
    .prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;

export interface SettingDescription {
  key: string;
  env?: string;
  default?: unknown;
  description: string;
}

/** Walks the schema and lists every setting with its metadata, in declaration order. */
export function describeSettings(): SettingDescription[] {
  const defaults = configSchema.parse({});
  const rows: SettingDescription[] = [];
  walk(configSchema, '', defaults as unknown as Record<string, unknown>, rows);
  return rows;
}

function walk(
  schema: z.ZodObject,
  prefix: string,
  defaults: Record<string, unknown>,
  rows: SettingDescription[],
): void {
  for (const [name, child] of Object.entries(schema.shape)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    const group = unwrapGroup(child);
    if (group) {
      walk(group, key, (defaults[name] ?? {}) as Record<string, unknown>, rows);
      continue;
    }

    const meta = settingMeta.get(child as z.ZodType);
    if (!meta) throw new Error(`setting ${key} has no description`);
    rows.push({ key, env: meta.env, default: defaults[name], description: meta.description });
  }
}

/** Environment variable name → dotted setting key. */
export function environmentNames(): Map<string, string> {
  return new Map(
    describeSettings()
      .filter((row) => row.env !== undefined)
      .map((row) => [row.env as string, row.key]),
  );
}

/** A group is a strict object wrapped in a prefault, so that a missing group still gets its defaults. */
function unwrapGroup(schema: unknown): z.ZodObject | undefined {
  if (schema instanceof z.ZodObject) return schema;
  if (schema instanceof z.ZodPrefault) return unwrapGroup(schema.unwrap());
  return undefined;
}
