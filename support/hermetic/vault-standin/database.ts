/**
 * The database secrets engine with its PostgreSQL plugin (builtin/logical/database, plugins/database/postgresql),
 * logged in as `credentials_editor` on database `postgres` like the factory's Vault: it creates, renews and drops login
 * roles as the plugin does, with its error texts, never carrying a password. Its connections stay open between
 * requests, as the plugin's pool keeps them (Vault's API docs for the plugin: max_open_connections 4, and
 * max_idle_connections 0, which means as many as max_open_connections).
 */
import { randomInt } from 'node:crypto';
import type { Client } from 'pg';
import type { Endpoint, Login } from '../../postgres/cluster';
import { connect, ident } from '../../postgres/connect';
import { renderStatements, vaultExpiration, vaultUsername } from '../../postgres/minting';
import { internalError, sanitize } from './errors';
import { calculateTtl } from './ttl';

export interface DatabaseRole {
  readonly name: string;
  /** E.g. `creationStatements('erp_sandbox_role')` from support/postgres/minting.ts. */
  readonly creationStatements: string | readonly string[];
  /** None (the default): the plugin's default revocation. */
  readonly revocationStatements?: string | readonly string[];
  /** None (the default): `ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}'`. */
  readonly renewStatements?: string | readonly string[];
  /** 0 or absent: the system default (32 days). */
  readonly defaultTtlSeconds?: number;
  /** 0 or absent: the system max (32 days). */
  readonly maxTtlSeconds?: number;
}

export interface DatabaseEngineOptions {
  /** The secrets engine mount; default `postgres` (creds at `postgres/creds/<role>`). */
  readonly mount?: string;
  readonly endpoint: Endpoint;
  /** The login Vault's connection uses (a secret). */
  readonly credentialsEditor: Login;
  /** The database of the connection URL; default `postgres`. */
  readonly database?: string;
  readonly roles: readonly DatabaseRole[];
}

export interface NewCredential {
  readonly username: string;
  /** A secret. */
  readonly password: string;
  readonly ttlSeconds: number;
  readonly warnings: readonly string[];
}

const DEFAULT_RENEW = `ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';`;
const APPLICATION_NAME = 'vault-standin';
/** The plugin's idle connections by default (max_idle_connections 0: max_open_connections, 4). */
const MAX_IDLE = 4;
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';

