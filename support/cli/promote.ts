import { createInterface } from 'node:readline/promises';
import { join } from 'node:path';
import type { HarnessConfig } from '../config';
import { actor } from './actor';
import { readChangeset } from '../promote/changeset';
import { renderReviewHtml } from '../promote/review-html';
import { renderReviewText, shouldColour } from '../promote/review';
import { writeRedacted } from '../redacted-files';
import { flushRedactedWrites } from '../redaction';
import type { TargetKind } from '../targets/session';

/**
 * The review and promote commands: the human's side of the promotion gate. `review` renders a changeset for the
 * terminal and as an HTML page and prints its digest; `promote` asks for that digest (typed at the terminal, or given
 * with --approve) and replays the changeset on the target's prod through support/promote.
 */

export function auditPath(config: HarnessConfig, env: NodeJS.ProcessEnv = process.env): string {
  return env.ERP_REHEARSAL_PROMOTE_AUDIT || join(config.reports.dir, 'promote-audit.ndjson');
}

/** Prints the review; writes the HTML page. Exit 1 when the changeset was edited after it was recorded. */
export function review(path: string, htmlPath: string | undefined): number {
  const { changeset, computed } = readChangeset(path);
  const html = htmlPath ?? `${path.replace(/\.json$/, '')}.html`;
  writeRedacted(html, renderReviewHtml(changeset, { file: path }));
  process.stdout.write(`${renderReviewText(changeset, { colour: shouldColour(process.stdout, process.env), file: path })}\n`);
  process.stdout.write(`\nThe same review as a page: ${html}\n`);
  if (computed !== changeset.digest) {
    process.stderr.write(`rehearse: the changeset's content no longer matches its digest (it is ${computed} now): it was edited after it was recorded; promote will refuse it\n`);
    return 1;
  }
  return 0;
}

/** The interactive approval: shows the digest and reads it back. Undefined when stdin is not a terminal. */
export function terminalConfirmation(): ((digest: string) => Promise<string>) | undefined {
  if (!process.stdin.isTTY) return undefined;
  return async (digest) => {
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    try {
      process.stderr.write(`You are about to replay this changeset on prod.\nIts digest is ${digest}\n`);
      const answer = prompt.question('Type the digest you reviewed to approve it: ');
      // The prompt is on the terminal before the answer is awaited, whatever the redaction point holds back.
      flushRedactedWrites();
      return await answer;
    } finally {
      prompt.close();
    }
  };
}

export interface PromoteCommand {
  readonly path: string;
  readonly approve?: string;
  readonly target: TargetKind;
  /** `--resume`: finish the unfinished promotion of this changeset that its journal records. */
  readonly resume?: boolean;
}

export async function promoteCommand(command: PromoteCommand, config: HarnessConfig, progress: (line: string) => void): Promise<number> {
  const { openTarget, closeTarget } = await import('../targets/session');
  const { promote } = await import('../promote/promote');
  const { promoteTargetOf } = await import('../targets/dress-rehearsal');
  const confirm = terminalConfirmation();
  try {
    const target = await openTarget('runner', command.target, progress);
    const promotion = await promote(promoteTargetOf(target), {
      changesetPath: command.path,
      ...(command.approve === undefined ? {} : { approve: command.approve }),
      ...(confirm ? { confirm } : {}),
      who: actor(),
      auditPath: auditPath(config),
      progress,
      ...(command.resume ? { resume: true } : {}),
    }).catch((error: unknown) => {
      // Stopped by a signal: what reached prod and how to finish, then the interruption ends the command.
      if ((error as Error).name === 'PromotionStopped') process.stderr.write(`rehearse: ${(error as Error).message}\n`);
      throw error;
    });
    const resumed = promotion.resumedAt === undefined ? '' : `, resumed at operation ${promotion.resumedAt} (the earlier ones from its journal)`;
    const lines = [
      `promoted ${promotion.digest} to ${target.prod.host}: ${promotion.replayed.length} operation(s)${resumed}`,
      ...promotion.replayed.map((operation) => `  ${operation.method} ${operation.path} → ${JSON.stringify(operation.answer)}`),
      promotion.comparison.equal
        ? "prod's diff equals the rehearsed diff (modulo generated ids, timestamps and the acting user)"
        : "PROD'S DIFF DIFFERS FROM THE REHEARSED ONE:",
      ...promotion.comparison.differences.map((line) => `  ${line}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return promotion.comparison.equal ? 0 : 1;
  } finally {
    await closeTarget('runner');
  }
}
