/**
 * What a gate run can end in, and how the harness marks it: the media types steps attach with, the outcome
 * of each scenario, the process's exit codes, and which errors mean "the target could not be reached".
 */

/**
 * A step that cannot run on the current target attaches its reason with this media type and returns
 * `'skipped'`. A scenario whose non-passed steps are all skipped and which carries such an attachment is
 * reported as not applicable, with the reason — never as passed (see report.ts).
 */
export const NOT_APPLICABLE_MEDIA_TYPE = 'text/x.erp-rehearsal.not-applicable';

/** Lines of evidence a step wants in the terminal summary: hashes, refusals with SQLSTATE or HTTP status. */
export const EVIDENCE_MEDIA_TYPE = 'text/x.erp-rehearsal.evidence';

/** A claim only the end of the run can settle, e.g. prod unchanged on a live target (see claims.ts). */
export const CLAIM_MEDIA_TYPE = 'text/x.erp-rehearsal.claim';

/** A known failure an operator answered for, until its expiry (waivers.ts reads them from the waiver file). */
export interface Waiver {
  readonly scenario: string;
  readonly justification: string;
  /** YYYY-MM-DD, the last day the waiver holds (UTC). */
  readonly expires: string;
  readonly owner?: string;
}

/**
 * A scenario's outcome. Only `passed` is a pass; `waived` and `known gap` are failures someone answered for
 * (a waiver file, the layout's expectations), `not applicable` is neither a pass nor a failure.
 */
export type Outcome = 'passed' | 'failed' | 'not applicable' | 'waived' | 'known gap';

/** Exit codes of `rehearse run`. */
export const EXIT = {
  /** Every gate passed (waived failures and known gaps of the layout allowed). */
  green: 0,
  /** A gate failed: a failed scenario, an expired waiver, a run-level error, or no scenario ran at all. */
  failed: 1,
  /** The run could not start: bad usage, configuration, waiver file, no PostgreSQL… */
  cannotStart: 2,
  /** Nothing failed, but at least one scenario was not applicable on this target. */
  notApplicable: 3,
  /** The target could not be reached (network, TLS or authentication) while it was being built. */
  unreachable: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
]);
const UNREACHABLE_NAMES = new Set(['VaultUnreachable', 'VaultAuthenticationError']);

/**
 * Whether `error` (or one of its causes) means the target could not be reached: a network, TLS or
 * authentication error by its `code` or `name`, or any error marked `unreachable: true` (the way a target
 * builder says so explicitly).
 */
export function isUnreachable(error: unknown, depth = 0): boolean {
  if (depth > 8 || typeof error !== 'object' || error === null) return false;
  const { code, name, unreachable, cause, errors } = error as { code?: unknown; name?: unknown; unreachable?: unknown; cause?: unknown; errors?: unknown };
  if (unreachable === true) return true;
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || code.startsWith('CERT_') || code.startsWith('ERR_TLS_'))) return true;
  if (typeof name === 'string' && UNREACHABLE_NAMES.has(name)) return true;
  if (Array.isArray(errors) && errors.some((inner) => isUnreachable(inner, depth + 1))) return true; // AggregateError
  return isUnreachable(cause, depth + 1);
}

/** Building the target failed because it could not be reached; `cause` is the original error. */
export class TargetUnreachableError extends Error {
  override readonly name = 'TargetUnreachableError';
  readonly unreachable = true;
  constructor(readonly kind: string, cause: unknown) {
    super(`the ${kind} target cannot be reached: ${firstLine(cause)}`, { cause });
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n').find((line) => line.trim() !== '')?.trim() ?? (error as Error)?.name ?? 'unknown error';
}
