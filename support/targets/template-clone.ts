import { cloneResetSandbox, type CloneResetResult, type CloneStrategy } from '../lifecycle/template-clone';
import { prepareGoldenDatabase, type GoldenDatabaseResult } from '../lifecycle/template-clone-golden';
import { leaveInterruptedCloneReset, type Interruption } from '../lifecycle/template-clone-faults';
import { cloneNames, MAINTENANCE_DATABASE } from '../naming/template-clone';
import { attemptAsClone, type CloneAttemptOutcome } from '../postgres/clone-fence';
import type { Endpoint, Login } from '../postgres/cluster';
import type { MintedLogin } from '../postgres/minting';
import { probeForm } from './probes';
import type { Target } from './target';

/**
 * The template-clone reset on a target (support/lifecycle/template-clone.ts), for the gates and the benchmark: a clone
 * login minted through Vault by the clone's own identity, the two calls with the target's endpoint, tools and golden,
 * what an interrupted reset leaves, and the clone credential's fence in the form the target allows.
 */

/** The target has no template-clone identity configured (a live one whose operator set none): the clone reset is not available. */
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

/**
 * Where the clone role works: the sandbox's server, reached through the sandbox's endpoint, for the sandbox's databases
 * and for the maintenance database `postgres` its CREATE, DROP and ALTER DATABASE run from. A live target lists only
 * the two app databases, and `postgres` is a database of the sandbox's server like the sandbox itself: asking for it
 * through the sandbox's endpoint reaches the server the clone reset changes, never through prod's.
 */
export function cloneEndpoint(target: Target): Endpoint {
  return target.endpointFor(target.sandbox.database);
}

/** The target's endpoint, tools, sandbox and golden, for the clone calls with `login`. */
function onTarget(target: Target, login: MintedLogin, options: TargetCloneOptions) {
  return {
    endpoint: cloneEndpoint(target),
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

/** Leaves what a clone reset interrupted at `at` leaves on the target's sandbox server, made with `login` (a clone login). */
export function leaveTargetInterruptedCloneReset(target: Target, login: Login, at: Interruption): Promise<void> {
  return leaveInterruptedCloneReset(cloneEndpoint(target), login, target.sandbox, at);
}

/**
 * The clone credential's attempt `attempt` on prod (support/postgres/clone-fence.ts) as `login`, in the forms the target
 * allows (probeForm: the attempt itself after its safe form on a hermetic target only). Prod's database is reached
 * through prod's endpoint; the maintenance database through the sandbox's (cloneEndpoint).
 */
export function attemptCloneFenceOnTarget(target: Target, login: Login, attempt: string): Promise<CloneAttemptOutcome> {
  return attemptAsClone(cloneFenceEndpoints(target), login, { prod: target.prod, sandbox: target.sandbox }, attempt, { itselfToo: probeForm(target) === 'hermetic' });
}

/** Where the clone fence reaches each database: prod's through prod's endpoint, the maintenance database through the sandbox's. */
export function cloneFenceEndpoints(target: Target): (database: string) => Endpoint {
  return (database) => (database === MAINTENANCE_DATABASE ? cloneEndpoint(target) : target.endpointFor(database));
}
