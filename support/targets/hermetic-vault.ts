import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { allInstances, type HarnessConfig } from '../config';
import type { IdentityIssuers } from '../vault/identity-issuers';
import { startVaultStandin, type PolicyRules, type VaultStandin } from '../hermetic/vault-standin/server';
import { PROD_ENV, type InstanceNames } from '../naming';
import type { Endpoint, Login } from '../postgres/cluster';
import { creationStatements } from '../postgres/minting';
import type { VaultConfigInput } from '../vault';
import type { HermeticNetwork } from './hermetic-network';
import { promoterNames } from '../naming/promoter';
import { cloneNames } from '../naming/template-clone';
import { goldenNames } from '../naming/golden';
import type { VaultAccess } from './vault-access';

/**
 * HERMETIC: Vault as the factory's app_roles module sets it up, played by the Vault stand-in and derived from the
 * config's names alone: per instance a database role, a policy and a Kubernetes auth role named after it; promote's,
 * the template clone's and the golden's own identities, each reading only its own credentials; per application the CI
 * JWT roles. Each workload's service-account token is written under the run's directory, where its session reads it.
 */

const LEASE_TTL_SECONDS = 3600;
const LEASE_MAX_TTL_SECONDS = 4 * 3600;

/** Promote's policy: the prod-write credential and prod's database credentials, nothing else. */
function promoterPolicy(prod: InstanceNames): PolicyRules {
  return {
    [promoterNames(prod).kvPath.replace(/^kvv2\//, 'kvv2/data/')]: ['read'],
    [prod.credsPath]: ['read'],
    'sys/leases/revoke': ['update'],
  };
}

/** The clone identity's policy: its own database credentials, nothing else. */
function clonePolicy(sandbox: InstanceNames): PolicyRules {
  return { [cloneNames(sandbox).credsPath]: ['read'], 'sys/leases/revoke': ['update'] };
}

/** The golden identity's policy: its own read-only database credentials, nothing else (no KV: it needs no Dolibarr). */
function goldenPolicy(prod: InstanceNames): PolicyRules {
  return { [goldenNames(prod).credsPath]: ['read'], 'sys/leases/revoke': ['update'] };
}

/** An instance's policy: exactly its own creds and its own KV config, and revoking leases. */
function policyOf(names: InstanceNames): PolicyRules {
  return {
    [names.credsPath]: ['read'],
    [names.kvPath.replace(/^kvv2\//, 'kvv2/data/')]: ['read'],
    'sys/leases/revoke': ['update'],
  };
}

export interface HermeticVault {
  readonly access: VaultAccess;
  readonly standin: VaultStandin;
  readonly issuers: IdentityIssuers;
  close(): Promise<void>;
}

export async function startHermeticVault(
  config: HarnessConfig,
  network: HermeticNetwork,
  issuers: IdentityIssuers,
  database: { readonly endpoint: Endpoint; readonly credentialsEditor: Login },
  workDir: string,
): Promise<HermeticVault> {
  const instances = allInstances(config);
  const certificate = await network.authority.issue([network.vaultHost]);
  const apps = [...new Set(instances.map((names) => names.app))];
  const promoter = promoterNames(config.prod);
  const clone = cloneNames(config.sandbox);
  const golden = goldenNames(config.prod);
  const standin = await startVaultStandin({
    host: network.vaultHost,
    address: network.addresses.vault,
    key: certificate.key,
    cert: certificate.cert,
    database: {
      ...database,
      roles: instances.map((names) => ({
        name: names.vaultRole, creationStatements: creationStatements(names.ownerRole),
        defaultTtlSeconds: LEASE_TTL_SECONDS, maxTtlSeconds: LEASE_MAX_TTL_SECONDS,
      })).concat({
        name: clone.vaultRole, creationStatements: creationStatements(clone.role),
        defaultTtlSeconds: LEASE_TTL_SECONDS, maxTtlSeconds: LEASE_MAX_TTL_SECONDS,
      }, {
        name: golden.vaultRole, creationStatements: creationStatements(golden.readerRole),
        defaultTtlSeconds: LEASE_TTL_SECONDS, maxTtlSeconds: LEASE_MAX_TTL_SECONDS,
      }),
    },
    kv: { secrets: {} },
    policies: {
      ...Object.fromEntries(instances.map((names) => [names.instance, policyOf(names)])),
      [promoter.policy]: promoterPolicy(config.prod),
      [clone.policy]: clonePolicy(config.sandbox),
      [golden.policy]: goldenPolicy(config.prod),
    },
    kubernetes: {
      issuer: issuers.serviceAccounts.issuer,
      issuerPublicKeys: [issuers.serviceAccounts.publicKeyPem],
      roles: [
        ...instances.map((names) => ({
          name: names.vaultRole, boundServiceAccountNames: [names.namespace], boundServiceAccountNamespaces: [names.namespace],
          audience: issuers.serviceAccounts.audience, policies: [names.instance], ttlSeconds: LEASE_MAX_TTL_SECONDS,
        })),
        {
          name: promoter.vaultRole, boundServiceAccountNames: [promoter.serviceAccount], boundServiceAccountNamespaces: [promoter.namespace],
          audience: issuers.serviceAccounts.audience, policies: [promoter.policy], ttlSeconds: LEASE_MAX_TTL_SECONDS,
        },
        {
          name: clone.vaultRole, boundServiceAccountNames: [clone.serviceAccount], boundServiceAccountNamespaces: [clone.namespace],
          audience: issuers.serviceAccounts.audience, policies: [clone.policy], ttlSeconds: LEASE_MAX_TTL_SECONDS,
        },
        {
          name: golden.vaultRole, boundServiceAccountNames: [golden.serviceAccount], boundServiceAccountNamespaces: [golden.namespace],
          audience: issuers.serviceAccounts.audience, policies: [golden.policy], ttlSeconds: LEASE_MAX_TTL_SECONDS,
        },
      ],
    },
    jwt: {
      boundIssuer: issuers.ci.issuer,
      publicKeys: [issuers.ci.publicKeyPem],
      roles: apps.map((app) => {
        // The scheduled rehearsal job runs against the sandbox: the app's non-prod instances' policies, never prod's.
        const envs = instances.filter((names) => names.app === app && names.env !== PROD_ENV);
        return {
          name: envs[0]?.ciJwtRole ?? `gitea_cicd_${app}`, boundAudiences: [issuers.ci.audience],
          boundClaims: { repository: `arcodange-org/${app}` }, userClaim: 'repository',
          policies: envs.map((names) => names.instance), ttlSeconds: 3600,
        };
      }).concat({
        // The golden job's own role: the golden identity's policy only, never the sandbox's.
        name: golden.ciJwtRole, boundAudiences: [issuers.ci.audience],
        boundClaims: { repository: `arcodange-org/${config.prod.app}` }, userClaim: 'repository',
        policies: [golden.policy], ttlSeconds: 3600,
      }),
    },
  });
  const tokens = join(workDir, 'serviceaccount');
  await mkdir(tokens, { recursive: true, mode: 0o700 });
  const tokenPaths = new Map<string, string>();
  for (const names of instances) {
    tokenPaths.set(names.instance, await issuers.writeServiceAccountToken(tokens, names.namespace, names.namespace));
  }
  // Its own folder: the promoter's service account lives in prod's namespace, next to prod's workload.
  const promoterToken = await issuers.writeServiceAccountToken(join(tokens, 'promote'), promoter.namespace, promoter.serviceAccount);
  // Its own folder too: the clone's service account lives in the sandbox's namespace, next to the sandbox's workload.
  const cloneToken = await issuers.writeServiceAccountToken(join(tokens, 'clone'), clone.namespace, clone.serviceAccount);
  tokenPaths.set(clone.minting.instance, cloneToken);
  // Its own folder too: the golden's service account lives in prod's namespace, beside prod's workload and promote's.
  const goldenToken = await issuers.writeServiceAccountToken(join(tokens, 'golden'), golden.namespace, golden.serviceAccount);
  tokenPaths.set(golden.minting.instance, goldenToken);
  const address = `https://${network.vaultHost}:${standin.port}`;
  const access: VaultAccess = {
    address,
    ca: network.authority.ca,
    lookup: network.lookup,
    identity(names): VaultConfigInput {
      const tokenPath = tokenPaths.get(names.instance);
      if (tokenPath === undefined) throw new Error(`no workload identity for instance "${names.instance}" on the hermetic target`);
      return { address, ca: network.authority.ca, auth: { method: 'kubernetes', role: names.vaultRole, tokenPath } };
    },
    promoter: { address, ca: network.authority.ca, auth: { method: 'kubernetes', role: promoter.vaultRole, tokenPath: promoterToken } },
    cloner: { address, ca: network.authority.ca, auth: { method: 'kubernetes', role: clone.vaultRole, tokenPath: cloneToken } },
    golden: { address, ca: network.authority.ca, auth: { method: 'kubernetes', role: golden.vaultRole, tokenPath: goldenToken } },
  };
  return { access, standin, issuers, close: () => standin.close() };
}
