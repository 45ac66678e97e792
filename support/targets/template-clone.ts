import { cloneResetSandbox, prepareGoldenDatabase, type CloneResetResult, type CloneStrategy, type GoldenDatabaseResult } from '../lifecycle/template-clone';
import { cloneNames } from '../lifecycle/template-clone-names';
import type { MintedLogin } from '../postgres/minting';
import type { Target } from './target';

/**
 * The template-clone reset on a target (support/lifecycle/template-clone.ts), for the gates and the benchmark: a clone
 * login minted through Vault by the clone's own identity, and the two calls with the target's endpoint, tools and golden.
 */

/** The target has no template-clone identity configured (the live target, today): the clone reset is not available. */
export class NoCloneIdentityError extends Error {
  override readonly name = 'NoCloneIdentityError';
  constructor(readonly target: Target['kind'], readonly vaultRole: string) {
    super(
      `the ${target} target has no template-clone identity configured (Vault Kubernetes role ${vaultRole}): the opt-in ` +
        'template-clone reset needs its own CREATEDB-scoped role and identity; use the default reset',
    );
  }
}

/**
 * A short-lived login of the clone role, from Vault at `postgres/creds/<sandbox>-clone` through the clone's own
 * identity (Kubernetes role `<sandbox>-clone`). Revoke it with `target.minter.revoke(login)` (the target revokes
 * whatever is left at close). Throws NoCloneIdentityError where the target has none.
 */
export function mintCloneLogin(target: Target): Promise<MintedLogin> {
  const names = cloneNames(target.sandbox);
  if (target.vault.cloner === undefined) return Promise.reject(new NoCloneIdentityError(target.kind, names.vaultRole));
  return target.minter.mint(names.minting);
}

export interface TargetCloneOptions {
  readonly strategy?: CloneStrategy;
  readonly progress?: (line: string) => void;
}

/** The target's endpoint, tools, sandbox and golden, for the clone calls with `login`. */
function onTarget(target: Target, login: MintedLogin, options: TargetCloneOptions) {
  return {
    endpoint: target.endpointFor(target.sandbox.database),
    tools: target.tools,
    login,
    sandbox: target.sandbox,
    golden: target.golden,
    lockTimeoutMs: target.config.reset.lockTimeoutMs,
    progress: options.progress,
  };
}

/** (Re)builds the target's golden database from its golden when missing or stale, with `login` (a clone login). */
export function prepareTargetGoldenDatabase(target: Target, login: MintedLogin, options: TargetCloneOptions = {}): Promise<GoldenDatabaseResult> {
  return prepareGoldenDatabase(onTarget(target, login, options));
}

/** Resets the target's sandbox by cloning its golden database, with `login` (a clone login). */
export function cloneResetTargetSandbox(target: Target, login: MintedLogin, options: TargetCloneOptions = {}): Promise<CloneResetResult> {
  return cloneResetSandbox({ ...onTarget(target, login, options), strategy: options.strategy });
}
