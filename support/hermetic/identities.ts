/**
 * HERMETIC: the issuers of the identities Vault trusts, made for this run. Live, the cluster's service-account issuer
 * signs the workloads' tokens (Kubernetes auth) and Gitea's OIDC provider signs the CI jobs' (JWT auth); here two
 * per-run RS256 keys play those parts, and the Vault stand-in is configured with their public keys. Their private
 * keys never leave this module; tokens are handed out as `Secret`s or written to files readable by the owner only.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSigningKey, projectedServiceAccountClaims, signJwt } from './vault-standin/server';
import { Secret } from '../secret';
import type { IdentityIssuers, IssuerTrust } from '../vault/identity-issuers';

export async function identityIssuers(domain: string): Promise<IdentityIssuers> {
  // Three prime searches at once, side by side on the thread pool.
  const [serviceAccountKey, ciKey, stranger] = await Promise.all([generateSigningKey(), generateSigningKey(), generateSigningKey()]);
  const serviceAccounts: IssuerTrust = { issuer: 'https://kubernetes.default.svc.cluster.local', audience: 'vault', publicKeyPem: serviceAccountKey.publicKeyPem };
  const ci: IssuerTrust = { issuer: `https://gitea.${domain}/api/actions`, audience: `https://vault.${domain}`, publicKeyPem: ciKey.publicKeyPem };

  const serviceAccountToken = (namespace: string, serviceAccount: string): Secret =>
    new Secret(`service-account token of ${namespace}/${serviceAccount}`, signJwt(serviceAccountKey.privateKey, projectedServiceAccountClaims({
      namespace, serviceAccount, issuer: serviceAccounts.issuer, audiences: [serviceAccounts.audience], ttlSeconds: 24 * 3600,
    })));

  return {
    serviceAccounts,
    ci,
    serviceAccountToken,
    async writeServiceAccountToken(dir, namespace, serviceAccount) {
      const folder = join(dir, namespace);
      await mkdir(folder, { recursive: true, mode: 0o700 });
      const path = join(folder, 'token');
      await writeFile(path, serviceAccountToken(namespace, serviceAccount).reveal(), { mode: 0o600 });
      return path;
    },
    ciToken(options) {
      const now = Math.floor(Date.now() / 1000);
      const exp = now + (options.expiresIn ?? 300);
      const claims = {
        iss: ci.issuer, aud: options.audience ?? ci.audience, sub: `repo:${options.repository}:ref:refs/heads/main`,
        repository: options.repository, ref: 'refs/heads/main', iat: Math.min(now, exp - 60), nbf: Math.min(now, exp - 60), exp,
      };
      return new Secret(`CI token of ${options.repository}`, signJwt((options.signedByStranger ? stranger : ciKey).privateKey, claims));
    },
  };
}
