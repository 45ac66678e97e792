import * as standinServer from '../hermetic/vault-standin/server';
import type { PolicyRules, VaultStandinOptions } from '../hermetic/vault-standin/server';
import { ident } from '../postgres/connect';
import { probeScenarios } from '../mutations/probe-expectations';
import { failing, replaceExport, type FenceMutation, type MutationContext } from '../mutations/mutation';
import { PRIVILEGE_FEATURES, SANDBOX_POLICY_FEATURES } from '../mutations/reach';

/**
 * Breaks of Vault as the factory's app_roles module sets it up (hermetic-vault.ts): the sandbox's database role and
 * its policy, configured wrong. Each edits the configuration the hermetic target hands the Vault stand-in.
 */

function configureVault(edit: (options: VaultStandinOptions, context: MutationContext) => VaultStandinOptions, context: MutationContext): void {
  replaceExport(standinServer, 'startVaultStandin', (start) => (options) => start(edit(options, context)));
}

/** The sandbox role's creation statement with `extra` appended (run by credentials_editor, like the real one). */
function sandboxCreation(extra: string) {
  return (options: VaultStandinOptions, { sandbox }: MutationContext): VaultStandinOptions => ({
    ...options,
    database: {
      ...options.database,
      roles: options.database.roles.map((role) =>
        role.name === sandbox.vaultRole ? { ...role, creationStatements: `${[role.creationStatements].flat().join(' ')} ${extra}` } : role,
      ),
    },
  });
}

const exactlyMembership = /member of exactly|expected \[.*erp_role.*\] to deep equal|memberships/;

export const sandboxLoginGrantedProdOwner: FenceMutation = {
  name: 'sandbox-login-granted-erp_role',
  gate: 'prod-undroppable',
  reaches: PRIVILEGE_FEATURES,
  breaks: "Vault's erp-sandbox role also grants erp_role to every login it mints",
  apply: (context) => configureVault(sandboxCreation(`GRANT ${ident(context.prod.ownerRole)} TO "{{name}}";`), context),
  expect: (context) => [
    ...failing(
      exactlyMembership,
      'the credential under test is who the Vault role says it is',
      'a minted sandbox login role is a member of erp_sandbox_role only',
      'the reset credential holds no power, of its own or through the role it can become',
      "the sandbox's own login cannot become the clone role",
    ),
    ...probeScenarios(context, 'membership'),
    // With prod's owner role the hermetic target's attempts on prod's table queue behind prod's own held write.
    ...failing(
      /waited on a lock held by prod's sessions/,
      "no attempt of the matrix waits on a lock held by prod's own session, and prod never waits on the harness",
    ),
  ],
};

export const mintedLoginCreaterole: FenceMutation = {
  name: 'minted-login-createrole',
  gate: 'no-superuser',
  reaches: PRIVILEGE_FEATURES,
  breaks: "Vault's erp-sandbox role mints its logins WITH CREATEROLE",
  apply: (context) => configureVault(sandboxCreation('ALTER ROLE "{{name}}" CREATEROLE;'), context),
  expect: (context) => [
    ...failing(
      /CREATEROLE|ALLOWED/,
      'a minted sandbox login role is a member of erp_sandbox_role only',
      'the reset credential holds no power, of its own or through the role it can become',
      'what the reset does not need is denied to it: create a role',
      "the sandbox's own login cannot become the clone role",
    ),
    ...probeScenarios(context, 'no createrole'),
  ],
};

export const sandboxPolicyReadsProdCreds: FenceMutation = {
  name: 'sandbox-policy-reads-prod-creds',
  gate: 'no-superuser',
  reaches: SANDBOX_POLICY_FEATURES,
  breaks: `the Vault policy erp-sandbox may also read postgres/creds/erp`,
  apply: (context) =>
    configureVault(
      (options, { prod, sandbox }) => ({
        ...options,
        policies: {
          ...options.policies,
          [sandbox.instance]: { ...(options.policies?.[sandbox.instance] as PolicyRules), [prod.credsPath]: ['read'] },
        },
      }),
      context,
    ),
  expect: () => failing(/permission denied|403/, "the sandbox's identity cannot read prod's database credentials"),
};
