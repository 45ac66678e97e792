import type { DolibarrClient } from '../dolibarr/client';
import { diffSnapshots } from '../lifecycle/diff';
import type { Snapshot } from '../lifecycle/snapshot';
import { stateOf } from '../lifecycle/state';
import type { MintedLogin } from '../postgres/minting';
import type { Target } from '../targets/target';
import { agentWriteTooling } from '../targets/write-tooling';
import { CHANGESET_FORMAT, writeChangeset, type Changeset, type RecordedOperation, type StateHashes } from './changeset';

/**
 * Recording a rehearsal: the sandbox's state before, the agent's write tooling (the guarded sandbox client) with every
 * write it sends recorded, the state after, and their row-level diff, written as one changeset file. The states are
 * read through a sandbox login of the recording's own, from the sandbox's Vault identity.
 */

function hashes(snapshot: Snapshot): StateHashes {
  return { root: snapshot.root, relations: Object.fromEntries(snapshot.entries.map((entry) => [entry.key, entry.hash])) };
}

export class RehearsalRecording {
  readonly #operations: RecordedOperation[] = [];
  readonly #toolings: DolibarrClient[] = [];

  private constructor(
    private readonly target: Target,
    private readonly reader: MintedLogin,
    private readonly before: Snapshot,
    private readonly title: string,
    private readonly by: string,
  ) {}

  /** Takes the before state. Reset the sandbox and apply the overlay first: the rehearsal starts from the golden. */
  static async start(target: Target, options: { readonly title: string; readonly by: string }): Promise<RehearsalRecording> {
    const reader = await target.minter.mint(target.sandbox);
    try {
      const before = await stateOf(target.endpointFor(target.sandbox.database), reader, target.sandbox, target.workDir);
      return new RehearsalRecording(target, reader, before, options.title, options.by);
    } catch (error) {
      await target.minter.revoke(reader);
      throw error;
    }
  }

  /** The agent's write tooling, recording: a guarded client of the sandbox with the agent's key. */
  tooling(): DolibarrClient {
    const tooling = agentWriteTooling(this.target, { onWrite: (exchange) => this.#operations.push(structuredClone(exchange)) });
    this.#toolings.push(tooling);
    return tooling;
  }


  /** Takes the after state, diffs it with the before, writes the changeset to `path`. */
  async finish(path: string): Promise<Changeset> {
    const { sandbox, prod } = this.target;
    const after = await stateOf(this.target.endpointFor(sandbox.database), this.reader, sandbox, this.target.workDir);
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

  async close(): Promise<void> {
    for (const tooling of this.#toolings.splice(0)) await tooling.close();
    await this.target.minter.revoke(this.reader);
  }
}
