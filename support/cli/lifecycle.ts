import { join, resolve } from 'node:path';
import type { HarnessConfig } from '../config';
import { EXIT, isUnreachable, TargetUnreachableError } from '../gates/outcomes';
import { diffSnapshots } from '../lifecycle/diff';
import { makeGolden } from '../lifecycle/golden';
import { checkGoldenPlace, replaceGoldenDir, ROWS_DIR } from '../lifecycle/golden-dir';
import { ResetFailedError, ResetRefusedError, type ResetMode } from '../lifecycle/reset';
import { describeDrift } from '../postgres/drift';
import type { Snapshot } from '../lifecycle/snapshot';
import { checkSnapshotPlace, goldenState, readSnapshotFile, rowsDirOf, writeSnapshotFile } from '../lifecycle/snapshot-file';
import { stateWithRowsIn } from '../lifecycle/state';
import { TemplateCloneError } from '../lifecycle/template-clone-session';
import { renderDiffHtml } from '../promote/review-html';
import { renderDiffText, shouldColour } from '../promote/review';
import { makeWorkDir } from '../process/work-dirs';
import { writeRedacted } from '../redacted-files';
import { openGoldenSource } from '../targets/golden-source';
import { deadLedgerLogins, revokeLeftoverLogins } from '../targets/leftovers';
import { ledgerSweepOf } from '../targets/live';
import { resetTargetSandbox } from '../targets/reset';
import { closeTarget, openTarget } from '../targets/session';
import { sandboxStatus } from '../targets/status';
import type { Target } from '../targets/target';
import { cloneResetTargetSandbox, mintCloneLogin } from '../targets/template-clone';

/**
 * The operator's lifecycle commands, one verb each, on the hermetic or the live target: `golden` (prod read through
 * the read-only golden identity), `reset`, `snapshot`, `diff`, `status` (the sandbox, as its own identity). Results go
 * to stdout, progress to stderr. Exit 0 done (reset: at the golden's hash; status: healthy), 1 refused, failed or not
 * healthy, 2 configuration or usage, 4 the target could not be reached.
 */

export type Progress = (line: string) => void;
export type ResetChoice = ResetMode | 'clone';
export const RESET_MODES: readonly ResetChoice[] = ['atomic', 'parallel', 'clone'];

