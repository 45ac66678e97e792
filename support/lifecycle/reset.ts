import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Client } from 'pg';
import type { InstanceNames } from '../naming';
import type { ClientTools, Endpoint, Login } from '../postgres/cluster';
import { connect, ident } from '../postgres/connect';
import type { Golden } from './golden';
import { findDrift, type DriftObject } from './snapshot';

/**
 * The sandbox reset of ADR-0003 §2: `DROP OWNED BY <owner role> CASCADE` and the golden's restore
 * (`pg_restore --no-owner --role=<owner role>`, owned entries only) in ONE transaction, run with the
 * sandbox's own login role — never the provisioner, never a prod credential.
 *
 * Around it: a session-level advisory lock (resets serialize), a refusal while other sessions use the
 * database (an optional pre-reset command may clear them; the post-reset command always runs), and a
 * refusal when objects the reset cannot see (ownership drift) are in the database.
 */

/** Resets name their sessions so they recognise each other; see `otherSessions`. */
export const RESET_APPLICATION = 'erp-rehearsal reset';
// pg_advisory_lock(int, int) key: "ERPR" and the reset lock's number. Advisory locks are per database.
const LOCK_CLASS = 0x45525052;
const SESSION_POLL_MS = 100;
const LOCK_RESET = 1;

export interface ResetOptions {
  readonly endpoint: Endpoint;
  readonly tools: ClientTools;
  /** The sandbox's login role: a member of the sandbox owner role and nothing else. */
  readonly login: Login;
  readonly sandbox: InstanceNames;
  readonly golden: Golden;
  /** How long to wait for another reset before giving up. */
  readonly lockTimeoutMs?: number;
  /** How long other sessions get to go away before the reset refuses; default 2 s. */
  readonly sessionGraceMs?: number;
  /** Shell command run before the reset, e.g. scaling Dolibarr to 0 so its sessions go away. */
  readonly preResetCommand?: string;
  /** Shell command run after the reset, whatever its outcome, e.g. scaling Dolibarr back up. */
  readonly postResetCommand?: string;
  /** Drop drift owned by the reset's own login role instead of refusing. Drift of other roles still refuses. */
  readonly dropOwnDrift?: boolean;
  readonly progress?: (line: string) => void;
}

export interface ResetResult {
  readonly durationMs: number;
  /** Time spent waiting for another reset to finish. */
  readonly lockWaitMs: number;
  readonly droppedDrift: readonly DriftObject[];
}

export type RefusalReason = 'lock timeout' | 'sessions' | 'drift';

/** The reset did not start: nothing was changed. */
export class ResetRefusedError extends Error {
  override readonly name = 'ResetRefusedError';
  constructor(
    readonly reason: RefusalReason,
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(details.length > 0 ? `${message}:\n${details.map((line) => `  - ${line}`).join('\n')}` : message);
  }
}

/** The reset started and failed; its transaction was rolled back, so the sandbox is as it was. */
export class ResetFailedError extends Error {
  override readonly name = 'ResetFailedError';
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

interface Session {
  readonly pid: number;
  readonly user: string;
  readonly application: string;
  readonly client: string;
  readonly since: string;
}

async function acquireLock(client: Client, timeoutMs: number, progress: (line: string) => void): Promise<number> {
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_CLASS, LOCK_RESET]);
  if (rows[0]!.locked) return 0;
  progress(`another reset of this sandbox is running; waiting up to ${timeoutMs / 1000} s for it`);
  const started = Date.now();
  await client.query(`SET lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_CLASS, LOCK_RESET]);
  } catch (error) {
    if ((error as { code?: string }).code !== '55P03') throw error;
    throw new ResetRefusedError(
      'lock timeout',
      `another reset held the sandbox's reset lock for more than ${timeoutMs / 1000} s; nothing was changed — retry when it has finished`,
    );
  } finally {
    await client.query('RESET lock_timeout');
  }
  return Date.now() - started;
}

