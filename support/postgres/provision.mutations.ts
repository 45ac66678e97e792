import { failing, replaceExport, type FenceMutation, type MutationContext } from '../mutations/mutation';
import { PRIVILEGE_FEATURES } from '../mutations/reach';
import { ident, withClient } from './connect';
import * as provision from './provision';

/**
 * Breaks of the factory layout (provision.ts): one privilege too many, granted by the provisioner right after
 * the layout is applied, as a drifted OpenTofu plan or a hand-run GRANT would leave it.
 */

type Statements = (context: MutationContext) => readonly { readonly database: string; readonly sql: string }[];

function provisionedThen(statements: Statements, context: MutationContext): void {
  replaceExport(provision, 'provisionFactoryLayout', (provisionLayout) => async (cluster, instances, layout) => {
    const provisioned = await provisionLayout(cluster, instances, layout);
    for (const { database, sql } of statements(context)) {
      await withClient(cluster.endpoint, cluster.superuser, database, (client) => client.query(sql));
    }
    return provisioned;
  });
}

export const sandboxOwnerCreatedb: FenceMutation = {
  name: 'sandbox-owner-createdb',
  gate: 'no-superuser',
  reaches: PRIVILEGE_FEATURES,
  breaks: 'the sandbox owner role erp_sandbox_role has CREATEDB (any of its logins can SET ROLE to it)',
  apply: (context) => provisionedThen(({ sandbox }) => [{ database: 'postgres', sql: `ALTER ROLE ${ident(sandbox.ownerRole)} CREATEDB` }], context),
  expect: () =>
    failing(
      /CREATEDB/,
      'the owner roles hold no power of their own, which their logins could take by SET ROLE',
      'the reset credential holds no power, of its own or through the role it can become',
      // The clone role is a member of erp_sandbox_role: its logins would hold that CREATEDB too.
      'the clone credential is its own Vault identity, with CREATEDB and the sandbox owner role, nothing else',
      // And the sandbox's own login, which can SET ROLE to erp_sandbox_role, holds it as well.
      "the sandbox's own login cannot become the clone role",
    ),
};

export const userLookupExecutableByPublic: FenceMutation = {
  name: 'user_lookup-execute-to-public',
  gate: 'prod-undroppable',
  reaches: PRIVILEGE_FEATURES,
  breaks: "EXECUTE on the provisioner's user_lookup granted to PUBLIC in every database",
  apply: (context) =>
    provisionedThen(
      ({ prod, sandbox, layout }) =>
        [prod, sandbox].map((names) => ({ database: names.database, sql: `GRANT EXECUTE ON FUNCTION ${provision.userLookupSignature(layout)} TO PUBLIC` })),
      context,
    ),
  expect: () =>
    failing(
      /PUBLIC.*execute|EXECUTE/i,
      'the pgbouncer lookup function of erp belongs to the provisioner',
      'the pgbouncer lookup function of erp-sandbox belongs to the provisioner',
    ),
};

export const publicCreateOnProdSchema: FenceMutation = {
  name: 'public-create-on-prod-schema',
  gate: 'prod-undroppable',
  reaches: PRIVILEGE_FEATURES,
  breaks: "PUBLIC keeps CREATE on schema public of prod's database (PostgreSQL 14's default)",
  apply: (context) => provisionedThen(({ prod }) => [{ database: prod.database, sql: 'GRANT CREATE ON SCHEMA public TO PUBLIC' }], context),
  expect: () => [
    ...failing(/PUBLIC.*CREATE/, "only erp's owner role may create objects in its schema public"),
    // The golden identity's fence tries the same CREATE in prod: what PUBLIC may do, its reader role may too.
    ...failing(/ALLOWED/, 'the golden credential cannot create a table in schema public of erp'),
  ],
};
