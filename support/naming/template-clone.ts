import type { InstanceNames } from './index';

/**
 * The names of the sandbox's opt-in template-clone reset (ADR-0003's escape hatch: "a CREATEDB-scoped role that owns
 * only the sandbox and golden databases"), derived from the sandbox's names like every other name (ADR-0002 gives the
 * instance's; these are the harness's convention):
 *
 * - `<owner role minus _role>_clone_role` (e.g. `erp_sandbox_clone_role`): NOLOGIN, CREATEDB, a member of the
 *   sandbox's owner role and of nothing else. Through that membership it owns exactly what the owner role owns —
 *   the sandbox database, the golden database and their objects — and with CREATEDB it can create a database
 *   `OWNER <owner role>` and drop or rename the databases the owner role owns. Prod's database is owned by prod's
 *   owner role, so it can neither drop nor rename nor copy it. The sandbox's own logins are members of the owner
 *   role, never of this role: they cannot become it.
 * - the golden database `<sandbox>-golden`, owned by the sandbox's owner role; built under `<sandbox>-golden-building`;
 * - the next sandbox `<sandbox>-next`, cloned from the golden database before it replaces the sandbox;
 * - its Vault identity, modelled on promote's (support/naming/promoter.ts): a Kubernetes service account
 *   `<sandbox>-clone` in the sandbox's namespace, logging in as Vault role `<sandbox>-clone`, whose policy alone reads
 *   `postgres/creds/<sandbox>-clone`; its creation statement grants the clone role and nothing else.
 */

/** The server's maintenance database, where the clone role's CREATE, DROP and ALTER DATABASE run (a database cannot drop itself). */
export const MAINTENANCE_DATABASE = 'postgres';

export interface CloneNames {
  /** The CREATEDB role, e.g. `erp_sandbox_clone_role`. */
  readonly role: string;
  /** The sandbox's owner role, which owns the sandbox and golden databases. */
  readonly ownerRole: string;
  readonly sandboxDatabase: string;
  /** The golden database, a template of the sandbox, e.g. `erp-sandbox-golden`. */
  readonly goldenDatabase: string;
  /** Where a golden database is built before it replaces the previous one. */
  readonly buildingDatabase: string;
  /** The clone of the golden database that replaces the sandbox, e.g. `erp-sandbox-next`. */
  readonly nextDatabase: string;
  readonly vaultRole: string;
  readonly policy: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Vault's dynamic credentials path of the clone role's logins, e.g. `postgres/creds/erp-sandbox-clone`. */
  readonly credsPath: string;
  /**
   * The identity as the minter (support/vault/minter.ts) takes one: the sandbox's names with the clone's Vault role,
   * creds path and owner role. Its `instance` (`<sandbox>-clone`) keys the minter's Vault session.
   */
  readonly minting: InstanceNames;
}

const MAX_IDENTIFIER = 63;

export class CloneNamingError extends Error {
  override readonly name = 'CloneNamingError';
}

export function cloneNames(sandbox: InstanceNames): CloneNames {
  const role = `${sandbox.ownerRole.replace(/_role$/, '')}_clone_role`;
  const goldenDatabase = `${sandbox.database}-golden`;
  const buildingDatabase = `${goldenDatabase}-building`;
  const nextDatabase = `${sandbox.database}-next`;
  for (const [what, name] of [['clone role', role], ['building database', buildingDatabase], ['next database', nextDatabase]] as const) {
    if (name.length > MAX_IDENTIFIER) {
      throw new CloneNamingError(`the template-clone reset's ${what} "${name}" is longer than PostgreSQL's ${MAX_IDENTIFIER}-character limit: shorten the instance's name`);
    }
  }
  const identity = `${sandbox.instance}-clone`;
  const credsPath = `postgres/creds/${identity}`;
  return {
    role,
    ownerRole: sandbox.ownerRole,
    sandboxDatabase: sandbox.database,
    goldenDatabase,
    buildingDatabase,
    nextDatabase,
    vaultRole: identity,
    policy: identity,
    namespace: sandbox.namespace,
    serviceAccount: identity,
    credsPath,
    minting: { ...sandbox, instance: identity, ownerRole: role, credsPath, vaultRole: identity },
  };
}
