import type { HarnessConfig } from '../config';
import type { InstanceNames } from '../naming';
import type { ClientTools, Endpoint, Login, PostgresCluster } from '../postgres/cluster';
import type { VaultMinter } from '../vault';
import type { Golden } from '../lifecycle/golden';
import type { DolibarrSites } from '../dolibarr/sites';
import type { ProdWatch } from './prod-watch';
import type { VaultAccess } from './vault-access';

/**
 * What the gates run against. Features and steps see only this; the builders in this folder are the
 * only code that knows which kind of target is in use.
 */
export interface Target {
  readonly kind: 'hermetic' | 'live';
  readonly config: HarnessConfig;
  /** The instance that must refuse. */
  readonly prod: InstanceNames;
  /** The instance rehearsals write to. */
  readonly sandbox: InstanceNames;
  /** Where the harness reaches a database of the target. */
  endpointFor(database: string): Endpoint;
  /** The PostgreSQL client tools (pg_dump, pg_restore, psql), run where they reach the databases. */
  readonly tools: ClientTools;
  /** Hermetic only: the cluster the harness started. */
  readonly cluster?: PostgresCluster;
  /** Hermetic only: the provisioner's login, to read the catalogs as it. */
  readonly provisioner?: Login;
  /** Hermetic only: Vault's database-engine login; positive controls of role grants run as it. */
  readonly credentialsEditor?: Login;
  /** Hands out short-lived login roles for an instance: Vault's database engine, through the instance's identity. */
  readonly minter: VaultMinter;
  /** How workloads reach Vault, and (hermetic) the issuers of their identities and the leases Vault holds. */
  readonly vault: VaultAccess;
  /**
   * Live only, with a golden identity configured: prod's content read at most twice a run (recorded once, compared at
   * the end). Without it, each scenario reads prod's state itself (hermetic).
   */
  readonly prodWatch?: ProdWatch;
  /** The golden checkpoint the sandbox resets to. */
  readonly golden: Golden;
  /** The two Dolibarr instances: the sandbox the write tooling talks to, prod that must refuse. */
  readonly dolibarr: DolibarrSites;
  /** Where the run's progress lines go; long resets and snapshots report there every second when config.progressEverySecond. */
  readonly progress: (line: string) => void;
  /** A directory of this run for files such as snapshot row images; removed at close. */
  readonly workDir: string;
  /** Revokes every credential and stops what the builder started. Safe to call twice. */
  close(): Promise<void>;
}
