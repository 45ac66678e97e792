import { Given, Then, When, type DataTable } from '@cucumber/cucumber';
import { expect } from 'chai';
import { writtenRows } from '../support/erp/supplier-invoice';
import { diffSnapshots } from '../support/lifecycle/diff';
import { expectDefinitionsChanged, expectSequencesMoved, expectWrittenRows, recordedState } from '../support/lifecycle/diff-expectations';
import { createDriftTable } from '../support/lifecycle/faults';
import { brokenGolden } from '../support/lifecycle/golden-defects';
import { advanceSequence, setColumnDefault } from '../support/lifecycle/owner-writes';
import type { Golden } from '../support/lifecycle/golden';
import type { RefusalReason, ResetRefusedError, ResetResult } from '../support/lifecycle/reset';
import { expectFailedWith, expectNamesSessionOf, expectRefusedFor, lastOutcome, settled } from '../support/lifecycle/reset-expectations';
import { ensureSandboxAtGolden, resetTargetSandbox } from '../support/targets/reset';
import { functionIdentity } from '../support/postgres/catalog';
import { connect } from '../support/postgres/connect';
import { describeDrift } from '../support/postgres/drift';
import { userLookupSignature } from '../support/postgres/provision';
import type { RehearsalWorld } from '../support/world';

function reset(world: RehearsalWorld, label: string, golden?: Golden, dropOwnDrift = false): Promise<ResetResult> {
  return resetTargetSandbox(world.target, world.login(label), { golden, dropOwnDrift });
}

/**
 * Resets the sandbox to the golden with that minted sandbox login alone.
 *
 * DROP OWNED BY the sandbox owner role, then the restore, in one transaction.
 *
 * The reset fails the step if it is refused (other sessions, ownership drift) or fails.
 */
Given('the sandbox is reset to the golden by login {string}', async function (this: RehearsalWorld, label: string) {
  await reset(this, label);
});

/**
 * Starts the scenario with the sandbox at the golden: its content hash is read, and it is reset by that login only when
 * the hash is not the golden's (then read again).
 *
 * For scenarios that need the golden as their starting point; a reset under test is "the sandbox is reset to the golden".
 */
Given('the sandbox is at the golden, or is reset to it by login {string}', async function (this: RehearsalWorld, label: string) {
  this.evidence(await ensureSandboxAtGolden(this.target, this.login(label)));
});

/**
 * Resets the sandbox with the opt-in parallel reset: DROP OWNED commits, then `pg_restore --jobs` restores the golden.
 *
 * Faster on a large golden, and not atomic: a failure part-way leaves the sandbox partly restored until the next reset.
 */
When('the sandbox is reset to the golden by login {string} with a parallel restore of {int} jobs', async function (this: RehearsalWorld, label: string, jobs: number) {
  await resetTargetSandbox(this.target, this.login(label), { mode: 'parallel', jobs });
});

/**
 * Resets the sandbox to the golden with that minted login, first dropping what the login itself owns.
 *
 * The login's own ownership drift (objects it made without SET ROLE) is dropped first; there must have been some.
 */
When(
  'the sandbox is reset to the golden by login {string}, dropping the login\'s own drift',
  async function (this: RehearsalWorld, label: string) {
    const result = await reset(this, label, undefined, true);
    expect(result.droppedDrift, 'drift dropped by the reset').to.have.length.greaterThan(0);
  },
);

/** The sandbox's content hash, read through a sandbox login of the scenario's own, is the golden manifest's. */
Then("the sandbox's content hash equals the golden manifest's", async function (this: RehearsalWorld) {
  expect((await this.sandboxState()).root, "the sandbox's content hash").to.equal(this.target.golden.manifest.root);
});

/** The sandbox's content hash is no longer the golden manifest's. */
Then("the sandbox's content hash differs from the golden manifest's", async function (this: RehearsalWorld) {
  expect((await this.sandboxState()).root, "the sandbox's content hash").to.not.equal(this.target.golden.manifest.root);
});