/** A lifecycle command that could not do what was asked for a reason the operator can act on: one line, exit 1. */
export class LifecycleRefusal extends Error {
  override readonly name = 'LifecycleRefusal';
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(2)} s`;
const print = (line: string) => process.stdout.write(`${line}\n`);

/** Runs `work`; an unreachable service is exit 4 (TargetUnreachableError), whenever it shows. */
async function reaching<T>(config: HarnessConfig, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUnreachable(error)) throw new TargetUnreachableError(config.target, error);
    throw error;
  }
}

/** Runs `work` on the configured target, always closed. */
function onTarget<T>(config: HarnessConfig, progress: Progress, work: (target: Target) => Promise<T>): Promise<T> {
  return reaching(config, async () => {
    try {
      return await work(await openTarget('runner', config.target, progress));
    } finally {
      await closeTarget('runner');
    }
  });
}

/** `rehearse golden --out DIR`: prod dumped read-only by the golden identity, swapped into DIR only once complete. */
export async function goldenCommand(out: string, config: HarnessConfig, progress: Progress): Promise<number> {
  const dir = resolve(out);
  // Said before anything reaches Vault or prod.
  checkGoldenPlace(dir);
  const started = Date.now();
  return reaching(config, async () => {
    const source = await openGoldenSource(config, progress);
    try {
      const { prod, endpoint, tools } = source;
      const reader = await source.mintReader();
      try {
        progress(`dumping ${prod.database} read-only as ${reader.user} (the golden identity)`);
        const everySecond = config.progressEverySecond ? progress : undefined;
        const golden = await replaceGoldenDir(dir, (partial) =>
          makeGolden({ endpoint, tools, login: reader, prod, dir: partial, rowsDir: join(partial, ROWS_DIR), ...(everySecond ? { everySecond } : {}) }), progress);
        print(`golden ${golden.manifest.root}`);
        print(`  of ${prod.database} (owner ${prod.ownerRole}), ${golden.manifest.restoredEntries} entries, PostgreSQL ${golden.manifest.serverVersion}, made ${golden.manifest.createdAt} in ${seconds(started)}`);
        print(`  in ${dir}`);
        return EXIT.green;
      } finally {
        await source.revoke(reader);
      }
    } finally {
      await source.close();
    }
  });
}

export interface ResetCommandOptions {
  /**
   * Drop, as the sandbox's owner role, the drift of harness logins that are dead (a killed run's, or past their VALID
   * UNTIL), naming each object; then revoke those logins' leases, which Vault could not while they owned objects.
   */
  readonly dropDeadDrift?: boolean;
}

/** `rehearse reset --mode M [--drop-dead-drift]`: the sandbox back to the golden, as the sandbox's identity (the clone's for `clone`). */
export async function resetCommand(mode: ResetChoice, config: HarnessConfig, progress: Progress, options: ResetCommandOptions = {}): Promise<number> {
  return onTarget(config, progress, async (target) => {
    const { sandbox, golden } = target;
    const login = await target.minter.mint(sandbox);
    try {
      const endpoint = target.endpointFor(sandbox.database);
      const before = await stateWithRowsIn(endpoint, login, sandbox, undefined);
      print(`before  ${before.root}${before.root === golden.manifest.root ? "  (already the golden's)" : ''}`);
      const started = Date.now();
      try {
        if (mode === 'clone') {
          const cloneLogin = await mintCloneLogin(target);
          try {
            await cloneResetTargetSandbox(target, cloneLogin, { progress });
          } finally {
            await target.minter.revoke(cloneLogin);
          }
        } else {
          const sweep = ledgerSweepOf(target);
          const result = await resetTargetSandbox(target, login, {
            mode, progress, ...(sweep ? { deadLogins: deadLedgerLogins(sweep) } : {}), ...(options.dropDeadDrift ? { dropDeadDrift: true } : {}),
          });
          for (const dropped of describeDrift(result.droppedDrift)) print(`dropped ${dropped}`);
          // Those logins own nothing now: Vault can drop them.
          if (sweep && result.droppedDrift.length > 0) await revokeLeftoverLogins(sweep, 'gone runs', progress, login);
        }
      } catch (error) {
        if (error instanceof ResetRefusedError) throw new LifecycleRefusal(`reset refused: ${error.message}`);
        if (error instanceof ResetFailedError) {
          throw new LifecycleRefusal(mode === 'atomic' ? `reset failed, and its transaction was rolled back: the sandbox is as it was (${before.root}): ${error.message}` : `reset failed: ${error.message}`);
        }
        if (error instanceof TemplateCloneError) throw new LifecycleRefusal(`clone reset failed: ${error.message}`);
        throw error;
      }
      const took = seconds(started);
      const after = await stateWithRowsIn(endpoint, login, sandbox, undefined);
      const atGolden = after.root === golden.manifest.root;
      print(`reset   ${mode} in ${took}`);
      print(`after   ${after.root}  ${atGolden ? "= the golden's" : `≠ the golden's ${golden.manifest.root}`}`);
      if (!atGolden) throw new LifecycleRefusal(`the reset finished but the sandbox is not at the golden's content hash: rehearse diff golden sandbox shows what differs`);
      return EXIT.green;
    } finally {
      await target.minter.revoke(login);
    }
  });
}

/** `rehearse snapshot [--out FILE]`: the sandbox's content hash and manifest (and row images beside FILE). */
export async function snapshotCommand(out: string | undefined, config: HarnessConfig, progress: Progress): Promise<number> {
  if (out !== undefined) checkSnapshotPlace(out);
  return onTarget(config, progress, async (target) => {
    const { sandbox } = target;
    const login = await target.minter.mint(sandbox);
    try {
      const started = Date.now();
      const rowsDir = out === undefined ? undefined : rowsDirOf(out);
      const state = await stateWithRowsIn(target.endpointFor(sandbox.database), login, sandbox, rowsDir, target.config.progressEverySecond ? progress : undefined);
      if (out !== undefined) writeSnapshotFile(out, state);
      const rows = state.entries.reduce((sum, entry) => sum + (entry.rows ?? 0), 0);
      print(`snapshot ${state.root}`);
      print(`  of ${sandbox.database}: ${state.entries.length} objects, ${rows} rows, ${state.drift.length} drift, in ${seconds(started)}`);
      print(`  the golden's is ${target.golden.manifest.root}: ${state.root === target.golden.manifest.root ? 'the same' : 'different'}`);
      if (out !== undefined) print(`  written to ${resolve(out)} (row images in ${rowsDirOf(out)})`);
      return EXIT.green;
    } finally {
      await target.minter.revoke(login);
    }
  });
}

