/**
 * Vault logins as the gates make them: the session a scenario's Vault steps act as, and what a login's refusal or its
 * policies must show.
 */
import { expect } from 'chai';
import { VaultError, type VaultSession } from '../vault';

/** The Vault side of a scenario (the World's): the sessions it opened, the one its steps act as, the last refusal. */
export interface VaultScenario {
  readonly vaultSessions: VaultSession[];
  vaultSession?: VaultSession;
  refusal?: Error;
}

/** Logs `session` in, kept with the scenario's sessions (their leases are revoked after it); throws Vault's refusal. */
export async function openSession(scenario: VaultScenario, session: VaultSession): Promise<VaultSession> {
  scenario.vaultSessions.push(session);
  await session.login();
  return session;
}

/**
 * Logs `session` in and makes it the one the scenario's Vault steps act as; a refusal is kept instead, for the steps
 * that follow. The session is kept with the scenario's either way.
 */
export async function actAs(scenario: VaultScenario, session: VaultSession): Promise<void> {
  scenario.vaultSessions.push(session);
  scenario.refusal = undefined;
  scenario.vaultSession = undefined;
  try {
    await session.login();
    scenario.vaultSession = session;
  } catch (error) {
    scenario.refusal = error as Error;
  }
}

/** Vault refused with HTTP `status`, its errors containing `message`; the refusal's own message, for the report. */
export function expectVaultRefusal(refusal: Error | undefined, status: number, message: string): string {
  expect(refusal, 'Vault refused').to.be.instanceOf(VaultError);
  const { status: actual, errors } = refusal as VaultError;
  expect(actual, refusal!.message).to.equal(status);
  expect(errors.join(' | '), refusal!.message).to.contain(message);
  return refusal!.message;
}

/** The scenario's last login succeeded, its token carrying exactly the comma-separated `policies` beside Vault's `default`; those it holds. */
export function expectExactPolicies(scenario: VaultScenario, policies: string): string[] {
  expect(scenario.refusal?.message, 'the login was refused').to.equal(undefined);
  const held = (scenario.vaultSession?.identity?.policies ?? []).filter((policy) => policy !== 'default');
  expect([...held].sort()).to.deep.equal(policies.split(',').map((policy) => policy.trim()).sort());
  return held;
}
