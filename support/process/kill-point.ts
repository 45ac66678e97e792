import { flushRedactedWrites } from '../redaction';

/**
 * Kill points: ERP_REHEARSAL_KILL_AT names a point (e.g. `promote:after-write:1`) and the process SIGKILLs itself
 * there, so a test can check what a crash at exactly that point leaves behind — no timing, no race with the next step.
 * Unset, a kill point does nothing.
 */
export function killPoint(name: string, env: NodeJS.ProcessEnv = process.env): void {
  if (env.ERP_REHEARSAL_KILL_AT?.trim() !== name) return;
  process.stderr.write(`kill point ${name} reached: SIGKILL\n`);
  // The line is on its way before the process dies: nothing runs after a SIGKILL to write what is held back.
  flushRedactedWrites();
  process.kill(process.pid, 'SIGKILL');
}
