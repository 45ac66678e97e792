import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, accessSync, constants, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describeProcess, processGone, processMarkOf, thisProcess, type ProcessMark } from '../process/liveness';
import { registerTeardown } from '../process/teardown';
import { ARCHIVE_FILE, LIST_FILE, MANIFEST_FILE } from './golden';

/**
 * A golden directory is replaced whole or not at all: the new golden is written into `<dir>.partial`, then swapped in
 * by two renames through `<dir>.previous`, so a golden that fails or is killed leaves the previous one where it was, or
 * where the next golden puts it back. `<dir>.lock` keeps two goldens apart.
 */

/** What a golden directory may hold: its three files and the row images of its state (for row-level diffs). */
export const ROWS_DIR = 'rows';
const GOLDEN_ENTRIES = new Set([ARCHIVE_FILE, LIST_FILE, MANIFEST_FILE, ROWS_DIR]);

/** The place given for the golden cannot take one: said before prod is read. */
export class GoldenDirError extends Error {
  override readonly name = 'GoldenDirError';
}

/** The process a lock file names: its mark (JSON), or a bare pid as earlier versions wrote it; undefined when unreadable. */
function holderOf(path: string): ProcessMark | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
  if (/^\d+$/.test(text)) return { host: thisProcess().host, pid: Number(text) };
  try {
    return processMarkOf(JSON.parse(text));
  } catch {
    return undefined;
  }
}

interface Lock {
  readonly release: () => void;
  /** The killed golden whose lock this one took over, if any. */
  readonly tookOverFrom?: ProcessMark;
}

/**
 * Takes `<dir>.lock`, or says who holds it; a lock left by a process that is gone (killed) is taken over, and the lock
 * naming its process lets the next golden remove the killed one's partial directory (prod's data).
 */
function lock(dir: string): Lock {
  const path = `${dir}.lock`;
  let tookOverFrom: ProcessMark | undefined;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeFileSync(fd, `${JSON.stringify(thisProcess())}\n`);
      closeSync(fd);
      return { release: () => rmSync(path, { force: true }), ...(tookOverFrom ? { tookOverFrom } : {}) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = holderOf(path);
      if (holder && !processGone(holder)) {
        throw new GoldenDirError(`another rehearse golden (${describeProcess(holder)}) is writing ${dir}: wait for it to finish`);
      }
      tookOverFrom = holder;
      unlinkSync(path);
    }
  }
  throw new GoldenDirError(`cannot take ${path}: remove it if no rehearse golden is running`);
}

/** Puts back a golden an interrupted swap left in `<dir>.previous`; removes one a finished swap left behind. */
function recover(dir: string, progress: (line: string) => void): void {
  const previous = `${dir}.previous`;
  if (!existsSync(previous)) return;
  if (existsSync(dir)) {
    rmSync(previous, { recursive: true, force: true });
    return;
  }
  renameSync(previous, dir);
  progress(`${dir}: put back the previous golden, which an interrupted golden had set aside`);
}

/** Refuses (GoldenDirError) a place that cannot take a golden: not writable, or holding something that is not one. */
export function checkGoldenPlace(target: string): void {
  const dir = resolve(target);
  const parent = dirname(dir);
  try {
    accessSync(parent, constants.W_OK);
  } catch {
    throw new GoldenDirError(`--out ${dir}: its directory ${parent} does not exist or is not writable; choose a place where the golden can be written`);
  }
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new GoldenDirError(`--out ${dir} is a file, not a directory: choose a directory for the golden`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new GoldenDirError(`--out ${dir} is not writable: choose a directory the golden can replace`);
  }
  const entries = readdirSync(dir);
  const foreign = entries.filter((entry) => !GOLDEN_ENTRIES.has(entry));
  if (entries.length > 0 && (foreign.length > 0 || !entries.includes(MANIFEST_FILE))) {
    const shown = (foreign.length > 0 ? foreign : entries).slice(0, 5).join(', ');
    throw new GoldenDirError(`--out ${dir} already holds something that is not a golden (${shown}): choose an empty directory, a new one, or a golden's`);
  }
}

/** Flushes the files written under `dir` (not its subdirectories' images one by one: the rename is what must not tear). */
function flush(dir: string): void {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (!statSync(path).isFile()) continue;
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * Writes a golden into `dir` through `write(partialDir)`, replacing the golden already there only once the new one is
 * complete. Throws GoldenDirError before calling `write` when `dir` cannot take a golden.
 */
export async function replaceGoldenDir<T>(target: string, write: (partial: string) => Promise<T>, progress: (line: string) => void = () => undefined): Promise<T> {
  const dir = resolve(target);
  checkGoldenPlace(dir);
  const taken = lock(dir);
  const partial = `${dir}.partial`;
  const discard = () => rmSync(partial, { recursive: true, force: true });
  const forget = registerTeardown({ name: `the partial golden ${partial}`, stop: async () => discard(), lastResort: discard });
  try {
    recover(dir, progress);
    checkGoldenPlace(dir);
    if (existsSync(partial)) {
      const by = taken.tookOverFrom ? `a rehearse golden that was killed (${describeProcess(taken.tookOverFrom)})` : 'a rehearse golden that was killed';
      progress(`${partial}: removing the partial golden ${by} left (prod's data)`);
    }
    discard();
    // 0700: it holds prod's data.
    mkdirSync(partial, { mode: 0o700 });
    let result: T;
    try {
      result = await write(partial);
      flush(partial);
    } catch (error) {
      discard();
      throw error;
    }
    const previous = `${dir}.previous`;
    // A kill between the two renames leaves the previous golden in `<dir>.previous`, which recover() puts back.
    if (existsSync(dir)) renameSync(dir, previous);
    renameSync(partial, dir);
    rmSync(previous, { recursive: true, force: true });
    return result;
  } finally {
    forget();
    taken.release();
  }
}
