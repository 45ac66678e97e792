import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as drift from '../postgres/drift';
import { VAULT_USERNAME } from '../postgres/minting';
import { failing, replaceExport, type FenceMutation } from '../mutations/mutation';
import { DRIFT_FEATURES, EVERY_FEATURE } from '../mutations/reach';
import type { Golden } from './golden';
import * as reset from './reset';
import { CLONE_RESETS } from './template-clone.mutations';

/**
 * Breaks of the reset (reset.ts): a restore that leaves part of the golden out, and a drift check that no longer sees
 * what a login role made without SET ROLE.
 */

/** The golden with its SEQUENCE SET entries left out of the restore list, made once per golden. */
const withoutSequences = new WeakMap<Golden, Promise<Golden>>();

function sequencesLeftOut(golden: Golden): Promise<Golden> {
  let variant = withoutSequences.get(golden);
  if (!variant) {
    variant = (async () => {
      const listPath = join(golden.dir, 'golden-without-sequence-set.list');
      const entries = (await readFile(golden.listPath, 'utf8')).split('\n').filter((line) => line && !/ SEQUENCE SET /.test(line));
      await writeFile(listPath, `${entries.join('\n')}\n`);
      return { ...golden, listPath };
    })();
    withoutSequences.set(golden, variant);
  }
  return variant;
}

/**
 * Every scenario that resets the sandbox and then checks its hash or writes to it: a reset step, or a start at the golden
 * that finds the sandbox elsewhere (a scenario before it wrote) and resets it.
 */
export const RESET_THEN_HASH = [
  "seeding the sandbox from the golden reproduces prod's content hash",
  'a sequence a rehearsal advanced, and nothing else, moves the hash; a reset puts it back',
  'a column default a rehearsal changed, and nothing else, moves the hash; a reset puts it back',
  'a table made without SET ROLE is ownership drift: named, and the reset refuses',
  'a reset refuses while another session uses the sandbox, and names it',
  'the full reset succeeds with that credential alone',
];
export const RESET_THEN_WRITE = [
  'the write tooling reaches the sandbox host, however the rule allows it to be written',
  "a key prod has never seen cannot create a supplier invoice through prod's Dolibarr",
  'a write moves the hash, the diff names exactly what was written, a reset brings the golden back',
  'the opt-in parallel reset (pg_restore --jobs, not atomic) brings the golden back too',
  'a parallel reset that fails part-way says the sandbox is partly restored; the next reset repairs it',
  'a reset that fails midway leaves the sandbox as it was (its scope by table name)',
  'a reset that fails midway leaves the sandbox as it was (a corrupted archive entry)',
  'two resets at once serialize and both end at the golden',
  // The promotion gate rehearses from a reset sandbox in its Background.
  "reviewed, approved by its digest, replayed on prod: prod's diff is the rehearsed diff",
  'the digest typed at the prompt approves it too',
  "promote refuses a digest that is not the changeset's, and prod is untouched",
  'promote refuses without --approve off a terminal, and prod is untouched',
  'promote refuses a wrong digest typed at the prompt, and prod is untouched',
  'promote refuses a changeset edited after review, and prod is untouched',
  'promote refuses a changeset not rehearsed on the sandbox, and prod is untouched',
  'promote refuses without a prod-write credential in Vault, and prod is untouched',
  "promote refuses a prod-write credential that is the agent's, and prod is untouched",
  "promote refuses a credential read as the agent's identity, and prod is untouched",
  'prod changed since the rehearsal: a conflict, shown, and nothing replayed',
  "the agent's tooling cannot send the same write to prod itself: the only path to prod is promote",
  'promote refuses a changeset whose diff was edited, and prod is untouched',
  'promote dress-rehearses a changeset written by hand on the sandbox and refuses it, and prod is untouched',
  "promote dress-rehearses a changeset whose diff its operations don't make on the sandbox and refuses it, and prod is untouched",
  'promote dress-rehearses a changeset not rehearsed from the golden on the sandbox and refuses it, and prod is untouched',
  // The authoring kit's example rehearses from a reset sandbox too.
  'a supplier invoice for a new supplier, rehearsed, checked against the books, and reset',
];

