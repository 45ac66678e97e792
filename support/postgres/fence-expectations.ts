/**
 * What a refusal by one of the fences must look like for a gate to count it: the probes of prod-undroppable, the golden
 * identity's attempts, the template clone's, and the lock watch over their live forms. Each check throws chai's
 * AssertionError naming what did not hold, and gives the line of evidence the report shows.
 */
import { expect } from 'chai';
import { describeCloneOutcome, notRefusedAsExpected, type CloneAttemptOutcome } from './clone-fence';
import { describeGoldenOutcome, type GoldenAttemptOutcome } from './golden-fence';
import { describeOutcome, describeWait, type HeldWrite, type LockJudgement, type LockWaitRecord, type Probe, type ProbeOutcome } from './probes';

/** The words an auditor's table gives a probe's refusal: its SQLSTATE, its reason, the fence it proves. */
export interface RefusalWords {
  readonly sqlstate: string;
  readonly reason: string;
  readonly fence: string;
}

/**
 * The table's words are the catalogue's own for the probe, or the table is not the matrix that ran; and the attempt
 * ran in a session of `user`, where a session was opened.
 */
export function expectAsCatalogued(probe: Probe, words: RefusalWords, outcome: ProbeOutcome, user: string): void {
  expect({ sqlstate: probe.refusal.sqlstate, reason: probe.refusal.reason, fence: probe.fence }).to.deep.equal(words);
  if (outcome.ranAs) expect(outcome.ranAs.user, 'the session the attempt ran in').to.equal(user);
}

/**
 * The probe was refused with `sqlstate`; or, for a live form that is a catalogue check (the statement itself is never
 * sent to a live prod), by the catalogue, where no SQLSTATE exists to observe, as the evidence says.
 */
export function expectProbeRefused(outcome: ProbeOutcome, sqlstate: string): string {
  expect(outcome.verdict, describeOutcome(outcome)).to.equal('refused');
  if (outcome.refusedAt === 'catalogue') {
    return `${outcome.form} form, refused by the catalogue (${outcome.message}): ${outcome.sql} — no statement sent, so no SQLSTATE`;
  }
  expect(outcome.sqlstate, describeOutcome(outcome)).to.equal(sqlstate);
  return `${outcome.form} form, refused at the ${outcome.refusedAt}: ${outcome.sql ?? '(connect)'} → ${outcome.sqlstate} ${outcome.message}`;
}

/** The probe's live-safe form was refused; the line the report shows. */
export function expectLiveFormRefused(live: ProbeOutcome): string {
  expect(live.verdict, describeOutcome(live)).to.equal('refused');
  return `live form (${live.probe.live.kind}): ${live.sql ?? '(connect)'} → refused at the ${live.refusedAt}`;
}

/**
 * The golden login's attempt was refused with `sqlstate`, the fence's own; a live form that is a catalogue check sends
 * no statement, so has no SQLSTATE, and the evidence says so.
 */
export function expectGoldenRefused(outcome: GoldenAttemptOutcome | undefined, sqlstate: string, fence: string): string {
  expect(outcome, 'an attempt was made').to.not.equal(undefined);
  expect(outcome!.attempt.refusal.sqlstate, "the feature's SQLSTATE and the fence's").to.equal(sqlstate);
  expect(outcome!.verdict, describeGoldenOutcome(outcome!)).to.equal('refused');
  if (outcome!.refusedAt !== 'catalogue') expect(outcome!.sqlstate, describeGoldenOutcome(outcome!)).to.equal(sqlstate);
  return `${describeGoldenOutcome(outcome!)}${outcome!.refusedAt === 'catalogue' ? ' (no statement sent, so no SQLSTATE)' : ''}, which proves ${fence}`;
}

/** A write made in a session opened as the golden opens one: what the session said of itself, what the write met. */
export interface ReadOnlySessionWrite {
  readonly settings: unknown;
  readonly sql: string;
  readonly sqlstate?: string;
  readonly message?: string;
}

/** The golden's session said it is read-only, and refused the write with `sqlstate` as a write in a read-only transaction. */
export function expectReadOnlyRefusal(write: ReadOnlySessionWrite | undefined, sqlstate: string): string {
  expect(write, 'a write was attempted in a golden session').to.not.equal(undefined);
  expect(write!.settings, "the golden session's settings").to.deep.equal({ default_transaction_read_only: 'on', transaction_read_only: 'on' });
  expect(write!.sqlstate, `"${write!.sql}": ${write!.message ?? 'it ran'}`).to.equal(sqlstate);
  expect(write!.message).to.match(/^cannot execute [A-Z ]+ in a read-only transaction$/);
  return `golden session (default_transaction_read_only on): ${write!.sql} → ${write!.sqlstate} ${write!.message}`;
}

/** Every form of the clone login's attempt that ran was refused with `sqlstate` (a catalogue check by the catalogue). */
export function expectCloneRefused(outcome: CloneAttemptOutcome | undefined, sqlstate: string, fence: string): string {
  expect(outcome, 'an attempt was made').to.not.equal(undefined);
  expect(notRefusedAsExpected(outcome!, sqlstate), describeCloneOutcome(outcome!)).to.deep.equal([]);
  return `${describeCloneOutcome(outcome!)} — ${fence}`;
}

/**
 * No session of the harness waited on a lock of prod's sessions, none of prod's waited behind the harness, no wait of
 * the harness's lasted 100 ms, and prod's write held open (if one was) still is. Every wait seen goes to `evidence`
 * before the checks, so a failure shows them.
 */
export async function expectNoLockWaitWithProd(
  watched: (LockJudgement & { readonly record: LockWaitRecord }) | undefined,
  write: HeldWrite | undefined,
  evidence: (line: string) => void,
): Promise<void> {
  expect(watched, 'the live forms ran under the watch').to.not.equal(undefined);
  for (const wait of watched!.record.waits) evidence(`lock wait seen: ${describeWait(wait)}`);
  expect(watched!.waitedOnOthers.map(describeWait), "attempts that waited on a lock held by prod's sessions").to.deep.equal([]);
  expect(watched!.heldOthersBack.map(describeWait), "prod's sessions that waited on an attempt").to.deep.equal([]);
  expect(watched!.longestHarnessWaitMs, 'the longest lock wait of an attempt, in ms').to.be.below(100);
  if (write) expect(await write.held(), `prod's write (pid ${write.pid}) is still open after the attempts`).to.equal(true);
  evidence(`no attempt waited on prod's sessions${write ? ` (its write held open by pid ${write.pid})` : ''}, none of prod's waited on an attempt`);
}