/** Records the sandbox's state (content hash and rows) under a label, for later diffs and comparisons. */
Given("the sandbox's state is recorded as {string}", async function (this: RehearsalWorld, label: string) {
  this.states.set(label, await this.sandboxState(true));
});

/** The sandbox's content hash is still the one of the state recorded under that label. */
Then("the sandbox's state is still {string}", async function (this: RehearsalWorld, label: string) {
  const recorded = recordedState(this.states, label);
  expect((await this.sandboxState()).root, "the sandbox's content hash").to.equal(recorded.root);
});

/** The diff from the state recorded under `label` to the sandbox's state now. */
async function diffFrom(world: RehearsalWorld, label: string) {
  return diffSnapshots(recordedState(world.states, label), await world.sandboxState(true));
}

/**
 * The diff from the recorded state changed exactly the tables listed, each by exactly the rows the last write created.
 *
 * The table has the columns `relation` and `added rows`: no row may be removed or changed, and the added rows are the
 * ones the write tooling reported creating.
 */
Then('the diff from {string} names exactly the written rows:', async function (this: RehearsalWorld, label: string, table: DataTable) {
  const expected = table.hashes().map((row) => ({ relation: row.relation!, added: Number(row['added rows']) }));
  expectWrittenRows(await diffFrom(this, label), expected, () => writtenRows(this.written!));
});

/** The diff from the recorded state moved exactly the sequences listed (column `sequence`), each forward. */
Then('the diff from {string} shows exactly these sequences moved:', async function (this: RehearsalWorld, label: string, table: DataTable) {
  expectSequencesMoved(await diffFrom(this, label), table.hashes().map((row) => row.sequence!));
});

/** The minted sandbox login advances the sequence as the sandbox owner role (SET ROLE), as an insert would. */
When(
  'login {string} advances sequence {string} as the sandbox owner role',
  async function (this: RehearsalWorld, label: string, sequence: string) {
    await this.as(label, this.target.sandbox.database, (client) => advanceSequence(client, this.target.sandbox.ownerRole, sequence));
  },
);

/** The minted sandbox login sets the column's default as the sandbox owner role: a definition change, no row. */
When(
  'login {string} sets the default of column {string} of table {string} to {string} as the sandbox owner role',
  async function (this: RehearsalWorld, label: string, column: string, table: string, value: string) {
    await this.as(label, this.target.sandbox.database, (client) => setColumnDefault(client, this.target.sandbox.ownerRole, table, column, value));
  },
);

/**
 * The diff from the recorded state names exactly the relations listed, each as a definition change.
 *
 * The table has one column, `relation`.
 */
Then('the diff from {string} shows exactly these definitions changed:', async function (this: RehearsalWorld, label: string, table: DataTable) {
  expectDefinitionsChanged(await diffFrom(this, label), table.hashes().map((row) => row.relation!));
});

/**
 * Notes the provisioner's user_lookup in the sandbox database, to check later that a reset leaves it alone.
 */
Given("the provisioner's user_lookup in the sandbox is noted", async function (this: RehearsalWorld) {
  this.userLookup = await this.inspect(this.target.sandbox.database, (client) => functionIdentity(client, userLookupSignature(this.target.config.layout)));
});

/** The provisioner's user_lookup in the sandbox is still the function noted: neither dropped nor replaced. */
Then("the provisioner's user_lookup in the sandbox is untouched", async function (this: RehearsalWorld) {
  expect(this.userLookup, 'user_lookup was noted').to.not.equal(undefined);
  const after = await this.inspect(this.target.sandbox.database, (client) => functionIdentity(client, userLookupSignature(this.target.config.layout)));
  expect(after, 'user_lookup after the reset').to.deep.equal(this.userLookup);
});

/** The minted sandbox login creates a table in the sandbox without SET ROLE: the login owns it, a drift. */
When('login {string} creates table {string} without SET ROLE', async function (this: RehearsalWorld, label: string, table: string) {
  await this.as(label, this.target.sandbox.database, (client) => createDriftTable(client, table));
});

