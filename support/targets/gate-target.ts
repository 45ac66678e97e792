import type { Progress } from './hermetic';
import { openTarget, type TargetKind } from './session';
import type { Target } from './target';
import { agentWriteTooling } from './write-tooling';

/**
 * The target of a gate run: built as every command builds it, then the sandbox's Dolibarr asked whether it answers at
 * all, through the agent's write tooling. A Dolibarr that answers an error page (its database unreachable) or nothing
 * stops the run here as a target that cannot be reached (exit 4), rather than failing every gate that talks to it.
 * The lifecycle commands need no Dolibarr (a reset even scales it down) and do not ask.
 */
export async function openGateTarget(kind: TargetKind, progress: Progress): Promise<Target> {
  const target = await openTarget('runner', kind, progress);
  const tooling = agentWriteTooling(target);
  try {
    await tooling.checkAnswers();
  } finally {
    await tooling.close();
  }
  progress(`Dolibarr: ${target.dolibarr.sandbox.url} answers`);
  return target;
}
