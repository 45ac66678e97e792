import { registerSecret } from '../redaction';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, createWriteStream, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
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
import { dyingWithHarness } from '../process/die-with-harness';
import { pidRunning } from '../process/liveness';
import { createWorkDir } from '../process/work-dirs';

export interface LocalClusterOptions {
  /** Directory holding initdb, postgres and the client tools (see findLocalBinaries). */
  readonly bindir: string;
  /** OS user the server runs as when the harness runs as root (initdb and postgres refuse root). */
  readonly osUser: string;
  /** Extra server settings, e.g. { log_statement: 'all' }. */
  readonly settings?: Readonly<Record<string, string>>;
  /** Lines of progress for the operator. */
  readonly progress?: (line: string) => void;
}

interface OsIdentity {
  readonly uid: number;
  readonly gid: number;
}

const READY = 'database system is ready to accept connections';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const PORT_ATTEMPTS = 3;

/** uid/gid of `user` from /etc/passwd, or undefined when the harness is not root (no switch needed). */
function identityFor(user: string): OsIdentity | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === user);
  if (!entry) {
    throw new ClusterStartError(
      `the harness runs as root and PostgreSQL refuses to, but OS user "${user}" does not exist: ` +
        `create it (useradd --system ${user}) or name another with ERP_REHEARSAL_PG_OS_USER`,
    );
  }
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function run(program: string, args: string[], identity: OsIdentity | undefined): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const { command, args: argv } = dyingWithHarness(program, args);
    const child = spawn(command, argv, { ...identity, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** The server's log, kept in a file for the operator and its tail in memory for error messages. */
class ServerLog {
  private tail: string[] = [];
  private readonly file;

  constructor(readonly path: string) {
    this.file = createWriteStream(path, { flags: 'a' });
  }

  write(chunk: Buffer): void {
    this.file.write(chunk);
    this.tail.push(...chunk.toString().split('\n').filter(Boolean));
    this.tail = this.tail.slice(-20);
  }

  lastLines(): string {
    return this.tail.join('\n');
  }

  close(): void {
    this.file.end();
  }
}

/** Starts `postgres` and resolves once it accepts connections; rejects with its log if it dies first. */
function startServer(
  bindir: string,
  dataDir: string,
  socketDir: string,
  port: number,
  settings: Readonly<Record<string, string>>,
  identity: OsIdentity | undefined,
  log: ServerLog,
): Promise<ChildProcess> {
  const args = [
    '-D',
    dataDir,
    '-p',
    String(port),
    ...settingArgs({
      listen_addresses: '127.0.0.1',
      unix_socket_directories: socketDir,
      // Dynamic shared memory in files of the data directory, not in the machine's /dev/shm: a server killed with
      // SIGKILL leaves its segments behind, and only a new server on the same data directory would remove them (a
      // container's server has a /dev/shm of its own, gone with the container).
      dynamic_shared_memory_type: 'mmap',
      ...THROWAWAY_SETTINGS,
      ...settings,
    }),
  ];
  // A throwaway cluster dies with the harness rather than outlive it holding a port and a copy of the data: after a
  // SIGKILL the kernel stops it (see die-with-harness.ts), and the next run removes its directory (stopLeftoverServer).
  const { command, args: argv } = dyingWithHarness(join(bindir, 'postgres'), args);
  const server = spawn(command, argv, { ...identity, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      server.kill('SIGKILL');
      reject(new ClusterStartError(`postgres did not become ready within ${START_TIMEOUT_MS / 1000} s:\n${log.lastLines()}`));
    }, START_TIMEOUT_MS);
    const onOutput = (chunk: Buffer) => {
      log.write(chunk);
      if (chunk.toString().includes(READY)) {
        clearTimeout(timer);
        resolve(server);
      }
    };
    server.stdout!.on('data', onOutput);
    server.stderr!.on('data', onOutput);
    server.once('error', (error) => {
      clearTimeout(timer);
      reject(new ClusterStartError(`could not run ${join(bindir, 'postgres')}: ${error.message}`));
    });
    server.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new ClusterStartError(`postgres exited (${signal ?? `code ${code}`}) before it was ready:\n${log.lastLines()}`));
    });
  });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Whether `pid` is a server of `dataDir`: the postmaster works in its data directory (a pid reused since does not). */
