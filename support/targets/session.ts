import { loadConfig } from '../config';
import type { Progress } from './hermetic';
import { buildLiveTarget } from './live';
import type { Target } from './target';

/**
 * The target of this process, built once and shared by whoever needs it first: the gates runner (which
 * builds it before Cucumber starts, so a missing PostgreSQL is one clear message and not a failed hook)
 * or the hooks, for the first scenario that needs it (when features are run by `cucumber-js` directly). Whoever
 * opened it closes it.
 */

export type Owner = 'runner' | 'hooks';
export type TargetKind = Target['kind'];

let current: { owner: Owner; target: Promise<Target> } | undefined;

export function openTarget(owner: Owner, kind: TargetKind, progress: Progress): Promise<Target> {
  if (!current) {
    const config = loadConfig();
    if (config.target !== kind) {
      throw new Error(`the Cucumber profile asks for a ${kind} target but ERP_REHEARSAL_TARGET is ${config.target}`);
    }
    // The hermetic target's stand-ins are loaded only to build one: an operator's command on a live target never needs them.
    const target = config.target === 'live' ? buildLiveTarget(config, progress) : import('./hermetic').then(({ buildHermeticTarget }) => buildHermeticTarget(config, progress));
    current = { owner, target };
  }
  return current.target;
}

export async function closeTarget(owner: Owner): Promise<void> {
  if (!current || current.owner !== owner) return;
  const { target } = current;
  current = undefined;
  // A target that failed to build has already stopped what it started.
  const built = await target.catch(() => undefined);
  await built?.close();
}
