import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { InstanceNames } from '../naming';
import type { ClientTools, Endpoint, Login } from '../postgres/cluster';
import { LOCKS } from '../postgres/advisory-lock';
import { shellDyingWithHarness } from '../process/die-with-harness';
import { environmentWithoutSecrets } from '../secret-free-env';
import { connect, ident } from '../postgres/connect';
import { describeDrift, findDrift, type DriftObject } from '../postgres/drift';
import type { Golden } from './golden';
import { dropAsOwner, droppableDeadDrift, type DeadDrift } from './dead-drift';
import { commandDigest, describeKilledReset, markResetStarted, resetMarkers } from './reset-marker';
import { watchRestore } from './restore-progress';
import { joinEntries } from './restore-script';
import {
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_SESSION_GRACE_MS,
  lockForReset,
  RefusedError,
  refuseWhileInUse,
  RESET_APPLICATION,
  resetSessionsWithoutLock,
  type ResetGuard,
} from './sandbox-sessions';

/**
 * The sandbox reset of ADR-0003 §2: `DROP OWNED BY <owner role> CASCADE` and the golden's restore as the owner role in
 * ONE transaction, run with the sandbox's own login role, so a reset that fails anywhere changes nothing and needs
 * neither the provisioner nor a prod credential. A reset whose harness is killed leaves nothing the next one does not
 * clear (die-with-harness.ts, reset-marker.ts, sandbox-sessions.ts).
 */

export interface ResetOptions {
  readonly endpoint: Endpoint;
  readonly tools: ClientTools;
  /** The sandbox's login role: a member of the sandbox owner role and nothing else. */
  readonly login: Login;
  readonly sandbox: InstanceNames;
  readonly golden: Golden;
  /** How long to wait for another reset before giving up, and for each lock the reset transaction takes (lock_timeout). */
  readonly lockTimeoutMs?: number;
  /** How long other sessions get to go away before the reset refuses; default 2 s. */
  readonly sessionGraceMs?: number;
  /** Shell command run before the reset, e.g. scaling Dolibarr to 0 so its sessions go away. */
  readonly preResetCommand?: string;
  /** Shell command run after the reset, whatever its outcome, e.g. scaling Dolibarr back up. */
  readonly postResetCommand?: string;
  /** Drop drift owned by the reset's own login role instead of refusing. Drift of other roles still refuses. */
  readonly dropOwnDrift?: boolean;
  /** Harness logins the caller knows are dead (a ledger's logins of runs that are gone); see dropDeadDrift. */
  readonly deadLogins?: readonly string[];
  /**
   * Drop, as the owner role, drift made by harness logins that are dead — those of deadLogins, and those whose
   * VALID UNTIL has passed — in schemas the owner role owns (see dead-drift.ts), each named in the result. Without it
   * such drift refuses, saying it can be dropped. Drift of anyone else always refuses.
   */
  readonly dropDeadDrift?: boolean;
  /**
   * Where the reset leaves its marker while it runs (reset-marker.ts): a reset killed between its pre- and post-reset
   * commands is found by the next one, which runs the post-reset command first. Without it, nothing is marked.
   */
  readonly stateDir?: string;
  /**
   * `atomic` (default): DROP OWNED and the restore in one transaction, so a failed reset changes nothing.
   * `parallel`: opt-in, faster on large goldens and NOT atomic: DROP OWNED commits first, then `pg_restore --jobs`
   * restores in several sessions; a failure part-way leaves the sandbox partly restored until the next reset.
   */
  readonly mode?: ResetMode;
  /** Sessions of a parallel reset's pg_restore; default 2. */
  readonly jobs?: number;
  readonly progress?: (line: string) => void;
  /** Called every second with the restore's progress (entry of the golden reached, rows copied): for a terminal. */
  readonly everySecond?: (line: string) => void;
}

export type ResetMode = 'atomic' | 'parallel';

export interface ResetResult {
  readonly durationMs: number;
  /** Time spent waiting for another reset to finish. */
  readonly lockWaitMs: number;
  /** Drift the reset dropped: its own login's (dropOwnDrift) and dead logins' (dropDeadDrift). */
  readonly droppedDrift: readonly DriftObject[];
}