/** Vault's default password generator as recalled (chosen): 20 characters, at least one lower, upper, digit and `-`. */
export function generatePassword(): string {
  const all = LOWER + UPPER + DIGITS + '-';
  const chars = [LOWER, UPPER, DIGITS, '-'].map((set) => set[randomInt(set.length)]!);
  while (chars.length < 20) chars.push(all[randomInt(all.length)]!);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

/** pgx's `PgError.Error()`: `ERROR: <message> (SQLSTATE <code>)`; other errors by their message. */
export function pgErrorText(error: unknown): string {
  const { severity, message, code } = error as { severity?: string; message?: string; code?: string };
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return `${severity ?? 'ERROR'}: ${message ?? ''} (SQLSTATE ${code})`;
  return message ?? String(error);
}

const list = (statements: string | readonly string[] | undefined): readonly string[] =>
  statements === undefined ? [] : typeof statements === 'string' ? [statements] : statements;

/** The plugin's `containsMultilineStatement`: a PL/pgSQL `END` outside quotes means "run it as is". */
function isMultiline(statement: string): boolean {
  return /\bEND\b/.test(statement.replace(/"[^"]*"|'[^']*'/g, ''));
}

function queries(statements: readonly string[]): string[] {
  return statements.flatMap((statement) =>
    isMultiline(statement) ? [statement] : statement.split(';').map((query) => query.trim()).filter((query) => query !== ''));
}

function render(query: string, values: { name: string; password?: string; expiration?: string }): string {
  return renderStatements(query, values).replace(/\{\{username\}\}/g, values.name);
}

async function inTransaction(client: Client, work: () => Promise<void>): Promise<void> {
  await client.query('BEGIN');
  try {
    await work();
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

export class DatabaseEngine {
  readonly mount: string;
  private readonly roles = new Map<string, DatabaseRole>();
  private readonly idle: Client[] = [];
  /** Connections the server or the network closed. */
  private readonly broken = new WeakSet<Client>();
  /** Connections the engine itself is closing. */
  private readonly ending = new WeakSet<Client>();
  private closed = false;

  constructor(private readonly options: DatabaseEngineOptions) {
    this.mount = options.mount ?? 'postgres';
    for (const role of options.roles) {
      if (typeof role.name !== 'string' || !/^\w([\w.-]*\w)?$/.test(role.name)) {
        throw new TypeError(`database: role name ${JSON.stringify(role.name)} must be letters, digits, _ - . (Vault's creds/<name> pattern)`);
      }
      if (this.roles.has(role.name)) throw new TypeError(`database: role ${role.name} is defined twice`);
      if (list(role.creationStatements).length === 0) throw new TypeError(`database: role ${role.name} needs creation statements`);
      this.roles.set(role.name, role);
    }
  }

  role(name: string): DatabaseRole | undefined {
    return this.roles.get(name);
  }

  /**
   * Runs `work` on one of the engine's connections. Like the plugin's database/sql pool, a connection is kept open
   * between requests (up to MAX_IDLE of them); one the server closed is not reused, and a request that met it on a kept
   * connection is run once more on a new one, as database/sql does with a bad connection.
   */
  private async connect<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const kept = this.idle.pop();
    if (kept !== undefined) {
      try {
        return await this.use(kept, work);
      } catch (error) {
        if (!this.broken.has(kept)) throw error;
      }
    }
    return this.use(await this.open(), work);
  }

  /** Runs `work` on `client`, then keeps the client for the next request, or closes it (after a failure always). */
  private async use<T>(client: Client, work: (client: Client) => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await work(client);
    } catch (error) {
      await this.end(client);
      throw error;
    }
    if (this.closed || this.broken.has(client) || this.idle.length >= MAX_IDLE) await this.end(client);
    else this.idle.push(client);
    return result;
  }

  private async open(): Promise<Client> {
    const client = await connect(this.options.endpoint, this.options.credentialsEditor, this.options.database ?? 'postgres', { applicationName: APPLICATION_NAME });
    const lose = () => {
      if (this.ending.has(client)) return;
      this.broken.add(client);
      const at = this.idle.indexOf(client);
      if (at >= 0) this.idle.splice(at, 1);
    };
    client.once('end', lose);
    client.on('error', lose);
    return client;
  }

  private async end(client: Client): Promise<void> {
    this.ending.add(client);
    await client.end().catch(() => undefined);
  }

  /** Closes the connections it keeps; a request still running closes its own when it ends. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.idle.splice(0).map((client) => this.end(client)));
  }

  /**
   * `GET <mount>/creds/<role>`: a new login role, VALID UNTIL now + TTL + 5 s (Vault's buffer), its creation statements
   * run in ONE transaction. Throws VaultApiError with the plugin's `failed to execute query: <pgx error>`.
   */
  async create(role: DatabaseRole, displayName: string, now = new Date()): Promise<NewCredential> {
    const { ttlSeconds, warnings } = calculateTtl({ increment: 0, backendTtl: role.defaultTtlSeconds ?? 0, backendMaxTtl: role.maxTtlSeconds ?? 0, now });
    const username = vaultUsername(displayName, role.name, now);
    const password = generatePassword();
    const expiration = vaultExpiration(new Date(now.getTime() + (ttlSeconds + 5) * 1000));
    try {
      await this.connect((client) => inTransaction(client, async () => {
        for (const query of queries(list(role.creationStatements))) {
          try {
            await client.query(render(query, { name: username, password, expiration }));
          } catch (error) {
            throw new Error(`failed to execute query: ${pgErrorText(error)}`);
          }
        }
      }));
    } catch (error) {
      throw internalError(this.sanitize((error as Error).message, password));
    }
    return { username, password, ttlSeconds, warnings };
  }

  /** Moves VALID UNTIL to now + `ttlSeconds` + 5 s. Throws a plain Error (the caller wraps it like the core). */
  async renew(role: DatabaseRole, username: string, ttlSeconds: number, now = new Date()): Promise<void> {
    if (ttlSeconds <= 0) return;
    const expiration = vaultExpiration(new Date(now.getTime() + (ttlSeconds + 5) * 1000));
    const statements = list(role.renewStatements);
    try {
      await this.connect((client) => inTransaction(client, async () => {
        for (const query of queries(statements.length === 0 ? [DEFAULT_RENEW] : statements)) {
          await client.query(render(query, { name: username, expiration }));
        }
      }));
    } catch (error) {
      throw new Error(this.sanitize(pgErrorText(error)));
    }
  }

  /**
   * Drops the login role as the plugin does. Throws a plain Error with the plugin's text on failure. The default never
   * runs REASSIGN OWNED nor DROP OWNED: a role that owns objects fails with SQLSTATE 2BP01.
   */
  async revoke(role: DatabaseRole | undefined, username: string): Promise<void> {
    const custom = list(role?.revocationStatements);
    try {
      await this.connect((client) => (custom.length > 0 ? this.customRevoke(client, custom, username) : this.defaultRevoke(client, username)));
    } catch (error) {
      throw new Error(this.sanitize(error instanceof RevocationStatementsError ? error.message : pgErrorText(error)));
    }
  }

  private async customRevoke(client: Client, statements: readonly string[], username: string): Promise<void> {
    await inTransaction(client, async () => {
      for (const query of queries(statements)) await client.query(render(query, { name: username }));
    });
  }

  private async defaultRevoke(client: Client, username: string): Promise<void> {
    const { rows: exists } = await client.query<{ exists: boolean }>('SELECT exists (SELECT rolname FROM pg_roles WHERE rolname=$1)', [username]);
    if (!exists[0]?.exists) return;
    const { rows: schemas } = await client.query<{ table_schema: string }>(
      'SELECT DISTINCT table_schema FROM information_schema.role_column_grants WHERE grantee=$1', [username]);
    const user = ident(username);
    const statements: string[] = [];
    for (const { table_schema: schema } of schemas) {
      statements.push(`REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA ${ident(schema)} FROM ${user};`);
      statements.push(`REVOKE USAGE ON SCHEMA ${ident(schema)} FROM ${user};`);
    }
    statements.push(`REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM ${user};`);
    statements.push(`REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA public FROM ${user};`);
    statements.push(`REVOKE USAGE ON SCHEMA public FROM ${user};`);
    const { rows: current } = await client.query<{ current_database: string }>('SELECT current_database()');
    if (current[0] !== undefined) statements.push(`REVOKE CONNECT ON DATABASE ${ident(current[0].current_database)} FROM ${user};`);
    let lastError: unknown;
    for (const statement of statements) {
      // Not in a transaction, and on through errors: remove as much access as possible right now.
      await client.query(statement).catch((error: unknown) => {
        lastError = error;
      });
    }
    if (lastError !== undefined) throw new RevocationStatementsError(`could not perform all revocation statements: ${pgErrorText(lastError)}`);
    await client.query(`DROP ROLE IF EXISTS ${user};`);
  }

  private sanitize(text: string, ...secrets: string[]): string {
    return sanitize(text, [...secrets, this.options.credentialsEditor.password]);
  }
}

class RevocationStatementsError extends Error {}
