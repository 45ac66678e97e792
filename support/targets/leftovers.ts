import type { HarnessConfig } from '../config';
import { describeDrift, findDrift } from '../postgres/drift';
import { cloneNames } from '../naming/template-clone';
import type { InstanceNames } from '../naming';
import { goldenNames } from '../naming/golden';
import type { Endpoint, Login } from '../postgres/cluster';
import { withClient } from '../postgres/connect';
import { stopLeftoverServer } from '../postgres/local';
import { RevocationError } from '../postgres/minting';
import { describeProcess, processGone, processRunningHere } from '../process/liveness';
import { removeDeadWorkDirs } from '../process/work-dirs';
import type { VaultMinter } from '../vault';
import type { LedgerEntry, MintLedger } from '../vault/ledger';

/**
 * What a run that died (a SIGKILL, a lost machine) left behind, found and cleared by the next one, each said:
 * - its work directories, prod's data among them, and the server of a cluster it started (any target);
 * - on a live target, the login roles it minted (the ledger, support/vault/ledger.ts): their leases are revoked through
 *   the Vault identity that minted them, the only one whose policy is meant to revoke them.
 */

export type Progress = (line: string) => void;

/** Removes the work directories of runs that are gone, stopping the server one left in its cluster directory first. */
export async function removeDeadRunsFiles(progress: Progress): Promise<void> {
  await removeDeadWorkDirs(progress, async (dir) => {
    if (dir.kind === 'pg') await stopLeftoverServer(dir.path, progress);
  });
}

/** The ledger of a live target and what it needs to judge and revoke its entries. */
export interface LedgerSweep {
  readonly ledger: MintLedger;
  readonly minter: VaultMinter;
  /** The sandbox's server, where the entries' roles are looked for; entries of other clusters are left alone. */
  readonly endpoint: Endpoint;
  readonly sandbox: InstanceNames;
  /** The instances whose Vault identity the target holds, by instance: the sandbox's, and the golden's and the clone's where configured. */
  readonly identities: ReadonlyMap<string, InstanceNames>;
}

/** The identities a live configuration holds, by the instance their logins are minted for. */
export function heldIdentities(config: HarnessConfig): Map<string, InstanceNames> {
  const held = new Map<string, InstanceNames>([[config.sandbox.instance, config.sandbox]]);
  if (config.live?.vault.golden) held.set(goldenNames(config.prod).minting.instance, goldenNames(config.prod).minting);
  if (config.live?.vault.clone) held.set(cloneNames(config.sandbox).minting.instance, cloneNames(config.sandbox).minting);
  return held;
}

const clusterOf = (endpoint: Endpoint) => `${endpoint.host}:${endpoint.port}`;

/** An entry's login as said to the operator. */
function describeEntry(entry: LedgerEntry): string {
  const by = entry.by ? ` by ${describeProcess(entry.by)}` : '';
  return `${entry.username} (${entry.instance}, minted ${entry.mintedAt}${by}, lease ${entry.leaseId})`;
}

export interface LeftoverLogins {
  /** Minted by a run that is gone (on this machine): revoked at the start of every live command. */
  readonly ofGoneRuns: readonly LedgerEntry[];
  /** Minted by a run that is running here now: in use, not leftovers. */
  readonly inUse: readonly LedgerEntry[];
  /** Minted by a run this machine cannot judge (another machine, or a ledger line older than the process marks). */
  readonly unknown: readonly LedgerEntry[];
}

/** The ledger's outstanding logins of this cluster whose role is still there, as `login` sees pg_roles; the others are forgotten. */
export async function leftoverLogins(sweep: LedgerSweep, login: Login): Promise<LeftoverLogins> {
  const outstanding = sweep.ledger.outstanding().filter((entry) => entry.cluster === clusterOf(sweep.endpoint) && entry.username !== login.user);
  if (outstanding.length === 0) return { ofGoneRuns: [], inUse: [], unknown: [] };
  const present = new Set(await withClient(sweep.endpoint, login, sweep.sandbox.database, async (client) =>
    (await client.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [outstanding.map((entry) => entry.username)])).rows.map((row) => row.rolname)));
  // Gone from the cluster: their leases expired or were revoked elsewhere.
  sweep.ledger.forget(outstanding.filter((entry) => !present.has(entry.username)).map((entry) => entry.username));
  const left = outstanding.filter((entry) => present.has(entry.username));
  return {
    ofGoneRuns: left.filter((entry) => entry.by !== undefined && processGone(entry.by)),
    inUse: left.filter((entry) => entry.by !== undefined && processRunningHere(entry.by)),
    unknown: left.filter((entry) => entry.by === undefined || (!processGone(entry.by) && !processRunningHere(entry.by))),
  };
}

export interface RevocationLine {
  readonly ok: boolean;
  readonly text: string;
}