export type RefusalReason = 'lock timeout' | 'sessions' | 'drift';

/** The reset did not start: nothing was changed. */
export class ResetRefusedError extends RefusedError<RefusalReason> {
  override readonly name = 'ResetRefusedError';
}

/** The atomic and parallel resets' lock and session refusal (sandbox-sessions.ts), in the sandbox's own database. */
const RESET_GUARD: ResetGuard = {
  lock: LOCKS.reset,
  named: { reset: 'reset', lock: "the sandbox's reset lock" },
  stopThem: 'e.g. scale Dolibarr to 0 with a pre-reset command',
  sessionLines: 'where from',
  refusal: ResetRefusedError,
};

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

function runCommand(what: string, command: string, progress: (line: string) => void): Promise<void> {
  progress(`${what}: ${command}`);
  return new Promise((resolve, reject) => {
    // Its output goes to stderr with the harness's progress (through the redaction point), never into a report.
    // It gets the harness's environment without its secrets (the Vault token, JWTs, passwords): it brings its own.
    // It dies with the harness (a hook's own children should be exec'd, or end by themselves).
    const shell = shellDyingWithHarness(command);
    const child = spawn(shell.command, shell.args, { stdio: ['ignore', 'pipe', 'pipe'], env: environmentWithoutSecrets() });
    child.stdout!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child.once('error', reject);
    child.once('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${what} command failed (${signal ?? `exit ${code}`}): ${command}`)),
    );
  });
}

/** The golden's files as staged where the tools run: the archive and its owned entries' list. */
export interface StagedGolden {
  readonly archive: string;
  readonly list: string;
  readonly listLines: readonly string[];
}

/** What is already staged, per cluster, golden and owner role. */
const staged = new WeakMap<ClientTools, WeakMap<Golden, Map<string, Promise<unknown>>>>();

/**
 * Made once per cluster, golden and key (`make` reads the archive and connects to nothing, and every later
 * reset of the run uses the same files). A failed attempt is not remembered: the next reset tries again.
 */
function once<T>(tools: ClientTools, golden: Golden, key: string, make: () => Promise<T>): Promise<T> {
  const byGolden = staged.get(tools) ?? new WeakMap<Golden, Map<string, Promise<unknown>>>();
  staged.set(tools, byGolden);
  const byKey = byGolden.get(golden) ?? new Map<string, Promise<unknown>>();
  byGolden.set(golden, byKey);
  let made = byKey.get(key) as Promise<T> | undefined;
  if (!made) {
    made = make();
    made.catch(() => byKey.delete(key));
    byKey.set(key, made);
  }
  return made;
}

/** The golden's archive and list, staged once per cluster and golden for every reset (and clone build) of the run. */
export function stagedGolden(tools: ClientTools, golden: Golden): Promise<StagedGolden> {
  return once(tools, golden, 'archive', async () => {
    const listText = await readFile(golden.listPath, 'utf8');
    const [archive, list] = await Promise.all([tools.stage('golden.dump', await readFile(golden.archivePath)), tools.stage('golden.list', listText)]);
    return { archive, list, listLines: listText.split('\n').filter((line) => line.trim() !== '') };
  });
}

/**
 * The SQL the atomic reset replays — pg_restore's script of the golden's owned entries, as the owner role — staged
 * where the tools run, as its three sections: the schema's two (small, whatever the data) with their entries' statements
 * joined into fewer messages (restore-script.ts), and the data as pg_restore writes it.
 */
