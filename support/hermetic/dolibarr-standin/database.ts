/**
 * The instance's database as the stand-in reaches it: like PHP's Dolibarr, one connection per HTTP request (no
 * pool), through the instance's own login role, closed when the request ends, so that no session stays connected
 * between requests (the sandbox reset refuses to run while any other session is connected to its database).
 */
import { Client, type QueryResult, type QueryResultRow } from 'pg';
import type { Endpoint, Login } from '../../postgres/cluster';

/** What an endpoint needs of its connection. A `pg.Client` is one. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

export interface DatabaseTarget {
  readonly endpoint: Endpoint;
  readonly login: Login;
  readonly name: string;
}

/** An open connection of one request; `close()` is idempotent and never rejects. */
export interface Connection extends Queryable {
  close(): Promise<void>;
}

/**
 * Opens one connection shown as `applicationName` in pg_stat_activity. Rejects with node-postgres' error when the
 * server cannot be reached or refuses the login; nothing stays open then.
 */
export async function openConnection(target: DatabaseTarget, applicationName: string): Promise<Connection> {
  const client = new Client({
    host: target.endpoint.host,
    port: target.endpoint.port,
    user: target.login.user,
    password: target.login.password,
    database: target.name,
    application_name: applicationName,
    connectionTimeoutMillis: 15_000,
  });
  // The server ending the session under it (cluster stopping, pg_terminate_backend) emits 'error'; without a
  // listener that would crash the process. The running query rejects with the cause instead.
  client.on('error', () => undefined);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= client.end().catch(() => undefined);
    return closing;
  };
  try {
    await client.connect();
  } catch (error) {
    await close(); // a client that failed to connect may still hold a socket
    throw error;
  }
  return {
    query: <R extends QueryResultRow>(text: string, values?: unknown[]) => client.query<R>(text, values),
    close,
  };
}

/** Runs `work` between BEGIN and COMMIT on `db`; ROLLBACK and rethrow when it throws. */
export async function inTransaction<T>(db: Queryable, work: () => Promise<T>): Promise<T> {
  await db.query('BEGIN');
  try {
    const result = await work();
    await db.query('COMMIT');
    return result;
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
