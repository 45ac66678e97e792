import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ReportBuilder, type Envelope } from '../gates/report';
import { reportFiles } from '../gates/report-files';
import { registerTeardown } from '../process/teardown';
import { MUTATIONS } from './catalogue';
import { MUTATION_VARIABLE } from './variable';
import type { FenceMutation, MutationContext } from './mutation';
import { judge, type MutationVerdict } from './verdict';

/**
 * The mutation suite: a control run with no mutation, then one run per mutation, each a fresh `rehearse gates` process
 * (a fresh hermetic target) on the hardened layout — where every scenario passes unmutated — with the mutation
 * installed by inject.ts, over the features its break can reach (every feature with `everywhere`). Runs go `jobs` at a
 * time: each has its own cluster, its own Vault and Dolibarr stand-ins and its own ports, and the gates of one run hold
 * most of a core, so the machine's core count is the default.
 */

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'rehearse.js');
const REGISTER = join(ROOT, 'bin', 'register.js');
const INJECT = join(__dirname, 'inject.ts');
export const CONTROL = 'control';

/** A gate run takes about two minutes; one that takes ten times that is hung, and is stopped. */
const RUN_DEADLINE_MS = 20 * 60_000;

export interface MutationRunOptions {
  /** Mutations to run (all when empty); the control always runs. */
  readonly names: readonly string[];
  readonly jobs: number;
  /** Each run's reports and log go to `<dir>/<name>/`; the suite's table to `<dir>/mutations.{md,json}`. */
  readonly reportDir: string;
  readonly context: MutationContext;
  /** Every feature for every mutation, not only those its break can reach (reach.ts). */
  readonly everywhere?: boolean;
  readonly progress: (line: string) => void;
}

export interface MutationResult {
  readonly name: string;
  readonly gate: string;
  readonly breaks: string;
  readonly seconds: number;
  readonly exitCode: number | null;
  readonly log: string;
  readonly verdict: MutationVerdict;
}

export class MutationSuiteError extends Error {
  override readonly name = 'MutationSuiteError';
}

export function selectMutations(names: readonly string[]): readonly FenceMutation[] {
  if (names.length === 0) return MUTATIONS;
  const unknown = names.filter((name) => !MUTATIONS.some((mutation) => mutation.name === name));
  if (unknown.length > 0) throw new MutationSuiteError(`no fence mutation ${unknown.map((name) => `"${name}"`).join(', ')}; the catalogue has: ${MUTATIONS.map((m) => m.name).join(', ')}`);
  return MUTATIONS.filter((mutation) => names.includes(mutation.name));
}

/** Runs the gates once in a child process, with `mutation` installed (none: the control). */
async function runOnce(mutation: FenceMutation | undefined, options: MutationRunOptions): Promise<MutationResult> {
  const name = mutation?.name ?? CONTROL;
  const dir = join(options.reportDir, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'run.log');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ERP_REHEARSAL_TARGET: 'hermetic',
    ERP_REHEARSAL_LAYOUT: options.context.layout,
    ERP_REHEARSAL_REPORT_DIR: dir,
  };
  // A mutation replaces exports of the library: TypeScript's CommonJS output keeps them writable (bin/register.js).
  delete env.ERP_REHEARSAL_TRANSPILER;
  if (mutation) env.ERP_REHEARSAL_TRANSPILER = 'typescript';
  // A waiver answers for a live target's gap; here every failure must be seen as it is.
  delete env.ERP_REHEARSAL_WAIVERS;
  delete env[MUTATION_VARIABLE];
  if (mutation) env[MUTATION_VARIABLE] = mutation.name;
  const started = process.hrtime.bigint();
  const exitCode = await new Promise<number | null>((done, fail) => {
    const out = createWriteStream(log);
    const features = mutation && !options.everywhere ? mutation.reaches : [];
    // One process per run: the suite already runs `jobs` at a time, and a mutation is installed in that process only.
    const child = spawn(process.execPath, ['--require', REGISTER, '--require', INJECT, CLI, 'gates', '--jobs', '1', ...features], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    // An interrupted suite stops its runs; each tears its own target down on SIGTERM.
    const forget = registerTeardown({ name: `the gate run of mutation ${name}`, stop: async () => void child.kill('SIGTERM') });
    // SIGTERM lets the run tear its target down; one that does not end by then is killed.
    const deadline = setTimeout(() => {
      out.write(`\n[mutation suite] the run took more than ${RUN_DEADLINE_MS / 60_000} min: stopped\n`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 30_000).unref();
    }, RUN_DEADLINE_MS);
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.once('error', (error) => {
      clearTimeout(deadline);
      forget();
      fail(error);
    });
    child.once('close', (code) => {
      clearTimeout(deadline);
      forget();
      out.end(() => done(code));
    });
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const report = new ReportBuilder();
  const messages = reportFiles(dir).message;
  if (existsSync(messages)) {
    for (const line of readFileSync(messages, 'utf8').split('\n')) if (line.trim()) report.accept(JSON.parse(line) as Envelope);
  }
  const verdict = judge(report.build(), mutation ? mutation.expect(options.context) : []);
  return { name, gate: mutation?.gate ?? 'all', breaks: mutation?.breaks ?? 'nothing: every fence as provisioned (hardened layout)', seconds, exitCode, log, verdict };
}

/**
 * The control first (a red control makes the rest meaningless), then the mutations, `jobs` at a time: those over every
 * feature before those over a few, so no long run starts last while the other runs have ended. Reported in catalogue order.
 */
export async function runMutationSuite(options: MutationRunOptions): Promise<MutationResult[]> {
  const mutations = selectMutations(options.names);
  const everyFeature = (mutation: FenceMutation) => options.everywhere || mutation.reaches.length === 0;
  const queue: (FenceMutation | undefined)[] = [undefined, ...mutations.filter(everyFeature), ...mutations.filter((mutation) => !everyFeature(mutation))];
  const results = new Map<string, MutationResult>();
  const total = queue.length;
  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      const mutation = queue[next++];
      const name = mutation?.name ?? CONTROL;
      options.progress(`${name}: gates running (${next}/${total})`);
      const result = await runOnce(mutation, options);
      results.set(name, result);
      options.progress(`${name}: ${result.verdict.verdict} in ${result.seconds.toFixed(0)} s (${result.verdict.failing.length} of ${result.verdict.scenarios} scenarios failed)`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.jobs, total)) }, worker));
  return [undefined, ...mutations].map((mutation) => results.get(mutation?.name ?? CONTROL)!);
}
