import type { InstanceNames } from '../naming';
import { cloneNames } from '../naming/template-clone';
import type { PostgresCluster } from './cluster';
import { ident, withClient } from './connect';
import { CREDENTIALS_EDITOR } from './provision';

/**
 * The role of the sandbox's opt-in template-clone reset (support/lifecycle/template-clone.ts), applied by the
 * provisioner (the cluster's superuser) the way postgres/iac would add it: NOLOGIN with CREATEDB, a member of the
 * sandbox's owner role and of nothing else, and held WITH ADMIN OPTION by `credentials_editor` so Vault's database
 * engine can mint its logins. The same in both layouts: the golden database it builds takes the sandbox's ACL.
 *
 * Nothing is granted the other way: the sandbox's logins (members of the owner role) cannot become this role, so the
 * no-superuser gate's "every role it can become" stays free of CREATEDB.
 */
export function cloneRoleSql(sandbox: InstanceNames): string[] {
  const { role, ownerRole } = cloneNames(sandbox);
  return [
    `CREATE ROLE ${ident(role)} NOLOGIN CREATEDB`,
    `GRANT ${ident(ownerRole)} TO ${ident(role)}`,
    `GRANT ${ident(role)} TO ${CREDENTIALS_EDITOR} WITH ADMIN OPTION`,
  ];
}

export async function provisionCloneRole(cluster: PostgresCluster, sandbox: InstanceNames): Promise<void> {
  await withClient(cluster.endpoint, cluster.superuser, 'postgres', async (client) => {
    for (const statement of cloneRoleSql(sandbox)) await client.query(statement);
  });
}
