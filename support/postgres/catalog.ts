import type { Client } from 'pg';

/** Read-only questions about the layout, answered from the live system catalogs. */

export interface RoleFlags {
  readonly name: string;
  readonly canLogin: boolean;
  readonly superuser: boolean;
  readonly createDb: boolean;
  readonly createRole: boolean;
  readonly bypassRls: boolean;
  readonly replication: boolean;
}

/** The attributes that give a role power beyond its privileges, as ALTER ROLE spells them. */
export const ROLE_POWERS = { SUPERUSER: 'superuser', CREATEDB: 'createDb', CREATEROLE: 'createRole', REPLICATION: 'replication', BYPASSRLS: 'bypassRls' } as const;
export type RolePower = keyof typeof ROLE_POWERS;

/**
 * The powers `role` holds, and those of every role it is a member of: a member can SET ROLE to any of them (PostgreSQL
 * 15) and then act with that role's attributes, so a power two roles away is a power all the same. Lines such as
 * `CREATEDB through erp_sandbox_role`; none when it holds none. Undefined when the role does not exist.
 */
export async function powersWithin(client: Client, role: string): Promise<string[] | undefined> {
  const own = await roleFlags(client, role);
  if (!own) return undefined;
  const reachable = [own, ...(await Promise.all((await memberships(client, role)).map((granted) => roleFlags(client, granted.role))))];
  return reachable.flatMap((flags) =>
    flags === undefined
      ? []
      : Object.entries(ROLE_POWERS)
          .filter(([, flag]) => flags[flag])
          .map(([power]) => (flags.name === role ? `${power} of its own` : `${power} through ${flags.name}`)),
  );
}

export async function databaseOwner(client: Client, database: string): Promise<string | undefined> {
  const { rows } = await client.query<{ owner: string }>(
    'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1',
    [database],
  );
  return rows[0]?.owner;
}

export async function databaseExists(client: Client, database: string): Promise<boolean> {
  const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  return rows.length > 0;
}

/** A database's comment (the golden database's names the golden it holds), or undefined. */
export async function databaseComment(client: Client, database: string): Promise<string | undefined> {
  const { rows } = await client.query<{ comment: string | null }>(
    "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
    [database],
  );
  return rows[0]?.comment ?? undefined;
}

export async function roleFlags(client: Client, role: string): Promise<RoleFlags | undefined> {
  const { rows } = await client.query<RoleFlags>(
    `SELECT rolname AS name, rolcanlogin AS "canLogin", rolsuper AS superuser, rolcreatedb AS "createDb",
            rolcreaterole AS "createRole", rolbypassrls AS "bypassRls", rolreplication AS replication
       FROM pg_roles WHERE rolname = $1`,
    [role],
  );
  return rows[0];
}

/** Roles `role` belongs to, directly or through other roles, with whether it holds ADMIN OPTION. */
export async function memberships(client: Client, role: string): Promise<{ role: string; admin: boolean; direct: boolean }[]> {
  const { rows } = await client.query<{ role: string; admin: boolean; direct: boolean }>(
    `WITH RECURSIVE granted(roleid, admin, depth) AS (
       SELECT m.roleid, m.admin_option, 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1
       UNION
       SELECT m.roleid, m.admin_option, g.depth + 1 FROM pg_auth_members m JOIN granted g ON m.member = g.roleid
     )
     SELECT pg_get_userbyid(roleid) AS role, bool_or(admin AND depth = 1) AS admin, bool_or(depth = 1) AS direct
       FROM granted GROUP BY roleid ORDER BY 1`,
    [role],
  );
  return rows;
}

/**
 * The pg_proc rows of a function given by signature, e.g. `pgbouncer.user_lookup(text)`, found by its schema, name and
 * argument types in the catalog: to_regprocedure would need USAGE on the schema, which a login asking about the
 * provisioner's own schema does not hold. `$1`, `$2`, `$3` are the schema, name and argument types (signatureParts).
 */
