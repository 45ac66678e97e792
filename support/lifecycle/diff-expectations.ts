/**
 * What the diff between a recorded state of the sandbox and its state now must show for a gate to pass: exactly the
 * rows a write created, the sequences it moved, the definitions it changed. Each check throws chai's AssertionError
 * naming what did not hold.
 */
import { expect } from 'chai';
import type { SnapshotDiff } from './diff';
import type { Snapshot } from './snapshot';

/** The state recorded under `label`: there must be one. */
export function recordedState(states: ReadonlyMap<string, Snapshot>, label: string): Snapshot {
  const recorded = states.get(label);
  expect(recorded, `state "${label}" was recorded`).to.not.equal(undefined);
  return recorded!;
}

/** A table the diff must name, and how many rows it must add to it. */
export interface AddedRows {
  readonly relation: string;
  readonly added: number;
}

/**
 * The diff changed exactly the tables `expected` lists, each by exactly that many added rows and no row removed or
 * changed; the rows added are the ones the write created (`writtenKeys`: the keys by relation, asked once the tables
 * are known to be right).
 */
export function expectWrittenRows(diff: SnapshotDiff, expected: readonly AddedRows[], writtenKeys: () => Record<string, number[]>): void {
  const tables = diff.changes.filter((change) => change.kind === 'table');
  expect(tables.map((change) => change.name).sort(), 'tables that changed').to.deep.equal(expected.map((row) => row.relation).sort());
  const keys = writtenKeys();
  for (const { relation, added } of expected) {
    const change = tables.find((candidate) => candidate.name === relation)!;
    expect(change.rows, `row-level diff of ${relation}`).to.not.equal(undefined);
    expect(change.rows!.removed, `rows removed from ${relation}`).to.deep.equal([]);
    expect(change.rows!.changed, `rows changed in ${relation}`).to.deep.equal([]);
    expect(change.rows!.added.map((row) => Number(row.key.rowid)).sort(), `rows added to ${relation}`).to.deep.equal(keys[relation]!.sort());
    expect(change.rows!.added).to.have.length(added);
  }
}

/** The diff moved exactly the sequences listed, each forward (or from never called to called). */
export function expectSequencesMoved(diff: SnapshotDiff, sequences: readonly string[]): void {
  const moved = diff.changes.filter((change) => change.kind === 'sequence');
  expect(moved.map((change) => change.name).sort(), 'sequences that moved').to.deep.equal([...sequences].sort());
  for (const change of moved) {
    expect(BigInt(change.sequence!.after.lastValue) > BigInt(change.sequence!.before.lastValue) || !change.sequence!.before.isCalled, `${change.name} moved forward`).to.equal(true);
  }
}

/** The diff names exactly the relations listed, in that order, each as a definition change. */
export function expectDefinitionsChanged(diff: SnapshotDiff, relations: readonly string[]): void {
  expect(diff.changes.map((change) => `${change.name}: ${change.change}`), 'relations that changed').to.deep.equal(relations.map((relation) => `${relation}: definition changed`));
}
