/** The Vault sessions the vault-fence gate opens on a target: a workload's own identity, or a login attempt's credential. */
import { identityIssuers } from '../hermetic/identities';
import type { InstanceNames } from '../naming';
import { VaultSession } from '../vault';
import { loginAttempt } from '../vault-fence/credentials';
import type { Target } from './target';

/** A session of the workload identity of `names` on the target's Vault, not yet logged in. */
export function workloadSession(target: Target, names: InstanceNames): VaultSession {
  return new VaultSession(target.vault.identity(names), { lookup: target.vault.lookup });
}

/**
 * A session on the target's Vault with the credential `credential` describes (support/vault-fence/credentials.ts), not
 * yet logged in; one that needs an issuer the target does not hold is not applicable.
 */
export async function loginAttemptSession(target: Target, credential: string): Promise<VaultSession> {
  const { vault } = target;
  const issuers = { trusted: vault.hermetic?.issuers, strangers: () => identityIssuers(target.config.domain) };
  const auth = await loginAttempt(credential, target.config, issuers, target.workDir);
  return new VaultSession({ address: vault.address, ca: vault.ca, auth }, { lookup: vault.lookup });
}
