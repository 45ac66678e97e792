/**
 * The host-guard gate's side of the write tooling: an attempt whose refusal is kept for the steps that follow, and what
 * that refusal, or a Dolibarr reached through a URL the rule allows, must look like.
 */
import { expect } from 'chai';
import type { DolibarrClient } from '../dolibarr/client';
import { HostGuardRefusal } from '../dolibarr/host-guard';
import type { NetworkLog } from '../process/connections';

/** The thirdparty a host-guard attempt tries to create: one the sandbox could hold, so only the guard refuses it. */
const PROBE_THIRDPARTY = { name: 'Host-guard probe SARL', fournisseur: 1 } as const;

/**
 * Creates a thirdparty through the write tooling `tooling` makes, its traffic observed: the new id, or the error that
 * refused it. The tooling is made inside the attempt, since its constructor already refuses a URL the rule forbids.
 */
export async function tryToCreateThirdparty(tooling: () => DolibarrClient, traffic: NetworkLog): Promise<{ readonly id: number } | { readonly refusal: Error }> {
  try {
    return { id: await traffic.observe(() => tooling().createThirdparty({ ...PROBE_THIRDPARTY })) };
  } catch (error) {
    return { refusal: error as Error };
  }
}

/** The kept refusal of the last attempt, which must be there and be the host-guard's. */
export function expectHostGuardRefusal(refusal: Error | undefined): HostGuardRefusal {
  expect(refusal, 'the attempt was refused').to.not.equal(undefined);
  expect(refusal, `the refusal (${refusal?.message})`).to.be.instanceOf(HostGuardRefusal);
  return refusal as HostGuardRefusal;
}

/** The host-guard's refusal named exactly `host` and `reason`. */
export function expectRefusedFor(refusal: HostGuardRefusal, host: string, reason: string): void {
  expect({ host: refusal.refusedHost, reason: refusal.reason }, `the refused host and reason (${refusal.message})`).to.deep.equal({ host, reason });
}

/** A scenario's write tooling, which its steps point at a URL (the World's). */
export interface ConfigurableTooling {
  toolingUrl?: string;
  writeTooling(): DolibarrClient;
  readonly traffic: NetworkLog;
}

/** Points the scenario's write tooling at `url`, where it stays, and reads the version of the Dolibarr it reaches, traffic observed. */
export async function expectVersionThrough(scenario: ConfigurableTooling, url: string): Promise<void> {
  scenario.toolingUrl = url;
  const status = await scenario.traffic.observe(() => scenario.writeTooling().status());
  expect(status.dolibarrVersion, `Dolibarr's version through ${url}`).to.match(/^\d+\.\d+\.\d+(-\w+)?$/);
}
