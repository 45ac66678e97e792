/**
 * How the catalog names the objects of a database's user schemas, as SQL fragments: the snapshot (which hashes what
 * the owner role owns) and the drift check (which lists what it does not) must name an object the same way.
 */

/** Schemas that hold user objects: not the system's, not TOAST, not any session's temp schema (alias `n`). */
export const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'`;

/** The owner role given as the query's first parameter. */
export const OWNER = '(SELECT oid FROM pg_roles WHERE rolname = $1)';

/** A relation's kind in words (alias `c`). */
export const RELATION_KIND = `CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'table' END`;

/** A function's name as pg_proc identifies it: schema-qualified, with its input argument types. */
export const FUNCTION_NAME = `format('%I.%I(%s)', n.nspname, p.proname, oidvectortypes(p.proargtypes))`;

/** A type is an array type when another type names it as its array. */
export const NOT_ARRAY_TYPE = 'NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)';
/** A composite type that is a relation's row type goes with the relation. */
export const NOT_ROW_TYPE = `(t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')`;
