import type { LookupFunction } from 'node:net';
import type { IdentityIssuers } from '../vault/identity-issuers';
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
  /**
   * How promote logs in (support/naming/promoter.ts): its own identity, never an instance's. Undefined where the
   * target has none configured; promote then refuses.
   */
  readonly promoter?: VaultConfigInput;
  /**
   * How the sandbox's template-clone reset logs in (support/naming/template-clone.ts): its own identity, never
   * the sandbox workload's. Undefined where the target has none configured (live, today): the clone reset is then not
   * available. Where it is defined, `identity(cloneNames(sandbox).minting)` resolves to it, so the minter mints its logins.
   */
  readonly cloner?: VaultConfigInput;
  /**
   * How the golden is made (support/naming/golden.ts): prod's read-only golden identity, never prod's workload nor the
   * sandbox's. Undefined where the target has none configured: the golden identity's logins cannot be minted there.
   * Where it is defined, `identity(goldenNames(prod).minting)` resolves to it, so the minter mints its logins.
   */
  readonly golden?: VaultConfigInput;
  /**
   * Hermetic only: the issuers Vault trusts for Kubernetes and CI logins, the leases Vault holds, and its KV as an
   * operator changes it out of band (path under the mount, e.g. `erp/promote`; data undefined: the secret deleted),
   * with what puts the previous secret back — its values are never handed out.
   */
  readonly hermetic?: {
    readonly issuers: IdentityIssuers;
    leases(): readonly LeaseInfo[];
    replaceKv(path: string, data: Readonly<Record<string, unknown>> | undefined): () => void;
  };
}
