export const FAILURE_CLASSES = ['connection', 'serialization', 'config', 'unknown'] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

export interface Classification {
  readonly class: FailureClass;
  /** The innermost exception line of the cause chain. */
  readonly rootCause: string;
  /** Which rule decided, why, and the line it matched. */
  readonly rule: string;
  /** One sentence telling the operator what to check. */
  readonly hint: string;
}

/** An operator rule from the config: tried before the built-in ones. */
export interface CustomRule {
  readonly name: string;
  readonly pattern: string;
  readonly class: FailureClass;
  readonly hint?: string;
}

export type Classifier = (trace: string) => Classification;

/** A custom rule whose pattern has been compiled and checked (see `compileRules`). */
export interface CompiledRule extends CustomRule {
  /** `pattern` compiled with the `m` flag (plus `i` when it starts with `(?i)`); never global. */
  readonly regex: RegExp;
}
