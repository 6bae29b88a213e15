import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/index.js';
import { createIdentityReader, type Identity } from '../../../src/identity/index.js';
import { applyRules, JITSI_FEATURES, type RuledIdentity } from '../../../src/rules/index.js';
import { buildClaims } from '../../../src/token/index.js';
import { readFixture } from '../../helpers/fixtures.js';

const reader = createIdentityReader(configSchema.parse({}).identity);

/** A holder as the gateway reads them from the recorded nginx headers. */
function holder(fixture: string, override: Partial<Identity> = {}): Identity {
  const reading = reader.read('127.0.0.1', readFixture(fixture).headers);
  if (reading.kind !== 'holder') throw new Error(`${fixture} is not a holder`);
  return { ...reading.identity, ...override };
}

/** Rules as an operator writes them, checked by the same schema as the config. */
function rules(list: unknown[]) {
  return configSchema.parse({ rules: { list } }).rules.list;
}

function granted(identity: Identity, list: unknown[]): RuledIdentity {
  const outcome = applyRules(identity, rules(list));
  if (outcome.kind !== 'grant') throw new Error(`refused: ${outcome.reason}`);
  return outcome.identity;
}

function userClaims(identity: RuledIdentity) {
  const settings = configSchema.parse({}).token;
  return buildClaims(identity, { room: 'team' }, settings, 1_800_000_000).context;
}

// carol (multival.json): OU=Staff and OU=Admins, UID=carol01, serial 6F2E…B721.
const carol = () => holder('multival');
// alice (plain.json): OU=Staff only, emailAddress=alice@example.org.
const alice = () => holder('plain');

const ADMINS_ARE_MODERATORS = { when: { subject: { OU: 'Admins' } }, set: { moderator: true } };

describe('rules: who matches', () => {
  it('makes a holder with OU=Admins among several OUs a moderator', () => {
    expect(userClaims(granted(carol(), [ADMINS_ARE_MODERATORS])).user.moderator).toBe(true);
  });

  it('leaves a holder without OU=Admins without a moderator claim', () => {
    expect(userClaims(granted(alice(), [ADMINS_ARE_MODERATORS])).user).not.toHaveProperty(
      'moderator',
    );
  });

  it('compares attribute types and values without regard to case', () => {
    const rule = { when: { subject: { ou: 'admins' } }, set: { moderator: true } };
    expect(userClaims(granted(carol(), [rule])).user.moderator).toBe(true);
  });

  it('needs every attribute named in one condition', () => {
    const rule = { when: { subject: { OU: 'Admins', UID: 'someone-else' } }, set: { group: 'x' } };
    expect(userClaims(granted(carol(), [rule]))).not.toHaveProperty('group');
  });

  it('matches the issuer by attribute and by its DN text', () => {
    const byAttribute = { when: { issuer: { CN: 'Example Test Root CA' } }, set: { group: 'a' } };
    const byText = {
      when: { issuerDn: 'CN=Example Test Root CA,O=Example Org,C=DE' },
      set: { affiliation: 'member' },
    };
    const context = userClaims(granted(alice(), [byAttribute, byText]));
    expect(context.group).toBe('a');
    expect(context.user.affiliation).toBe('member');
  });

  it('matches the email domain of the subject DN email', () => {
    const rule = { when: { emailDomain: ['Example.org'] }, set: { group: 'staff' } };
    expect(userClaims(granted(alice(), [rule])).group).toBe('staff');
    expect(userClaims(granted(carol(), [rule]))).not.toHaveProperty('group');
  });

  it('matches a fingerprint list written with colons', () => {
    const colons = '56:A6:FC:29:EB:2D:67:1A:56:20:48:09:81:C5:B1:12:5C:F4:0E:B0';
    const rule = { when: { fingerprint: [colons] }, set: { group: 'pinned' } };
    expect(userClaims(granted(alice(), [rule])).group).toBe('pinned');
  });

  it('matches the tenant of the room URL, a dot equal to an underscore', () => {
    const rule = { when: { tenant: ['Acme.Example'] }, set: { group: 'acme' } };
    const inAcme = applyRules(alice(), rules([rule]), { room: 'weekly', tenant: 'acme_example' });
    const withoutTenant = applyRules(alice(), rules([rule]), { room: 'weekly' });

    expect(inAcme.kind === 'grant' && inAcme.identity.extras.group).toBe('acme');
    expect(withoutTenant.kind === 'grant' && withoutTenant.identity.extras).toEqual({});
  });

  it('applies every rule without a condition', () => {
    expect(userClaims(granted(alice(), [{ set: { group: 'everyone' } }])).group).toBe('everyone');
  });
});

