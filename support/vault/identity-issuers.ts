import type { Secret } from '../secret';

/**
 * Who signs the identities Vault's auth methods trust: the cluster's service-account issuer (Kubernetes auth) and the
 * CI's OIDC provider (JWT auth). The hermetic target plays both with keys of its own (support/hermetic/identities.ts);
 * a set made anywhere else is one no Vault trusts, which the Vault fence needs for its forged logins.
 */
export interface IssuerTrust {
  readonly issuer: string;
  readonly audience: string;
  readonly publicKeyPem: string;
}

export interface CiTokenOptions {
  /** The `repository` claim, e.g. `arcodange-org/erp`. */
  readonly repository: string;
  readonly audience?: string;
  /** Seconds from now (negative: already expired). Default 300. */
  readonly expiresIn?: number;
  /** Sign with a key Vault does not trust. */
  readonly signedByStranger?: boolean;
}

export interface IdentityIssuers {
  readonly serviceAccounts: IssuerTrust;
  readonly ci: IssuerTrust;
  /** A projected service-account token of `namespace/serviceAccount`, as the kubelet mounts it. */
  serviceAccountToken(namespace: string, serviceAccount: string): Secret;
  /** Writes that token where the workload reads it (`<dir>/<namespace>/token`, mode 0600); returns the path. */
  writeServiceAccountToken(dir: string, namespace: string, serviceAccount: string): Promise<string>;
  /** A CI job's OIDC token, as Gitea Actions hands it out. */
  ciToken(options: CiTokenOptions): Secret;
}
