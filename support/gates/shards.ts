import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { registerTeardown } from '../process/teardown';
import type { Envelope } from './report';
import { reportFiles } from './report-files';

/**
 * A hermetic gate run split across processes, each on a target of its own: the selected scenarios dealt round-robin
 * (so every feature's cost is shared out, whatever it is), each process a `rehearse run --shard K/N` over its scenarios
 * by line. Each process redacts its own output and reports with the secrets it registered; the runner reads its
 * message report back and merges the streams into one run.
 */

const CLI = resolve(__dirname, '..', '..', 'bin', 'rehearse.js');

/** Fewer scenarios per process than this, and a second target's build costs more than it saves. */
export const MIN_SCENARIOS_PER_SHARD = 4;

/** A scenario Cucumber planned: its file and the line that selects it (its Scenario, or its Examples row). */
export interface PlannedScenario {
  readonly uri: string;
  readonly location: { readonly line: number };
}

/** How many processes to run: `jobs`, fewer when there are not enough scenarios to share. */
export function shardCount(jobs: number, scenarios: number): number {
  return Math.max(1, Math.min(jobs, Math.floor(scenarios / MIN_SCENARIOS_PER_SHARD)));
}

/**
 * Deals the scenarios round-robin into `count` shards, each a list of Cucumber paths `file:line:line…` in the run's
 * order; a feature's scenarios alternate between shards, so no shard gets a whole expensive feature.
 */
export function dealScenarios(scenarios: readonly PlannedScenario[], count: number): string[][] {
  const lines = Array.from({ length: count }, () => new Map<string, number[]>());
  scenarios.forEach((scenario, index) => {
    const shard = lines[index % count]!;
    shard.set(scenario.uri, [...(shard.get(scenario.uri) ?? []), scenario.location.line]);
  });
  return lines.map((shard) => [...shard].map(([uri, at]) => `${uri}:${at.join(':')}`));
}

export interface ShardOptions {
  readonly paths: readonly (readonly string[])[];
  readonly profile: string;
  /** Each shard's reports go to `<reportDir>/shards/<k>/`. */
  readonly reportDir: string;
  /** Progress lines of each shard, prefixed with its name. */
  readonly progress: (line: string) => void;
  /** The shards' progress formatter output (one character per step). */
  readonly output: (chunk: Buffer) => void;
}

/** One shard's end: its exit, its messages (redacted by itself) and its target's build time. */
export interface ShardResult {
  readonly name: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly envelopes: readonly Envelope[];
  readonly targetSeconds?: number;
}

/** What a shard writes beside its reports for the runner: its target's build time (the runner prints the summary). */
const SHARD_FILE = 'shard.json';

/** Called by a shard (`rehearse run --shard K/N`) once its run is over, in its report directory. */
export function writeShardFile(dir: string, targetSeconds: number | undefined): void {
  writeFileSync(join(dir, SHARD_FILE), `${JSON.stringify(targetSeconds === undefined ? {} : { targetSeconds })}\n`);
}

/** A shard's own clock at the head of its progress lines: the runner's replaces it. */
const SHARD_CLOCK = /^\[\s*[\d.]+ s\] /;

/** Runs every shard to its end, at the same time. An interrupted runner stops them, each tearing its target down. */
export async function runShards(options: ShardOptions): Promise<ShardResult[]> {
  return Promise.all(options.paths.map((paths, index) => runShard(paths, index, options)));
}

