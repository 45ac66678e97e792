import { redirectsFollowedUnchecked } from '../dolibarr/guarded-dispatcher.mutations';
import { allowListWidenedToDomain } from '../dolibarr/host-guard.mutations';
import { goldenScopedByTableName } from '../lifecycle/golden.mutations';
import { loginDriftUnseen, restoreWithoutSequences } from '../lifecycle/reset.mutations';
import { snapshotIgnoresDefaults, snapshotIgnoresSequences } from '../lifecycle/snapshot.mutations';
import { liveFormLocksBeforeCheck } from '../postgres/probes/live-forms.mutations';
import { publicCreateOnProdSchema, sandboxOwnerCreatedb, userLookupExecutableByPublic } from '../postgres/provision.mutations';
import { prodAgentWritesThirdparties, sandboxKeyValidOnProd } from '../targets/hermetic-dolibarr.mutations';
import { mintedLoginCreaterole, sandboxLoginGrantedProdOwner, sandboxPolicyReadsProdCreds } from '../targets/hermetic-vault.mutations';
import type { FenceMutation } from './mutation';

/** Every fence mutation, in the order of the fences: PostgreSQL roles and privileges, Vault, Dolibarr, the host-guard, the lifecycle. */
export const MUTATIONS: readonly FenceMutation[] = [
  sandboxLoginGrantedProdOwner,
  sandboxOwnerCreatedb,
  mintedLoginCreaterole,
  userLookupExecutableByPublic,
  publicCreateOnProdSchema,
  liveFormLocksBeforeCheck,
  sandboxPolicyReadsProdCreds,
  prodAgentWritesThirdparties,
  sandboxKeyValidOnProd,
  allowListWidenedToDomain,
  redirectsFollowedUnchecked,
  restoreWithoutSequences,
  goldenScopedByTableName,
  loginDriftUnseen,
  snapshotIgnoresSequences,
  snapshotIgnoresDefaults,
];

export function mutationNamed(name: string): FenceMutation {
  const found = MUTATIONS.find((mutation) => mutation.name === name);
  if (!found) throw new Error(`no fence mutation "${name}"; the catalogue has: ${MUTATIONS.map((mutation) => mutation.name).join(', ')}`);
  return found;
}