/**
 * Scenarios that start at the golden after a scenario before them wrote the sandbox: their start resets, with the
 * break.
 */
export const START_AFTER_A_WRITE = [
  "a key prod has never seen cannot create a thirdparty through prod's Dolibarr",
  'a snapshot kept in a file is diffed with the sandbox later',
];

/** The agent's rehearsals promoted: promote's dress rehearsal resets the sandbox, with the break, and checks its hash. */
export const AGENT_PROMOTIONS = ['shell with curl', 'Python 3'].map(
  (language) => `an agent's ${language} script creates a supplier and an invoice through the gateway; reviewed and promoted, prod's diff is the rehearsed one`,
);

/** Every scenario of the agent's rehearsal: each runs `rehearse record` in a process of its own, on the run's golden. */
export const AGENT_RECORDINGS = [
  ...AGENT_PROMOTIONS,
  "the agent's command holds no key, nor any other secret, and the changeset and the output hold none",
  'a command that aims at prod around the gateway holds no key: prod refuses it 401, and nothing is recorded',
  'the gateway refuses a request sending a key of its own, Dolibarr-style, and nothing is recorded',
  'the gateway refuses a write promote could not replay, Dolibarr-style, and nothing is recorded',
  'a redirect to prod, followed by the agent, is refused by the gateway and never relayed',
];

/** The golden identity's sandbox attempts start in a sandbox at the golden too. */
export const GOLDEN_IDENTITY_IN_SANDBOX = ['read', 'update'].map((verb) => `the golden credential cannot ${verb} sandbox table llx_societe, in a sandbox holding the golden`);

export const restoreWithoutSequences: FenceMutation = {
  name: 'reset-restores-without-sequences',
  gate: 'reset-round-trip',
  reaches: EVERY_FEATURE,
  breaks: "the reset restores the golden's tables and rows but not its sequence positions",
  apply: () => replaceExport(reset, 'resetSandbox', (resetSandbox) => async (options) => resetSandbox({ ...options, golden: await sequencesLeftOut(options.golden) })),
  expect: () => [
    // A start at the golden sees the reset miss it; a reset under test is seen by the hash checked after it.
    ...failing(
      /the sandbox was reset, yet its hash is|the sandbox's content hash: expected .* to equal/,
      ...RESET_THEN_HASH,
      ...GOLDEN_IDENTITY_IN_SANDBOX,
      ...START_AFTER_A_WRITE,
    ),
    ...failing(/the sandbox was reset for the dress rehearsal, yet its hash is/, ...AGENT_PROMOTIONS),
    // Restored sequences start again at 1: the next insert collides with a restored row.
    ...failing(/the sandbox was reset, yet its hash is|duplicate key value violates unique constraint/, ...RESET_THEN_WRITE),
  ],
};

export const loginDriftUnseen: FenceMutation = {
  name: 'drift-of-login-roles-unseen',
  gate: 'reset-round-trip',
  reaches: DRIFT_FEATURES,
  breaks: 'the drift check before a reset misses a table owned by the login role (made without SET ROLE)',
  apply: () =>
    replaceExport(drift, 'findDrift', (findDrift) => async (client, options) =>
      (await findDrift(client, options)).filter((object) => !VAULT_USERNAME.test(object.owner)),
    ),
  expect: () => [
    ...failing(/to be an instance of ResetRefusedError/, 'a table made without SET ROLE is ownership drift: named, and the reset refuses'),
    // The drift the reset let through is still there when the next scenario makes the same table.
    ...failing(
      /relation "rehearsal_scratch" already exists/,
      'a login role that made an object without SET ROLE cannot be revoked, and the harness names the drift',
    ),
    // And the template-clone reset, which builds its golden database from a copy of the sandbox, refuses the drift.
    ...failing(/holds objects erp_sandbox_role does not own \(table public\.rehearsal_scratch/, ...CLONE_RESETS),
  ],
};