describe('rules: refusing a verified holder', () => {
  const revoked = {
    when: { serial: ['6f:2e:32:ac:32:a5:41:fd:8a:31:31:dc:2d:a4:d5:a2:7a:b2:b7:21'] },
    refuse: 'certificate revoked',
  };

  it('refuses a holder whose serial is on the list, whatever the spelling', () => {
    expect(applyRules(carol(), rules([ADMINS_ARE_MODERATORS, revoked]))).toEqual({
      kind: 'refuse',
      reason: 'certificate revoked',
      rule: 1,
    });
  });

  it('grants a holder whose serial is not on the list', () => {
    expect(applyRules(alice(), rules([revoked])).kind).toBe('grant');
  });

  it('refuses a holder from an issuer that is not allowed', () => {
    const allowed = {
      when: { not: { issuer: { CN: ['Example Issuing CA 1', 'Example Issuing CA 2'] } } },
      refuse: 'issuer not allowed',
    };
    expect(applyRules(alice(), rules([allowed]))).toMatchObject({ kind: 'refuse', rule: 0 });
  });

  it('refuses a holder without an issuer DN when only some issuers are allowed', () => {
    const allowed = { when: { not: { issuer: { CN: 'Example Test Root CA' } } }, refuse: 'no' };
    const unknownIssuer = holder('plain', { issuerDn: undefined });
    expect(applyRules(unknownIssuer, rules([allowed])).kind).toBe('refuse');
    expect(applyRules(alice(), rules([allowed])).kind).toBe('grant');
  });

  it("refuses holders of another organisation in a tenant's rooms", () => {
    const list = [
      { when: { tenant: 'globex', not: { subject: { O: 'Globex' } } }, refuse: 'Globex only' },
    ];
    expect(applyRules(alice(), rules(list), { room: 'r', tenant: 'globex' }).kind).toBe('refuse');
    expect(applyRules(alice(), rules(list), { room: 'r', tenant: 'acme' }).kind).toBe('grant');
  });

  it('refuses only a holder that none of the excepted conditions describes', () => {
    const list = [
      {
        when: { not: [{ subject: { OU: 'Admins' } }, { emailDomain: 'example.org' }] },
        refuse: 'neither an admin nor an example.org address',
      },
    ];
    expect(applyRules(carol(), rules(list)).kind).toBe('grant');
    expect(applyRules(alice(), rules(list)).kind).toBe('grant');
    expect(applyRules(holder('utf8'), rules(list)).kind).toBe('refuse');
  });

  it('lets a matching refuse win over claims set by later rules', () => {
    const later = { when: { subject: { OU: 'Admins' } }, set: { moderator: true } };
    expect(applyRules(carol(), rules([revoked, later])).kind).toBe('refuse');
  });
});

describe('rules: claims', () => {
  it('sends every Jitsi feature, those a rule leaves out as false', () => {
    const rule = { set: { features: { recording: true, 'screen-sharing': true } } };
    const features = userClaims(granted(alice(), [rule])).features ?? {};

    expect(Object.keys(features).sort()).toEqual([...JITSI_FEATURES].sort());
    expect(Object.entries(features).filter(([, on]) => on)).toEqual([
      ['recording', true],
      ['screen-sharing', true],
    ]);
  });

  it('lets a later rule replace a claim and the whole feature set of an earlier one', () => {
    const list = [
      { set: { moderator: true, features: { recording: true } } },
      { when: { subject: { OU: 'Staff' } }, set: { moderator: false, features: { lobby: true } } },
    ];
    const context = userClaims(granted(alice(), list));
    expect(context.user.moderator).toBe(false);
    expect(context.features?.recording).toBe(false);
    expect(context.features?.lobby).toBe(true);
  });

  it('builds the avatar URL with each value percent-encoded', () => {
    const rule = { set: { avatar: 'https://avatars.example.org/{O}/{cn}.png' } };
    const { user } = userClaims(granted(holder('utf8'), [rule]));
    expect(user.avatar).toBe(
      'https://avatars.example.org/Soci%C3%A9t%C3%A9%20Exemple/Jos%C3%A9%20M%C3%BCller-%C5%81ukasz.png',
    );
  });

  it('leaves the avatar out when the certificate lacks a value the template needs', () => {
    const rule = { set: { avatar: 'https://avatars.example.org/{UID}.png' } };
    expect(userClaims(granted(alice(), [rule])).user).not.toHaveProperty('avatar');
  });

  it('takes the name, id and email from the attributes the rules name', () => {
    const rule = { set: { name: '{UID} ({OU})', id: '{UID}', email: '{UID}@example.org' } };
    expect(userClaims(granted(carol(), [rule])).user).toEqual({
      id: 'carol01',
      name: 'carol01 (Staff)',
      email: 'carol01@example.org',
    });
  });

  it('falls back to the usual name and id when a template value is missing', () => {
    const rule = { set: { name: '{UID}', id: '{UID}' } };
    const { user } = userClaims(granted(alice(), [rule]));
    expect(user.name).toBe('Alice Example');
    expect(user.id).toBe(alice().id);
  });

  it('cleans a name made by a template as a certificate name is cleaned', () => {
    const eve = holder('plain', {
      attributes: [
        { type: 'GN', value: 'Ev\u202e', rdn: 0 },
        { type: 'SN', value: 'nimda\u0000\u001b[31m', rdn: 1 },
      ],
    });
    const rule = { set: { name: '{GN} {SN}' } };

    expect(userClaims(granted(eve, [rule])).user.name).toBe('Ev nimda[31m');
  });

  it('keeps the usual name when a template leaves nothing once cleaned', () => {
    const eve = holder('plain', { attributes: [{ type: 'GN', value: '\u202e\u200f', rdn: 0 }] });

    expect(userClaims(granted(eve, [{ set: { name: '{GN}' } }])).user.name).toBe('Alice Example');
  });

  it('keeps the defaults without rules: name from CN, no moderator flag, no features', () => {
    const context = userClaims(granted(carol(), []));
    expect(context).toEqual({ user: { id: carol().id, name: 'Carol Admin' } });
  });
});
