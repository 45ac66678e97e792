import { randomBytes } from 'node:crypto';
import type { InstanceNames } from '../naming';
import type { Login, PostgresCluster } from './cluster';
import { ident, literal, withClient } from './connect';

/**
 * The factory's postgres/iac layout, applied by the provisioner (the cluster's superuser) exactly as
 * OpenTofu applies it: see shared/seed/factory-excerpts.md.
 *
 * - one NOLOGIN owner role per instance;
 * - `credentials_editor` (LOGIN, CREATEROLE) holding ADMIN OPTION on every owner role: Vault's
 *   database engine logs in as it to mint login roles;
 * - one database per instance, owned by its owner role, from template0;
 * - per database, the provisioner-owned SECURITY DEFINER `public.user_lookup` (pgbouncer's auth_query),
 *   EXECUTE revoked from PUBLIC and granted to `pgbouncer_auth` only.
 */

export const CREDENTIALS_EDITOR = 'credentials_editor';
export const PGBOUNCER_AUTH = 'pgbouncer_auth';
export const USER_LOOKUP = 'public.user_lookup(text)';

export interface ProvisionedLayout {
  readonly instances: readonly InstanceNames[];
  /** The provisioner: the only role that created the infrastructure objects. */
  readonly provisioner: Login;
  /** The login Vault's database engine uses; a secret. */
  readonly credentialsEditor: Login;
}

const USER_LOOKUP_BODY = `
CREATE FUNCTION public.user_lookup(i_username text, OUT uname text, OUT phash text)
  RETURNS record
  LANGUAGE sql
  SECURITY DEFINER
  AS $$ SELECT usename, passwd FROM pg_catalog.pg_shadow WHERE usename = i_username $$;
REVOKE ALL ON FUNCTION ${USER_LOOKUP} FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ${USER_LOOKUP} TO ${PGBOUNCER_AUTH};`;

export async function provisionFactoryLayout(
  cluster: PostgresCluster,
  instances: readonly InstanceNames[],
): Promise<ProvisionedLayout> {
  const credentialsEditor: Login = { user: CREDENTIALS_EDITOR, password: randomBytes(18).toString('base64url') };
  await withClient(cluster.endpoint, cluster.superuser, 'postgres', async (client) => {
    // pgbouncer authenticates as this role; the harness never logs in as it, so it gets no password.
    await client.query(`CREATE ROLE ${PGBOUNCER_AUTH} NOLOGIN`);
    await client.query(
      `CREATE ROLE ${CREDENTIALS_EDITOR} WITH LOGIN CREATEROLE PASSWORD ${literal(credentialsEditor.password)}`,
    );
    for (const names of instances) {
      await client.query(`CREATE ROLE ${ident(names.ownerRole)} NOLOGIN`);
      await client.query(`GRANT ${ident(names.ownerRole)} TO ${CREDENTIALS_EDITOR} WITH ADMIN OPTION`);
      // CREATE DATABASE cannot run in a transaction block, so each is its own statement.
      await client.query(
        `CREATE DATABASE ${ident(names.database)} OWNER ${ident(names.ownerRole)} TEMPLATE template0 ENCODING 'UTF8'`,
      );
    }
  });
  for (const names of instances) {
    await withClient(cluster.endpoint, cluster.superuser, names.database, (client) => client.query(USER_LOOKUP_BODY));
  }
  return { instances, provisioner: cluster.superuser, credentialsEditor };
}
