/**
 * The leases behind the logins Vault mints: where a login came from, that Vault let its lease go once revoked, and
 * that a revocation fails while the login owns objects. Each check throws chai's AssertionError naming what did not hold.
 */
import { expect } from 'chai';
import { mintedForRole, RevocationError, type MintedLogin } from '../postgres/minting';
import type { VaultSession } from '../vault';

/** A lease Vault holds, as its list gives it (the hermetic stand-in's). */
interface HeldLease {
  readonly leaseId: string;
  readonly username: string;
}

/**
 * `login` came from Vault at `path`, through the Vault role and auth method of its workload's identity (`workload`); its
 * username follows Vault's template for its database role, and Vault holds its lease where its leases are listed (`held`).
 */
export function expectIssuedBy(login: MintedLogin, path: string, workload: { readonly method: string; readonly role: string }, held: readonly HeldLease[] | undefined): void {
  expect(login.vault, 'where the login came from').to.deep.include({ path, auth: workload.method, authRole: workload.role });
  expect(login.leaseId.startsWith(`${path}/`), `lease ${login.leaseId}`).to.equal(true);
  expect(mintedForRole(login.user, login.vault!.role), `${login.user}: Vault's username for role ${login.vault!.role}`).to.equal(true);
  if (held) expect(held.map((lease) => [lease.leaseId, lease.username])).to.deep.include([login.leaseId, login.user]);
}

/**
 * Vault no longer holds the lease: it is not in Vault's list (where listed) nor among the leases of the session that
 * obtained it (`holder`), which lets one go only once Vault answered its revocation. The line of evidence.
 */
export async function expectLeaseRevoked(leaseId: string, held: readonly HeldLease[] | undefined, holder: () => Promise<VaultSession>): Promise<string> {
  if (held) expect(held.map((lease) => lease.leaseId), "the stand-in's leases").to.not.include(leaseId);
  expect((await holder()).outstandingLeaseIds, 'leases the session still holds').to.not.include(leaseId);
  return `lease ${leaseId} revoked: Vault answered the revocation${held ? ' and no longer lists it' : ''}`;
}

/** The `revocation` of `login` failed with SQLSTATE 2BP01, naming `object` as ownership drift owned by it; its message. */
export async function expectRevocationRefusedForDrift(revocation: Promise<unknown>, login: MintedLogin, object: string): Promise<string> {
  const failure = await revocation.then(() => undefined, (error: Error) => error);
  expect(failure, 'the revocation failed').to.be.instanceOf(RevocationError);
  expect((failure as RevocationError).code).to.equal('2BP01');
  expect(failure!.message).to.contain(`ownership drift: ${object} owned by ${login.user}`);
  return failure!.message;
}
