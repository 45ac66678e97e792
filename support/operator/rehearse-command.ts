import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * The `rehearse` command run as an operator runs it: its own process, its own environment and working directory, its
 * exit status and output kept whole. Never synchronously: the stand-ins it talks to may live in this very process.
 */

export interface CommandRun {
  readonly args: readonly string[];
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const REHEARSE = join(__dirname, '..', '..', 'bin', 'rehearse.js');

/** Splits a command line as a shell would for plain words and double-quoted phrases (no expansion). */
export function commandWords(line: string): string[] {
  const words = [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]!);
  if (words[0] !== 'rehearse') throw new Error(`"${line}" is not a rehearse command`);
  return words.slice(1);
}

export function runRehearse(args: readonly string[], options: { readonly env: Readonly<Record<string, string | undefined>>; readonly cwd: string }): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [REHEARSE, ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ args, code, signal, stdout, stderr }));
  });
}

/** The run in one line for the gate report: the command, and the first and last lines it printed. */
export function summaryOf(run: CommandRun): string {
  const lines = (run.stdout.trim() || run.stderr.trim()).split('\n').map((line) => line.trim()).filter(Boolean);
  const said = lines.length <= 1 ? lines.join('') : `${lines[0]} … ${lines.at(-1)}`;
  return `rehearse ${run.args.join(' ')}: ${said}`;
}

/** The run in a few lines, for a failed expectation: what ran, how it ended, what it said. */
export function describeRun(run: CommandRun): string {
  return `rehearse ${run.args.join(' ')} → ${run.signal ?? `exit ${run.code}`}\n--- stdout\n${run.stdout}--- stderr\n${run.stderr}`;
}

/**
 * Whether a diff as `rehearse diff` prints it shows `key` (e.g. `rowid=21`) added to `table` (e.g. `public.llx_societe`):
 * under the table's heading, before the next relation's.
 */
export function showsAddedRow(diffText: string, table: string, key: string): boolean {
  const plain = diffText.replace(/\u001b\[[0-9;]*m/g, '');
  const sections = plain.split(/\n(?= {2}\S)/);
  return sections.some((section) => section.split('\n')[0]!.includes(` ${table} `) && section.split('\n').some((line) => line.trim() === `+ ${key}`));
}
