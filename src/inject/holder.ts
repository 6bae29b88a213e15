import { GatewayError } from '../errors.js';
import type { Identity } from '../identity/index.js';
import { applyRules, type RuledIdentity, type Rule } from '../rules/index.js';
import type { RoomTarget } from '../token/index.js';

export type RuledHolder =
  | { kind: 'granted'; identity: RuledIdentity }
  | { kind: 'refused'; error: GatewayError; rule: number };

/**
 * The holder as the configured rules present them, or a HOLDER_REFUSED GatewayError (403)
 * whose message, shown to the holder, gives the refusing rule's reason.
 */
export function ruleHolder(
  identity: Identity,
  rules: readonly Rule[],
  target: RoomTarget,
): RuledHolder {
  const outcome = applyRules(identity, rules, target);
  if (outcome.kind === 'grant') return { kind: 'granted', identity: outcome.identity };

  const message = `This site does not accept your certificate: ${outcome.reason}`;
  return {
    kind: 'refused',
    error: new GatewayError('HOLDER_REFUSED', message),
    rule: outcome.rule,
  };
}
