/**
 * The harness's only way to Vault (a wrapper over node-vault): see session.ts.
 */
export {
  DEFAULT_KUBERNETES_TOKEN_PATH,
  VaultConfigError,
  vaultConfig,
  type VaultAuth,
  type VaultAuthInput,
  type VaultConfig,
  type VaultConfigInput,
} from './config';
export {
  VaultAuthenticationError,
  VaultError,
  VaultLeaseRevocationError,
  VaultPermissionDenied,
  VaultUnexpectedResponse,
  VaultUnreachable,
  type LeaseRevocationFailure,
} from './errors';
export { DatabaseLease } from './lease';
export type { VaultEvent } from './events';
export type { KvSecret } from './kv';
export type { VaultIdentity } from './login';
export { VaultSession, type VaultSessionOptions } from './session';
export { VaultMinter, type VaultMinterOptions } from './minter';
