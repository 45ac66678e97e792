import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HarnessConfig } from '../config';
import type { IdentityIssuers } from '../hermetic/identities';
import { randomBytes } from 'node:crypto';
import type { VaultAuthInput } from '../vault';

/**
 * The credentials the Vault fence tries to log in with, each naming what is wrong with it. They can only be made
 * where the harness holds the issuers Vault trusts (the hermetic target); each is a real, signed token.
 */

type Make = (config: HarnessConfig, issuers: IdentityIssuers, dir: string) => Promise<VaultAuthInput>;

const ciRole = (config: HarnessConfig): string => config.sandbox.ciJwtRole;
const repository = (config: HarnessConfig): string => `arcodange-org/${config.sandbox.app}`;

const ATTEMPTS: Record<string, Make> = {
  "prod's service-account token, as role erp-sandbox": async (config, issuers, dir) => {
    const tokenPath = join(dir, `prod-sa-token-${randomBytes(4).toString('hex')}`);
    await writeFile(tokenPath, issuers.serviceAccountToken(config.prod.namespace, config.prod.namespace).reveal(), { mode: 0o600 });
    return { method: 'kubernetes', role: config.sandbox.vaultRole, tokenPath };
  },
  'an expired CI token, as role gitea_cicd_erp': async (config, issuers) =>
    ({ method: 'jwt', role: ciRole(config), token: issuers.ciToken({ repository: repository(config), expiresIn: -3600 }) }),
  'a CI token for another audience, as role gitea_cicd_erp': async (config, issuers) =>
    ({ method: 'jwt', role: ciRole(config), token: issuers.ciToken({ repository: repository(config), audience: 'https://elsewhere.example' }) }),
  'a CI token signed by an unknown issuer, as role gitea_cicd_erp': async (config, issuers) =>
    ({ method: 'jwt', role: ciRole(config), token: issuers.ciToken({ repository: repository(config), signedByStranger: true }) }),
  'a CI token of another repository, as role gitea_cicd_erp': async (config, issuers) =>
    ({ method: 'jwt', role: ciRole(config), token: issuers.ciToken({ repository: 'arcodange-org/another-app' }) }),
  'a valid CI token, as role gitea_cicd_erp': async (config, issuers) =>
    ({ method: 'jwt', role: ciRole(config), token: issuers.ciToken({ repository: repository(config) }) }),
};

export async function loginAttempt(name: string, config: HarnessConfig, issuers: IdentityIssuers, dir: string): Promise<VaultAuthInput> {
  const make = ATTEMPTS[name];
  if (!make) throw new Error(`no Vault login attempt "${name}"; known: ${Object.keys(ATTEMPTS).map((known) => `"${known}"`).join(', ')}`);
  return make(config, issuers, dir);
}
