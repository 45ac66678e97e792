/**
 * Which refusal prod's Dolibarr gave a write of the prod-undroppable proof, on any version: a key it does not know is
 * refused by authentication (401 everywhere), a key it knows without the right by its permission model (403 since 20,
 * 401 on 19, where only the message tells the two apart). What to expect comes from the version prod reports.
 */
import type { Secret } from '../secret';
import { missingRight, profileOf, refusalOf, type DolibarrProfile, type Refusal } from '../dolibarr/versions';
import type { WriteAttempt } from './attempts';
import { sendWithoutGuard, type DolibarrAnswer, type ReachableSite } from './unguarded';

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