/**
 * Sessions on the sandbox database other than this one and other resets' (those wait for the lock, or are
 * the backend of a reset that has just finished and is still exiting).
 */
async function sessionsNow(client: Client): Promise<Session[]> {
  const { rows } = await client.query<Session>(
    `SELECT pid, coalesce(usename, '?') AS user, application_name AS application,
            coalesce(host(client_addr), 'local socket') AS client, to_char(backend_start, 'YYYY-MM-DD HH24:MI:SS') AS since
       FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> $1
      ORDER BY pid`,
    [RESET_APPLICATION],
  );
  return rows;
}

/**
 * The other sessions, after a grace period: a client that has just disconnected (the step before the
 * reset, or Dolibarr scaled to 0 by the pre-reset command) leaves pg_stat_activity only once its backend
 * has exited, a moment later. Sessions still there when the grace period ends are real.
 */
async function otherSessions(client: Client, graceMs: number): Promise<Session[]> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const sessions = await sessionsNow(client);
    if (sessions.length === 0 || Date.now() >= deadline) return sessions;
    await new Promise((resolve) => setTimeout(resolve, SESSION_POLL_MS));
  }
}

function runCommand(what: string, command: string, progress: (line: string) => void): Promise<void> {
  progress(`${what}: ${command}`);
  return new Promise((resolve, reject) => {
    // Its output goes to stderr with the harness's progress (through the redaction point), never into a report.
    const child = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child.once('error', reject);
    child.once('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${what} command failed (${signal ?? `exit ${code}`}): ${command}`)),
    );
  });
}

/** Restore scripts already staged where the tools run, per cluster, golden and owner role. */
const stagedScripts = new WeakMap<ClientTools, WeakMap<Golden, Map<string, Promise<string>>>>();

/**
 * The SQL the transaction replays — pg_restore's script of the golden's owned entries, as the owner
 * role — staged where the tools run. Made once per golden and role: writing it reads the archive and
 * connects to nothing, and every later reset of the run replays the same file.
 */
function stagedRestoreScript(options: ResetOptions): Promise<string> {
  const { tools, golden } = options;
  const byGolden = stagedScripts.get(tools) ?? new WeakMap<Golden, Map<string, Promise<string>>>();
  stagedScripts.set(tools, byGolden);
  const byRole = byGolden.get(golden) ?? new Map<string, Promise<string>>();
  byGolden.set(golden, byRole);
  let script = byRole.get(options.sandbox.ownerRole);
  if (!script) {
    script = writeRestoreScript(options);
    // A failed attempt is not remembered: the next reset tries again and reports again.
    script.catch(() => byRole.delete(options.sandbox.ownerRole));
    byRole.set(options.sandbox.ownerRole, script);
  }
  return script;
}

async function writeRestoreScript(options: ResetOptions): Promise<string> {
  const { tools } = options;
  const [archive, list] = await Promise.all([
    tools.stage('golden.dump', await readFile(options.golden.archivePath)),
    tools.stage('golden.list', await readFile(options.golden.listPath)),
  ]);
  try {
    const result = await tools.run(
      'pg_restore',
      ['--no-owner', `--role=${options.sandbox.ownerRole}`, `--use-list=${list}`, '--file=-', archive],
      { login: options.login, database: options.sandbox.database },
    );
    if (result.exitCode !== 0) {
      throw new ResetFailedError(`the golden in ${options.golden.dir} cannot be read; nothing was changed: ${result.stderr.trim()}`, result.stderr);
    }
    return await tools.stage('restore.sql', result.stdout);
  } finally {
    await Promise.all([tools.unstage(archive), tools.unstage(list)]);
  }
}

/**
 * psql's arguments for the reset transaction. The commands run in order in one session; ON_ERROR_STOP
 * ends psql at the first error, before COMMIT, so a reset that fails anywhere — or a script cut short —
 * is rolled back by PostgreSQL when the session ends.
 */
