import type { Client } from 'pg';
import { ident } from './connect';

/**
 * A database's ACL, read from pg_database and written to another database: a database made by CREATE DATABASE gets the
 * default ACL, so a copy that must keep the original's fences (the hardened layout's CONNECT) is given it explicitly.
 */

/** One entry of a database's ACL, as aclexplode() gives it; grantee null is PUBLIC. */
export interface DatabaseAclEntry {
  readonly grantee: string | null;
  readonly privilege: string;
  readonly grantable: boolean;
}

/**
 * The statements that give a freshly created database (whose ACL is the default, NULL) the ACL `entries` describe.
 * `null` (the source database's ACL is the default too) needs none. Otherwise every default privilege is revoked —
 * from PUBLIC and from the owner — and exactly the entries are granted, grouped by grantee and grant option, in a
 * stable order. Run by a member of the owner role, the grants are recorded as the owner's, as the source's were.
 */
export function databaseAclStatements(database: string, owner: string, entries: readonly DatabaseAclEntry[] | null): string[] {
  if (entries === null) return [];
  const target = ident(database);
  const who = (grantee: string | null) => (grantee === null ? 'PUBLIC' : ident(grantee));
  const statements = [`REVOKE ALL ON DATABASE ${target} FROM PUBLIC`, `REVOKE ALL ON DATABASE ${target} FROM ${ident(owner)}`];
  const groups = new Map<string, { grantee: string | null; grantable: boolean; privileges: Set<string> }>();
  for (const entry of entries) {
    const key = `${entry.grantee === null ? '' : `"${entry.grantee}`}\u0000${entry.grantable}`;
    const group = groups.get(key) ?? { grantee: entry.grantee, grantable: entry.grantable, privileges: new Set<string>() };
    group.privileges.add(entry.privilege.toUpperCase());
    groups.set(key, group);
  }
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!;
    const privileges = [...group.privileges].sort().join(', ');
    statements.push(`GRANT ${privileges} ON DATABASE ${target} TO ${who(group.grantee)}${group.grantable ? ' WITH GRANT OPTION' : ''}`);
  }
  return statements;
}

/** A database's ACL as PostgreSQL prints it (null: the default), to compare before and after; undefined when it does not exist. */
export async function databaseAclText(client: Client, database: string): Promise<string | null | undefined> {
  const { rows } = await client.query<{ acl: string | null }>('SELECT datacl::text AS acl FROM pg_database WHERE datname = $1', [database]);
  return rows[0]?.acl;
}

/** The database's ACL as entries, null when it is the default (datacl NULL), undefined when the database does not exist. */
export async function databaseAcl(client: Client, database: string): Promise<DatabaseAclEntry[] | null | undefined> {
  const acl = await databaseAclText(client, database);
  if (acl === undefined || acl === null) return acl;
  const entries = await client.query<DatabaseAclEntry>(
    `SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END AS grantee, a.privilege_type AS privilege, a.is_grantable AS grantable
       FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = $1 ORDER BY 1 NULLS FIRST, 2`,
    [database],
  );
  return entries.rows;
}
