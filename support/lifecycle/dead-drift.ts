import type { Client } from 'pg';
import { ident } from '../postgres/connect';
import type { DriftObject } from '../postgres/drift';

/**
 * Drift left by a harness login that is dead, and how the reset clears it. What a login made without
 * `SET ROLE <owner role>` it owns itself: DROP OWNED BY the owner role leaves it, and Vault cannot drop the login while
 * it owns anything. Once the login is dead, the owner role drops what it made in schemas the owner role owns; anything
 * elsewhere stays drift, and the reset still refuses for it.
 */

export interface DeadDrift extends DriftObject {
  /** The statement the owner role runs to drop it; IF EXISTS, since dropping the owner role's objects may cascade to it. */
  readonly drop: string;
}

/** Statements by kind of drift object (snapshot.ts's kinds); functions by DROP ROUTINE, which takes procedures too. */
const DROP: Readonly<Record<string, string>> = {
  view: 'VIEW', 'materialized view': 'MATERIALIZED VIEW', table: 'TABLE', sequence: 'SEQUENCE', function: 'ROUTINE', type: 'TYPE',
};

/** Dependants first: views over tables, tables before the sequences, functions and types they use. */
const ORDER = ['view', 'materialized view', 'table', 'sequence', 'function', 'type'];

/** The schema of a drift object's name as snapshot.ts writes it (`%I.%I`, a function with its argument types). */
export function schemaOf(name: string): string {
  if (!name.startsWith('"')) return name.slice(0, name.indexOf('.'));
  let at = 1;
  let schema = '';
  for (;;) {
    const quote = name.indexOf('"', at);
    if (quote < 0) return name;
    schema += name.slice(at, quote);
    if (name[quote + 1] !== '"') return schema;
    schema += '"';
    at = quote + 2;
  }
}

/**
 * The dead logins among `owners`: members of `ownerRole` (logins of this sandbox, not someone else's roles) who can log
 * in and are either in `gone` (a ledger's: minted by a run that is gone) or past their VALID UNTIL (Vault's lease
 * expired: they can never log in again).
 */
async function deadLogins(client: Client, ownerRole: string, owners: readonly string[], gone: readonly string[]): Promise<Set<string>> {
  if (owners.length === 0) return new Set();
  const { rows } = await client.query<{ rolname: string }>(
    `SELECT rolname FROM pg_roles
      WHERE rolname = ANY($1) AND rolcanlogin AND pg_has_role(rolname, $2, 'MEMBER')
        AND (rolname = ANY($3) OR rolvaliduntil < now())`,
    [owners, ownerRole, gone],
  );
  return new Set(rows.map((row) => row.rolname));
}

/**
 * Schemas whose owner `ownerRole` has the privileges of, where it may drop any object: public among them, owned since
 * PostgreSQL 15 by pg_database_owner, which the database's owner role is.
 */
async function schemasOwnedBy(client: Client, ownerRole: string): Promise<Set<string>> {
  const { rows } = await client.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE pg_has_role($1, nspowner, 'USAGE')`, [ownerRole]);
  return new Set(rows.map((row) => row.nspname));
}

/** Of `drift`, what dead logins made in schemas the owner role owns, each with the statement that drops it, in order. */
export async function droppableDeadDrift(client: Client, ownerRole: string, drift: readonly DriftObject[], gone: readonly string[]): Promise<DeadDrift[]> {
  const dead = await deadLogins(client, ownerRole, [...new Set(drift.map((object) => object.owner))], gone);
  if (dead.size === 0) return [];
  const schemas = await schemasOwnedBy(client, ownerRole);
  return drift
    .filter((object) => dead.has(object.owner) && DROP[object.kind] !== undefined && schemas.has(schemaOf(object.name)))
    .sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind))
    .map((object) => ({ ...object, drop: `DROP ${DROP[object.kind]} IF EXISTS ${object.name}` }));
}

/** psql commands that drop `drift` as the owner role, then take the login's own identity back. */
export function dropAsOwner(ownerRole: string, drift: readonly DeadDrift[]): string[] {
  if (drift.length === 0) return [];
  return [`--command=SET ROLE ${ident(ownerRole)}`, ...drift.map((object) => `--command=${object.drop}`), '--command=RESET ROLE'];
}
