import { registerSecret } from '../redaction';
import { randomBytes } from 'node:crypto';
import { PROD_ENV, type InstanceNames } from '../naming';
import { goldenNames } from '../naming/golden';
import type { Login, PostgresCluster } from './cluster';
import { ident, literal, withClient } from './connect';

/**
 * The factory's postgres/iac layout, applied by the provisioner (the cluster's superuser) as OpenTofu applies it: per
 * instance a NOLOGIN owner role and the database it owns; `credentials_editor`, as which Vault's database engine mints
 * login roles, with ADMIN OPTION on every owner role; per database pgbouncer's SECURITY DEFINER `user_lookup`; per prod
 * instance the golden's reader role (docs/GOLDEN-IDENTITY.md), so the golden is dumped without a credential that can
 * write prod.
 */

export const CREDENTIALS_EDITOR = 'credentials_editor';
export const PGBOUNCER_AUTH = 'pgbouncer_auth';
/**
 * `as-provisioned` is the factory's layout today: user_lookup in schema public (which the app credential can drop or
 * replace, its owner role owning public since PostgreSQL 15) and PUBLIC keeping CONNECT and TEMP on every database.
 * `hardened` puts user_lookup in the provisioner's schema `pgbouncer` and grants CONNECT and TEMP to the owner role
 * alone.
 */
export type Layout = 'as-provisioned' | 'hardened';
export const LAYOUTS: readonly Layout[] = ['as-provisioned', 'hardened'];

/** Where user_lookup lives in a layout, as a signature for to_regprocedure and DROP FUNCTION. */
export function userLookupSignature(layout: Layout): string {
  return layout === 'hardened' ? 'pgbouncer.user_lookup(text)' : 'public.user_lookup(text)';
}

/** The as-provisioned signature, which the factory uses today. */
export const USER_LOOKUP = userLookupSignature('as-provisioned');

/** The provisioner's own objects inside app databases, in either layout: infrastructure, not drift. */
export const PROVISIONER_OBJECTS: readonly string[] = [
  `function ${userLookupSignature('as-provisioned')}`,
  'schema pgbouncer',
  `function ${userLookupSignature('hardened')}`,
];

export interface ProvisionedLayout {
  readonly layout: Layout;
  readonly instances: readonly InstanceNames[];
  /** The provisioner: the only role that created the infrastructure objects. */
  readonly provisioner: Login;
  /** The login Vault's database engine uses; a secret. */
  readonly credentialsEditor: Login;
}

function userLookupSql(layout: Layout): string {
  const signature = userLookupSignature(layout);
  const schema = signature.split('.')[0]!;
  return `
${layout === 'hardened' ? `CREATE SCHEMA ${schema}; GRANT USAGE ON SCHEMA ${schema} TO ${PGBOUNCER_AUTH};` : ''}
CREATE FUNCTION ${schema}.user_lookup(i_username text, OUT uname text, OUT phash text)
  RETURNS record
  LANGUAGE sql
  SECURITY DEFINER
  AS $$ SELECT usename, passwd FROM pg_catalog.pg_shadow WHERE usename = i_username $$;
REVOKE ALL ON FUNCTION ${signature} FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ${signature} TO ${PGBOUNCER_AUTH};`;
}

/** The hardened layout's database ACL: only the database's own owner role may connect or make temp tables. */
function databaseAclSql(names: InstanceNames): string {
  return `REVOKE CONNECT, TEMP ON DATABASE ${ident(names.database)} FROM PUBLIC;
GRANT CONNECT, TEMP ON DATABASE ${ident(names.database)} TO ${ident(names.ownerRole)};`;
}

/**
 * The golden's reader role of a prod instance, the same in both layouts: NOLOGIN; held WITH ADMIN OPTION by
 * `credentials_editor` (Vault's database engine mints its logins); CONNECT on prod's database alone (never TEMP, and
 * nothing on the sandbox or any other database); USAGE on prod's schema and SELECT on its tables and sequences — also
 * those prod's owner role creates later (the fixture, an upgrade's new tables), by default privileges. `cluster` runs
 * in any database, `database` in prod's.
 */
export function readerRoleSql(prod: InstanceNames): { readonly cluster: readonly string[]; readonly database: readonly string[] } {
  const { readerRole, ownerRole, database } = goldenNames(prod);
  const reader = ident(readerRole);
  return {
    cluster: [
      `CREATE ROLE ${reader} NOLOGIN`,
      `GRANT ${reader} TO ${CREDENTIALS_EDITOR} WITH ADMIN OPTION`,
      `GRANT CONNECT ON DATABASE ${ident(database)} TO ${reader}`,
    ],
    database: [
      `GRANT USAGE ON SCHEMA public TO ${reader}`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${reader}`,
      `GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO ${reader}`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(ownerRole)} IN SCHEMA public GRANT SELECT ON TABLES TO ${reader}`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(ownerRole)} IN SCHEMA public GRANT SELECT ON SEQUENCES TO ${reader}`,
    ],
  };
}

export async function provisionFactoryLayout(
  cluster: PostgresCluster,
  instances: readonly InstanceNames[],
  layout: Layout = 'as-provisioned',
): Promise<ProvisionedLayout> {
  const credentialsEditor: Login = { user: CREDENTIALS_EDITOR, password: randomBytes(18).toString('base64url') };
  registerSecret(credentialsEditor.password);
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
      if (layout === 'hardened') await client.query(databaseAclSql(names));
      if (names.env === PROD_ENV) for (const statement of readerRoleSql(names).cluster) await client.query(statement);
    }
  });
  for (const names of instances) {
    await withClient(cluster.endpoint, cluster.superuser, names.database, async (client) => {
      await client.query(userLookupSql(layout));
      if (names.env === PROD_ENV) for (const statement of readerRoleSql(names).database) await client.query(statement);
    });
  }
  return { layout, instances, provisioner: cluster.superuser, credentialsEditor };
}
