/**
 * A scenario step that cannot run on the current target throws `NotApplicable` with the reason (e.g. "the live
 * target holds no credential of prod's owner"). The hooks turn it into Cucumber's `skipped` plus the reason as an
 * attachment (gates/outcomes.ts), and the report lists the scenario as not applicable — never as passed.
 */
export class NotApplicable extends Error {
  override readonly name = 'NotApplicable';
  constructor(readonly reason: string) {
    super(`not applicable: ${reason}`);
  }
}

/** Returns `value`, or throws NotApplicable(`reason`) when the target has none. */
export function requireOnTarget<T>(value: T | undefined, reason: string): T {
  if (value === undefined) throw new NotApplicable(reason);
  return value;
}
