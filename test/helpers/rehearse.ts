import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReportBuilder, type Envelope, type ScenarioVerdict } from '../../support/gates/report';
import { reportFiles } from '../../support/gates/report-files';

/** Test only: `node bin/rehearse.js …` run to its end, as an operator or a CI job would, and what it printed. */

export const ROOT = join(__dirname, '..', '..');
export const REHEARSE = join(ROOT, 'bin', 'rehearse.js');

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd?: string;
  /** Whether `env` goes over this process's environment (the default) or stands alone. */
  readonly inherit?: boolean;
}

/** Runs `node bin/rehearse.js …args` with `env`, to its end. */
export function rehearse(args: readonly string[], env: Readonly<Record<string, string | undefined>>, options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [REHEARSE, ...args], {
      env: options.inherit === false ? { ...env } : { ...process.env, ...env },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface LiveGateRun extends RunResult {
  /** stdout then stderr. */
  readonly output: string;
  /** Each scenario's verdict from the run's Cucumber messages; none when the run stopped before any gate. */
  readonly scenarios: readonly ScenarioVerdict[];
}

/** Runs one feature on the live target with `env`, its reports in a directory of its own, read back before it goes. */
export async function runLiveFeature(feature: string, env: Readonly<Record<string, string>>): Promise<LiveGateRun> {
  const reports = mkdtempSync(join(tmpdir(), 'erp-rehearsal-live-feature-'));
  try {
    const run = await rehearse(['run', '--target', 'live', feature], { ...env, ERP_REHEARSAL_REPORT_DIR: reports }, { cwd: ROOT });
    const messages = reportFiles(reports).message;
    const builder = new ReportBuilder();
    if (existsSync(messages)) {
      for (const line of readFileSync(messages, 'utf8').split('\n').filter(Boolean)) builder.accept(JSON.parse(line) as Envelope);
    }
    return { ...run, output: `${run.stdout}${run.stderr}`, scenarios: builder.build().scenarios };
  } finally {
    rmSync(reports, { recursive: true, force: true });
  }
}