/** Every object in the sandbox is owned by the sandbox owner role: no object owned by anyone else. */
Then('the sandbox holds no ownership drift', async function (this: RehearsalWorld) {
  expect((await this.sandboxState()).drift).to.deep.equal([]);
});

/**
 * The sandbox's only ownership drift is the named object, owned by that minted login.
 *
 * The object is named by kind and qualified name, e.g. "table public.rehearsal_scratch".
 */
Then(
  'the sandbox holds ownership drift {string} owned by login {string}',
  async function (this: RehearsalWorld, object: string, label: string) {
    expect(describeDrift((await this.sandboxState()).drift)).to.deep.equal([`${object} owned by ${this.login(label).user}`]);
  },
);

/** A reset by the minted login is refused for ownership drift, naming exactly that object, owned by the login. */
Then(
  'a reset of the sandbox by login {string} is refused for ownership drift naming {string}',
  async function (this: RehearsalWorld, label: string, object: string) {
    const refusal = await refusedReset(this, label, 'drift');
    expect(refusal.details).to.deep.equal([`${object} owned by ${this.login(label).user}`]);
  },
);

/** Attempts a reset by `label` and returns its refusal, which must be for `reason`. */
async function refusedReset(world: RehearsalWorld, label: string, reason: RefusalReason): Promise<ResetRefusedError> {
  world.resets = await settled([reset(world, label)]);
  return expectRefusedFor(lastOutcome(world.resets), reason);
}

/** The minted login opens a session on the sandbox and keeps it open until the scenario ends, as Dolibarr would. */
Given('login {string} holds a session open on the sandbox', async function (this: RehearsalWorld, label: string) {
  this.sessions.push(await connect(this.target.endpointFor(this.target.sandbox.database), this.login(label), this.target.sandbox.database));
});

/**
 * A reset by the first minted login is refused while other sessions use the sandbox, naming the second's.
 *
 * A session of an earlier scenario still closing may be named with it; it is shown in the evidence.
 */
Then(
  'a reset of the sandbox by login {string} is refused because login {string} is connected',
  async function (this: RehearsalWorld, label: string, connected: string) {
    const named = (await refusedReset(this, label, 'sessions')).details;
    expectNamesSessionOf(named, this.login(connected).user);
    this.evidence(`reset refused, naming: ${named.join('; ')}`);
  },
);

/**
 * Attempts a reset (the atomic default, or the opt-in parallel one) by the minted login from a deliberately broken
 * copy of the golden; the outcome is kept.
 *
 * Known defects: "its scope by table name" (the golden's entries chosen by table name instead of by ownership), "a
 * corrupted archive entry".
 */
When(/^a (parallel )?reset from the golden with (.+) is attempted by login "([^"]*)"$/, async function (this: RehearsalWorld, parallel: string | undefined, defect: string, label: string) {
  const golden = await brokenGolden(this.target.golden, this.target.workDir, defect);
  this.resets = await settled([resetTargetSandbox(this.target, this.login(label), { golden, ...(parallel ? { mode: 'parallel' as const } : {}) })]);
});

/** The last reset failed (it was not refused up front), and its error contains the given text. */
Then('the reset failed and reported {string}', function (this: RehearsalWorld, text: string) {
  expectFailedWith(lastOutcome(this.resets), text);
});

/** Both minted logins start a reset of the sandbox at the same moment; both outcomes are kept. */
When('logins {string} and {string} reset the sandbox at the same time', async function (this: RehearsalWorld, first: string, second: string) {
  this.resets = await settled([reset(this, first), reset(this, second)]);
});

/** Both resets succeeded, one after the other: exactly one of them waited for the other's lock. */
Then('both resets succeeded, one after the other', function (this: RehearsalWorld) {
  for (const outcome of this.resets) expect(outcome instanceof Error ? outcome.message : 'succeeded', 'a reset outcome').to.equal('succeeded');
  const waits = (this.resets as ResetResult[]).map((result) => result.lockWaitMs);
  expect(waits.filter((wait) => wait > 0), 'resets that waited for the lock').to.have.length(1);
});
