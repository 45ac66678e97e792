import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REHEARSE } from './rehearse';

/**
 * Test only: a `rehearse` process SIGKILLed at a point it reaches — said by a line of its output, and, where that is
 * not precise enough, a condition of the world the test then waits for (never a sleep) — and what it left: processes,
 * files, output. The process leads its own process group, so its children (which inherit the group) can be found.
 */

export interface KillPoint {
  /** The line (on stdout or stderr) that says the point is reached. */
  readonly line: RegExp;
  /** Then, before the kill: e.g. wait until a session of the run waits on a lock. */
  readonly then?: () => Promise<void>;
}

export interface KilledRun {
  readonly pid: number;
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Whether the kill point was reached (else the run ended by itself first). */
  readonly reached: boolean;
}

/** Runs a program (node by default: `rehearse …`) in its own process group and SIGKILLs it at `point`. */
export function killAt(args: readonly string[], env: Readonly<Record<string, string>>, point: KillPoint, program: readonly string[] = [REHEARSE]): Promise<KilledRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...program, ...args], { env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let reached = false;
    const look = () => {
      if (reached || !point.line.test(`${stdout}\n${stderr}`)) return;
      reached = true;
      void (point.then ?? (async () => undefined))().then(
        () => child.kill('SIGKILL'),
        (error: unknown) => {
          child.kill('SIGKILL');
          reject(error);
        },
      );
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      look();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      look();
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ pid: child.pid!, code, signal, stdout, stderr, reached }));
  });
}

export interface RunProcess {
  readonly pid: number;
  readonly command: string;
  /** Why it counts as the run's: its process group, the test's marker in its environment, its server port, a path. */
  readonly because: string;
}

/** /proc/<pid>/stat's state and process group; undefined when the process is gone. */
function stat(pid: number): { readonly state: string; readonly pgid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, pgid: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

function read(path: string): string {
  try {
    return readFileSync(path).toString('latin1');
  } catch {
    return '';
  }
}

export interface RunSignature {
  /** The run's pid: its process group (it was started as a group leader). */
  readonly pgid: number;
  /** A value only the run's environment holds, inherited by children that inherit it. */
  readonly marker: string;
  /** Ports of servers the run's tools reached (PGPORT in their environment). */
  readonly ports?: readonly number[];
  /** Paths that only the run's processes name on their command line (its private temporary directory). */
  readonly paths?: readonly string[];
}

/** Processes alive now (zombies have ended) that belong to the run, by its process group, marker, ports or paths. */
export function processesOf(run: RunSignature): RunProcess[] {
  const found: RunProcess[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const state = stat(pid);
    if (!state || state.state === 'Z') continue;
    const environ = read(`/proc/${pid}/environ`).split('\0');
    const command = read(`/proc/${pid}/cmdline`).split('\0').join(' ').trim();
    const because =
      state.pgid === run.pgid ? `in process group ${run.pgid}`
        : environ.some((entry) => entry.endsWith(run.marker)) ? "the test's marker in its environment"
          : (run.ports ?? []).some((port) => environ.includes(`PGPORT=${port}`)) ? 'a client tool of the run (PGPORT)'
            : (run.paths ?? []).some((path) => command.includes(path)) ? "the run's temporary directory on its command line"
              : undefined;
    if (because) found.push({ pid, command: command || `(pid ${pid})`, because });
  }
  return found;
}

/**
 * Waits until none of the run's processes is alive, or `boundMs` passed (a process SIGKILLed by the kernel when its
 * parent died still has to be scheduled to end); returns those still alive.
 */
export async function processesLeft(run: RunSignature, boundMs = 10_000): Promise<RunProcess[]> {
  for (const deadline = Date.now() + boundMs; ; ) {
    const left = processesOf(run);
    if (left.length === 0 || Date.now() >= deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every file under `dir` (recursively), with its bytes. */
export function filesUnder(dir: string): { readonly path: string; readonly bytes: Buffer }[] {
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry);
    try {
      return statSync(path).isFile() ? [{ path, bytes: readFileSync(path) }] : [];
    } catch {
      return []; // removed while listed
    }
  });
}

/** Every form a secret takes in the outputs: raw, in JSON (once and twice), in the HTML report's script, in XML. */
export function secretForms(value: string): string[] {
  const once = JSON.stringify(value).slice(1, -1);
  const twice = JSON.stringify(once).slice(1, -1);
  const xml = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return [...new Set([value, once, twice, once.replace(/</g, '\\x3C'), twice.replace(/</g, '\\x3C'), xml, Buffer.from(value).toString('base64')])];
}

/** Where each secret shows in `texts` (name → text or bytes), as `where: secret name`. */
export function secretsIn(texts: ReadonlyMap<string, string | Buffer>, secrets: Readonly<Record<string, string>>): string[] {
  const found: string[] = [];
  for (const [where, text] of texts) {
    const bytes = typeof text === 'string' ? Buffer.from(text) : text;
    for (const [name, value] of Object.entries(secrets)) {
      if (secretForms(value).some((form) => bytes.includes(form))) found.push(`${where}: ${name}`);
    }
  }
  return found;
}
