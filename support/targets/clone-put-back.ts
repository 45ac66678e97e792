import type { Snapshot } from '../lifecycle/snapshot';
import type { MintedLogin } from '../postgres/minting';
import { resetTargetSandbox } from './reset';
import { cloneResetTargetSandbox } from './template-clone';
import type { Target } from './target';

/**
 * Puts the sandbox back at the golden after a template-clone scenario, whatever it left (other scenarios start there),
 * unless its state (`state`, unreadable when the sandbox database is missing) already has the golden's hash: a clone
 * reset with the scenario's clone login, or where that fails, the default reset with a sandbox login of its own.
 */
export async function putSandboxBackAtGolden(target: Target, cloneLogin: () => MintedLogin, state: () => Promise<Snapshot>): Promise<void> {
  if ((await state().catch(() => undefined))?.root === target.golden.manifest.root) return;
  try {
    await cloneResetTargetSandbox(target, cloneLogin());
  } catch {
    const login = await target.minter.mint(target.sandbox);
    try {
      await resetTargetSandbox(target, login);
    } finally {
      await target.minter.revoke(login);
    }
  }
}
