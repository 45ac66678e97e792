import { diffSnapshots } from '../lifecycle/diff';
import type { Snapshot } from '../lifecycle/snapshot';

/**
 * Prod's content as a live run may read it: reading prod costs prod, so a live run takes at most two full content
 * hashes of it, one when a scenario first records prod's state and one at the end of the run. Scenarios that claim
 * "prod's content hash is unchanged" are judged by that second hash (support/gates/claims.ts), not each by its own.
 */

/** What the end of the run found: whether prod's content hash is the one the run recorded, and what moved. */
export interface ProdSettlement {
  readonly before: string;
  readonly after: string;
  /** Relations whose content or definition changed between the two hashes (empty when unchanged). */
  readonly changed: readonly string[];
}

export class ProdWatch {
  #before?: Promise<Snapshot>;

  /** `read` takes one full snapshot of prod, through the golden identity. */
  constructor(private readonly read: () => Promise<Snapshot>) {}

  /** The run's recorded state of prod: taken at the first call, the same snapshot for every later one. */
  recorded(): Promise<Snapshot> {
    if (!this.#before) {
      this.#before = this.read();
      this.#before.catch(() => (this.#before = undefined));
    }
    return this.#before;
  }

  /** The second and last hash, when the run recorded prod at all. */
  async settle(): Promise<ProdSettlement | undefined> {
    if (!this.#before) return undefined;
    const before = await this.#before;
    const after = await this.read();
    const diff = await diffSnapshots(before, after);
    return { before: before.root, after: after.root, changed: diff.changes.map((change) => `${change.name} (${change.change})`) };
  }
}
