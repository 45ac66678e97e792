import { PROD_ENV, type InstanceNames } from './index';

/**
 * The names of prod's read-only golden identity, which dumps the golden without a credential that can write prod,
 * derived from prod's names like every other name:
 * - `<prod owner role minus _role>_reader_role` (e.g. `erp_reader_role`): NOLOGIN, reading prod's database and nothing
 *   else (support/postgres/provision.ts, readerRoleSql), its logins minted by Vault's database engine;
 * - its Vault identity `<prod>-golden`, modelled on promote's: a service account in prod's namespace, a Vault role
 *   whose creation statement grants the reader role alone, a policy reading only `postgres/creds/<prod>-golden`;
 * - the CI JWT role of the job that makes the golden, `gitea_cicd_<app>_golden`, with that policy only.
 */

export interface GoldenNames {
  /** The NOLOGIN role whose logins read prod, e.g. `erp_reader_role`. */
  readonly readerRole: string;
  /** Prod's owner role, whose objects the reader role may read (and whose future objects default privileges cover). */
  readonly ownerRole: string;
  /** Prod's database, the only one the reader role may connect to. */
  readonly database: string;
  readonly vaultRole: string;
  readonly policy: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Vault's dynamic credentials path of the reader role's logins, e.g. `postgres/creds/erp-golden`. */
  readonly credsPath: string;
  /** The CI JWT role of the golden job, e.g. `gitea_cicd_erp_golden`. */
  readonly ciJwtRole: string;
  /**
   * The identity as the minter (support/vault/minter.ts) takes one: prod's names with the golden's Vault role, creds
   * path and owner role (the reader role). Its `instance` (`<prod>-golden`) keys the minter's Vault session.
   */
  readonly minting: InstanceNames;
}

const MAX_IDENTIFIER = 63;

export class GoldenNamingError extends Error {
  override readonly name = 'GoldenNamingError';
}

export function goldenNames(prod: InstanceNames): GoldenNames {
  if (prod.env !== PROD_ENV) {
    throw new GoldenNamingError(`the golden is read from prod, not from "${prod.instance}": give prod's names (env "${PROD_ENV}")`);
  }
  const readerRole = `${prod.ownerRole.replace(/_role$/, '')}_reader_role`;
  if (readerRole.length > MAX_IDENTIFIER) {
    throw new GoldenNamingError(`the golden's reader role "${readerRole}" is longer than PostgreSQL's ${MAX_IDENTIFIER}-character limit: shorten the app's name`);
  }
  const identity = `${prod.instance}-golden`;
  const credsPath = `postgres/creds/${identity}`;
  return {
    readerRole,
    ownerRole: prod.ownerRole,
    database: prod.database,
    vaultRole: identity,
    policy: identity,
    namespace: prod.namespace,
    serviceAccount: identity,
    credsPath,
    ciJwtRole: `${prod.ciJwtRole}_golden`,
    minting: { ...prod, instance: identity, ownerRole: readerRole, credsPath, vaultRole: identity },
  };
}