function runShard(paths: readonly string[], index: number, options: ShardOptions): Promise<ShardResult> {
  const name = `shard ${index + 1}/${options.paths.length}`;
  const dir = join(options.reportDir, 'shards', String(index + 1));
  rmSync(dir, { recursive: true, force: true });
  const env: NodeJS.ProcessEnv = { ...process.env, ERP_REHEARSAL_TARGET: 'hermetic', ERP_REHEARSAL_REPORT_DIR: dir };
  // The runner applies the waivers to the merged run.
  delete env.ERP_REHEARSAL_WAIVERS;
  const args = [CLI, 'run', '--target', 'hermetic', '--profile', options.profile, '--shard', `${index + 1}/${options.paths.length}`, ...paths];
  return new Promise((done, fail) => {
    // The IPC channel closes when the runner dies, even by SIGKILL: the shard then stops and tears its target down.
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const exited = new Promise<void>((ended) => child.once('close', () => ended()));
    const forget = registerTeardown({
      name: `the gate run's ${name}`,
      stop: async () => {
        child.kill('SIGTERM');
        await exited;
      },
      lastResort: () => void child.kill('SIGKILL'),
    });
    child.stdout!.on('data', options.output);
    let partial = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop()!;
      for (const line of lines) options.progress(`${name}: ${line.replace(SHARD_CLOCK, '')}`);
    });
    child.once('error', (error) => {
      forget();
      fail(error);
    });
    child.once('close', (code, signal) => {
      forget();
      if (partial) options.progress(`${name}: ${partial.replace(SHARD_CLOCK, '')}`);
      done({ name, code, signal, envelopes: readEnvelopes(reportFiles(dir).message), ...shardFile(dir) });
    });
  });
}

function readEnvelopes(file: string): Envelope[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Envelope);
}

function shardFile(dir: string): { targetSeconds?: number } {
  const file = join(dir, SHARD_FILE);
  if (!existsSync(file)) return {};
  const { targetSeconds } = JSON.parse(readFileSync(file, 'utf8')) as { targetSeconds?: number };
  return typeof targetSeconds === 'number' ? { targetSeconds } : {};
}

/**
 * The shards' message streams as one run's: the first shard's meta, every shard's sources, documents, pickles and
 * definitions, one testRunStarted, every shard's test cases and results, one testRunFinished — successful only if
 * every shard's was. A shard that ended without finishing its run (a crash, a kill) finishes it here, with an
 * exception that says so: the run is then red with that run error.
 */
export function mergeShardMessages(shards: readonly ShardResult[]): Envelope[] {
  const definitions: Envelope[] = [];
  const execution: Envelope[] = [];
  let meta: Envelope | undefined;
  let id: string | undefined;
  let startedAt: { seconds: number; nanos: number } | undefined;
  let finishedAt = { seconds: 0, nanos: 0 };
  let success = true;
  let exception: { type: string; message?: string } | undefined;
  for (const shard of shards) {
    let inRun = false;
    let finished = false;
    for (const envelope of shard.envelopes) {
      if (envelope.meta) {
        meta ??= envelope;
      } else if (envelope.testRunStarted) {
        inRun = true;
        id ??= envelope.testRunStarted.id;
        const { timestamp } = envelope.testRunStarted;
        if (!startedAt || earlier(timestamp, startedAt)) startedAt = timestamp;
      } else if (envelope.testRunFinished) {
        finished = true;
        inRun = false;
        success &&= envelope.testRunFinished.success;
        if (earlier(finishedAt, envelope.testRunFinished.timestamp)) finishedAt = envelope.testRunFinished.timestamp;
        exception ??= envelope.testRunFinished.exception;
      } else {
        (inRun ? execution : definitions).push(envelope);
      }
    }
    if (!finished) {
      success = false;
      const how = shard.signal ? `killed by ${shard.signal}` : `exit code ${shard.code}`;
      exception ??= { type: 'ShardError', message: `${shard.name} ended (${how}) before its run finished: its own lines above say why` };
    }
  }
  const runId = id ?? 'sharded-run';
  return [
    ...(meta ? [meta] : []),
    ...definitions,
    { testRunStarted: { id: runId, timestamp: startedAt ?? finishedAt } },
    ...execution.map((envelope) => withRunId(envelope, runId)),
    { testRunFinished: { testRunStartedId: runId, timestamp: finishedAt, success, ...(exception ? { exception } : {}) } },
  ] as Envelope[];
}

function earlier(a: { seconds: number; nanos: number }, b: { seconds: number; nanos: number }): boolean {
  return a.seconds < b.seconds || (a.seconds === b.seconds && a.nanos < b.nanos);
}

/** The envelope with the merged run's id where it names its run (test cases, run hooks). */
function withRunId(envelope: Envelope, id: string): Envelope {
  if (envelope.testCase?.testRunStartedId) return { ...envelope, testCase: { ...envelope.testCase, testRunStartedId: id } };
  if (envelope.testRunHookStarted) return { ...envelope, testRunHookStarted: { ...envelope.testRunHookStarted, testRunStartedId: id } };
  return envelope;
}
