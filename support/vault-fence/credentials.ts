import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HarnessConfig } from '../config';
import { randomBytes } from 'node:crypto';
import { NotApplicable } from '../not-applicable';
import type { VaultAuthInput } from '../vault';
import type { IdentityIssuers } from '../vault/identity-issuers';

/**
 * The credentials the Vault fence tries to log in with, each naming what is wrong with it, each a real, signed token.
 * Most need an issuer Vault trusts (prod's service-account token, an expired, misdirected or foreign CI token), which
 * only the hermetic target holds. A token signed by a key made just now is refused for its signature whoever sends it:
 * that one is tried on every target. A valid CI token exists on a live target only when the run itself logs in with
 * the CI's own token.
 */

interface Attempt {
  /** Whether it needs the issuers Vault trusts (the hermetic target's), beyond what the run itself logs in with. */
  readonly trustedIssuer: boolean;
  readonly make: (config: HarnessConfig, issuers: IdentityIssuers, dir: string) => Promise<VaultAuthInput>;
}

const ciRole = (config: HarnessConfig): string => config.sandbox.ciJwtRole;
const repository = (config: HarnessConfig): string => `arcodange-org/${config.sandbox.app}`;

/** The CI's JWT login the live run itself is configured with, when it logs in as the application's CI role. */
function ownCiLogin(config: HarnessConfig): VaultAuthInput | undefined {
  const auth = config.live?.vault.auth;
  return auth?.method === 'jwt' && auth.role === ciRole(config) ? auth : undefined;
}

/** The mount of JWT auth: the one the live run logs in on, if it uses JWT auth; else Vault's default. */
function jwtMount(config: HarnessConfig): { mount?: string } {
  const auth = config.live?.vault.auth;
  return auth?.method === 'jwt' && auth.mount !== undefined ? { mount: auth.mount } : {};
}

const ATTEMPTS: Record<string, Attempt> = {
  "prod's service-account token, as role erp-sandbox": {
    trustedIssuer: true,
    make: async (config, issuers, dir) => {
      const tokenPath = join(dir, `prod-sa-token-${randomBytes(4).toString('hex')}`);
      await writeFile(tokenPath, issuers.serviceAccountToken(config.prod.namespace, config.prod.namespace).reveal(), { mode: 0o600 });
      return { method: 'kubernetes', role: config.sandbox.vaultRole, tokenPath };
    },
  },
  'an expired CI token, as role gitea_cicd_erp': {
    trustedIssuer: true,
    make: async (config, issuers) => ({ method: 'jwt', role: ciRole(config), token: issuers.ciToken({ repository: repository(config), expiresIn: -3600 }) }),
  },
  'a CI token for another audience, as role gitea_cicd_erp': {
    trustedIssuer: true,
    make: async (config, issuers) =>
      ({ method: 'jwt', role: ciRole(config), token: issuers.ciToken({ repository: repository(config), audience: 'https://elsewhere.example' }) }),
  },
  // The token is what Gitea would hand out, but for its signature: a key made for this run, which no Vault trusts.
  'a CI token signed by an unknown issuer, as role gitea_cicd_erp': {
    trustedIssuer: false,
    make: async (config, issuers) =>
      ({ method: 'jwt', role: ciRole(config), ...jwtMount(config), token: issuers.ciToken({ repository: repository(config), signedByStranger: true }) }),
  },
  'a CI token of another repository, as role gitea_cicd_erp': {
    trustedIssuer: true,
    make: async (config, issuers) => ({ method: 'jwt', role: ciRole(config), token: issuers.ciToken({ repository: 'arcodange-org/another-app' }) }),
  },
  'a valid CI token, as role gitea_cicd_erp': {
    trustedIssuer: true,
    make: async (config, issuers) => ({ method: 'jwt', role: ciRole(config), token: issuers.ciToken({ repository: repository(config) }) }),
  },
};

/** The issuers a login attempt may sign with. */
export interface AttemptIssuers {
  /** The ones Vault trusts, where the target holds them (hermetic). */
  readonly trusted: IdentityIssuers | undefined;
  /** Issuers made now, whose keys no Vault trusts. */
  readonly strangers: () => Promise<IdentityIssuers>;
}

/**
 * The login `name` describes. Without trusted issuers a credential that needs them is not applicable, except the
 * valid CI token the live run itself logs in with.
 */
export async function loginAttempt(name: string, config: HarnessConfig, issuers: AttemptIssuers, dir: string): Promise<VaultAuthInput> {
  const attempt = ATTEMPTS[name];
  if (!attempt) throw new Error(`no Vault login attempt "${name}"; known: ${Object.keys(ATTEMPTS).map((known) => `"${known}"`).join(', ')}`);
  // Without the target's issuers, issuers made now: Vault trusts none of their keys.
  if (issuers.trusted !== undefined || !attempt.trustedIssuer) return attempt.make(config, issuers.trusted ?? (await issuers.strangers()), dir);
  const own = name === 'a valid CI token, as role gitea_cicd_erp' ? ownCiLogin(config) : undefined;
  if (own !== undefined) return own;
  throw new NotApplicable(
    `this target holds no issuer Vault trusts, so it cannot make ${name.replace(/, as role .*$/, '')}` +
      (name.startsWith('a valid CI token') ? ` (a live run logging in with JWT auth as role ${ciRole(config)} proves it with its own token)` : ''),
  );
}