/** Revokes each entry's lease through the identity that minted it; one line per entry, said on `progress`. */
async function revokeEach(sweep: LedgerSweep, login: Login, entries: readonly LedgerEntry[], progress: Progress): Promise<RevocationLine[]> {
  const whose = (entry: LedgerEntry) => (entry.by !== undefined && processGone(entry.by) ? 'left by a run that is gone' : 'of a run the operator says is over');
  const lines: RevocationLine[] = [];
  for (const entry of entries) {
    const names = sweep.identities.get(entry.instance);
    let line: RevocationLine;
    if (names === undefined) {
      line = {
        ok: false,
        text: `login ${describeEntry(entry)} was minted through the Vault identity of ${entry.instance}, which this target does not hold: ` +
          `revoke it as that identity (vault lease revoke ${entry.leaseId}), or configure it here`,
      };
    } else {
      try {
        await sweep.minter.revokeLeftover(names, entry);
        line = { ok: true, text: `revoked the lease of login ${describeEntry(entry)}, ${whose(entry)}` };
      } catch (error) {
        line = { ok: false, text: await cannotRevoke(sweep, login, entry, error) };
      }
    }
    progress(line.text);
    lines.push(line);
  }
  return lines;
}

/** Why an entry's lease could not be revoked, with its drift named when the login owns objects. */
async function cannotRevoke(sweep: LedgerSweep, login: Login, entry: LedgerEntry, error: unknown): Promise<string> {
  if (!(error instanceof RevocationError) || error.code !== '2BP01') return `cannot revoke the lease of login ${describeEntry(entry)}: ${(error as Error).message}`;
  const owned = await withClient(sweep.endpoint, login, sweep.sandbox.database, (client) => findDrift(client, { ownerRole: sweep.sandbox.ownerRole }))
    .then((drift) => describeDrift(drift.filter((object) => object.owner === entry.username)), () => []);
  return `cannot revoke the lease of login ${describeEntry(entry)}: Vault cannot drop the role while it owns objects` +
    `${owned.length > 0 ? ` (${owned.join(', ')})` : ''} — rehearse reset --drop-dead-drift drops them as ${sweep.sandbox.ownerRole}, and revokes the lease after`;
}

/** Runs `work` with `login`, or with a sandbox login minted for it and revoked after. */
async function withLogin<T>(sweep: LedgerSweep, login: Login | undefined, work: (login: Login) => Promise<T>): Promise<T> {
  if (login) return work(login);
  const minted = await sweep.minter.mint(sweep.sandbox);
  try {
    return await work(minted);
  } finally {
    await sweep.minter.revoke(minted);
  }
}

/**
 * Revokes the leases of the logins runs that are gone left in the cluster (`gone runs`), or of every leftover not in
 * use by a run here (`not in use`: also those of other machines and unmarked ledger lines, the operator's call); one
 * line each. Reads pg_roles as `login` (or a sandbox login minted for it, only when the ledger has candidates).
 */
export async function revokeLeftoverLogins(sweep: LedgerSweep, which: 'gone runs' | 'not in use', progress: Progress, login?: Login): Promise<RevocationLine[]> {
  const candidates = sweep.ledger.outstanding().filter((entry) => entry.cluster === clusterOf(sweep.endpoint)
    && (which === 'gone runs' ? entry.by !== undefined && processGone(entry.by) : !(entry.by !== undefined && processRunningHere(entry.by))));
  if (candidates.length === 0) return [];
  return withLogin(sweep, login, async (reader) => {
    const left = await leftoverLogins(sweep, reader);
    return revokeEach(sweep, reader, which === 'gone runs' ? left.ofGoneRuns : [...left.ofGoneRuns, ...left.unknown], progress);
  });
}

/** Lines for `rehearse status`: the leftover logins still in the cluster, each with what to do. */
export function describeLeftovers(left: LeftoverLogins): RevocationLine[] {
  const lines: RevocationLine[] = [];
  if (left.inUse.length > 0) lines.push({ ok: true, text: `login role(s) in use by a run in progress here: ${left.inUse.map(describeEntry).join('; ')}` });
  if (left.ofGoneRuns.length > 0) {
    lines.push({ ok: false, text: `login role(s) left by runs that are gone, which could not be revoked (see above): ${left.ofGoneRuns.map(describeEntry).join('; ')}` });
  }
  if (left.unknown.length > 0) {
    lines.push({
      ok: false,
      text: `login role(s) minted by the harness and not revoked, of runs this machine cannot tell are over (another machine, or an older ledger): ` +
        `${left.unknown.map(describeEntry).join('; ')} — once no such run is going, rehearse status --revoke revokes them`,
    });
  }
  if (lines.length === 0) lines.push({ ok: true, text: 'no login role minted by the harness is left in the cluster' });
  return lines;
}

/** The dead logins of the ledger (minted here by runs that are gone), for a reset asked to drop their drift. */
export function deadLedgerLogins(sweep: Pick<LedgerSweep, 'ledger' | 'endpoint'>): string[] {
  return sweep.ledger.outstanding()
    .filter((entry) => entry.cluster === clusterOf(sweep.endpoint) && entry.by !== undefined && processGone(entry.by))
    .map((entry) => entry.username);
}
