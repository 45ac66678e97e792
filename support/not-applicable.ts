/**
 * A scenario step that cannot run on the current target throws `NotApplicable` with the reason (e.g. "the live
 * target holds no credential of prod's owner"). The World's step wrapper turns it into Cucumber's `skipped` plus an
 * attachment of this media type, and the gate report lists the scenario as not applicable, with the reason —
 * never as passed, never silently.
 */
export { EVIDENCE_MEDIA_TYPE, NOT_APPLICABLE_MEDIA_TYPE } from './gates/outcomes';

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
