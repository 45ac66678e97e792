import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Child processes that die with the harness, even when it is SIGKILLed and no teardown runs: on Linux, each program is
 * started through util-linux's `setpriv --pdeathsig KILL --`, which asks the kernel to send the child SIGKILL the moment
 * its parent ends, then execs the program (same pid, same environment; the signal survives the exec, and the switch to
 * an unprivileged OS user that spawn makes before it). Without setpriv (not Linux, a minimal image) programs start as
 * they are, and the next run stops what a dead run left (support/process/work-dirs.ts).
 */

let setpriv: string | null | undefined;

/** setpriv's path on Linux, looked up once on PATH and in /usr/bin and /bin; null when there is none. */
export function setprivPath(): string | null {
  if (setpriv !== undefined) return setpriv;
  setpriv = null;
  if (process.platform !== 'linux') return setpriv;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/bin'];
  for (const dir of dirs) {
    try {
      accessSync(join(dir, 'setpriv'), constants.X_OK);
      setpriv = join(dir, 'setpriv');
      break;
    } catch {
      // Not here.
    }
  }
  return setpriv;
}

/** Whether the children the harness starts die with it (see above). */
export function childrenDieWithHarness(): boolean {
  return setprivPath() !== null;
}

export interface Command {
  readonly command: string;
  readonly args: string[];
}

/** `program args…` as a command that dies when the harness does (unchanged where it cannot). */
export function dyingWithHarness(program: string, args: readonly string[]): Command {
  const path = setprivPath();
  return path === null ? { command: program, args: [...args] } : { command: path, args: ['--pdeathsig', 'KILL', '--', program, ...args] };
}

/** A shell command line (an operator's hook) as a command run by /bin/sh that dies when the harness does. */
export function shellDyingWithHarness(line: string): Command {
  return dyingWithHarness('/bin/sh', ['-c', line]);
}
