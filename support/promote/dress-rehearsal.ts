import type { DolibarrClient } from '../dolibarr/client';
import { DolibarrAuthenticationError, DolibarrError } from '../dolibarr/errors';
import { diffSnapshots, type RelationChange } from '../lifecycle/diff';
import type { Snapshot, SnapshotEntry } from '../lifecycle/snapshot';
import type { Changeset } from './changeset';
import { compareDiffs, type Sides } from './compare';
import { PromotionRefused } from './refusal';
import { sendOperation } from './replay';
import { IdMap, remapOperation, ReplayPlanError, replayOrder } from './replay-plan';

/**
 * The dress rehearsal: before prod sees a changeset, promote proves that its diff is what its operations do. A digest
 * proves only that the file was not edited after review: a changeset written by hand, or whose diff was altered and
 * re-digested, would show the reviewer a diff its operations do not make. So the sandbox is reset to the golden, the
 * operations are replayed there as prod would get them, and the sandbox's diff must equal the changeset's.
 *
 * The sandbox is left as the dress rehearsal leaves it, holding the changeset's writes as after the agent's own
 * rehearsal: every rehearsal starts with a reset anyway, and a second one would double the wait before prod.
 */

/** Where a dress rehearsal starts. */
export interface StartingPoint {
  /** The golden the sandbox was reset to (its manifest): the root and each relation's hash. */
  readonly golden: { readonly root: string; readonly entries: readonly SnapshotEntry[] };
  /** The sandbox after the reset and the agent's overlay: what the operations are replayed on. */
  readonly start: Snapshot;
}

/** The sandbox as a dress rehearsal uses it; the target's side is support/targets/dress-rehearsal.ts. */
export interface DressRehearsalStage {
  /** Resets the sandbox to the golden and applies the agent's overlay, as a rehearsal starts. */
  resetToGolden(): Promise<StartingPoint>;
  /** The sandbox's state now, its row images kept so a diff can name rows. */
  state(): Promise<Snapshot>;
  /** The agent's guarded write tooling on the sandbox; the caller closes it. */
  tooling(): DolibarrClient;
}

/** Lends `work` the target's sandbox as a stage, and takes back what it obtained for it (its login) afterwards. */
export type DressRehearsalSite = <T>(work: (stage: DressRehearsalStage) => Promise<T>) => Promise<T>;

/** What a dress rehearsal did: the operations it replayed and the sandbox's diff from the golden. */
export interface DressRehearsal {
  readonly operations: number;
  readonly changes: readonly RelationChange[];
}

const LABELS: Sides = ['in the changeset', 'in the dress rehearsal'];

function hashes(entries: readonly SnapshotEntry[]): Map<string, string> {
  return new Map(entries.map((entry) => [entry.key, entry.hash]));
}

/** The keys (`kind name`) of the relations whose hash differs between two states, or that only one of them holds. */
function differing(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].sort().filter((key) => a.get(key) !== b.get(key));
}

/**
 * The changeset's before-state is the golden's, relation by relation: a diff from any other state is not the diff its
 * operations make from prod's content. The relations the agent's overlay rewrites after a reset (its key and rights,
 * which a rehearsal needs) are left out: Dolibarr's update triggers stamp them with the overlay's time, so their hash
 * is never the same twice. Everything else must be the golden's exactly.
 */
function requireStartedFromGolden(changeset: Changeset, { golden, start }: StartingPoint): string[] {
  const goldenHashes = hashes(golden.entries);
  const overlaid = new Set(differing(goldenHashes, hashes(start.entries)));
  const notGolden = differing(new Map(Object.entries(changeset.before.relations)), goldenHashes).filter((key) => !overlaid.has(key));
  if (notGolden.length > 0) {
    throw new PromotionRefused(
      'not rehearsed from the golden',
      `the changeset's before-state is not the golden's (${golden.root.slice(0, 12)}): a rehearsal must start from the sandbox reset to the golden; ` +
        'reset it, rehearse again and review the new changeset. Relations not as the golden holds them',
      notGolden,
    );
  }
  return [...overlaid];
}

/** Whether `error`, met replaying an operation, is the sandbox's Dolibarr refusing it rather than not being usable. */
function refusedBySandbox(error: unknown): boolean {
  if (error instanceof ReplayPlanError) return true;
  return error instanceof DolibarrError && !(error instanceof DolibarrAuthenticationError) && error.status >= 400 && error.status < 500;
}

/** Replays the changeset's operations on the stage's sandbox, ids rewritten as the prod replay rewrites them; returns how many. */
async function replayOnSandbox(changeset: Changeset, stage: DressRehearsalStage): Promise<number> {
  const operations = replayOrder(changeset.operations);
  const ids = new IdMap();
  const tooling = stage.tooling();
  try {
    for (const [index, operation] of operations.entries()) {
      const remapped = remapOperation(operation, ids);
      try {
        ids.recordCreation(operation, await sendOperation(tooling, remapped));
      } catch (error) {
        const what = `operation ${index + 1} of ${operations.length} (${remapped.method} ${remapped.path})`;
        if (!refusedBySandbox(error)) throw new Error(`the dress rehearsal could not replay ${what} on the sandbox: ${(error as Error).message}`, { cause: error });
        throw new PromotionRefused('not what its operations do', 'replayed on the sandbox reset to the golden, its operations do not succeed as recorded; nothing was sent to prod', [
          `${what}: ${(error as Error).message}`,
        ]);
      }
    }
  } finally {
    await tooling.close();
  }
  return operations.length;
}

/**
 * Dress-rehearses `changeset` on the sandbox `site` lends: reset to the golden, its before-state checked, its operations
 * replayed, the sandbox's diff compared with its `changes` modulo generated ids and timestamps. Throws PromotionRefused
 * ('not rehearsed from the golden', 'not what its operations do') naming the differences.
 */
export function dressRehearse(changeset: Changeset, site: DressRehearsalSite, progress: (line: string) => void = () => undefined): Promise<DressRehearsal> {
  return site(async (stage) => {
    progress('dress rehearsal: resetting the sandbox to the golden');
    const from = await stage.resetToGolden();
    const overlaid = requireStartedFromGolden(changeset, from);
    progress(`dress rehearsal: the changeset starts from the golden${overlaid.length > 0 ? ` (the overlay's ${overlaid.join(', ')} not compared)` : ''}`);
    const { start } = from;
    const operations = await replayOnSandbox(changeset, stage);
    const changes = (await diffSnapshots(start, await stage.state())).changes;
    const comparison = compareDiffs(changeset.changes, changes, LABELS);
    if (!comparison.equal) {
      throw new PromotionRefused(
        'not what its operations do',
        `replayed on the sandbox reset to the golden, the changeset's ${operations} operation(s) do not make the diff it shows for review; nothing was sent to prod`,
        comparison.differences,
      );
    }
    progress(`dress rehearsal: ${operations} operation(s) replayed on the sandbox make the changeset's diff`);
    return { operations, changes };
  });
}
