import { loadConfiguration, runCucumber } from '@cucumber/cucumber/api';
import { closeTarget, openTarget, type TargetKind } from '../targets/session';
import { applyKnownGaps, expectationsFile, loadKnownGaps } from './expectations';
import { ReportBuilder, type GateReport } from './report';

export interface GateRunOptions {
  /** Cucumber profile from cucumber.js; `default` is the hermetic target. */
  readonly profile: string;
  /** Feature files or directories; all of features/ when empty. */
  readonly paths: readonly string[];
  /** Progress lines (target build) go here. */
  readonly progress: (line: string) => void;
}

/**
 * Runs the gates: builds the target first (so a machine without PostgreSQL gets one clear error, not
 * a failed hook), runs the features against it in this process, and always tears it down.
 */
export async function runGates(options: GateRunOptions): Promise<GateReport> {
  const { runConfiguration } = await loadConfiguration({ profiles: [options.profile] });
  if (options.paths.length > 0) runConfiguration.sources.paths = [...options.paths];
  const kind = (runConfiguration.runtime.worldParameters?.target ?? 'hermetic') as TargetKind;

  const target = await openTarget('runner', kind, options.progress);
  try {
    const report = new ReportBuilder();
    await runCucumber(runConfiguration, undefined, (envelope) => report.accept(envelope));
    const { layout } = target.config;
    return applyKnownGaps(report.build(), loadKnownGaps(layout), expectationsFile(layout));
  } finally {
    await closeTarget('runner');
  }
}