function stagedRestoreScripts(options: ResetOptions, golden: StagedGolden): Promise<string[]> {
  const { tools } = options;
  return once(tools, options.golden, `scripts as ${options.sandbox.ownerRole}`, async () => {
    const restore = async (section: 'pre-data' | 'data' | 'post-data', file?: string) => {
      const result = await tools.run(
        'pg_restore',
        ['--no-owner', `--role=${options.sandbox.ownerRole}`, `--use-list=${golden.list}`, `--section=${section}`, `--file=${file ?? '-'}`, golden.archive],
        { login: options.login, database: options.sandbox.database },
      );
      if (result.exitCode !== 0) {
        throw new ResetFailedError(`the golden in ${options.golden.dir} cannot be read; nothing was changed: ${result.stderr.trim()}`, result.stderr);
      }
      return result.stdout.toString('utf8');
    };
    // What was staged before a failure is unstaged with it.
    const staged: string[] = [];
    const stage = async (name: string, content: string) => {
      const path = await tools.stage(name, content);
      staged.push(path);
      return path;
    };
    try {
      const data = await stage('restore-data.sql', '');
      await restore('data', data);
      const schema = await stage('restore-pre-data.sql', joinEntries(await restore('pre-data')));
      const constraints = await stage('restore-post-data.sql', joinEntries(await restore('post-data')));
      return [schema, data, constraints];
    } catch (error) {
      for (const path of staged) await tools.unstage(path);
      throw error;
    }
  });
}

/** The drift a reset drops before the restore: its own login's (DROP OWNED BY CURRENT_USER), and dead logins'. */
interface Clearing {
  readonly own: boolean;
  readonly dead: readonly DeadDrift[];
}

/** How long the reset waits for any lock: the configured wait for another reset. */
const lockTimeoutOf = (options: ResetOptions) => options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;

/**
 * psql's commands that open the reset transaction and empty the sandbox: the drift it was asked to clear, then what
 * the owner role owns. Every lock they wait for is bounded by lock_timeout, so a session holding the sandbox's objects
 * (one a killed reset left among them) cannot hold the reset forever. (pg_restore's script then sets lock_timeout = 0
 * for itself, once DROP OWNED holds the locks that matter; it only creates objects.)
 */
function emptying(options: ResetOptions, clearing: Clearing): string[] {
  const { ownerRole } = options.sandbox;
  return [
    '--no-psqlrc',
    '--quiet',
    '--set=ON_ERROR_STOP=1',
    '--command=BEGIN',
    `--command=SET LOCAL lock_timeout = ${Math.max(1, Math.round(lockTimeoutOf(options)))}`,
    ...(clearing.own ? ['--command=DROP OWNED BY CURRENT_USER CASCADE'] : []),
    `--command=DROP OWNED BY ${ident(ownerRole)} CASCADE`,
    ...dropAsOwner(ownerRole, clearing.dead),
  ];
}

/**
 * psql's arguments for the reset transaction. The commands run in order in one session; ON_ERROR_STOP
 * ends psql at the first error, before COMMIT, so a reset that fails anywhere — or a script cut short —
 * is rolled back by PostgreSQL when the session ends.
 */
function resetTransaction(options: ResetOptions, clearing: Clearing, scripts: readonly string[]): string[] {
  return [...emptying(options, clearing), ...scripts.map((script) => `--file=${script}`), '--command=COMMIT'];
}

/** Why a reset transaction failed, from psql's stderr: its first error, and what to do when it is a lock's wait. */
function failureOf(options: ResetOptions, stderr: string): string {
  const first = firstError(stderr);
  if (!/lock timeout/.test(first)) return first;
  return `it waited more than ${lockTimeoutOf(options) / 1000} s for a lock on ${options.sandbox.database}'s objects (${first.trim()}): ` +
    'a session holds them — rehearse status names the sessions, a reset whose harness was killed among them — retry when it has ended';
}

export interface KilledResetLine {
  readonly ok: boolean;
  readonly text: string;
}

/**
 * Finds the resets of the sandbox that were killed before their post-reset command ran (their marker is in the state
 * directory, their process gone), says so, and runs the post-reset command configured now (`postCommand`) first, once
 * for them all; the markers are removed once it has run (or when there was none to run). A command that fails is
 * said, and the markers kept for the next command.
 */
