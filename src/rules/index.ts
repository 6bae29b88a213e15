export { applyRules, type RuledIdentity, type RulesOutcome } from './apply.js';
export { completeFeatures, JITSI_FEATURES, type JitsiFeature } from './features.js';
export { ruleListSchema, type Condition, type Effects, type Rule } from './schema.js';
