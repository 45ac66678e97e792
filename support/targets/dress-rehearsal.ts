import type { DressRehearsalSite } from '../promote/dress-rehearsal';
import type { PromoteTarget } from '../promote/promote';
import { stateOf } from '../lifecycle/state';
import { resetTargetSandbox } from './reset';
import type { Target } from './target';
import { agentWriteTooling } from './write-tooling';

/**
 * The target's side of promote's dress rehearsal: the sandbox reset to the golden by the sandbox's own reset, with a
 * sandbox login minted for it (revoked after), the agent's overlay applied, its state read through that login, and the
 * agent's guarded write tooling. promote/ never imports targets/: it gets all this as a function of the target.
 */

/** The sandbox of `target` as promote's dress rehearsal uses it. */
export function dressRehearsalSite(target: Target): DressRehearsalSite {
  const { sandbox } = target;
  return async (work) => {
    const login = await target.minter.mint(sandbox);
    try {
      const state = () => stateOf(target.endpointFor(sandbox.database), login, sandbox, target.workDir);
      return await work({
        async resetToGolden() {
          await resetTargetSandbox(target, login);
          const golden = target.golden.manifest;
          const reset = (await stateOf(target.endpointFor(sandbox.database), login, sandbox)).root;
          if (reset !== golden.root) {
            throw new Error(`the sandbox was reset for the dress rehearsal, yet its hash is ${reset.slice(0, 12)}, not the golden's ${golden.root.slice(0, 12)}: run "rehearse status" to see why`);
          }
          await target.dolibarr.applySandboxOverlay();
          return { golden, start: await state() };
        },
        state,
        tooling: () => agentWriteTooling(target),
      });
    } finally {
      await target.minter.revoke(login);
    }
  };
}

/** `target` as promote takes it: the target itself, and its sandbox for the dress rehearsal. */
export function promoteTargetOf(target: Target): PromoteTarget {
  return { ...target, dressRehearsal: dressRehearsalSite(target) };
}
