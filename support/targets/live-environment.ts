import { writeFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { join } from 'node:path';
import type { VaultConfigInput } from '../vault';
import { goldenNames } from '../naming/golden';
import type { Target } from './target';

/**
 * The environment a `rehearse` process needs to reach a hermetic target's stack exactly as the live target reaches the
 * real one: Vault's address and CA, the CI job's OIDC token (the sandbox's and the golden's logins) and the clone's
 * service-account token, the databases, the golden's files, the sandbox overlay, and name overrides instead of DNS.
 * The operator's commands
 * are driven through it (features/operator-lifecycle.feature), and so is the live emulation. Files it needs (the CA,
 * the overlay) are written to `dir`.
 */
export async function liveEnvironmentOf(target: Target, dir: string): Promise<Record<string, string>> {
  const { cluster, vault, dolibarr, golden, sandbox, prod } = target;
  if (!cluster || !dolibarr.standins || !vault.hermetic) throw new Error('a live environment is made of a hermetic target: its cluster, Vault and stand-ins');
  // As the nightly logs in: the CI job's OIDC token, JWT auth as the app's CI role; the golden identity shares the
  // token under its own CI role. The clone identity has no CI role: its service account's token.
  const ciToken = vault.hermetic.issuers.ciToken({ repository: `arcodange-org/${sandbox.app}`, expiresIn: 3600 });
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, vault.ca);
  const overlay = join(dir, 'overlay.sql');
  writeFileSync(overlay, dolibarr.standins.overlaySql());
  const lookup = vault.lookup;
  if (!lookup) throw new Error('the hermetic target resolves its hosts itself: it has a lookup');
  const hosts = [new URL(vault.address).hostname, sandbox.host, prod.host];
  const addresses = await Promise.all(hosts.map((host) => resolve(lookup, host)));
  const { host, port } = cluster.endpoint;
  return {
    ERP_REHEARSAL_TARGET: 'live',
    ERP_REHEARSAL_DOMAIN: target.config.domain,
    ERP_REHEARSAL_LAYOUT: target.config.layout,
    VAULT_ADDR: vault.address,
    VAULT_CACERT: caFile,
    ERP_REHEARSAL_VAULT_AUTH: 'jwt',
    ERP_REHEARSAL_VAULT_JWT: ciToken.reveal(),
    ...(vault.golden ? { ERP_REHEARSAL_GOLDEN_VAULT_ROLE: goldenNames(prod).ciJwtRole } : {}),
    ...(vault.cloner ? { ERP_REHEARSAL_CLONE_VAULT_AUTH: 'kubernetes', ERP_REHEARSAL_CLONE_VAULT_TOKEN_FILE: tokenPath(vault.cloner, 'clone') } : {}),
    ERP_REHEARSAL_SANDBOX_DB_HOST: host, ERP_REHEARSAL_SANDBOX_DB_PORT: String(port), ERP_REHEARSAL_SANDBOX_DB_SSLMODE: 'disable',
    ERP_REHEARSAL_PROD_DB_HOST: host, ERP_REHEARSAL_PROD_DB_PORT: String(port), ERP_REHEARSAL_PROD_DB_SSLMODE: 'disable',
    // Its list and manifest are beside it, as `rehearse golden` writes them.
    ERP_REHEARSAL_GOLDEN_ARCHIVE: golden.archivePath,
    ERP_REHEARSAL_DOLIBARR_CA: caFile,
    ERP_REHEARSAL_RESOLVE: hosts.map((name, at) => `${name}=${addresses[at]}`).join(','),
    ERP_REHEARSAL_SANDBOX_OVERLAY: overlay,
    ERP_REHEARSAL_REPORT_DIR: join(dir, 'reports'),
    ERP_REHEARSAL_STATE_DIR: join(dir, 'state'),
  };
}

function tokenPath(identity: VaultConfigInput, whose: string): string {
  if (identity.auth.method !== 'kubernetes' || identity.auth.tokenPath === undefined) throw new Error(`the hermetic ${whose} identity is not a Kubernetes one with a token file`);
  return identity.auth.tokenPath;
}

function resolve(lookup: LookupFunction, host: string): Promise<string> {
  return new Promise((done, fail) =>
    (lookup as unknown as (h: string, o: object, cb: (e: Error | null, a: string) => void) => void)(host, {}, (error, address) => (error ? fail(error) : done(address))));
}