export async function finishKilledResets(
  reset: { readonly stateDir: string; readonly database: string; readonly endpoint: Endpoint; readonly postCommand?: string },
  progress: (line: string) => void,
): Promise<KilledResetLine[]> {
  const killed = resetMarkers(reset.stateDir, reset.database, serverOf(reset.endpoint)).killed;
  if (killed.length === 0) return [];
  const lines: KilledResetLine[] = [];
  const said = killed.map(({ marker }) => describeKilledReset(marker)).join('; ');
  const owed = killed.filter(({ marker }) => marker.postCommandSha256 !== undefined);
  if (owed.length === 0) {
    lines.push({ ok: true, text: `${said}; it had no post-reset command to run (an atomic reset that did not commit left the sandbox as it was)` });
  } else if (reset.postCommand === undefined) {
    lines.push({ ok: false, text: `${said}, before its post-reset command ran, and none is configured now: run it by hand (e.g. scale the sandbox's Dolibarr back up)` });
  } else {
    const same = owed.every(({ marker }) => marker.postCommandSha256 === commandDigest(reset.postCommand!));
    progress(`${said}: running the post-reset command first`);
    try {
      await runCommand('post-reset of the killed reset', reset.postCommand, progress);
    } catch (error) {
      lines.push({ ok: false, text: `${said}, and its post-reset command failed now (${(error as Error).message}): fix it, then any reset or rehearse status runs it again` });
      for (const line of lines) progress(line.text);
      return lines;
    }
    lines.push({ ok: true, text: `${said}; the post-reset command has now run${same ? '' : ' (the one configured now, not the same as the killed reset\'s)'}: ${reset.postCommand}` });
  }
  for (const { path } of killed) rmSync(path, { force: true });
  for (const line of lines) progress(line.text);
  return lines;
}

/** The server a reset runs on, as its marker names it. */
const serverOf = (endpoint: Endpoint) => `${endpoint.host}:${endpoint.port}`;

export async function resetSandbox(options: ResetOptions): Promise<ResetResult> {
  const progress = options.progress ?? (() => undefined);
  const { stateDir } = options;
  if (stateDir !== undefined) {
    await finishKilledResets({
      stateDir, database: options.sandbox.database, endpoint: options.endpoint, ...(options.postResetCommand === undefined ? {} : { postCommand: options.postResetCommand }),
    }, progress);
  }
  // Written before the pre-reset command, removed after the post-reset command: a kill in between leaves it.
  const unmark = stateDir === undefined
    ? () => undefined
    : markResetStarted(stateDir, {
        database: options.sandbox.database, server: serverOf(options.endpoint),
        ...(options.postResetCommand === undefined ? {} : { postCommandSha256: commandDigest(options.postResetCommand) }),
      });
  let outcome: ResetResult | undefined;
  try {
    outcome = await resetWithCommands(options, progress);
    return outcome;
  } finally {
    try {
      if (options.postResetCommand) {
        // Always run; its own failure is reported without hiding the reset's.
        await runCommand('post-reset', options.postResetCommand, progress).catch((error: Error) => {
          if (outcome) throw error;
          progress(error.message);
        });
      }
    } finally {
      unmark();
    }
  }
}

/** The reset's own sessions: named like the lock session, since a reset that takes the lock next may still see them exiting. */
function asReset(options: ResetOptions) {
  return { login: options.login, database: options.sandbox.database, applicationName: RESET_APPLICATION };
}

function firstError(stderr: string): string {
  return stderr.split('\n').find((line) => line.includes('ERROR')) ?? stderr.trim();
}

async function restoreAtomically(options: ResetOptions, golden: StagedGolden, clearing: Clearing, progress: (line: string) => void): Promise<void> {
  const scripts = await stagedRestoreScripts(options, golden);
  progress(`restoring ${options.golden.manifest.restoredEntries} golden entries into ${options.sandbox.database} in one transaction`);
  const result = await options.tools.run('psql', resetTransaction(options, clearing, scripts), asReset(options));
  if (result.exitCode !== 0) {
    throw new ResetFailedError(`the reset failed and was rolled back, so the sandbox is as it was: ${failureOf(options, result.stderr)}`, result.stderr);
  }
}

