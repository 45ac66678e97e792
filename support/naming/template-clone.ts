import type { InstanceNames } from './index';

/**
 * The names of the sandbox's opt-in template-clone reset, derived from the sandbox's names like every other name:
 * - `<owner role minus _role>_clone_role` (e.g. `erp_sandbox_clone_role`): NOLOGIN, CREATEDB, a member of the sandbox's
 *   owner role alone, so it may create databases for that role and drop or rename those it owns, never prod's;
 * - the golden database `<sandbox>-golden` (built as `<sandbox>-golden-building`) and the next sandbox `<sandbox>-next`;
 * - its Vault identity `<sandbox>-clone`, modelled on promote's: a service account in the sandbox's namespace, a Vault
 *   role whose creation statement grants the clone role alone, a policy reading only `postgres/creds/<sandbox>-clone`.
 */

/** The server's maintenance database, where the clone role's CREATE, DROP and ALTER DATABASE run (a database cannot drop itself). */
export const MAINTENANCE_DATABASE = 'postgres';

export interface CloneNames {
  /** The CREATEDB role, e.g. `erp_sandbox_clone_role`; the sandbox's own logins are never its members. */
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
