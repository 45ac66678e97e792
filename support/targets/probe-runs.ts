/**
 * The prod-undroppable probes and the lock watch as a gate runs them on a target: the probe the feature names, where
 * and in which form it runs, the credential of prod's owner where the target holds one, and what the watch reports.
 */
import type { MintedLogin } from '../postgres/minting';
import { probeCatalogue, runProbe, type Form, type HeldWrite, type Probe, type ProbeCredentials, type ProbeOutcome } from '../postgres/probes';
import type { Endpoint } from '../postgres/cluster';
import type { WatchedLiveMatrix } from './live-locks';
import { probeContext, probeForm } from './probes';
import type { Target } from './target';

/** Where the probes run: where the sandbox login reaches the cluster (prod and the sandbox share it, as in the factory). */
export function probeEndpoint(target: Target): Endpoint {
  return target.endpointFor(target.sandbox.database);
}

/** The probe of the catalogue whose attempt is `attempt` (e.g. "drop database erp"); an unknown one names those there are. */
export function catalogueProbe(target: Target, attempt: string): Probe {
  const catalogue = probeCatalogue(probeContext(target));
  const probe = catalogue.find((candidate) => candidate.attempt === attempt);
  if (!probe) throw new Error(`no probe "${attempt}" in the catalogue; it has: ${catalogue.map((known) => known.attempt).join('; ')}`);
  return probe;
}

/** Runs `probe` in `form`: by default the one the target allows (probeForm). */
export function runProbeOnTarget(target: Target, probe: Probe, credentials: ProbeCredentials, form: Form = probeForm(target)): Promise<ProbeOutcome> {
  return runProbe(probeEndpoint(target), probe, form, credentials, probeContext(target));
}

/** Makes every attempt of the probe catalogue, one after the other, in the form the target allows, whatever each one's outcome. */
export async function runEveryProbe(target: Target, credentials: ProbeCredentials): Promise<void> {
  for (const probe of probeCatalogue(probeContext(target))) await runProbeOnTarget(target, probe, credentials);
}

/** A new login of prod's owner role where the target holds that credential (hermetic); undefined elsewhere. */
export async function prodOwnerLogin(target: Target): Promise<MintedLogin | undefined> {
  return target.kind === 'hermetic' ? target.minter.mint(target.prod) : undefined;
}

/** The evidence of the write of prod's own held open during the watch, or of why the target holds none. */
export function describeHeldProdWrite(target: Target, write: HeldWrite | undefined): string {
  return write
    ? `prod's own session (pid ${write.pid}, ${write.user}) holds open: ${write.sql}`
    : `the ${target.kind} target holds no credential that may write prod: the sessions watched are prod's own`;
}

/** What the watched run of the live forms sent, and how often the lock queue was read. */
export function describeWatchedMatrix(watched: WatchedLiveMatrix): string {
  return `${watched.run.lines.length} live forms sent (${watched.run.fences.join('; ')}); the lock queue read ${watched.record.samples} times`;
}

/** Keeps the fences' logins among the scenario's, as `<label>: golden` and `<label>: clone`, so they are revoked after it. */
export function keepFenceLogins<T extends { readonly golden?: MintedLogin; readonly clone?: MintedLogin }>(logins: Map<string, MintedLogin>, label: string, fences: T): T {
  if (fences.golden) logins.set(`${label}: golden`, fences.golden);
  if (fences.clone) logins.set(`${label}: clone`, fences.clone);
  return fences;
}
