import { loadConfiguration, loadSources, runCucumber } from '@cucumber/cucumber/api';
import { loadConfig } from '../config';
import type { Layout } from '../postgres/provision';
import { interruptedBy, registerTeardown } from '../process/teardown';
import { needingTarget, NO_TARGET } from '../targets/no-target';
import { closeTarget, openTarget, type TargetKind } from '../targets/session';
import type { Target } from '../targets/target';
import { settleClaims } from './claims';
import { applyKnownGaps, expectationsFile, loadKnownGaps } from './expectations';
import { EXIT, isUnreachable, TargetUnreachableError } from './outcomes';
import { openReportWriters, UnredactableFormatError } from './redacted-reports';
import { discardReportFiles, redactReportFiles, reportFormats } from './report-files';
import { ReportBuilder, type Envelope, type GateReport } from './report';
import { dealScenarios, mergeShardMessages, runShards, shardCount, type ShardResult } from './shards';
import { applyWaivers, type WaiverSet } from './waivers';

export interface GateRunOptions {
  /** Cucumber profile from cucumber.js; `default` is the hermetic target, `live` the live one. */
  readonly profile: string;
  /** The target kind the operator asked for; the profile must be for it (or for no target). */
  readonly target: TargetKind;
  /** Feature files or directories; the profile's paths when empty. */
  readonly paths: readonly string[];
  /** A Cucumber tag expression that selects scenarios, on top of the profile's. */
  readonly tags?: string;
  /** Where Cucumber writes the html, junit and message reports. */
  readonly reportDir: string;
  /** Waivers validated before the run (see waivers.ts). */
  readonly waivers?: WaiverSet;
  /** Progress lines (target build) go here. */
  readonly progress: (line: string) => void;
  /** How the target is built: the session's (support/targets/session.ts) unless a test gives another. */
  readonly open?: (kind: TargetKind, progress: (line: string) => void) => Promise<Target>;
  /**
   * Processes the hermetic run may be shared across, each on a target of its own (shards.ts); 1 (the default) runs
   * in this process. A live run is always one process: there is one live sandbox.
   */
  readonly jobs?: number;
  /** Where the shards' progress formatter output goes (this process's stdout unless a test gives another). */
  readonly output?: (chunk: Buffer) => void;
}

/** A run's verdict, and how long its target took to build. */
export interface GateRun {
  readonly report: GateReport;
  /** Seconds the target's build took (the slowest shard's); undefined when no selected scenario needed one. */
  readonly targetSeconds?: number;
  /** How many processes ran it, each on a target of its own; 1 when it ran in this process. */
  readonly shards: number;
}

/** The run cannot start as asked (a profile that does not exist or is for another target). */
export class GateRunError extends Error {
  override readonly name = 'GateRunError';
}

/** A shard could not start its run (its own lines say why): the run exits as the shard did (2 or 4). */
export class ShardStartError extends Error {
  override readonly name = 'ShardStartError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Runs the gates: builds the target first (so a machine without PostgreSQL gets one clear error, not
 * a failed hook, and an unreachable live target is told apart from a failed gate) when a selected scenario needs one
 * (not all tagged @no-target), runs the features against it in this process, always tears it down, and rewrites the
 * report files through the redaction point. A hermetic run with `jobs` above 1 and enough scenarios is shared across
 * shard processes instead (shards.ts), each building its own target; their messages make this run's reports.
 */
export async function runGates(options: GateRunOptions): Promise<GateRun> {
  let runConfiguration;
  try {
    ({ runConfiguration } = await loadConfiguration({ profiles: [options.profile] }));
  } catch (error) {
    throw new GateRunError(`cannot load the Cucumber profile "${options.profile}" from cucumber.js: ${(error as Error).message}`);
  }
  if (options.paths.length > 0) runConfiguration.sources.paths = [...options.paths];
  if (options.tags) {
    const own = runConfiguration.sources.tagExpression;
    runConfiguration.sources.tagExpression = own ? `(${own}) and (${options.tags})` : options.tags;
  }
  // Every report file is written by the harness through the redaction point (redacted-reports.ts), none by Cucumber.
  const reportFiles = { ...runConfiguration.formats.files, ...reportFormats(options.reportDir) };
  runConfiguration.formats.files = {};
  // Reports leave the machine only as the files the redaction point wrote: never published by Cucumber
  // itself (CUCUMBER_PUBLISH_TOKEN in an operator's environment would), and never from worker processes whose
  // secrets this process's registry does not know (the target is per process anyway).
  runConfiguration.formats.publish = false;
  runConfiguration.runtime.parallel = 0;

  const kind = String(runConfiguration.runtime.worldParameters?.['target'] ?? 'hermetic');
  if (kind !== NO_TARGET && kind !== options.target) {
    throw new GateRunError(`the Cucumber profile "${options.profile}" runs against the ${kind} target, not the ${options.target} one`);
  }

  // A bad tag expression is a usage error: said before a target is built, not as a crash after.
  let plan;
  try {
    ({ plan } = await loadSources(runConfiguration.sources));
  } catch (error) {
    const cause = (error as Error).cause;
    if (cause instanceof Error && /^Tag expression .* could not be parsed/.test(cause.message)) throw new GateRunError(`--tags: ${cause.message}`);
    throw error;
  }
  // Cucumber itself says whether a selected scenario is left once the @no-target ones are set aside.
  const needingOne = kind === NO_TARGET ? 0 : (await loadSources({ ...runConfiguration.sources, tagExpression: needingTarget(runConfiguration.sources.tagExpression) })).plan.length;
  const shards = options.target === 'hermetic' ? shardCount(options.jobs ?? 1, needingOne) : 1;
  if (shards > 1) {
    return runSharded(options, dealScenarios(plan, shards), reportFiles, runConfiguration.formats.options);
  }
  const needsTarget = needingOne > 0;

  const building = Date.now();
  const target = needsTarget ? await buildTarget(options.target, options.progress, options.open) : undefined;
  const targetSeconds = target ? (Date.now() - building) / 1000 : undefined;
  const started = Date.now();
  try {
    const built = await writeRun(options.reportDir, reportFiles, runConfiguration.formats.options, started, async (accept) => {
      await runCucumber(runConfiguration, undefined, accept);
    });
    // A live run's second and last hash of prod settles the scenarios that claimed prod unchanged.
    const settlement = await target?.prodWatch?.settle().catch((error: Error) => error);
    // The known gaps of a layout are the hermetic cluster's; a live target answers for its gaps with waivers.
    const layout = target && options.target === 'hermetic' ? target.config.layout : undefined;
    return { report: judge(settleClaims(built, settlement), layout, options.waivers), shards: 1, ...(targetSeconds === undefined ? {} : { targetSeconds }) };
  } finally {
    if (target) await closeTarget('runner');
  }
}

