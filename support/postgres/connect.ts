import { Client } from 'pg';
import type { Endpoint, EndpointTls, Login } from './cluster';

export interface SessionOptions {
  /** Shown in pg_stat_activity; resets use their own so they recognise each other. */
  readonly applicationName?: string;
  /** Server settings for the session, e.g. `-c default_transaction_read_only=on`. */
  readonly options?: string;
}

/** A node-postgres client connected as `login` to `database`; the caller ends it. */
export async function connect(endpoint: Endpoint, login: Login, database: string, session: SessionOptions = {}): Promise<Client> {
  const client = new Client({
    host: endpoint.host,
    port: endpoint.port,
    user: login.user,
    password: login.password,
    database,
    application_name: session.applicationName ?? 'erp-rehearsal',
    options: session.options,
    connectionTimeoutMillis: 15_000,
    ...(endpoint.tls ? { ssl: sslOptions(endpoint.tls) } : {}),
  });
  // A connection that dies while idle (the server stopping under it) emits 'error'; without a listener
  // that would crash the process before teardown. The next query on it rejects with the cause instead.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    // A client that failed to connect still holds a socket; release it before reporting.
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/** libpq's sslmode in node-postgres' terms: require encrypts only; verify-ca checks the chain; verify-full the host too. */
function sslOptions(tls: EndpointTls): Record<string, unknown> {
  if (tls.mode === 'require') return { rejectUnauthorized: false };
  const ca = tls.ca === undefined ? {} : { ca: tls.ca };
  return tls.mode === 'verify-ca' ? { ...ca, checkServerIdentity: () => undefined } : ca;
}

/** Runs `work` on a fresh connection and always closes it. */
export async function withClient<T>(
  endpoint: Endpoint,
  login: Login,
  database: string,
  work: (client: Client) => Promise<T>,
  session: SessionOptions = {},
): Promise<T> {
  const client = await connect(endpoint, login, database, session);
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** "PostgreSQL 15.18 (Debian 15.18-0+deb12u1)" from `SELECT version()`, without the build platform. */
export async function readServerVersion(client: Client): Promise<string> {
  const { rows } = await client.query<{ version: string }>('SELECT version() AS version');
  return rows[0]!.version.split(' on ')[0]!;
}

/** A PostgreSQL identifier, double-quoted so names like `erp-sandbox` are taken literally. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A PostgreSQL string literal (standard_conforming_strings on). */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
