import type { Endpoint, Login } from './cluster';
import { connect } from './connect';
import { sessionIdentity } from './catalog';

/**
 * An attempt at something a credential must not be able to do. A refusal proves something only if
 * it came from the right session for the right reason, so the attempt records who it ran as (as the
 * server saw it) and the exact SQLSTATE of the outcome.
 */

export interface Attempt {
  /** current_user and current_database() of the session the statement ran in. */
  readonly identity: { readonly user: string; readonly database: string };
  readonly succeeded: boolean;
  readonly sqlstate?: string;
  readonly message?: string;
}

export interface Statement {
  readonly sql: string;
  /** Statements that cannot run in a transaction block (CREATE DATABASE) run bare; the rest are rolled back. */
  readonly transactional: boolean;
}

/** Things the reset never needs, by the name features use. */
export const STATEMENTS: Readonly<Record<string, Statement>> = {
  'create a database': { sql: 'CREATE DATABASE "erp-rehearsal-probe"', transactional: false },
  'create a role': { sql: 'CREATE ROLE "erp-rehearsal-probe"', transactional: true },
};

export function statementNamed(name: string): Statement {
  const statement = STATEMENTS[name];
  if (!statement) throw new Error(`no statement named "${name}"; known: ${Object.keys(STATEMENTS).join(', ')}`);
  return statement;
}

export async function attempt(endpoint: Endpoint, login: Login, database: string, statement: Statement): Promise<Attempt> {
  const client = await connect(endpoint, login, database);
  try {
    const identity = await sessionIdentity(client);
    if (statement.transactional) await client.query('BEGIN');
    try {
      await client.query(statement.sql);
      return { identity, succeeded: true };
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      return { identity, succeeded: false, sqlstate: code, message };
    } finally {
      if (statement.transactional) await client.query('ROLLBACK');
    }
  } finally {
    await client.end();
  }
}
