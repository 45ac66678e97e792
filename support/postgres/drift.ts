import type { Client, QueryResultRow } from 'pg';
import { PIN_SETTINGS_PARAMS, PIN_SETTINGS_SQL } from './pinned-settings';
import { PROVISIONER_OBJECTS } from './provision';
import { ReadError, readRows } from './read-error';
import { FUNCTION_NAME, NOT_ARRAY_TYPE, NOT_ROW_TYPE, OWNER, RELATION_KIND, USER_SCHEMA } from './user-objects';

/**
 * Ownership drift: objects in a database's user schemas that its owner role does not own, which a reset by
 * `DROP OWNED BY <owner role>` cannot see and Vault cannot revoke a login around. A catalog question any login of the
 * database may ask, for the reset's refusal, the status and a failed revocation alike.
 */

export interface DriftObject {
  readonly kind: string;
  readonly name: string;
  readonly owner: string;
}

export interface DriftOptions {
  /** The owner role whose objects are the state, e.g. 'erp_sandbox_role'. */
  readonly ownerRole: string;
  /** Objects not owned by ownerRole that are known infrastructure and are NOT drift, as 'kind schema.name' keys;
   *  default: the provisioner's objects (DEFAULT_INFRASTRUCTURE). */
  readonly infrastructure?: readonly string[];
}

/** The provisioner's objects in every database (user_lookup, in either layout): infrastructure, not drift. */
export const DEFAULT_INFRASTRUCTURE: readonly string[] = PROVISIONER_OBJECTS;

/**
 * Objects in user schemas that the owner role ($1) does not own: relations (indexes go with their table, whose owner
 * they always share), functions, types other than row, array and multirange types, and schemas other than public
 * (owned by pg_database_owner). Names are rendered under the pinned settings (pinned-settings.ts).
 */
export const UNOWNED_OBJECTS_SQL = `SELECT kind, name, pg_get_userbyid(owner) AS owner FROM (
       SELECT ${RELATION_KIND} AS kind, format('%I.%I', n.nspname, c.relname) AS name, c.relowner AS owner
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'f', 'S', 'v', 'm') AND ${USER_SCHEMA}
       UNION ALL
       SELECT 'function', ${FUNCTION_NAME}, p.proowner
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_SCHEMA}
       UNION ALL
       SELECT 'type', format('%I.%I', n.nspname, t.typname), t.typowner
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typtype <> 'm' AND ${NOT_ROW_TYPE} AND ${NOT_ARRAY_TYPE} AND ${USER_SCHEMA}
       UNION ALL
       SELECT 'schema', quote_ident(n.nspname), n.nspowner FROM pg_namespace n WHERE n.nspname <> 'public' AND ${USER_SCHEMA}
     ) o
     WHERE owner <> ${OWNER}`;

/** Code-unit order: the same on every machine, unlike localeCompare. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The drift among the objects UNOWNED_OBJECTS_SQL lists: not the known infrastructure, sorted by kind, then name. */
export function driftAmong(objects: readonly DriftObject[], infrastructure: readonly string[] = DEFAULT_INFRASTRUCTURE): DriftObject[] {
  const known = new Set(infrastructure);
  return objects
    .filter((object) => !known.has(`${object.kind} ${object.name}`))
    .map(({ kind, name, owner }) => ({ kind, name, owner }))
    .sort((a, b) => compare(a.kind, b.kind) || compare(a.name, b.name));
}

/** A server error while looking for drift, with what was being read and PostgreSQL's SQLSTATE. */
export class DriftCheckError extends ReadError {
  override readonly name = 'DriftCheckError';
}

function asked<R extends QueryResultRow>(client: Client, what: string, sql: string, params?: readonly unknown[]): Promise<R[]> {
  return readRows<R>(client, what, sql, params, DriftCheckError);
}

const SAVEPOINT = 'erp_rehearsal_drift';

/**
 * The drift in `client`'s database. Cheap; no rows read. In a transaction of its own (READ ONLY) when the session is
 * idle, else under a savepoint of the caller's, so the pinned settings end with it and a failure leaves the caller's
 * transaction usable.
 */
export async function findDrift(client: Client, options: DriftOptions): Promise<DriftObject[]> {
  const own = client.getTransactionStatus() === 'I';
  await asked(client, 'cannot start the drift check', own ? 'BEGIN READ ONLY' : `SAVEPOINT ${SAVEPOINT}`);
  const end = () => asked(client, 'cannot end the drift check', own ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${SAVEPOINT}; RELEASE SAVEPOINT ${SAVEPOINT}`);
  let drift: DriftObject[];
  try {
    await asked(client, 'cannot pin the session settings', PIN_SETTINGS_SQL, PIN_SETTINGS_PARAMS);
    const { ownerRole } = options;
    const role = await asked(client, `cannot look up role ${ownerRole}`, 'SELECT 1 FROM pg_roles WHERE rolname = $1', [ownerRole]);
    if (role.length === 0) throw new DriftCheckError(`role "${ownerRole}" does not exist in this cluster: name the role that owns the state`);
    drift = driftAmong(await asked<DriftObject>(client, `cannot list the objects ${ownerRole} does not own`, UNOWNED_OBJECTS_SQL, [ownerRole]), options.infrastructure);
  } catch (error) {
    await end().catch(() => undefined);
    throw error;
  }
  await end();
  return drift;
}

/** One line per drift object, as refusals and reports name them. */
export function describeDrift(drift: readonly DriftObject[]): string[] {
  return drift.map((object) => `${object.kind} ${object.name} owned by ${object.owner}`);
}
