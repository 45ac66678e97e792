/**
 * The outcomes of the scenario's resets, atomic, parallel or by template clone, and what a refused, failed or repairing
 * one must show for a gate to pass. Each check throws chai's AssertionError naming what did not hold.
 */
import { expect } from 'chai';
import { ResetFailedError, ResetRefusedError, type RefusalReason, type ResetResult } from './reset';
import type { CloneResetResult } from './template-clone';
import { CloneResetRefusedError } from './template-clone-session';

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

/** The outcome of the scenario's last clone reset: there must be one. */
export function lastCloneOutcome(outcome: CloneResetResult | Error | undefined): CloneResetResult | Error {
  expect(outcome, 'a clone reset was attempted').to.not.equal(undefined);
  return outcome!;
}

/** The clone reset succeeded (else the error that stopped it is thrown); the line of evidence with its strategy and times. */
export function succeededCloneReset(outcome: CloneResetResult | Error): string {
  if (outcome instanceof Error) throw outcome;
  return `clone reset (${outcome.strategy}) in ${outcome.durationMs} ms, of which the clone ${outcome.cloneMs} ms` +
    (outcome.golden.rebuilt ? `; golden database built in ${outcome.golden.durationMs} ms` : '');
}

/** The clone reset was refused up front for other sessions, naming exactly one session of `user`; the sessions it named. */
export function expectCloneRefusedForSessionOf(outcome: CloneResetResult | Error, user: string): readonly string[] {
  expect(outcome, 'the clone reset outcome').to.be.instanceOf(CloneResetRefusedError);
  const refusal = outcome as CloneResetRefusedError;
  expect(refusal.reason).to.equal('sessions');
  expectNamesSessionOf(refusal.details, user);
  return refusal.details;
}

/** The clone reset (which must have succeeded) repaired what an interrupted one left, saying `text`; what it repaired. */
export function expectRecovered(outcome: CloneResetResult | Error, text: string): string {
  if (outcome instanceof Error) throw outcome;
  expect(outcome.recovered.join('\n'), 'what the clone reset repaired').to.include(text);
  return outcome.recovered.join('; ');
}
