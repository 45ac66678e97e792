import type { LookupFunction } from 'node:net';
import type { IdentityIssuers } from '../hermetic/identities';
import type { LeaseInfo } from '../hermetic/vault-standin/server';
import type { InstanceNames } from '../naming';
import type { VaultConfigInput } from '../vault';

/** How a target's workloads reach Vault. */
export interface VaultAccess {
  /** e.g. `https://vault.arcodange.lab` */
  readonly address: string;
  /** The CA Vault's certificate chains to (homelab CA live, per-run CA hermetic). */
  readonly ca: string;
  /** Name resolution for Vault's host (hermetic: to the stand-in's loopback address). */
  readonly lookup?: LookupFunction;
  /** How the workload of an instance logs in: Kubernetes auth as its own role, with its service-account token. */
  identity(names: InstanceNames): VaultConfigInput;
  /** Hermetic only: the issuers Vault trusts for Kubernetes and CI logins, and the leases Vault holds. */
  readonly hermetic?: { readonly issuers: IdentityIssuers; leases(): readonly LeaseInfo[] };
}