function resetTransaction(ownerRole: string, dropOwnDrift: boolean, script: string): string[] {
  return [
    '--no-psqlrc',
    '--quiet',
    '--set=ON_ERROR_STOP=1',
    '--command=BEGIN',
    ...(dropOwnDrift ? ['--command=DROP OWNED BY CURRENT_USER CASCADE'] : []),
    `--command=DROP OWNED BY ${ident(ownerRole)} CASCADE`,
    `--file=${script}`,
    '--command=COMMIT',
  ];
}

/** One line per drift object, as refusals and reports name them. */
export function describeDrift(drift: readonly DriftObject[]): string[] {
  return drift.map((object) => `${object.kind} ${object.name} owned by ${object.owner}`);
}

export async function resetSandbox(options: ResetOptions): Promise<ResetResult> {
  const progress = options.progress ?? (() => undefined);
  let outcome: ResetResult | undefined;
  try {
    outcome = await resetWithCommands(options, progress);
    return outcome;
  } finally {
    if (options.postResetCommand) {
      // Always run; its own failure is reported without hiding the reset's.
      await runCommand('post-reset', options.postResetCommand, progress).catch((error: Error) => {
        if (outcome) throw error;
        progress(error.message);
      });
    }
  }
}

async function resetWithCommands(options: ResetOptions, progress: (line: string) => void): Promise<ResetResult> {
  const started = Date.now();
  if (options.preResetCommand) await runCommand('pre-reset', options.preResetCommand, progress);
  const client = await connect(options.endpoint, options.login, options.sandbox.database, { applicationName: RESET_APPLICATION });
  try {
    const lockWaitMs = await acquireLock(client, options.lockTimeoutMs ?? 60_000, progress);

    const sessions = await otherSessions(client, options.sessionGraceMs ?? 2_000);
    if (sessions.length > 0) {
      throw new ResetRefusedError(
        'sessions',
        `${sessions.length} other session(s) use ${options.sandbox.database}; nothing was changed — stop them ` +
          '(e.g. scale Dolibarr to 0 with a pre-reset command) and retry',
        sessions.map((session) => `pid ${session.pid} ${session.user} (${session.application || 'no application name'}) from ${session.client} since ${session.since}`),
      );
    }

    const drift = await findDrift(client, { ownerRole: options.sandbox.ownerRole });
    const own = drift.filter((object) => object.owner === options.login.user);
    const blocking = options.dropOwnDrift ? drift.filter((object) => object.owner !== options.login.user) : drift;
    if (blocking.length > 0) {
      throw new ResetRefusedError(
        'drift',
        `objects in ${options.sandbox.database} are not owned by ${options.sandbox.ownerRole}, so DROP OWNED BY would leave them ` +
          'and the reset could not return to the golden; nothing was changed — drop them (their owner can), ' +
          'or let the reset drop those of its own login role',
        describeDrift(blocking),
      );
    }

    const script = await stagedRestoreScript(options);
    progress(`restoring ${options.golden.manifest.restoredEntries} golden entries into ${options.sandbox.database} in one transaction`);
    const result = await options.tools.run(
      'psql',
      resetTransaction(options.sandbox.ownerRole, options.dropOwnDrift === true && own.length > 0, script),
      // Named like the lock session: a reset that takes the lock next may still see this backend exiting.
      { login: options.login, database: options.sandbox.database, applicationName: RESET_APPLICATION },
    );
    if (result.exitCode !== 0) {
      const first = result.stderr.split('\n').find((line) => line.includes('ERROR')) ?? result.stderr.trim();
      throw new ResetFailedError(`the reset failed and was rolled back, so the sandbox is as it was: ${first}`, result.stderr);
    }
    return { durationMs: Date.now() - started, lockWaitMs, droppedDrift: options.dropOwnDrift ? own : [] };
  } finally {
    await client.end(); // releases the advisory lock
  }
}
