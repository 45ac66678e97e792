/**
 * `rehearse bench`: the benchmark script. Measures, prints and writes; asserts nothing and
 * exits 0 whether a goal was met or not — the table says which.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BenchArgs {
  readonly scale: number;
  readonly rounds: number;
  readonly suite: boolean;
  readonly outDir: string;
  /** A progress line a second from resets and snapshots: on a terminal by default, or when asked. */
  readonly progressEverySecond: boolean;
}

export async function benchCommand(args: BenchArgs): Promise<number> {
  const { runBenchmark } = await import('../bench/run');
  const { renderRun } = await import('../bench/report');
  const started = Date.now();
  const progress = (line: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  // At most a line a second; on a terminal the progress line rewrites itself, asked for in a log it is a line each time.
  const show = process.stderr.isTTY ? (line: string) => process.stderr.write(`\r\x1b[K${line}`) : progress;
  let shownAt = Date.now();
  const everySecond = args.progressEverySecond
    ? (line: string) => {
        if (Date.now() - shownAt < 1000) return;
        shownAt = Date.now();
        show(line);
      }
    : undefined;
  progress(`benchmark at fixture scale ${args.scale}, ${args.rounds} alternating rounds${args.suite ? ', then the gate suite' : ''}`);
  const report = await runBenchmark({ scale: args.scale, rounds: args.rounds, suite: args.suite, progress, ...(everySecond ? { everySecond } : {}) });
  if (everySecond && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  mkdirSync(args.outDir, { recursive: true });
  const base = join(args.outDir, `bench-scale-${args.scale}`);
  const table = renderRun(report);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.md`, table);
  process.stdout.write(`${table}\nwritten: ${base}.json and ${base}.md\n`);
  return 0;
}

/** `rehearse bench --table FILE…`: several runs' JSON side by side, as the README shows them. */
export async function benchTable(files: readonly string[]): Promise<number> {
  const { renderAcrossScales } = await import('../bench/report');
  process.stdout.write(renderAcrossScales(files.map((file) => JSON.parse(readFileSync(file, 'utf8')))));
  return 0;
}
