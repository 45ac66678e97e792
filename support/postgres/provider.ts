import { ClusterStartError, NoPostgresAvailableError, type PostgresCluster } from './cluster';
import { findLocalBinaries } from './local-binaries';
import { startLocalCluster } from './local';

export type ProviderChoice = 'auto' | 'local' | 'container';

export interface ProviderOptions {
  readonly choice: ProviderChoice;
  /** Image for the container provider. */
  readonly image: string;
  /** Explicit binaries directory for the local provider; final when given. */
  readonly bindir?: string;
  /** OS user the local server runs as when the harness is root. */
  readonly osUser: string;
  readonly settings?: Readonly<Record<string, string>>;
  readonly progress?: (line: string) => void;
}

const HOW_TO_FIX = [
  'To run the hermetic target, do one of:',
  '  - install PostgreSQL (Debian: apt-get install -y postgresql), or point ERP_REHEARSAL_PG_BINDIR at a directory',
  '    holding initdb, postgres, pg_dump, pg_restore and psql;',
  '  - start a Docker engine (Debian: apt-get install -y docker.io && dockerd &) with a PostgreSQL image',
  '    named by ERP_REHEARSAL_PG_IMAGE (bash .ci/build-postgres-image.sh builds one without a registry).',
].join('\n');

/**
 * Starts a fresh cluster with the chosen provider. `auto` takes testcontainers when a Docker engine
 * answers (and the machine's binaries when its container cannot start, e.g. an image that cannot be
 * pulled), otherwise the machine's binaries; when neither is there, one error says how to get one.
 */
export async function startCluster(options: ProviderOptions): Promise<PostgresCluster> {
  const cluster = await startChosen(options);
  options.progress?.(`${cluster.serverVersion} at ${cluster.endpoint.host}:${cluster.endpoint.port}, client tools in ${cluster.tools.location}`);
  return cluster;
}

async function startChosen(options: ProviderOptions): Promise<PostgresCluster> {
  const reasons: string[] = [];
  if (options.choice !== 'local') {
    // Loaded only here: testcontainers and its Docker client are ≈ 750 modules, a quarter second of every process's start.
    const { dockerAvailable, startContainerCluster } = await import('./container');
    if (await dockerAvailable()) {
      options.progress?.(`starting PostgreSQL in a container from ${options.image}`);
      try {
        return await startContainerCluster({ image: options.image, settings: options.settings });
      } catch (error) {
        // Chosen by the operator: their container or nothing. Chosen by `auto`: say why, try the binaries.
        if (options.choice === 'container' || !(error instanceof ClusterStartError)) throw error;
        options.progress?.(`the container provider could not start (${error.message.split('\n')[0]}); trying local binaries`);
        reasons.push(`the container provider failed: ${error.message.split('\n')[0]}`);
      }
    } else {
      reasons.push('no Docker engine answers');
    }
  }
  if (options.choice !== 'container') {
    const lookup = findLocalBinaries(options.bindir);
    if (lookup.bindir) {
      options.progress?.(`starting a private PostgreSQL cluster from ${lookup.bindir}`);
      return startLocalCluster({
        bindir: lookup.bindir,
        osUser: options.osUser,
        settings: options.settings,
        progress: options.progress,
      });
    }
    reasons.push(...lookup.tried);
  }
  throw new NoPostgresAvailableError(
    `No PostgreSQL for the hermetic target (provider "${options.choice}"): ${reasons.join('; ')}.\n${HOW_TO_FIX}`,
  );
}
