import type { InstanceNames } from '../naming';
import { NotApplicable } from '../not-applicable';
import { cloneNames } from '../lifecycle/template-clone-names';
import type { Endpoint, Login } from './cluster';
import { connect, ident } from './connect';

/**
 * What the template-clone reset's login must not be able to do to prod, attempted for real: each attempt runs in a
 * session of the clone login that has first taken the clone role (`SET ROLE <clone role>`, so its CREATEDB is live),
 * and must be refused by PostgreSQL itself. `DROP DATABASE` and `ALTER DATABASE … RENAME` cannot be rolled back, so
 * these attempts run on a hermetic target only (DESIGN.md, safety rule 2): `attemptAsClone` refuses any other target
 * before it connects.
 */

export interface CloneAttempt {
  /** The database the session connects to. */
  readonly database: (prod: InstanceNames) => string;
  readonly sql: (prod: InstanceNames) => string;
  /** The refusal that proves the fence; either layout (hardened: no CONNECT on prod; as provisioned: no privilege). */
  readonly refusal: RegExp;
}

const prodTable = 'llx_societe';

export const CLONE_ATTEMPTS: Readonly<Record<string, CloneAttempt>> = {
  'drop database erp': {
    database: () => 'postgres',
    sql: (prod) => `DROP DATABASE ${ident(prod.database)}`,
    refusal: /^must be owner of database erp$/,
  },
  'rename database erp': {
    database: () => 'postgres',
    sql: (prod) => `ALTER DATABASE ${ident(prod.database)} RENAME TO ${ident(`${prod.database}-renamed`)}`,
    refusal: /^must be owner of database erp$/,
  },
  'copy database erp as a template': {
    database: () => 'postgres',
    sql: (prod) => `CREATE DATABASE ${ident(`${prod.database}-copied`)} TEMPLATE ${ident(prod.database)}`,
    refusal: /^permission denied to copy database "erp"$/,
  },
  'read prod table llx_societe': {
    database: (prod) => prod.database,
    sql: () => `SELECT count(*) FROM public.${prodTable}`,
    refusal: /^permission denied for (database "erp"|table llx_societe)$/,
  },
  'write prod table llx_societe': {
    database: (prod) => prod.database,
    sql: () => `UPDATE public.${prodTable} SET nom = nom`,
    refusal: /^permission denied for (database "erp"|table llx_societe)$/,
  },
  'set role erp_role': {
    database: () => 'postgres',
    sql: (prod) => `SET ROLE ${ident(prod.ownerRole)}`,
    refusal: /^permission denied to set role "erp_role"$/,
  },
};

export interface CloneAttemptOutcome {
  readonly attempt: string;
  readonly sql: string;
  /** Where it was refused: at the connection (no CONNECT) or at the statement; absent when it was allowed. */
  readonly refusedAt?: 'connection' | 'statement';
  readonly sqlstate?: string;
  readonly message?: string;
  /** The role the statement ran as (current_user), when the session was opened. */
  readonly ranAs?: string;
}

export function cloneAttempt(name: string): CloneAttempt {
  const attempt = CLONE_ATTEMPTS[name];
  if (!attempt) throw new Error(`no clone attempt "${name}"; known: ${Object.keys(CLONE_ATTEMPTS).join(', ')}`);
  return attempt;
}

/**
 * Runs the attempt as the clone login (after SET ROLE to the clone role) against prod. Hermetic targets only: the
 * statements are prod's DROP and RENAME, which no live prod may ever receive.
 */
export async function attemptAsClone(
  target: { readonly kind: 'hermetic' | 'live'; endpointFor(database: string): Endpoint },
  login: Login,
  prod: InstanceNames,
  sandbox: InstanceNames,
  name: string,
): Promise<CloneAttemptOutcome> {
  if (target.kind !== 'hermetic') {
    throw new NotApplicable(`"${name}" is sent to prod for real (DROP or RENAME DATABASE cannot be rolled back): only on a hermetic target`);
  }
  const attempt = cloneAttempt(name);
  const database = attempt.database(prod);
  const sql = attempt.sql(prod);
  let client;
  try {
    client = await connect(target.endpointFor(database), login, database, { applicationName: 'erp-rehearsal clone probe' });
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    return { attempt: name, sql, refusedAt: 'connection', ...(code ? { sqlstate: code } : {}), message };
  }
  try {
    await client.query(`SET ROLE ${ident(cloneNames(sandbox).role)}`);
    const { rows } = await client.query<{ user: string }>('SELECT current_user AS user');
    const ranAs = rows[0]!.user;
    try {
      await client.query(sql);
      return { attempt: name, sql, ranAs };
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      return { attempt: name, sql, ranAs, refusedAt: 'statement', ...(code ? { sqlstate: code } : {}), message };
    }
  } finally {
    await client.end();
  }
}
