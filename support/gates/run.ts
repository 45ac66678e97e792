import { loadConfiguration, loadSources, runCucumber } from '@cucumber/cucumber/api';
import { registerTeardown } from '../process/teardown';
import { needingTarget, NO_TARGET } from '../targets/no-target';
import { closeTarget, openTarget, type TargetKind } from '../targets/session';
import type { Target } from '../targets/target';
import { settleClaims } from './claims';
import { applyKnownGaps, expectationsFile, loadKnownGaps } from './expectations';
import { isUnreachable, TargetUnreachableError } from './outcomes';
import { openReportWriters, UnredactableFormatError } from './redacted-reports';
import { discardReportFiles, redactReportFiles, reportFormats } from './report-files';
import { ReportBuilder, type GateReport } from './report';
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
}

/** A run's verdict, and how long its target took to build. */
export interface GateRun {
  readonly report: GateReport;
  /** Seconds the target's build took; undefined when no selected scenario needed one, so none was built. */
  readonly targetSeconds?: number;
}

/** The run cannot start as asked (a profile that does not exist or is for another target). */
export class GateRunError extends Error {
  override readonly name = 'GateRunError';
}

/**
 * Runs the gates: builds the target first (so a machine without PostgreSQL gets one clear error, not
 * a failed hook, and an unreachable live target is told apart from a failed gate) when a selected scenario needs one
 * (not all tagged @no-target), runs the features against it in this process, always tears it down, and rewrites the
 * report files through the redaction point.
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
  try {
    await loadSources(runConfiguration.sources);
  } catch (error) {
    const cause = (error as Error).cause;
    if (cause instanceof Error && /^Tag expression .* could not be parsed/.test(cause.message)) throw new GateRunError(`--tags: ${cause.message}`);
    throw error;
  }
  // Cucumber itself says whether a selected scenario is left once the @no-target ones are set aside.
  const needsTarget =
    kind !== NO_TARGET &&
    (await loadSources({ ...runConfiguration.sources, tagExpression: needingTarget(runConfiguration.sources.tagExpression) })).plan.length > 0;

  const building = Date.now();
  const target = needsTarget ? await buildTarget(options.target, options.progress, options.open) : undefined;
  const targetSeconds = target ? (Date.now() - building) / 1000 : undefined;
  const started = Date.now();
  // Interrupted (SIGINT/SIGTERM) or crashed mid-run, the half-written reports are removed: redacted, but incomplete.
  // A run that ends normally has every file of the report directory rewritten through the redaction point
  // (report-files.ts says what that still adds).
  const discard = () => discardReportFiles(options.reportDir);
  const forget = registerTeardown({ name: "the interrupted run's report files", stop: async () => discard(), lastResort: discard });
  try {
    const report = new ReportBuilder();
    try {
      const writers = await openReportWriters(reportFiles, runConfiguration.formats.options).catch((error: unknown) => {
        throw error instanceof UnredactableFormatError ? new GateRunError(error.message) : error;
      });
      try {
        await runCucumber(runConfiguration, undefined, (envelope) => {
          report.accept(envelope);
          writers.accept(envelope);
        });
      } finally {
        await writers.finish();
      }
    } finally {
      forget();
      redactReportFiles(options.reportDir, started);
    }
    // The known gaps of a layout are the hermetic cluster's; a live target answers for its gaps with waivers.
    const layout = target && options.target === 'hermetic' ? target.config.layout : undefined;
    // A live run's second and last hash of prod settles the scenarios that claimed prod unchanged.
    const settlement = await target?.prodWatch?.settle().catch((error: Error) => error);
    const built = settleClaims(report.build(), settlement);
    const withGaps = layout ? applyKnownGaps(built, loadKnownGaps(layout), expectationsFile(layout)) : built;
    return { report: applyWaivers(withGaps, options.waivers), ...(targetSeconds === undefined ? {} : { targetSeconds }) };
  } finally {
    if (target) await closeTarget('runner');
  }
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