/** A state `diff` compares: `golden`, `sandbox` (read now, with row images), or a snapshot file. */
async function stateNamed(name: string, target: Target, rowsRoot: string): Promise<Snapshot> {
  if (name === 'golden') return goldenState(target.golden.manifest, target.golden.dir, ROWS_DIR);
  if (name === 'sandbox') {
    const login = await target.minter.mint(target.sandbox);
    try {
      return await stateWithRowsIn(target.endpointFor(target.sandbox.database), login, target.sandbox, join(rowsRoot, 'sandbox'));
    } finally {
      await target.minter.revoke(login);
    }
  }
  return readSnapshotFile(name);
}

/** The states `diff` compares need a target only when one of them is `golden` or `sandbox`. */
const needsTarget = (name: string) => name === 'golden' || name === 'sandbox';

/** `rehearse diff A B [--html FILE]`: what changed from A to B, row by row where both kept row images. */
export async function diffCommand(from: string, to: string, html: string | undefined, config: HarnessConfig, progress: Progress): Promise<number> {
  // Files are checked first: a wrong path is said before any target is built.
  for (const name of [from, to]) if (!needsTarget(name)) readSnapshotFile(name);
  // The sandbox's row images: private, removed on every exit path, and by the next run after a kill.
  const rows = makeWorkDir('diff');
  const rowsRoot = rows.path;
  try {
    const compare = async (target?: Target) => {
      const states = [];
      for (const name of [from, to]) states.push(await (target ? stateNamed(name, target, rowsRoot) : readSnapshotFile(name)));
      const [a, b] = states as [Snapshot, Snapshot];
      const diff = { from: { name: from, root: a.root }, to: { name: to, root: b.root }, changes: (await diffSnapshots(a, b)).changes };
      process.stdout.write(`${renderDiffText(diff, { colour: shouldColour(process.stdout, process.env) })}\n`);
      if (html !== undefined) {
        writeRedacted(html, renderDiffHtml(diff));
        print(`the same diff as a page: ${resolve(html)}`);
      }
      return EXIT.green;
    };
    return needsTarget(from) || needsTarget(to) ? await onTarget(config, progress, compare) : await compare();
  } finally {
    rows.remove();
  }
}

export interface StatusCommandOptions {
  /** Revoke the leftover logins of runs not going on here, the operator's call for those this machine cannot judge. */
  readonly revoke?: boolean;
}

/** `rehearse status [--revoke]`: one line per check of the sandbox; exit 0 healthy, 1 not. */
export async function statusCommand(config: HarnessConfig, progress: Progress, options: StatusCommandOptions = {}): Promise<number> {
  return onTarget(config, progress, async (target) => {
    const leftovers = ledgerSweepOf(target);
    const status = await sandboxStatus(target, {
      ...(leftovers ? { leftovers } : {}),
      ...(options.revoke ? { revoke: true } : {}),
      ...(config.live ? { stateDir: config.live.stateDir, maxGoldenAgeHours: config.live.goldenMaxAgeHours } : {}),
    });
    print(`sandbox ${target.sandbox.database} on the ${target.kind} target`);
    for (const line of status.lines) print(`  ${line.ok ? 'ok     ' : 'PROBLEM'}  ${line.text}`);
    const problems = status.lines.filter((line) => !line.ok).length;
    print(status.healthy ? 'status: healthy' : `status: not healthy (${problems} problem${problems === 1 ? '' : 's'})`);
    return status.healthy ? EXIT.green : EXIT.failed;
  });
}
