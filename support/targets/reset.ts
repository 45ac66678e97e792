import type { Golden } from '../lifecycle/golden';
import { resetSandbox, type ResetMode, type ResetResult } from '../lifecycle/reset';
import { stateOf } from '../lifecycle/state';
import type { Login } from '../postgres/cluster';
import type { Target } from './target';

export interface TargetResetOptions {
  /** Another golden than the target's, e.g. a deliberately broken one. */
  readonly golden?: Golden;
  readonly dropOwnDrift?: boolean;
  /** Harness logins known to be dead, and whether to drop their drift as the owner role (see ResetOptions). */
  readonly deadLogins?: readonly string[];
  readonly dropDeadDrift?: boolean;
  /** The opt-in parallel reset (not atomic) instead of the atomic default, and its pg_restore jobs. */
  readonly mode?: ResetMode;
  readonly jobs?: number;
  readonly progress?: (line: string) => void;
  /** The restore's progress every second, e.g. on a terminal. */
  readonly everySecond?: (line: string) => void;
}

/** Resets the target's sandbox with `login`, using the target's golden and configured reset commands. */
export function resetTargetSandbox(target: Target, login: Login, options: TargetResetOptions = {}): Promise<ResetResult> {
  const { sandbox, config } = target;
  return resetSandbox({
    endpoint: target.endpointFor(sandbox.database),
    tools: target.tools,
    login,
    sandbox,
    golden: options.golden ?? target.golden,
    dropOwnDrift: options.dropOwnDrift,
    ...(options.deadLogins ? { deadLogins: options.deadLogins } : {}),
    ...(options.dropDeadDrift ? { dropDeadDrift: true } : {}),
    // Live: a reset killed between its pre- and post-reset commands is found by the next one (reset-marker.ts).
    ...(config.live ? { stateDir: config.live.stateDir } : {}),
    preResetCommand: config.reset.preCommand,
    postResetCommand: config.reset.postCommand,
    lockTimeoutMs: config.reset.lockTimeoutMs,
    progress: options.progress,
    ...(options.mode ? { mode: options.mode } : {}),
    ...(options.jobs ? { jobs: options.jobs } : {}),
    ...(options.everySecond ? { everySecond: options.everySecond } : config.progressEverySecond ? { everySecond: target.progress } : {}),
  });
}

/**
 * Puts the sandbox at the golden for a scenario that only needs to start there: its content hash is read first, and the
 * sandbox is reset only when that hash is not the golden's — then read again, and the step fails unless it is. Saves a
 * restore for every scenario that starts where the last one ended; a reset under test is a reset step of its own.
 * Returns what it saw and did, for the scenario's evidence.
 */
export async function ensureSandboxAtGolden(target: Target, login: Login): Promise<string> {
  const golden = target.golden.manifest.root;
  const hash = async () => (await stateOf(target.endpointFor(target.sandbox.database), login, target.sandbox)).root;
  const before = await hash();
  if (before === golden) return `the sandbox was at the golden already (hash ${golden.slice(0, 12)}): no reset needed`;
  await resetTargetSandbox(target, login);
  const after = await hash();
  if (after !== golden) throw new Error(`the sandbox was reset, yet its hash is ${after.slice(0, 12)}, not the golden's ${golden.slice(0, 12)}: run "rehearse status" to see why`);
  return `the sandbox's hash was ${before.slice(0, 12)}, not the golden's: reset, and now at the golden (${golden.slice(0, 12)})`;
}