/** The run shared across shard processes: their streams merged into one run's reports and verdict. */
async function runSharded(
  options: GateRunOptions,
  paths: string[][],
  reportFiles: Record<string, string>,
  formatOptions: Parameters<typeof openReportWriters>[1],
): Promise<GateRun> {
  const started = Date.now();
  let shards: ShardResult[] = [];
  const built = await writeRun(options.reportDir, reportFiles, formatOptions, started, async (accept) => {
    const output = options.output ?? ((chunk: Buffer) => void process.stdout.write(chunk));
    shards = await runShards({ paths, profile: options.profile, reportDir: options.reportDir, progress: options.progress, output });
    const unstarted = shards.find((shard) => shard.code === EXIT.cannotStart || shard.code === EXIT.unreachable);
    if (unstarted) throw new ShardStartError(unstarted.code!, `${unstarted.name} could not start its run (exit ${unstarted.code}): its lines above say why`);
    for (const envelope of mergeShardMessages(shards)) accept(envelope);
  });
  const seconds = shards.flatMap((shard) => (shard.targetSeconds === undefined ? [] : [shard.targetSeconds]));
  // The shards built their targets from the configuration this process reads too: the same layout.
  const layout = loadConfig().layout;
  return { report: judge(built, layout, options.waivers), shards: shards.length, ...(seconds.length > 0 ? { targetSeconds: Math.max(...seconds) } : {}) };
}

/**
 * Feeds a run's messages to the report and to the report files, written through the redaction point. Interrupted
 * (SIGINT/SIGTERM) or crashed mid-run, the half-written reports are removed: redacted, but incomplete. A run that ends
 * normally has every file of the report directory rewritten through the redaction point (report-files.ts says what
 * that still adds).
 */
async function writeRun(
  reportDir: string,
  files: Record<string, string>,
  formatOptions: Parameters<typeof openReportWriters>[1],
  started: number,
  feed: (accept: (envelope: Envelope) => void) => Promise<void>,
): Promise<GateReport> {
  const discard = () => discardReportFiles(reportDir);
  const forget = registerTeardown({ name: "the interrupted run's report files", stop: async () => discard(), lastResort: discard });
  const report = new ReportBuilder();
  try {
    const writers = await openReportWriters(files, formatOptions).catch((error: unknown) => {
      throw error instanceof UnredactableFormatError ? new GateRunError(error.message) : error;
    });
    try {
      await feed((envelope) => {
        report.accept(envelope);
        writers.accept(envelope);
      });
    } finally {
      await writers.finish();
    }
  } finally {
    forget();
    // A signal that came before the teardown above was registered, or whose teardown ran while the run unwound,
    // still leaves half a report.
    if (interruptedBy()) discard();
    redactReportFiles(reportDir, started);
  }
  return report.build();
}

/** The verdict: the layout's known gaps (hermetic only) and the waivers applied. */
function judge(report: GateReport, layout: Layout | undefined, waivers: WaiverSet | undefined): GateReport {
  const withGaps = layout ? applyKnownGaps(report, loadKnownGaps(layout), expectationsFile(layout)) : report;
  return applyWaivers(withGaps, waivers);
}

async function buildTarget(kind: TargetKind, progress: (line: string) => void, open: NonNullable<GateRunOptions['open']> = (which, lines) => openTarget('runner', which, lines)) {
  try {
    return await open(kind, progress);
  } catch (error) {
    await closeTarget('runner');
    if (isUnreachable(error)) throw new TargetUnreachableError(kind, error);
    throw error;
  }
}
