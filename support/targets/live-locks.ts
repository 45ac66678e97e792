import type { Login } from '../postgres/cluster';
import type { MintedLogin } from '../postgres/minting';
import { runLiveMatrix, type LiveMatrixRun } from '../postgres/live-matrix';
import { holdWrite, judgeLockWaits, whileWatched, type HeldWrite, type LockJudgement, type LockWaitRecord } from '../postgres/probes';
import { mintGoldenLogin, NoGoldenIdentityError } from './golden-identity';
import { probeContext } from './probes';
import { cloneFenceEndpoints, mintCloneLogin, NoCloneIdentityError } from './template-clone';
import type { Target } from './target';

/**
 * Whether the fences' live forms can stall prod on a target: a write of prod's own held open meanwhile (where the target
 * holds a credential of prod's owner role), every live form of the three fences run, and the cluster's lock queue
 * watched throughout (support/postgres/probes/lock-waits.ts).
 */

/**
 * Leaves a write of prod's own open on prod's llx_societe (support/postgres/probes/held-write.ts), made as `prodOwner`, a
 * login of prod's owner role; the caller releases it (ending its session rolls it back). Undefined without such a
 * credential: a live run holds none, and then prod's own sessions are the ones watched.
 */
export async function holdProdWrite(target: Target, prodOwner: Login | undefined): Promise<HeldWrite | undefined> {
  if (!prodOwner) return undefined;
  return holdWrite(target.endpointFor(target.prod.database), prodOwner, target.prod.database);
}

/** The golden and clone logins of the fences the target has identities for (minted through Vault); absent where it has none. */
export async function fenceLogins(target: Target): Promise<{ readonly golden?: MintedLogin; readonly clone?: MintedLogin }> {
  const golden = await mintGoldenLogin(target).catch((error: unknown) => {
    if (error instanceof NoGoldenIdentityError) return undefined;
    throw error;
  });
  const clone = await mintCloneLogin(target).catch((error: unknown) => {
    if (error instanceof NoCloneIdentityError) return undefined;
    throw error;
  });
  return { ...(golden ? { golden } : {}), ...(clone ? { clone } : {}) };
}

export interface WatchedLiveMatrix extends LockJudgement {
  readonly run: LiveMatrixRun;
  readonly record: LockWaitRecord;
}

/**
 * Runs every live form of the three fences (runLiveMatrix) as `sandbox` and the fence logins given, while the sandbox login
 * watches the cluster's lock queue from the sandbox database, and judges what the watch saw.
 */
export async function watchedLiveMatrix(target: Target, sandbox: Login, fences: { readonly golden?: Login; readonly clone?: Login }): Promise<WatchedLiveMatrix> {
  const sandboxEndpoint = target.endpointFor(target.sandbox.database);
  const { result: run, record } = await whileWatched(sandboxEndpoint, sandbox, target.sandbox.database, () =>
    runLiveMatrix({ probes: sandboxEndpoint, golden: (database) => target.endpointFor(database), clone: cloneFenceEndpoints(target) }, { sandbox, ...fences }, probeContext(target)));
  const harness = new Set([sandbox, fences.golden, fences.clone].flatMap((login) => (login ? [login.user] : [])));
  return { run, record, ...judgeLockWaits(record, harness) };
}
