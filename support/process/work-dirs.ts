import { mkdtempSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processGone, thisProcess } from './liveness';
import { registerTeardown } from './teardown';

/**
 * The run's work directories (a local cluster's data, the staged golden, row images, the diff's rows: prod's data
 * among them). Each is private (0700, as mkdtemp makes it) and named after its kind and the process that made it —
 * `erp-rehearsal-<kind>-<pid>-<start time>-XXXXXX` in the temporary directory — so that when a run is killed and no
 * teardown runs, the next run can tell its directories from those of runs still going, and remove them.
 */

const NAME = /^erp-rehearsal-([a-z]+)-(\d+)-(\d+)-[A-Za-z0-9]{6}$/;

const TMPFS_MAGIC = 0x01021994;

/** Whether the temporary directory, where the work directories go, is on a memory file system (tmpfs). */
export function temporaryDirectoryInMemory(): boolean {
  try {
    return statfsSync(tmpdir()).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}

/** Creates a private work directory of `kind` (lower-case letters) for this process; the caller removes it. */
export function createWorkDir(kind: string): string {
  if (!/^[a-z]+$/.test(kind)) throw new TypeError(`a work directory's kind is lower-case letters, not "${kind}"`);
  const { pid, start } = thisProcess();
  return mkdtempSync(join(tmpdir(), `erp-rehearsal-${kind}-${pid}-${start ?? 0}-`));
}

export interface WorkDir {
  readonly path: string;
  /** Removes it now (and forgets its teardown). Safe to call twice. */
  remove(): void;
}

/** A private work directory of `kind`, removed by `remove()`, at the end of the run, on failure, on signals and at exit. */
export function makeWorkDir(kind: string): WorkDir {
  const path = createWorkDir(kind);
  const removeFiles = () => rmSync(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  const forget = registerTeardown({ name: `work directory ${path}`, stop: async () => removeFiles(), lastResort: removeFiles });
  return {
    path,
    remove() {
      removeFiles();
      forget();
    },
  };
}

export interface DeadWorkDir {
  readonly path: string;
  readonly kind: string;
  /** The pid of the run that made it, now gone. */
  readonly pid: number;
}

/** Work directories in the temporary directory whose run is gone (on this machine; a reused pid is not its run). */
export function deadWorkDirs(root = tmpdir()): DeadWorkDir[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const match = NAME.exec(name);
    if (!match) return [];
    const [, kind, pid, start] = match as unknown as [string, string, string, string];
    const mark = { host: thisProcess().host, pid: Number(pid), ...(start === '0' ? {} : { start }) };
    return processGone(mark) ? [{ path: join(root, name), kind, pid: mark.pid }] : [];
  });
}

/**
 * Removes the work directories of runs that are gone, each said on `progress`; `before` runs first for each (e.g. to
 * stop a server a dead run left in its directory). A directory that cannot be removed is said, and left.
 */
export async function removeDeadWorkDirs(progress: (line: string) => void, before: (dir: DeadWorkDir) => Promise<void> = async () => undefined): Promise<DeadWorkDir[]> {
  const removed: DeadWorkDir[] = [];
  for (const dir of deadWorkDirs()) {
    try {
      await before(dir);
      rmSync(dir.path, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      removed.push(dir);
      progress(`removed ${dir.path}, the ${dir.kind} work directory of a run that is gone (pid ${dir.pid})`);
    } catch (error) {
      progress(`cannot remove ${dir.path}, the ${dir.kind} work directory of a run that is gone (pid ${dir.pid}): ${(error as Error).message} — remove it by hand`);
    }
  }
  return removed;
}
