import { literal } from '../connect';

/**
 * PostgreSQL 15's privilege rules as read-only catalogue queries, one row `{ allowed }` each: the live forms of attempts
 * that must never be sent to a live prod as statements (they cannot be rolled back, or they lock prod's object before
 * PostgreSQL checks the privilege). Shared by the probes, the golden identity's fence and the clone fence, so each rule is
 * written once. Every query asks for the session's current role (after SET ROLE, the role taken) and counts a superuser
 * in, as PostgreSQL does.
 */

/** PostgreSQL's ownership check of a database (pg_database_ownercheck): the privileges of its owner role, or superuser. */
export const OWNS_DATABASE = "(pg_has_role(current_user, d.datdba, 'USAGE') OR r.rolsuper)";

/** The CREATEDB attribute, which is not inherited: the role's own, or superuser. */
export const HAS_CREATEDB = '(r.rolcreatedb OR r.rolsuper)';

/** `allowed` (an expression over `d`, the database's pg_database row, and `r`, the current role's pg_roles row) for `database`. */
export function databaseRule(database: string, allowed: string): string {
  return `SELECT ${allowed} AS allowed FROM pg_catalog.pg_database d, pg_catalog.pg_roles r WHERE d.datname = ${literal(database)} AND r.rolname = current_user`;
}

/**
 * `privilege` on table `table` (schema-qualified), as PostgreSQL checks it for a statement that names no column (TRIGGER,
 * TRUNCATE): has_table_privilege, which counts membership and superuser. A table that does not exist is an error, never
 * an answer.
 */
export function tableRule(table: string, privilege: 'TRIGGER' | 'TRUNCATE'): string {
  return `SELECT has_table_privilege(current_user, ${literal(table)}, ${literal(privilege)}) AS allowed`;
}

/**
 * DROP FUNCTION's rule: USAGE on its schema, to name it, and ownership of the function or of its schema. `signature` is
 * `schema.name(argument types)` as pg_catalog.oidvectortypes prints them; no row (not a boolean) when no such function
 * exists. The function is found by schema, name and argument types, not by a regprocedure cast, which would need the USAGE
 * it asks about.
 */
export function dropFunctionRule(signature: string): string {
  const match = /^([^.(]+)\.([^(]+)\((.*)\)$/.exec(signature);
  if (!match) throw new Error(`"${signature}" is not a schema-qualified function signature: schema.name(argument types)`);
  const [, schema, name, args] = match;
  return (
    "SELECT has_schema_privilege(current_user, n.oid, 'USAGE') AND " +
    "(pg_has_role(current_user, p.proowner, 'USAGE') OR pg_has_role(current_user, n.nspowner, 'USAGE')) AS allowed " +
    'FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace ' +
    `WHERE n.nspname = ${literal(schema!)} AND p.proname = ${literal(name!)} AND pg_catalog.oidvectortypes(p.proargtypes) = ${literal(args!)}`
  );
}
