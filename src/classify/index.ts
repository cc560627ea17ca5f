/** Public surface of the failure-trace classifier (see docs/classifier.md). */
export { classify, compileRules, createClassifier, ruleNameOf, ROOT_CAUSE_MAX_CHARS, MATCHED_LINE_MAX_CHARS } from './classify.js';
export { parseChain, parseHeader, innermost, innermostFirst, MAX_TRACE_CHARS } from './chain.js';
export type { CauseChain, ChainLink, LinkRelation } from './chain.js';
export { BUILTIN_RULES, CLASS_HINTS, WRAPPER_MESSAGES, rulesOfTier } from './rules.js';
export type { BuiltinRule, RuleTier } from './rules.js';
export { FAILURE_CLASSES } from './types.js';
export type { Classification, Classifier, CompiledRule, CustomRule, FailureClass } from './types.js';
