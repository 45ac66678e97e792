import { failing, replaceExport, type FenceMutation } from '../mutations/mutation';
import { HASH_SEES_A_CHANGE_FEATURES } from '../mutations/reach';
import { AGENT_PROMOTIONS } from './reset.mutations';
import * as sql from './snapshot-sql';

/**
 * Breaks of the snapshot (snapshot.ts, snapshot-sql.ts): a content hash blind to part of the state. The golden's
 * manifest is hashed by the same code, so the round-trip itself still matches: the gates must catch the state the
 * hash no longer sees.
 */

/**
 * The operator's commands run in processes of their own, which hash with the snapshot as it is: their hashes are not
 * the broken ones of the harness's process, which sees it — the golden they make is not prod's hash as the harness
 * reads it, and a reset to the harness's golden ends at another hash than its manifest's.
 */
const OPERATOR_SEES_ANOTHER_HASH = [
  ...failing(/it prints prod's content hash.*rehearse golden --out golden → exit 0/, "golden, an agent's write, status, diff, reset, status"),
  ...failing(/it exits 0.*rehearse reset → exit 1/, 'a snapshot kept in a file is diffed with the sandbox later'),
  // rehearse record hashed the agent's before-state in its own process: promote's dress rehearsal, in the harness's,
  // finds it is not the golden's.
  ...failing(/the changeset's before-state is not the golden's/, ...AGENT_PROMOTIONS),
];

export const snapshotIgnoresSequences: FenceMutation = {
  name: 'snapshot-ignores-sequences',
  gate: 'reset-round-trip',
  reaches: HASH_SEES_A_CHANGE_FEATURES,
  breaks: 'the snapshot reads every sequence as unused (last_value 1, not called)',
  apply: () =>
    replaceExport(sql, 'sequenceStates', () => async (_client, sequences) => new Map(sequences.map((name) => [name, { lastValue: '1', isCalled: false }]))),
  expect: () => [
    ...failing(/the sandbox's content hash: expected .* to not equal/, 'a sequence a rehearsal advanced, and nothing else, moves the hash; a reset puts it back'),
    ...failing(
      /sequences that moved: expected \[\]/,
      'a write moves the hash, the diff names exactly what was written, a reset brings the golden back',
      'a supplier invoice for a new supplier, rehearsed, checked against the books, and reset',
    ),
    ...OPERATOR_SEES_ANOTHER_HASH,
  ],
};

export const snapshotIgnoresDefaults: FenceMutation = {
  name: 'snapshot-ignores-defaults',
  gate: 'reset-round-trip',
  reaches: HASH_SEES_A_CHANGE_FEATURES,
  breaks: "the snapshot leaves column defaults out of a table's definition",
  apply: () =>
    replaceExport(sql, 'ownedRelations', (ownedRelations) => async (client, ownerRole, names) =>
      (await ownedRelations(client, ownerRole, names)).map((relation) => {
        if (relation.kind === 'sequence') return relation;
        const definition = JSON.parse(relation.definition) as { columns?: unknown[][] | null };
        for (const column of definition.columns ?? []) column[3] = null; // [name, type, not null, default, …]
        return { ...relation, definition: JSON.stringify(definition) };
      }),
    ),
  expect: () => [
    ...failing(/content hash|definitions/, 'a column default a rehearsal changed, and nothing else, moves the hash; a reset puts it back'),
    ...OPERATOR_SEES_ANOTHER_HASH,
  ],
};