const FUNCTION_BY_SIGNATURE = `SELECT p.* FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname = $1 AND p.proname = $2 AND oidvectortypes(p.proargtypes) = $3`;

function signatureParts(signature: string): [string, string, string] {
  const match = /^([^.(]+)\.([^(]+)\((.*)\)$/.exec(signature);
  if (!match) throw new Error(`"${signature}" is not a schema-qualified function signature such as public.user_lookup(text)`);
  return [match[1]!, match[2]!, match[3]!.split(',').map((type) => type.trim()).filter(Boolean).join(', ')];
}

/** Owner of a function given by signature, e.g. `public.user_lookup(text)`, in the connected database. */
export async function functionOwner(client: Client, signature: string): Promise<string | undefined> {
  const { rows } = await client.query<{ owner: string }>(`SELECT pg_get_userbyid(f.proowner) AS owner FROM (${FUNCTION_BY_SIGNATURE}) f`, signatureParts(signature));
  return rows[0]?.owner;
}

/** Whether `role` (or `public`) may execute the function, as PostgreSQL itself decides. */
export async function canExecute(client: Client, role: string, signature: string): Promise<boolean> {
  const { rows } = await client.query<{ allowed: boolean }>(
    `SELECT has_function_privilege($4, f.oid, 'EXECUTE') AS allowed FROM (${FUNCTION_BY_SIGNATURE}) f`,
    [...signatureParts(signature), role],
  );
  if (rows.length === 0) throw new Error(`no function ${signature} in the connected database`);
  return rows[0]!.allowed;
}

/** Whether `role` ('public' for PUBLIC) may create objects in `schema` of the connected database. */
export async function canCreateIn(client: Client, role: string, schema: string): Promise<boolean> {
  const { rows } = await client.query<{ allowed: boolean }>("SELECT has_schema_privilege($1, $2, 'CREATE') AS allowed", [role, schema]);
  return rows[0]!.allowed;
}

export interface OwnedObject {
  readonly kind: string;
  readonly name: string;
  readonly owner: string;
}

/**
 * Every object in schema public of the connected database that has an owner: relations (tables,
 * sequences, views, indexes…), functions and types that are not a relation's row type.
 */
export async function objectsInPublic(client: Client): Promise<OwnedObject[]> {
  const { rows } = await client.query<OwnedObject>(
    `SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view'
                           WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' ELSE c.relkind::text END AS kind,
            c.relname AS name, pg_get_userbyid(c.relowner) AS owner
       FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
     UNION ALL
     SELECT 'function', p.oid::regprocedure::text, pg_get_userbyid(p.proowner)
       FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
     UNION ALL
     SELECT 'type', t.typname, pg_get_userbyid(t.typowner)
       FROM pg_type t
      WHERE t.typnamespace = 'public'::regnamespace AND t.typrelid = 0 AND t.typelem = 0
     ORDER BY 1, 2`,
  );
  return rows;
}

/** Counts of what schema public holds, by kind: the catalogue's shape. */
export async function publicShape(client: Client): Promise<Record<string, number>> {
  const { rows } = await client.query<{ kind: string; count: number }>(
    `SELECT 'tables' AS kind, count(*)::int AS count FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
     UNION ALL SELECT 'sequences', count(*)::int FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'S'
     UNION ALL SELECT 'indexes', count(*)::int FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'i'
     UNION ALL SELECT 'views', count(*)::int FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'v'
     UNION ALL SELECT 'functions', count(*)::int FROM pg_proc WHERE pronamespace = 'public'::regnamespace
     UNION ALL SELECT 'triggers', count(*)::int FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal`,
  );
  return Object.fromEntries(rows.map((row) => [row.kind, row.count]));
}

/** Who the connected session is, as the server sees it. */
export async function sessionIdentity(client: Client): Promise<{ user: string; database: string }> {
  const { rows } = await client.query<{ user: string; database: string }>(
    'SELECT current_user AS user, current_database() AS database',
  );
  return rows[0]!;
}

/** What makes a function the same function: its oid, owner, definition and privileges. */
export interface FunctionIdentity {
  readonly oid: number;
  readonly owner: string;
  readonly definition: string;
  readonly acl: string | null;
}

export async function functionIdentity(client: Client, signature: string): Promise<FunctionIdentity | undefined> {
  const { rows } = await client.query<FunctionIdentity>(
    `SELECT f.oid::int AS oid, pg_get_userbyid(f.proowner) AS owner, pg_get_functiondef(f.oid) AS definition, f.proacl::text AS acl
       FROM (${FUNCTION_BY_SIGNATURE}) f`,
    signatureParts(signature),
  );
  return rows[0];
}

/** What a role may do to the relations an owner role owns in schema public of the connected database. */
export interface ReadAccess {
  /** Relations (tables, views, sequences…) owned by the owner that the role cannot SELECT. */
  readonly unreadable: readonly string[];
  /** Every privilege beyond SELECT the role holds on them, e.g. `UPDATE on public.llx_societe`. */
  readonly beyondSelect: readonly string[];
  /** How many of the owner's relations were looked at. */
  readonly relations: number;
}

/**
 * How `role` (a role name or a login) may reach what `owner` owns in schema public, as PostgreSQL itself decides
 * (has_table_privilege, has_sequence_privilege: through every role it is a member of, and PUBLIC). A reader must
 * SELECT every one of them and hold nothing more.
 */
export async function readAccess(client: Client, role: string, owner: string): Promise<ReadAccess> {
  const { rows } = await client.query<{ relation: string; readable: boolean; beyond: string[] }>(
    `SELECT c.oid::regclass::text AS relation,
            has_table_privilege($1, c.oid, 'SELECT') AS readable,
            ARRAY(SELECT p FROM unnest(CASE WHEN c.relkind = 'S' THEN ARRAY['USAGE', 'UPDATE']
                                            ELSE ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'] END) AS p
                   WHERE CASE WHEN c.relkind = 'S' THEN has_sequence_privilege($1, c.oid, p) ELSE has_table_privilege($1, c.oid, p) END) AS beyond
       FROM pg_class c
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
        AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = $2)
      ORDER BY 1`,
    [role, owner],
  );
  return {
    unreadable: rows.filter((row) => !row.readable).map((row) => row.relation),
    beyondSelect: rows.flatMap((row) => row.beyond.map((privilege) => `${privilege} on ${row.relation}`)),
    relations: rows.length,
  };
}

/**
 * Everything `role` (and every role it is a member of) owns or holds a privilege on, anywhere in the cluster but the
 * database `except` and that database's own ACL, from the shared dependency catalog (pg_shdepend, which records
 * owners and grantees of objects in every database, and which every login may read). An object of another database
 * is named by its database and catalog, as only that database can describe it.
 */
export async function privilegesOutside(client: Client, role: string, except: string): Promise<string[]> {
  const { rows } = await client.query<{ line: string }>(
    `SELECT format('%s %s %s', pg_get_userbyid(s.refobjid),
                   CASE s.deptype WHEN 'o' THEN 'owns' WHEN 'a' THEN 'holds privileges on' ELSE 'is named by' END,
                   CASE WHEN s.dbid = 0 THEN pg_describe_object(s.classid, s.objid, s.objsubid)
                        ELSE format('an object of database %s (%s %s)', d.datname, s.classid::regclass, s.objid) END) AS line
       FROM pg_shdepend s
       LEFT JOIN pg_database d ON d.oid = s.dbid
      WHERE s.refclassid = 'pg_authid'::regclass
        AND pg_has_role($1, s.refobjid, 'MEMBER')
        AND s.dbid IS DISTINCT FROM (SELECT oid FROM pg_database WHERE datname = $2)
        AND NOT (s.dbid = 0 AND s.classid = 'pg_database'::regclass AND s.objid = (SELECT oid FROM pg_database WHERE datname = $2))
      ORDER BY 1`,
    [role, except],
  );
  return rows.map((row) => row.line);
}
