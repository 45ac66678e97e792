import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeProcess, processGone, processMarkOf, thisProcess, type ProcessMark } from '../process/liveness';

/**
 * A reset in progress leaves a marker in the state directory, written before its pre-reset command runs and removed
 * after its post-reset command: a reset killed in between leaves it, and the next command (any reset, `rehearse
 * status`) finds it, says so and runs the post-reset command the killed reset never ran, so the sandbox's Dolibarr that
 * a pre-reset command scaled to 0 comes back.
 */

const DIR = 'resets';

export interface ResetMarker {
  /** The process running the reset. */
  readonly by: ProcessMark;
  /** The sandbox database it resets, and the server, `host:port`. */
  readonly database: string;
  readonly server: string;
  readonly startedAt: string;
  /**
   * The sha256 of the post-reset command it would run at its end, if one was configured. Not the command, which may
   * hold a credential: the next command runs the one configured then, and says when it is not the same.
   */
  readonly postCommandSha256?: string;
}

/** A marker file found, with where it is. */
export interface FoundMarker {
  readonly path: string;
  readonly marker: ResetMarker;
}

/** One file per process, so resets of several processes (each waiting for the reset lock) keep their own markers. */
function fileName(database: string, mark: ProcessMark): string {
  return `${encodeURIComponent(database)}.${mark.pid}.json`;
}

/** Writes this process's marker for a reset of `database` on `server`; returns the function that removes it. */
export function markResetStarted(stateDir: string, reset: Omit<ResetMarker, 'by' | 'startedAt'>): () => void {
  const dir = join(stateDir, DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const by = thisProcess();
  const path = join(dir, fileName(reset.database, by));
  const marker: ResetMarker = { by, startedAt: new Date().toISOString(), ...reset };
  writeFileSync(path, `${JSON.stringify(marker)}\n`, { mode: 0o600 });
  return () => rmSync(path, { force: true });
}

function read(path: string): ResetMarker | undefined {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const by = processMarkOf(value['by']);
    if (!by || typeof value['database'] !== 'string' || typeof value['server'] !== 'string' || typeof value['startedAt'] !== 'string') return undefined;
    return {
      by, database: value['database'], server: value['server'], startedAt: value['startedAt'],
      ...(typeof value['postCommandSha256'] === 'string' ? { postCommandSha256: value['postCommandSha256'] } : {}),
    };
  } catch {
    return undefined; // being written, or cut by a crash: judged at the next look
  }
}

/** The markers of resets of `database` on `server`: `killed` those whose process is gone, `running` the others. */
export function resetMarkers(stateDir: string, database: string, server: string): { readonly killed: FoundMarker[]; readonly running: FoundMarker[] } {
  const dir = join(stateDir, DIR);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { killed: [], running: [] };
  }
  const found = names
    .filter((name) => name.endsWith('.json'))
    .flatMap((name) => {
      const marker = read(join(dir, name));
      return marker && marker.database === database && marker.server === server ? [{ path: join(dir, name), marker }] : [];
    });
  return { killed: found.filter((entry) => processGone(entry.marker.by)), running: found.filter((entry) => !processGone(entry.marker.by)) };
}

/** A killed reset as said to the operator. */
export function describeKilledReset(marker: ResetMarker): string {
  return `a reset of ${marker.database} started ${marker.startedAt} by ${describeProcess(marker.by)} was killed before it finished`;
}

/** What a marker keeps of a post-reset command: its digest, to tell whether the one configured later is the same. */
export function commandDigest(command: string): string {
  return createHash('sha256').update(command).digest('hex');
}
