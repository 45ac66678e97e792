/**
 * The outcomes of the scenario's resets, and what a refused or failed one must show for a gate to pass. Each check
 * throws chai's AssertionError naming what did not hold.
 */
import { expect } from 'chai';
import { ResetFailedError, ResetRefusedError, type RefusalReason, type ResetResult } from './reset';

/** What each reset ended with: its result, or the error that stopped it. */
export function settled(resets: readonly Promise<ResetResult>[]): Promise<(ResetResult | Error)[]> {
  return Promise.all(resets.map((pending) => pending.catch((error: Error) => error)));
}

/** The last of the scenario's reset outcomes: there must be one. */
export function lastOutcome(outcomes: readonly (ResetResult | Error)[]): ResetResult | Error {
  expect(outcomes, 'a reset was attempted').to.have.length.greaterThan(0);
  return outcomes.at(-1)!;
}

/** The reset was refused up front, for `reason`. */
export function expectRefusedFor(outcome: ResetResult | Error, reason: RefusalReason): ResetRefusedError {
  expect(outcome, 'the reset outcome').to.be.instanceOf(ResetRefusedError);
  expect((outcome as ResetRefusedError).reason).to.equal(reason);
  return outcome as ResetRefusedError;
}

/**
 * A refusal for other sessions named exactly one session of `user`: a session of an earlier scenario still closing on
 * a loaded machine may be named with it (it was connected too).
 */
export function expectNamesSessionOf(named: readonly string[], user: string): void {
  expect(named.filter((session) => session.includes(` ${user} `)), `the sessions the refusal names: ${named.join('; ')}`).to.have.length(1);
}

/** The reset failed part-way (it was not refused up front), and its error says `text`. */
export function expectFailedWith(outcome: ResetResult | Error, text: string): void {
  expect(outcome, 'the reset outcome').to.be.instanceOf(ResetFailedError);
  expect((outcome as Error).message).to.contain(text);
}
