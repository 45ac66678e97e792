import type { DolibarrClient, WriteExchange } from '../dolibarr/client';
import { diffSnapshots } from '../lifecycle/diff';
import type { Snapshot } from '../lifecycle/snapshot';
import type { InstanceNames } from '../naming';
import { CHANGESET_FORMAT, writeChangeset, type Changeset, type RecordedOperation, type StateHashes } from './changeset';

/**
 * Recording a rehearsal: the sandbox's state before, the agent's write tooling (the guarded sandbox client) with every
 * write it sends recorded, the state after, and their row-level diff, written as one changeset file.
 */

/** Where a rehearsal is recorded; the target's side (support/targets/promotion.ts) reads the states and makes the tooling. */
export interface RecordingSite {
  /** The instance the rehearsal writes to. */
  readonly sandbox: InstanceNames;
  /** The instance the changeset is for. */
  readonly prod: InstanceNames;
  /** The sandbox's state now, its row images kept so the diff can name rows. */
  sandboxState(): Promise<Snapshot>;
  /** The agent's write tooling, telling `onWrite` of every write it sends. */
  tooling(onWrite: (exchange: WriteExchange) => void): DolibarrClient;
}

function hashes(snapshot: Snapshot): StateHashes {
  return { root: snapshot.root, relations: Object.fromEntries(snapshot.entries.map((entry) => [entry.key, entry.hash])) };
}

export class RehearsalRecording {
  readonly #operations: RecordedOperation[] = [];
  readonly #toolings: DolibarrClient[] = [];

  private constructor(
    private readonly site: RecordingSite,
    private readonly before: Snapshot,
    private readonly title: string,
    private readonly by: string,
  ) {}

  /** Takes the before state. Reset the sandbox and apply the overlay first: the rehearsal starts from the golden. */
  static async start(site: RecordingSite, options: { readonly title: string; readonly by: string }): Promise<RehearsalRecording> {
    return new RehearsalRecording(site, await site.sandboxState(), options.title, options.by);
  }

  /** The agent's write tooling, recording: a guarded client of the sandbox with the agent's key. */
  tooling(): DolibarrClient {
    const tooling = this.site.tooling((exchange) => this.recordWrite(exchange));
    this.#toolings.push(tooling);
    return tooling;
  }

  /** Records a write another recorder saw (the recording gateway's), as the tooling records its own. */
  recordWrite(exchange: WriteExchange): void {
    this.#operations.push(structuredClone(exchange));
  }

  /** The writes recorded so far. */
  get operations(): readonly RecordedOperation[] {
    return this.#operations;
  }

  /** Takes the after state, diffs it with the before, writes the changeset to `path`. */
  async finish(path: string): Promise<Changeset> {
    const { sandbox, prod } = this.site;
    const after = await this.site.sandboxState();
    const diff = await diffSnapshots(this.before, after);
    return writeChangeset(path, {
      format: CHANGESET_FORMAT,
      title: this.title,
      rehearsal: { host: sandbox.host, instance: sandbox.instance, database: sandbox.database, at: new Date().toISOString(), by: this.by },
      prod: { instance: prod.instance, host: prod.host, database: prod.database },
      operations: this.#operations,
      before: hashes(this.before),
      after: hashes(after),
      changes: diff.changes,
    });
  }

  /** Closes the toolings it handed out. */
  async close(): Promise<void> {
    for (const tooling of this.#toolings.splice(0)) await tooling.close();
  }
}
