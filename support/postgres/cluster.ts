/**
 * A running PostgreSQL cluster the harness can talk to, whichever provider started it.
 *
 * Two sides see the cluster: the harness process (node-postgres, through `endpoint`) and the
 * cluster's own client tools (pg_dump, pg_restore, psql, through `tools`), which may run elsewhere
 * (inside a container) and so reach the server at another address. Callers never build
 * connection strings themselves: they hand a `Login` to the side they use.
 */

/** The server settings of every throwaway cluster, either provider's: durability buys nothing and costs seconds per reset. */
export const THROWAWAY_SETTINGS: Readonly<Record<string, string>> = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };

/** Server settings as `postgres` takes them on its command line: `-c name=value` each. */
export function settingArgs(settings: Readonly<Record<string, string>>): string[] {
  return Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

/** A login: who connects. The password is a secret and is never printed. */
export interface Login {
  readonly user: string;
  readonly password: string;
}

/** Where the harness process reaches the server. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** TLS, as libpq's sslmode says it; absent: none (the hermetic cluster on loopback). */
  readonly tls?: EndpointTls;
}

export interface EndpointTls {
  readonly mode: 'require' | 'verify-ca' | 'verify-full';
  /** PEM of the CA the server's certificate chains to (verify-ca, verify-full), and the same as a file for libpq. */
  readonly ca?: string;
  readonly caFile?: string;
}

export type ClientTool = 'pg_dump' | 'pg_restore' | 'psql';

export interface ToolRun {
  /** Which login the tool authenticates as. */
  readonly login: Login;
  /** The database it connects to (PGDATABASE). */
  readonly database: string;
  /** Bytes written to the tool's standard input, if any. */
  readonly stdin?: Buffer | string;
  /** Server settings for the tool's session (PGOPTIONS), e.g. `-c default_transaction_read_only=on`. */
  readonly options?: string;
  /** Shown in pg_stat_activity (PGAPPNAME); default `erp-rehearsal`. */
  readonly applicationName?: string;
  /** Throw the tool's standard output away instead of returning it, e.g. a benchmark's COPY of every row. */
  readonly discardStdout?: boolean;
}

export interface ToolResult {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** The cluster's own client tools, run where they can reach the server. */
export interface ClientTools {
  /** Where the tools run, for reports: e.g. `/usr/lib/postgresql/15/bin` or `container 3f2a…`. */
  readonly location: string;
  run(tool: ClientTool, args: readonly string[], run: ToolRun): Promise<ToolResult>;
  /**
   * Puts `content` in a file where the tools run and returns its path there, for arguments such as
   * `pg_restore --use-list=<path>`. The file lives until `unstage` or until the cluster stops.
   */
  stage(name: string, content: Buffer | string): Promise<string>;
  unstage(path: string): Promise<void>;
}

export type ProviderKind = 'local' | 'container';

export interface PostgresCluster {
  readonly provider: ProviderKind;
  /** e.g. "PostgreSQL 15.18 (Debian 15.18-0+deb12u1)", read from the server. */
  readonly serverVersion: string;
  readonly endpoint: Endpoint;
  /** The bootstrap superuser: the provisioner of the factory layout, and nothing else. */
  readonly superuser: Login;
  readonly tools: ClientTools;
  /** Local provider: the file the server's own log (its stderr) is written to, until the cluster stops. */
  readonly serverLogPath?: string;
  /** Stops the server and removes everything it wrote. Safe to call twice. */
  stop(): Promise<void>;
}

/** Thrown when no provider can start a cluster; the message says what to install or start. */
export class NoPostgresAvailableError extends Error {
  override readonly name = 'NoPostgresAvailableError';
}

/** Thrown when a provider was available but the cluster failed to start. */
export class ClusterStartError extends Error {
  override readonly name = 'ClusterStartError';
}
