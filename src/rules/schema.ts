import { z } from 'zod';
import { JITSI_FEATURES, type JitsiFeature } from './features.js';
import { parseTemplate } from './template.js';

/**
 * The rules language, as plain JSON checked here: a list of rules, each with a `when` (the
 * certificate facts it needs) and either `set` (claims) or `refuse` (a reason). Every problem
 * is reported with its path, so `rules.list.2.when.subject` names the third rule.
 */

/** Conditions on the certificate; all given ones must hold, a list matches any of its values. */
export interface Condition {
  /** Subject DN attribute type → accepted values (any value of a repeated type may match). */
  readonly subject?: Readonly<Record<string, readonly string[]>>;
  readonly issuer?: Readonly<Record<string, readonly string[]>>;
  /** The issuer DN text exactly as nginx prints it. */
  readonly issuerDn?: readonly string[];
  readonly emailDomain?: readonly string[];
  /** Upper-case hex without separators or leading zeros. */
  readonly serial?: readonly string[];
  /** Lower-case SHA-1 hex, as nginx's $ssl_client_fingerprint. */
  readonly fingerprint?: readonly string[];
  /** Tenants of the room URL, compared as `tenantKey` spells them. */
  readonly tenant?: readonly string[];
  /** None of these holds (each with all its own conditions). */
  readonly not?: readonly Omit<Condition, 'not'>[];
}

export interface Effects {
  readonly moderator?: boolean;
  readonly affiliation?: string;
  readonly features?: Readonly<Partial<Record<JitsiFeature, boolean>>>;
  readonly group?: string;
  readonly avatar?: string;
  readonly name?: string;
  readonly id?: string;
  readonly email?: string;
}

export interface Rule {
  readonly when?: Condition;
  readonly set?: Effects;
  readonly refuse?: string;
}

const MAX_TEXT = 1024;

// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;
const ATTRIBUTE_TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)$/;

const text = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`)
  .refine((value) => !CONTROL.test(value), 'must not contain control characters');

/** One value or a non-empty list of them; always a list afterwards. */
function oneOrMany<T extends z.ZodType<string>>(item: T) {
  return z
    .union([item, z.array(item).min(1, 'must list at least one value')], {
      error: 'must be text or a list of texts',
    })
    .transform((value): string[] => (Array.isArray(value) ? value : [value]));
}

/**
 * An object that names each unknown field with a message listing the known ones, and still
 * reports every other problem in the same pass.
 */
function closedObject<Shape extends z.ZodRawShape>(shape: Shape, kind: string) {
  const known = Object.keys(shape);
  const message = `is not ${kind}; use ${known.join(', ')}`;
  return z.looseObject(shape).check(
    z.superRefine(
      (value, context) => {
        if (typeof value !== 'object' || value === null) return;

        for (const key of Object.keys(value)) {
          if (!known.includes(key)) context.addIssue({ code: 'custom', message, path: [key] });
        }
      },
      { when: () => true },
    ),
  );
}

const attributeMatch = z.record(z.string(), oneOrMany(text)).check(
  z.superRefine((value, context) => {
    const types = Object.keys(value);
    if (types.length === 0) context.addIssue({ code: 'custom', message: 'names no attribute' });
    for (const type of types.filter((name) => !ATTRIBUTE_TYPE.test(name))) {
      context.addIssue({
        code: 'custom',
        message: 'is not an attribute type such as OU, UID, serialNumber or a dotted OID',
        path: [type],
      });
    }
  }),
);

/** Serials as openssl prints them (`6F:2E:…`), as nginx does (`6F2E…`), or with `0x`. */
const serial = text
  .transform((value) => value.replace(/[\s:]/g, '').replace(/^0x/i, '').toUpperCase())
  .refine((value) => /^[0-9A-F]+$/.test(value), 'must be hexadecimal (colons allowed)')
  .transform((value) => value.replace(/^0+(?=.)/, ''));

const fingerprint = text
  .transform((value) => value.replace(/[\s:]/g, '').toLowerCase())
  .refine(
    (value) => /^[0-9a-f]{40}$/.test(value),
    "must be a SHA-1 fingerprint (40 hex digits), as nginx's $ssl_client_fingerprint",
  );

const domain = text
  .transform((value) => value.toLowerCase())
  .refine((value) => /^[^\s@]+\.[^\s@]+$/.test(value), 'must be a domain such as example.org');

/** Tenants compare decoded, case-insensitively, with a dot equal to an underscore. */
export function tenantKey(tenant: string): string {
  let decoded = tenant;
  try {
    decoded = decodeURIComponent(tenant);
  } catch {
    // kept as written, as the client does
  }
  return decoded.toLowerCase().replace(/\./g, '_');
}

const conditionShape = {
  subject: attributeMatch.optional(),
  issuer: attributeMatch.optional(),
  issuerDn: oneOrMany(text).optional(),
  emailDomain: oneOrMany(domain).optional(),
  serial: z.array(serial).min(1, 'must list at least one serial').optional(),
  fingerprint: z.array(fingerprint).min(1, 'must list at least one fingerprint').optional(),
  tenant: oneOrMany(text.transform(tenantKey)).optional(),
};

const innerCondition = closedObject(conditionShape, 'a condition');
const condition = closedObject(
  {
    ...conditionShape,
    not: z
      .union([innerCondition, z.array(innerCondition).min(1, 'must list at least one condition')], {
        error: 'must be a condition or a list of conditions',
      })
      .transform((value) => (Array.isArray(value) ? value : [value]))
      .optional(),
  },
  'a condition',
);

function template(check?: (rendered: string) => string | undefined) {
  return text.check(
    z.superRefine((value, context) => {
      const parts = parseTemplate(value);
      if (typeof parts === 'string') {
        context.addIssue({ code: 'custom', message: parts });
        return;
      }

      const sample = parts.map((part) => ('text' in part ? part.text : 'x')).join('');
      const problem = check?.(sample);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    }),
  );
}

function isWebUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || url.protocol === 'http:') return undefined;
  } catch {
    // reported below
  }
  return 'must be an https:// or http:// URL (with {placeholders})';
}

const flag = z.boolean({ error: 'must be true or false' });

const featureShape = Object.fromEntries(
  JITSI_FEATURES.map((feature) => [feature, flag.optional()]),
) as Record<JitsiFeature, z.ZodOptional<z.ZodBoolean>>;

const effects = closedObject(
  {
    moderator: flag.optional(),
    affiliation: text.optional(),
    features: closedObject(featureShape, 'a Jitsi feature').optional(),
    group: text.optional(),
    avatar: template(isWebUrl).optional(),
    name: template().optional(),
    id: template().optional(),
    email: template().optional(),
  },
  'a claim a rule can set',
);

const rule = closedObject(
  {
    when: condition.optional(),
    set: effects.optional(),
    refuse: text.max(200, 'must be at most 200 characters').optional(),
  },
  'a rule field',
).check(
  z.superRefine((value, context) => {
    if ((value.set === undefined) === (value.refuse === undefined)) {
      context.addIssue({ code: 'custom', message: 'needs either "set" or "refuse", not both' });
    }
  }),
);

/** Environment values are strings: there the list is JSON text. */
export const ruleListSchema: z.ZodType<Rule[], unknown> = z.preprocess((value, context) => {
  if (typeof value !== 'string') return value;

  try {
    return JSON.parse(value) as unknown;
  } catch {
    context.addIssue({ code: 'custom', message: 'is not valid JSON text' });
    return value;
  }
}, z.array(rule));