function serverOf(pid: number, dataDir: string): boolean {
  try {
    return readlinkSync(`/proc/${pid}/cwd`) === realpathSync(dataDir);
  } catch {
    return false;
  }
}

async function ended(pid: number, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (!pidRunning(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !pidRunning(pid);
}

/** Removes System V shared memory segment `shmid` when nothing is attached to it any more (/proc/sysvipc/shm says). */
function removeDetachedSegment(key: string, shmid: string): boolean {
  let table: string;
  try {
    table = readFileSync('/proc/sysvipc/shm', 'utf8');
  } catch {
    return false;
  }
  // Columns: key shmid perms size cpid lpid nattch …; postmaster.pid gives the key in decimal, as this table does.
  const row = table.split('\n').slice(1).map((line) => line.trim().split(/\s+/)).find((fields) => fields[0] === key && fields[1] === shmid);
  if (!row || row[6] !== '0') return false;
  return spawnSync('ipcrm', ['-m', shmid], { stdio: 'ignore' }).status === 0;
}

/**
 * Stops the server a dead run left in its cluster directory `root`, when one still runs there (a harness that could not
 * make its children die with it): `postmaster.pid` names it, and only a process working in that data directory is
 * signalled — immediate shutdown (SIGQUIT), then SIGKILL. Removes the shared memory segment a killed server leaves.
 * The caller then removes the directory.
 */
export async function stopLeftoverServer(root: string, progress: (line: string) => void): Promise<void> {
  const dataDir = join(root, 'data');
  let lines: string[];
  try {
    lines = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return; // never started, or stopped cleanly
  }
  const pid = Number(lines[0]);
  if (Number.isInteger(pid) && pid > 0 && pidRunning(pid) && serverOf(pid, dataDir)) {
    progress(`stopping the PostgreSQL server (pid ${pid}) a run that is gone left in ${root}`);
    process.kill(pid, 'SIGQUIT');
    if (!(await ended(pid, STOP_TIMEOUT_MS))) {
      process.kill(pid, 'SIGKILL');
      if (!(await ended(pid, STOP_TIMEOUT_MS))) throw new Error(`the server (pid ${pid}) does not stop: stop it by hand (kill -KILL ${pid})`);
    }
  }
  const [key, shmid] = (lines[6] ?? '').trim().split(/\s+/);
  if (key && shmid && removeDetachedSegment(key, shmid)) progress(`removed the shared memory segment ${shmid} of the server a run that is gone left in ${root}`);
}

/** The machine's client tools, reaching the server at `endpoint` (with its TLS settings, if any). */
export class LocalTools implements ClientTools {
  private staged = 0;

  constructor(
    private readonly bindir: string,
    private readonly endpoint: Endpoint,
    private readonly stagingDir: string,
  ) {}

  async stage(name: string, content: Buffer | string): Promise<string> {
    const path = join(this.stagingDir, `${++this.staged}-${basename(name)}`);
    await writeFile(path, content, { mode: 0o600 });
    return path;
  }

  async unstage(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  get location(): string {
    return this.bindir;
  }

  run(tool: ClientTool, args: readonly string[], run: ToolRun): Promise<ToolResult> {
    return new Promise((resolve, reject) => {
      // The tool dies with the harness: a psql left running would hold the sandbox's locks in its open transaction.
      const { command, args: argv } = dyingWithHarness(join(this.bindir, tool), args);
      const child = spawn(command, argv, {
        // Discarded output goes straight to /dev/null, not through a pipe this process would drain.
        stdio: ['pipe', run.discardStdout ? 'ignore' : 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH,
          PGHOST: this.endpoint.host,
          PGPORT: String(this.endpoint.port),
          PGUSER: run.login.user,
          PGPASSWORD: run.login.password,
          PGDATABASE: run.database,
          PGAPPNAME: run.applicationName ?? 'erp-rehearsal',
          PGCONNECT_TIMEOUT: '15',
          ...(this.endpoint.tls ? { PGSSLMODE: this.endpoint.tls.mode, ...(this.endpoint.tls.caFile ? { PGSSLROOTCERT: this.endpoint.tls.caFile } : {}) } : {}),
          ...(run.options ? { PGOPTIONS: run.options } : {}),
        },
      });
      const stdout: Buffer[] = [];
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', reject);
      child.once('close', (code) => resolve({ exitCode: code ?? 1, stdout: Buffer.concat(stdout), stderr }));
      // A tool may exit before reading all of its input (e.g. on a connection error); that is reported
      // through its exit code and stderr, not as an EPIPE here.
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(run.stdin ?? '');
    });
  }
}

/**
 * A private cluster from the machine's PostgreSQL binaries: initdb into a temp dir, scram
 * authentication, loopback on a free port, run as an unprivileged OS user when the harness is root,
 * and removed at stop, at exit and on SIGINT/SIGTERM.
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<PostgresCluster> {
  const progress = options.progress ?? (() => undefined);
  const identity = identityFor(options.osUser);
  const root = createWorkDir('pg');
  const dataDir = join(root, 'data');
  if (identity) chownSync(root, identity.uid, identity.gid);

  let server: ChildProcess | undefined;
  let stopped = false;
  const log = new ServerLog(join(root, 'postgres.log'));
  // Retries: a server killed a moment ago may still be writing into the directory.
  const removeFiles = () => rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  const unregister = registerTeardown({
    name: `local PostgreSQL in ${root}`,
    stop: () => stop(),
    lastResort: () => {
      server?.kill('SIGKILL');
      removeFiles();
    },
  });

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    if (server) {
      server.kill('SIGINT'); // fast shutdown: roll back open transactions, close sessions
      if (!(await waitForExit(server, STOP_TIMEOUT_MS))) {
        server.kill('SIGKILL');
        await waitForExit(server, STOP_TIMEOUT_MS);
      }
    }
    log.close();
    removeFiles();
    unregister();
  }

  try {
    const superuser: Login = { user: 'postgres', password: randomBytes(24).toString('base64url') };
    registerSecret(superuser.password);
    const pwfile = join(root, 'superuser.pw');
    writeFileSync(pwfile, superuser.password, { mode: 0o600 });
    if (identity) chownSync(pwfile, identity.uid, identity.gid);
    const initdb = await run(
      join(options.bindir, 'initdb'),
      ['-D', dataDir, '-U', superuser.user, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
      identity,
    );
    rmSync(pwfile);
    if (initdb.code !== 0) throw new ClusterStartError(`initdb failed (exit ${initdb.code}):\n${initdb.output.trim()}`);

    let endpoint: Endpoint | undefined;
    for (let attempt = 1; !endpoint; attempt++) {
      const port = await freePort();
      try {
        server = await startServer(options.bindir, dataDir, root, port, options.settings ?? {}, identity, log);
        endpoint = { host: '127.0.0.1', port };
      } catch (error) {
        // Another process may take the port between probing and binding; try another one.
        if (attempt >= PORT_ATTEMPTS || !log.lastLines().includes('could not bind')) throw error;
      }
    }
    const serverVersion = await withClient(endpoint, superuser, 'postgres', readServerVersion);
    progress(`data directory ${root}`);
    return {
      provider: 'local',
      serverVersion,
      endpoint,
      superuser,
      tools: new LocalTools(options.bindir, endpoint, mkdtempSync(join(root, 'staged-'))),
      serverLogPath: log.path,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
