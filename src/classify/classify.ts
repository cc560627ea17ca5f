/**
 * trace → Classification. Pure: no I/O, no clock, no state between calls.
 *
 * Order of decision:
 *   1. custom rules from the configuration, in their order, each a regex on the whole trace;
 *   2. built-in `precedence` rules (authentication/authorization/permission → config), in any link;
 *   3. built-in `specific` rules, walking the cause chain from the innermost cause outwards: the
 *      first link that a rule matches decides (so a ConnectException wrapping a
 *      SerializationException is serialization, and an Avro error caused by a refused connection
 *      to the registry is connection);
 *   4. built-in `fallback` rules (bare RetriableException/TimeoutException → connection, a bare
 *      "Tolerance exceeded in error handler" → serialization), same walk;
 *   5. otherwise `unknown`.
 * Generic wrappers match no rule, so they never decide by themselves.
 */
import { scrubSecrets } from '../secrets/scrub.js';
import { cut } from '../util/text.js';
import { innermostFirst, MAX_TRACE_CHARS, parseChain, type CauseChain, type ChainLink } from './chain.js';
import { CLASS_HINTS, rulesOfTier, WRAPPER_MESSAGES, type BuiltinRule, type RuleTier } from './rules.js';
import {
  FAILURE_CLASSES,
  type Classification,
  type Classifier,
  type CompiledRule,
  type CustomRule,
  type FailureClass,
} from './types.js';

export const ROOT_CAUSE_MAX_CHARS = 300;
export const MATCHED_LINE_MAX_CHARS = 160;

const TIERS: readonly RuleTier[] = ['precedence', 'specific', 'fallback'];

/** One line of at most `max` characters, secrets masked first: a cut through a credential must not expose part of it. */
function clip(text: string, max: number): string {
  const oneLine = scrubSecrets(text).replace(/\s+/g, ' ').trim();
  return cut(oneLine, max);
}

/** The line of `text` that contains offset `at`. */
function lineAt(text: string, at: number): string {
  const start = text.lastIndexOf('\n', Math.max(0, at - 1)) + 1;
  const end = text.indexOf('\n', at);
  return text.slice(start, end < 0 ? text.length : end);
}

/** The root cause of a trace with no non-empty line: a classification's root cause is never empty. */
export const EMPTY_ROOT_CAUSE = '(empty trace)';

/** The innermost non-empty line of the main chain, as `type: first line of message`. */
function rootCauseOf(chain: CauseChain): string {
  for (let i = chain.main.length - 1; i >= 0; i -= 1) {
    const line = chain.main[i]?.line ?? '';
    if (line.trim() !== '') return clip(line, ROOT_CAUSE_MAX_CHARS);
  }
  return EMPTY_ROOT_CAUSE;
}

/** If `rule` matches `link`, the line it matched (for the explanation); otherwise null. */
function matchRule(rule: BuiltinRule, link: ChainLink): string | null {
  const typeHit = rule.type !== undefined && link.type !== '' && rule.type.test(link.type);
  const messageMatch = rule.message?.exec(link.message) ?? null;
  const hit =
    rule.type !== undefined && rule.message !== undefined && rule.match === 'all'
      ? typeHit && messageMatch !== null
      : typeHit || messageMatch !== null;
  if (!hit || rule.unless?.test(link.message) === true) return null;
  if (messageMatch) {
    const line = lineAt(link.message, messageMatch.index);
    const firstLine = link.message.split('\n', 1)[0] ?? '';
    return messageMatch.index < firstLine.length || line === firstLine ? link.line : line;
  }
  return link.line;
}

function explanation(name: string, why: string, matched: string): string {
  return `${name}: ${why} (matched: "${clip(matched, MATCHED_LINE_MAX_CHARS)}")`;
}

function isWrapper(link: ChainLink): boolean {
  return WRAPPER_MESSAGES.some((re) => re.test(link.message)) ||
    (/^org\.apache\.kafka\.connect\.errors\.ConnectException$/.test(link.type) && link.message === '');
}

function noMatch(chain: CauseChain, root: string): Classification {
  if (chain.links.length === 0) {
    return {
      class: 'unknown',
      rootCause: root,
      rule: explanation('empty-trace', 'the failure carries no trace, so there is nothing to classify', ''),
      hint: CLASS_HINTS.unknown,
    };
  }
  const typed = chain.links.filter((l) => l.type !== '');
  const why =
    typed.length === 0
      ? 'no exception type could be read from the trace and no rule matched its text'
      : typed.every(isWrapper)
        ? 'the chain holds only generic wrappers, which decide nothing by themselves, and no cause that a rule recognises'
        : 'no built-in or custom rule recognises any exception in the chain';
  return {
    class: 'unknown',
    rootCause: root,
    rule: explanation('no-rule-matched', why, root),
    hint: CLASS_HINTS.unknown,
  };
}

/**
 * Classify one failure trace. `customRules` (from `compileRules`) are tried first, in order, as
 * regexes on the whole trace.
 */
