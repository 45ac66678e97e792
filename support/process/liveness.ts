import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Whether a process that left something behind (a work directory, a ledger entry, a reset marker, a lock file) is
 * still running. A process is marked by its machine, its pid and, on Linux, its start time (in clock ticks since boot,
 * /proc/<pid>/stat): a pid the kernel has given to another process since is not taken for it.
 */

export interface ProcessMark {
  readonly host: string;
  readonly pid: number;
  /** Linux: the start time of the process, so a reused pid is told apart. Absent elsewhere. */
  readonly start?: string;
}

interface ProcStat {
  readonly state: string;
  readonly start: string;
}

/** /proc/<pid>/stat's state and start time; undefined when there is no such process (or no /proc). */
function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name, in parentheses, may itself hold spaces and parentheses: the fields follow its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', start: fields[19] ?? '' };
}

function hasProc(): boolean {
  return procStat(process.pid) !== undefined;
}

let self: ProcessMark | undefined;

/** This process's mark. */
export function thisProcess(): ProcessMark {
  if (self?.pid !== process.pid) {
    const start = procStat(process.pid)?.start;
    self = { host: hostname(), pid: process.pid, ...(start ? { start } : {}) };
  }
  return self;
}

/** Whether a process with `pid` runs on this machine (a zombie has ended); without /proc, whether it can be signalled. */
export function pidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(pid);
  return stat === undefined ? !hasProc() : stat.state !== 'Z';
}

/**
 * True only when the marked process is known to have ended: it ran on this machine and no process with its pid (and
 * start time, where known) runs now. A mark of another machine is never known to have ended: its owner may still run.
 */
export function processGone(mark: ProcessMark): boolean {
  if (mark.host !== hostname() || !Number.isInteger(mark.pid) || mark.pid <= 0) return false;
  if (!pidRunning(mark.pid)) return true;
  if (mark.start === undefined) return false;
  const now = procStat(mark.pid)?.start;
  return now !== undefined && now !== mark.start;
}

/** Whether the marked process runs on this machine now (the same process, not one that took its pid). */
export function processRunningHere(mark: ProcessMark): boolean {
  return mark.host === hostname() && !processGone(mark);
}

/** A mark as said to an operator: `pid 123 on host`. */
export function describeProcess(mark: ProcessMark): string {
  return `pid ${mark.pid}${mark.host === hostname() ? '' : ` on ${mark.host}`}`;
}

/** A mark read back from JSON, or undefined when it is not one. */
export function processMarkOf(value: unknown): ProcessMark | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { host, pid, start } = value as Record<string, unknown>;
  if (typeof host !== 'string' || typeof pid !== 'number') return undefined;
  return { host, pid, ...(typeof start === 'string' ? { start } : {}) };
}
