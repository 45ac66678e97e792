/**
 * The container provider: a throwaway PostgreSQL server in Docker, started with testcontainers.
 *
 * The harness reaches the server through the mapped port; the client tools (pg_dump, pg_restore,
 * psql) run inside the container with `docker exec`, so their version always matches the server's.
 */
import { registerSecret } from '../redaction';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { PostgreSqlContainer, type StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import { getContainerRuntimeClient, ImageName } from 'testcontainers';
import {
  ClusterStartError,
  settingArgs,
  THROWAWAY_SETTINGS,
  type ClientTool,
  type ClientTools,
  type Endpoint,
  type Login,
  type PostgresCluster,
  type ToolResult,
  type ToolRun,
} from './cluster';
import { readServerVersion, withClient } from './connect';
import { registerTeardown } from '../process/teardown';
import { temporaryDirectoryInMemory } from '../process/work-dirs';

const POSTGRES_PORT = 5432;
/** The data directory of the official image and of .ci/build-postgres-image.sh's. */
const PGDATA = '/var/lib/postgresql/data';
/** Label naming the harness run a container belongs to. */
const RUN_LABEL = 'erp-rehearsal.run';
const DOCKER_PROBE_TIMEOUT_MS = 3_000;

/** True when a Docker engine answers within a few seconds. Never throws. */
export async function dockerAvailable(): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), DOCKER_PROBE_TIMEOUT_MS);
  });
  const answered = getContainerRuntimeClient().then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([answered, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ContainerClusterOptions {
  readonly image: string;
  /** Extra server settings, e.g. { log_statement: 'all' }. */
  readonly settings?: Readonly<Record<string, string>>;
}

export async function startContainerCluster(opts: ContainerClusterOptions): Promise<PostgresCluster> {
  // Ryuk, testcontainers' reaper of leaked containers, is itself an image pulled from Docker Hub,
  // which is unreachable here; stop() removes the container instead.
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

  // Hex: @testcontainers/postgresql interpolates the password into a shell health check.
  const superuser: Login = { user: 'postgres', password: randomBytes(24).toString('hex') };
  registerSecret(superuser.password);
  // Registered before the container exists: an interrupt during start() still finds it by its label.
  const label = randomBytes(8).toString('hex');
  let container: StartedPostgreSqlContainer | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (container ? container.stop({ remove: true, removeVolumes: true }).then(() => undefined) : removeLabelled(label)).finally(
      () => unregister(),
    ));
  const unregister = registerTeardown({
    name: `PostgreSQL container from ${opts.image}`,
    stop,
    lastResort: () => {
      spawnSync('sh', ['-c', `docker ps -aq --filter label=${RUN_LABEL}=${label} | xargs -r docker rm -f`], { stdio: 'ignore' });
    },
  });

  try {
    let builder = new PostgreSqlContainer(opts.image)
      .withLabels({ [RUN_LABEL]: label })
      .withUsername(superuser.user)
      .withPassword(superuser.password)
      .withDatabase('postgres')
      .withCommand(['postgres', ...settingArgs({ ...THROWAWAY_SETTINGS, ...opts.settings })]);
    // Where the harness keeps its temporary files in memory, the container keeps its data there too, as the local
    // provider's cluster does (its data directory is in the temporary directory).
    if (temporaryDirectoryInMemory()) builder = builder.withTmpFs({ [PGDATA]: 'rw' });
    container = await builder.start();
  } catch (err) {
    await stop();
    // Errors may quote the container's configuration; the password must not reach a log.
    const message = await explainStartFailure(opts.image, err);
    throw new ClusterStartError(message.split(superuser.password).join('***'));
  }

  const started = container;
  const endpoint: Endpoint = { host: started.getHost(), port: started.getMappedPort(POSTGRES_PORT) };
  let serverVersion: string;
  try {
    serverVersion = await withClient(endpoint, superuser, 'postgres', readServerVersion);
  } catch (err) {
    await stop();
    throw new ClusterStartError(
      `PostgreSQL started in container ${shortId(started)} but is not reachable at ` +
        `${endpoint.host}:${endpoint.port}: ${messageOf(err)}`,
    );
  }

  return {
    provider: 'container',
    serverVersion,
    endpoint,
    superuser,
    tools: containerTools(started),
    stop,
  };
}

/** Removes every container of this run by its label (a start that was interrupted has no handle yet). */
async function removeLabelled(label: string): Promise<void> {
  const client = await getContainerRuntimeClient();
  const found = await client.container.dockerode.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${label}`] } });
  await Promise.all(found.map((info) => client.container.dockerode.getContainer(info.Id).remove({ force: true, v: true })));
}

/**
 * Runs a tool inside the container as `sh -c SCRIPT argv0 STDIN_FILE TOOL ARGS...`: arguments stay
 * argv, never shell text. `docker exec` has no stdin, so the bytes are copied into the container
 * first; and testcontainers decodes exec output as UTF-8 text, which corrupts binary output
 * (pg_dump -Fc), so the tool writes to a file that is sent back base64-encoded.
 */
const RUN_TOOL_SCRIPT = `
in=$1; shift
out=$(mktemp) || exit 125
trap 'rm -f -- "$out" \${in:+"$in"}' EXIT
"$@" <"\${in:-/dev/null}" >"$out"
code=$?
base64 "$out" || code=125
exit "$code"
`;

function containerTools(container: StartedPostgreSqlContainer): ClientTools {
  return {
    location: `container ${shortId(container)}`,
    async run(tool: ClientTool, args: readonly string[], run: ToolRun): Promise<ToolResult> {
      let stdinFile = '';
      if (run.stdin !== undefined) {
        stdinFile = `/tmp/erp-rehearsal-stdin-${randomBytes(8).toString('hex')}`;
        await container.copyContentToContainer([{ content: run.stdin, target: stdinFile, mode: 0o600 }]);
      }
      const result = await container.exec(['sh', '-c', RUN_TOOL_SCRIPT, 'erp-rehearsal-tool', stdinFile, tool, ...args], {
        // The tools reach the server over TCP inside the container, authenticating as `run.login`.
        env: {
          PGHOST: '127.0.0.1',
          PGPORT: String(POSTGRES_PORT),
          PGUSER: run.login.user,
          PGPASSWORD: run.login.password,
          PGDATABASE: run.database,
          PGAPPNAME: run.applicationName ?? 'erp-rehearsal',
          ...(run.options ? { PGOPTIONS: run.options } : {}),
        },
      });
      return { exitCode: result.exitCode, stdout: run.discardStdout ? Buffer.alloc(0) : Buffer.from(result.stdout, 'base64'), stderr: result.stderr };
    },
    async stage(name: string, content: Buffer | string): Promise<string> {
      const target = `/tmp/erp-rehearsal-staged-${randomBytes(8).toString('hex')}-${basename(name)}`;
      await container.copyContentToContainer([{ content, target, mode: 0o600 }]);
      return target;
    },
    async unstage(path: string): Promise<void> {
      await container.exec(['rm', '-f', '--', path]);
    },
  };
}

async function explainStartFailure(image: string, err: unknown): Promise<string> {
  const cause = messageOf(err);
  if (!(await dockerAvailable())) {
    return `cannot start PostgreSQL image ${image}: no Docker engine answers (start one: bash .ci/install-docker.sh): ${cause}`;
  }
  const client = await getContainerRuntimeClient();
  const present = await client.image.exists(ImageName.fromString(image)).catch(() => true);
  if (!present) {
    return (
      `PostgreSQL image ${image} is not on this Docker engine and could not be pulled (${cause}): ` +
      'build one with `bash .ci/build-postgres-image.sh` and set ERP_REHEARSAL_PG_IMAGE=erp-rehearsal/postgres:15, ' +
      'or set ERP_REHEARSAL_PG_IMAGE to an image this engine has'
    );
  }
  return `PostgreSQL container from image ${image} failed to start (run with DEBUG=testcontainers* for details): ${cause}`;
}

function shortId(container: StartedPostgreSqlContainer): string {
  return container.getId().slice(0, 12);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
