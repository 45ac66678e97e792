/**
 * What `rehearse record` adds to the agent's command: its gateway, the sandbox's states before and after, the diff and
 * the changeset, against the command alone plus two snapshots of the sandbox (the states it cannot do without).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stateOf } from '../lifecycle/state';
import type { Login } from '../postgres/cluster';
import { startAgentRecording } from '../targets/record';
import type { Target } from '../targets/target';
import { alternate } from './alternate';
import { secondsSince } from './raw-tools';
import { summarize } from './stats';
import type { Comparison } from './comparison';

/** The agent's command of the measurement: one that does nothing, so that all that is measured is around it. */
const COMMAND = 'true';
const GOAL_SECONDS = 1;

function runCommand(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(COMMAND, [], { stdio: 'ignore', env });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${COMMAND} exited ${code}`))));
  });
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return secondsSince(started);
}

export async function recordOverhead(
  target: Target,
  sandboxLogin: Login,
  rounds: number,
  onSample: (name: string, round: number, seconds: number) => void,
): Promise<Comparison> {
  const dir = mkdtempSync(join(target.workDir, 'bench-record-'));
  let recorded = 0;
  const snapshot = () => stateOf(target.endpointFor(target.sandbox.database), sandboxLogin, target.sandbox, target.workDir);
  try {
    const samples = await alternate(
      rounds,
      {
        'rehearse record': () =>
          timed(async () => {
            const recording = await startAgentRecording(target, { title: 'bench', by: 'bench', reset: false, progress: () => undefined });
            try {
              await runCommand({ ...process.env, DOLIBARR_URL: recording.url });
              await recording.finish(join(dir, `changeset-${recorded++}.json`));
            } finally {
              await recording.close();
            }
          }),
        'the command alone': () => timed(() => runCommand()),
        'two snapshots': () => timed(async () => {
          await snapshot();
          await snapshot();
        }),
      },
      onSample,
    );
    const harness = samples['rehearse record']!;
    const alone = samples['the command alone']!;
    const snapshots = samples['two snapshots']!;
    const overheads = harness.map((seconds, round) => seconds - alone[round]! - snapshots[round]!);
    const overhead = summarize(overheads).median;
    return {
      id: 'record-overhead',
      title: `rehearse record around "${COMMAND}" (gateway, states before and after, diff, changeset) vs the command alone plus two snapshots`,
      harness: { name: 'rehearse record', seconds: summarize(harness) },
      references: [
        { name: 'the command alone', seconds: summarize(alone) },
        { name: 'two snapshots', seconds: summarize(snapshots) },
        { name: 'record overhead', seconds: summarize(overheads) },
      ],
      ratios: [],
      goals: [{ subject: 'record overhead', kind: 'seconds at most', value: GOAL_SECONDS, measured: overhead, met: overhead <= GOAL_SECONDS }],
      notes: [
        'overhead per round: rehearse record minus the command alone minus two snapshots, in the same round',
        'the library path of rehearse record on the bench target (the CLI adds its start and the opening of its target)',
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
