/**
 * Scenarios that need no target: a feature tagged `@no-target` (e.g. the naming rule's, pure functions of their
 * inputs) gets no cluster, Vault or Dolibarr. The runner builds the target only when a selected scenario lacks the
 * tag (support/gates/run.ts), and the hooks give one only to such scenarios (support/hooks.ts); a step of a
 * `@no-target` scenario that reaches for the target fails with NoTargetError.
 */

/** The tag a feature (or a scenario) carries when none of its steps touches the target. */
export const NO_TARGET_TAG = '@no-target';

/** The Cucumber tag expression of the scenarios that need a target. */
export const NEEDS_TARGET = `not ${NO_TARGET_TAG}`;

/**
 * The target kind of a run with no target at all: a test-only profile whose steps are self-contained (the redaction
 * test's), or a run whose selected scenarios are all `@no-target`.
 */
export const NO_TARGET = 'none';

/** `expression` narrowed to the scenarios that need a target (every scenario when `expression` is empty). */
export function needingTarget(expression: string | undefined): string {
  return expression ? `(${expression}) and ${NEEDS_TARGET}` : NEEDS_TARGET;
}

/** A step of a `@no-target` scenario reached for the target, which such a scenario never gets. */
export class NoTargetError extends Error {
  override readonly name = 'NoTargetError';
  constructor() {
    super(
      `this scenario has no target: its feature is tagged ${NO_TARGET_TAG}, so no cluster, Vault or Dolibarr was built for it — ` +
        `remove the tag from the feature if one of its steps needs the target`,
    );
  }
}