/** DROP OWNED commits on its own; then pg_restore --jobs restores the golden's entries in several sessions. */
async function restoreInParallel(options: ResetOptions, golden: StagedGolden, clearing: Clearing, progress: (line: string) => void): Promise<void> {
  const jobs = options.jobs ?? 2;
  const drop = await options.tools.run('psql', [...emptying(options, clearing), '--command=COMMIT'], asReset(options));
  if (drop.exitCode !== 0) {
    throw new ResetFailedError(`the parallel reset could not drop the sandbox's objects; nothing was changed: ${failureOf(options, drop.stderr)}`, drop.stderr);
  }
  progress(`restoring ${options.golden.manifest.restoredEntries} golden entries into ${options.sandbox.database} with ${jobs} jobs (parallel reset: not atomic)`);
  const result = await options.tools.run(
    'pg_restore',
    ['--no-owner', `--role=${options.sandbox.ownerRole}`, '--exit-on-error', `--jobs=${jobs}`, `--use-list=${golden.list}`, `--dbname=${options.sandbox.database}`, golden.archive],
    asReset(options),
  );
  if (result.exitCode !== 0) {
    throw new ResetFailedError(
      `the parallel reset failed part-way and is not atomic: the sandbox is partly restored — reset it again before using it: ${firstError(result.stderr)}`,
      result.stderr,
    );
  }
}

async function resetWithCommands(options: ResetOptions, progress: (line: string) => void): Promise<ResetResult> {
  const started = Date.now();
  if (options.preResetCommand) await runCommand('pre-reset', options.preResetCommand, progress);
  const client = await connect(options.endpoint, options.login, options.sandbox.database, { applicationName: RESET_APPLICATION });
  try {
    const lockWaitMs = await lockForReset(client, RESET_GUARD, lockTimeoutOf(options), progress);
    // This reset holds the lock: another reset's session that is not waiting for it is one whose harness is gone.
    await refuseWhileInUse(RESET_GUARD, options.sandbox.database, () => resetSessionsWithoutLock(client), options.sessionGraceMs ?? DEFAULT_SESSION_GRACE_MS);

    const drift = await findDrift(client, { ownerRole: options.sandbox.ownerRole });
    const own = options.dropOwnDrift ? drift.filter((object) => object.owner === options.login.user) : [];
    const others = drift.filter((object) => object.owner !== options.login.user);
    const dead = others.length === 0 ? [] : await droppableDeadDrift(client, options.sandbox.ownerRole, others, options.deadLogins ?? []);
    const cleared: DriftObject[] = [...own, ...(options.dropDeadDrift ? dead : [])];
    const key = (object: DriftObject) => `${object.kind} ${object.name}`;
    const clearedKeys = new Set(cleared.map(key));
    const blocking = drift.filter((object) => !clearedKeys.has(key(object)));
    if (blocking.length > 0) {
      const deadNotAsked = options.dropDeadDrift ? 0 : dead.length;
      throw new ResetRefusedError(
        'drift',
        `objects in ${options.sandbox.database} are not owned by ${options.sandbox.ownerRole}, so DROP OWNED BY would leave them ` +
          'and the reset could not return to the golden; nothing was changed — drop them (their owner can), ' +
          'or let the reset drop those of its own login role' +
          (deadNotAsked > 0 ? `; ${deadNotAsked} of them were made by harness logins that are dead, which the reset drops as ${options.sandbox.ownerRole} when asked (rehearse reset --drop-dead-drift)` : ''),
        describeDrift(blocking),
      );
    }
    if (cleared.length > 0) progress(`dropping drift the reset was asked to clear: ${describeDrift(cleared).join('; ')}`);

    const golden = await stagedGolden(options.tools, options.golden);
    const clearing: Clearing = { own: own.length > 0, dead: options.dropDeadDrift ? dead : [] };
    const stopWatching = options.everySecond ? watchRestore(client, RESET_APPLICATION, golden.listLines, options.everySecond) : async () => undefined;
    try {
      if (options.mode === 'parallel') await restoreInParallel(options, golden, clearing, progress);
      else await restoreAtomically(options, golden, clearing, progress);
    } finally {
      await stopWatching();
    }
    return { durationMs: Date.now() - started, lockWaitMs, droppedDrift: cleared.map(({ kind, name, owner }) => ({ kind, name, owner })) };
  } finally {
    await client.end(); // releases the advisory lock
  }
}
