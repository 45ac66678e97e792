import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import type { HarnessConfig } from '../config';
import { commandEnvironment, DOLIBARR_VARIABLES } from '../gateway/environment';
import { registerTeardown } from '../process/teardown';
import type { Changeset } from '../promote/changeset';
import { renderReviewText, shouldColour } from '../promote/review';
import { flushRedactedWrites } from '../redaction';
import type { TargetKind } from '../targets/session';
import { actor } from './actor';

/**
 * `rehearse record`: an agent's session through the recording gateway, written as a changeset for review. The agent's
 * command runs with DOLIBARR_URL pointing at the gateway and no key; when it ends (any status), or at Ctrl-C with
 * --serve, the changeset is written and its review printed. The exit status is the command's.
 */

export interface RecordCommand {
  readonly title: string;
  readonly reset: boolean;
  readonly out: string;
  /** The agent's command and its arguments; empty with `serve`. */
  readonly command: readonly string[];
  readonly serve: boolean;
  readonly target: TargetKind;
}

/** The command's exit status, or 128 + its signal's number as a shell says it. */
function runAgentCommand(command: readonly string[], env: NodeJS.ProcessEnv, progress: (line: string) => void): Promise<number> {
  return new Promise((done) => {
    const child = spawn(command[0]!, command.slice(1), { env, stdio: 'inherit' });
    child.once('error', (error) => {
      progress(`the command ${JSON.stringify(command[0])} could not start: ${error.message}`);
      done(127);
    });
    child.once('exit', (code, signal) => done(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

function printReview(changeset: Changeset, file: string, refusals: readonly string[]): void {
  const lines = [renderReviewText(changeset, { colour: shouldColour(process.stdout, process.env), file })];
  if (refusals.length > 0) lines.push('', `The gateway refused ${refusals.length} request(s), none of which reached the sandbox or is in the changeset:`, ...refusals.map((line) => `  ${line}`));
  lines.push('', `changeset ${file}`, `digest ${changeset.digest}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  flushRedactedWrites();
}

export async function recordCommand(command: RecordCommand, _config: HarnessConfig, progress: (line: string) => void): Promise<number> {
  const { openTarget, closeTarget } = await import('../targets/session');
  const { startAgentRecording } = await import('../targets/record');
  const out = resolve(command.out);
  try {
    const target = await openTarget('runner', command.target, progress);
    const recording = await startAgentRecording(target, { title: command.title, by: actor(), reset: command.reset, progress });
    let finished: Promise<Changeset> | undefined;
    const finish = () => (finished ??= recording.finish(out).then((changeset) => {
      printReview(changeset, out, recording.refusals);
      return changeset;
    }));
    // Ctrl-C or SIGTERM: the changeset is still written, before the target's own teardowns (newest first).
    const forget = registerTeardown({ name: 'the rehearsal recording', stop: async () => void (await finish().finally(() => recording.close())) });
    try {
      const env = commandEnvironment(recording.url);
      const names = Object.keys(DOLIBARR_VARIABLES).map((name) => `${name}=${env[name]}`).join(' ');
      if (command.serve) {
        progress(`the gateway is up: point the agent at ${names} (no key: the gateway adds it); Ctrl-C writes the changeset to ${out}`);
        await new Promise<never>(() => undefined);
      }
      progress(`running ${command.command.join(' ')} with ${names}`);
      const code = await runAgentCommand(command.command, env, progress);
      progress(`the command exited ${code}: ${recording.operations.length} write(s) recorded`);
      await finish();
      return code;
    } finally {
      forget();
      await recording.close();
    }
  } finally {
    await closeTarget('runner');
  }
}