export function classify(trace: string, customRules: readonly CompiledRule[] = []): Classification {
  const text = typeof trace === 'string' ? trace : '';
  const chain = parseChain(text);
  const rootCause = rootCauseOf(chain);

  if (customRules.length > 0) {
    const haystack = text.length > MAX_TRACE_CHARS ? text.slice(0, MAX_TRACE_CHARS) : text;
    for (const rule of customRules) {
      const m = rule.regex.exec(haystack);
      if (m) {
        return {
          class: rule.class,
          rootCause,
          rule: explanation(
            rule.name,
            `custom rule from the configuration, pattern /${rule.pattern}/`,
            lineAt(haystack, m.index),
          ),
          hint: rule.hint ?? CLASS_HINTS[rule.class],
        };
      }
    }
  }

  const order = innermostFirst(chain);
  for (const tier of TIERS) {
    const rules = rulesOfTier(tier);
    for (const link of order) {
      for (const rule of rules) {
        const matched = matchRule(rule, link);
        if (matched !== null) {
          return { class: rule.class, rootCause, rule: explanation(rule.name, rule.why, matched), hint: rule.hint };
        }
      }
    }
  }
  return noMatch(chain, rootCause);
}

function describe(rule: unknown, i: number): string {
  const name = (rule as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name.trim() !== '' ? `classifier rule "${name}"` : `classifier rule #${i + 1}`;
}

/**
 * Validate and compile custom rules. Throws an Error naming the rule when a rule is malformed:
 * empty or duplicate name, unknown class, a pattern that is not a valid JavaScript regular
 * expression, or one that matches the empty string (it would match every trace).
 * Patterns are matched against the whole trace with the `m` flag (`^`/`$` at line breaks); a
 * leading `(?i)` makes the pattern case-insensitive.
 */
export function compileRules(rules: readonly CustomRule[]): CompiledRule[] {
  if (!Array.isArray(rules)) throw new Error('classifier rules must be an array');
  const seen = new Set<string>();
  return rules.map((raw: CustomRule, i): CompiledRule => {
    const label = describe(raw, i);
    if (raw === null || typeof raw !== 'object') throw new Error(`${label}: must be an object`);
    const { name, pattern, hint } = raw;
    const cls: unknown = raw.class;
    if (typeof name !== 'string' || name.trim() === '') throw new Error(`${label}: "name" must be a non-empty string`);
    if (seen.has(name)) throw new Error(`${label}: duplicate rule name`);
    seen.add(name);
    if (!FAILURE_CLASSES.includes(cls as FailureClass)) {
      throw new Error(`${label}: "class" must be one of ${FAILURE_CLASSES.join(', ')} (got ${JSON.stringify(cls)})`);
    }
    if (typeof pattern !== 'string' || pattern === '') throw new Error(`${label}: "pattern" must be a non-empty string`);
    if (hint !== undefined && typeof hint !== 'string') throw new Error(`${label}: "hint" must be a string`);
    let source = pattern;
    let flags = 'm';
    if (source.startsWith('(?i)')) {
      source = source.slice(4);
      flags += 'i';
    }
    let regex: RegExp;
    try {
      regex = new RegExp(source, flags);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`${label}: pattern ${JSON.stringify(pattern)} is not a valid regular expression: ${reason}`);
    }
    if (regex.test('')) {
      throw new Error(`${label}: pattern ${JSON.stringify(pattern)} matches the empty string, so it would match every trace`);
    }
    const compiled: CompiledRule = hint === undefined
      ? { name, pattern, class: cls as FailureClass, regex }
      : { name, pattern, class: cls as FailureClass, hint, regex };
    return Object.freeze(compiled);
  });
}

/**
 * The characters of trace a classifier remembers at most (each trace is the key of its classification). The
 * daemon's classifier lives as long as the process, and a sink failing record after record (a JDBC sink whose
 * trace quotes each row) brings a new trace at every failure: bounded by count alone, months of those kept
 * 4096 traces of tens of KB each, beyond the memory limits the deployment examples size by the cluster.
 * 8M characters hold the traces of hundreds of subjects failing at once, each a few KB.
 */
export const CLASSIFIER_CACHE_CHARS = 8 * 1024 * 1024;

/** A classifier with `rules` compiled once (throws like `compileRules` on a bad rule). */
export function createClassifier(rules: readonly CustomRule[] = [], cacheSize = 4096, cacheChars = CLASSIFIER_CACHE_CHARS): Classifier {
  const compiled = compileRules(rules);
  const cache = new Map<string, Classification>();
  let chars = 0;
  return (trace: string) => {
    const hit = cache.get(trace);
    if (hit !== undefined) return hit;
    const result = Object.freeze(classify(trace, compiled));
    // A trace longer than the whole budget is classified each time it is asked, not remembered.
    if (trace.length > cacheChars) return result;
    // Oldest first, until both the count and the characters fit.
    for (const [old] of cache) {
      if (cache.size < cacheSize && chars + trace.length <= cacheChars) break;
      cache.delete(old);
      chars -= old.length;
    }
    cache.set(trace, result);
    chars += trace.length;
    return result;
  };
}

/** The rule name at the front of `Classification.rule` (a bounded value, e.g. for a metric label). */
export function ruleNameOf(classification: Pick<Classification, 'rule'>): string {
  const i = classification.rule.indexOf(':');
  return i < 0 ? classification.rule : classification.rule.slice(0, i);
}
