/**
 * The Dolibarr fences on a target: the agent's keys it holds, the requests sent past the host-guard to prod's (or the
 * sandbox's) Dolibarr, a write in the form the target allows, who observes what the instances saw, and the fault only a
 * stand-in can be given.
 */
import { requireOnTarget } from '../not-applicable';
import type { Secret } from '../secret';
import type { NetworkLog } from '../process/connections';
import type { StandinCounts } from '../dolibarr/sites';
import type { DolibarrProfile } from '../dolibarr/versions';
import { writeAttempt, type ApiRequest } from '../dolibarr-fence/attempts';
import { versionOf, type AgentKey, type ProdWrite } from '../dolibarr-fence/refusals';
import { standinsSince, type Observers } from '../dolibarr-fence/seen';
import { describeAnswer, sendWithoutGuard, type DolibarrAnswer } from '../dolibarr-fence/unguarded';
import { probeForm } from './probes';
import type { Target } from './target';

/** The agent's key `key`: prod's is held by the hermetic target only. */
export function agentKey(target: Target, key: AgentKey): Secret {
  return requireOnTarget(target.dolibarr.keys[key], `the ${target.kind} target holds no ${key === 'prodAgent' ? "prod agent's" : "sandbox agent's"} key`);
}

/**
 * Sends `call` to the Dolibarr of `instance` with the agent's key `key` (or none), through the test-only sender that
 * skips the host-guard.
 */
export function sendPastGuard(target: Target, instance: 'prod' | 'sandbox', key: AgentKey | undefined, call: ApiRequest): Promise<DolibarrAnswer> {
  const { ca, lookup } = target.dolibarr;
  return sendWithoutGuard({ url: target.dolibarr[instance].url, ca, lookup }, key === undefined ? undefined : agentKey(target, key), call);
}

/**
 * Sends the write named `name` to prod's Dolibarr with `key`, past the host-guard: the write itself on a hermetic
 * target, the form that writes nothing even past the rights check on any other. What was sent and answered, and the
 * line of evidence.
 */
export async function sendProdWrite(target: Target, key: AgentKey, name: string): Promise<{ readonly write: ProdWrite; readonly evidence: string }> {
  const attempt = writeAttempt(name);
  const sent = probeForm(target) === 'hermetic' ? attempt.write : attempt.liveSafe;
  const answer = await sendPastGuard(target, 'prod', key, sent);
  return { write: { attempt, key, answer }, evidence: `${sent.method} ${sent.path} to ${target.dolibarr.prod.host} → ${describeAnswer(answer)}` };
}

/** What prod's Dolibarr answers like, read from its `/status` with the agent's key `key` (a read). */
export function prodDolibarrVersion(target: Target, key: AgentKey): Promise<DolibarrProfile> {
  const { prod, ca, lookup } = target.dolibarr;
  return versionOf({ url: prod.url, ca, lookup }, agentKey(target, key));
}

/**
 * Who watches the Dolibarr instances in a scenario: this process's log of what its observed attempts opened and sent,
 * and where the target has stand-ins, what they accepted since the scenario's `baseline`.
 */
export function dolibarrObservers(target: Target, log: NetworkLog, baseline: { readonly prod: StandinCounts; readonly sandbox: StandinCounts } | undefined): Observers {
  const { standins, lookup } = target.dolibarr;
  return { log, lookup, standins: standins && baseline ? standinsSince(standins.counts(), baseline) : undefined };
}

/**
 * Makes the sandbox's Dolibarr answer every request with a redirect to prod's: a stand-in only, since a gate run never
 * reconfigures a real Dolibarr, which answers no redirect by itself.
 */
export function redirectSandboxToProd(target: Target): void {
  const standins = requireOnTarget(target.dolibarr.standins,
    `only a stand-in can be made to redirect to prod: a gate run never reconfigures the ${target.kind} target's Dolibarr, and it answers no redirect by itself`);
  standins.redirectSandboxTo(`${target.dolibarr.prod.url}/api/index.php/thirdparties`);
}
