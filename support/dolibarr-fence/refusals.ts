/**
 * Which refusal prod's Dolibarr gave a write of the prod-undroppable proof, on any version: a key it does not know is
 * refused by authentication (401 everywhere), a key it knows without the right by its permission model (403 since 20,
 * 401 on 19, where only the message tells the two apart). What to expect comes from the version prod reports.
 */
import { expect } from 'chai';
import type { Secret } from '../secret';
import { missingRight, profileOf, refusalOf, type DolibarrProfile, type Refusal } from '../dolibarr/versions';
import type { WriteAttempt } from './attempts';
import { describeAnswer, sendWithoutGuard, type DolibarrAnswer, type ReachableSite } from './unguarded';

/** The agent's keys a write to prod may carry: the sandbox's, and prod's own read-only one. */
export type AgentKey = 'sandboxAgent' | 'prodAgent';

/** A write sent to prod's Dolibarr, the key it carried, its answer, and the version prod reported once a step read it. */
export interface ProdWrite {
  readonly attempt: WriteAttempt;
  readonly key: AgentKey;
  readonly answer: DolibarrAnswer;
  readonly profile?: DolibarrProfile;
}

/** What prod's Dolibarr answers like: `/status` read with `key` (a key prod knows; reading its status changes nothing). */
export async function versionOf(site: ReachableSite, key: Secret): Promise<DolibarrProfile> {
  const answer = await sendWithoutGuard(site, key, { method: 'GET', path: '/status' });
  const version = (answer.body as { success?: { dolibarr_version?: unknown } } | null)?.success?.dolibarr_version;
  const profile = answer.status === 200 && typeof version === 'string' ? profileOf(version) : undefined;
  if (profile === undefined) {
    throw new Error(`${site.url} did not say which Dolibarr it is: GET /status answered HTTP ${answer.status} ${JSON.stringify(answer.message ?? answer.body)}`);
  }
  return profile;
}

/** The status and message with which a Dolibarr of `profile` refuses `attempt` to a key without the right. */
export function missingRightRefusal(profile: DolibarrProfile, attempt: WriteAttempt): { status: number; message: string } {
  return missingRight(profile, attempt.rightsDetail === 'insufficient rights' ? profile.insufficientRights.value : undefined);
}

/** Which refusal `answer` is, told by its status and message (and the version, when known); undefined if none. */
export function refusalIn(answer: DolibarrAnswer, profile?: DolibarrProfile): Refusal | undefined {
  return refusalOf(answer.status, answer.message ?? '', profile);
}

/** Prod answered `write` exactly as a Dolibarr of `profile` refuses a key without the right; the line of evidence. */
export function expectMissingRightRefusal(write: ProdWrite, profile: DolibarrProfile): string {
  const { attempt, answer } = write;
  const expected = missingRightRefusal(profile, attempt);
  expect({ status: answer.status, message: answer.message }, `${describeAnswer(answer)} from Dolibarr ${profile.version.value}`).to.deep.equal(expected);
  return `Dolibarr ${profile.version.value} refused a missing right: ${describeAnswer(answer)}`;
}

/** What the live-safe form of `attempt` was answered, as the scenario's report shows it. */
export function describeLiveSafeAnswer(attempt: WriteAttempt, safe: DolibarrAnswer): string {
  return `live-safe ${attempt.liveSafe.method} ${attempt.liveSafe.path} → ${describeAnswer(safe)}`;
}

/** The live-safe form of `write` was refused as the write was: an answer past the rights check means the fence is broken. */
export function expectLiveSafeRefusedAlike(write: ProdWrite, safe: DolibarrAnswer): void {
  const { attempt, answer } = write;
  const pastRights = safe.status === attempt.pastRights.status ? ' (it got past the rights check: the fence is broken)' : '';
  expect({ status: safe.status, message: safe.message }, `the live-safe form${pastRights}`).to.deep.equal({ status: answer.status, message: answer.message });
}
