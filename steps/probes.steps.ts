import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { describeOutcome } from '../support/postgres/probes';
import { expectAsCatalogued, expectLiveFormRefused, expectNoLockWaitWithProd, expectProbeRefused } from '../support/postgres/fence-expectations';
import { fenceLogins, holdProdWrite, watchedLiveMatrix } from '../support/targets/live-locks';
import {
  catalogueProbe,
  describeHeldProdWrite,
  describeWatchedMatrix,
  keepFenceLogins,
  probeEndpoint,
  prodOwnerLogin,
  runEveryProbe,
  runProbeOnTarget,
} from '../support/targets/probe-runs';
import { ensureMirrorObjects, probeCredentials, provePositive, proveUnmirroredControls } from '../support/targets/probes';
import type { RehearsalWorld } from '../support/world';

/** The login the positive controls run as when they need a prod owner member. */
const PROD_OWNER = 'prod owner';

/** A login of prod's owner role, where the target holds that credential (minted on first use, kept with the scenario's); else undefined. */
async function prodOwner(world: RehearsalWorld) {
  if (!world.logins.has(PROD_OWNER)) {
    const login = await prodOwnerLogin(world.target);
    if (login) world.logins.set(PROD_OWNER, login);
  }
  return world.logins.get(PROD_OWNER);
}

/** The probes' credentials: the minted login `label` as the sandbox login; without one, for positive controls only. */
async function credentials(world: RehearsalWorld, label?: string) {
  return probeCredentials(world.target, label === undefined ? undefined : world.login(label), await prodOwner(world));
}

/**
 * Makes sure the sandbox holds the Dolibarr objects the probes' mirrors aim at, resetting it to the golden with that
 * minted login when it holds none of them.
 *
 * A sandbox never reset (a fresh hermetic one) holds none; a sandbox holding some but not all fails the step, naming
 * what is missing, and is left as it is.
 */
Given('the sandbox holds what the probes\' mirrors aim at, or is reset to the golden by login {string}', async function (this: RehearsalWorld, label: string) {
  const reset = await ensureMirrorObjects(this.target, this.login(label));
  if (reset) this.evidence(reset);
});

/**
 * The minted login makes one attempt of the prod-undroppable probe catalogue, named as the catalogue names it.
 *
 * E.g. "drop database erp". The target decides the form: the real statement on a hermetic target, the live-safe form on
 * a live one.
 *
 * An attempt the catalogue does not have fails the step, listing the ones it has.
 */
When(/^login "([^"]*)" tries to (.+)$/, async function (this: RehearsalWorld, label: string, attempt: string) {
  const probe = catalogueProbe(this.target, attempt);
  this.probing = { label, probe, outcome: await runProbeOnTarget(this.target, probe, await credentials(this, label)) };
});

/**
 * The last attempt was refused in the login's own session with that SQLSTATE, for that reason, proving that fence.
 *
 * The reason and the fence must be the probe catalogue's own words for the attempt, or the table is not the matrix that
 * ran.
 *
 * A live form that is a catalogue check sends no statement, so it has no SQLSTATE: it is then refused by the catalogue,
 * and the evidence says so.
 */
Then('it is refused with SQLSTATE {sqlstate} because {}, which proves {}', function (this: RehearsalWorld, sqlstate: string, reason: string, fence: string) {
  const { label, probe, outcome } = this.probing!;
  expectAsCatalogued(probe, { sqlstate, reason, fence }, outcome, this.login(label).user);
  this.evidence(expectProbeRefused(outcome, sqlstate));
});

/** The last attempt ran in a session of that minted login, connected to that database. */
Then('the attempt ran as login {string} in database {string}', function (this: RehearsalWorld, label: string, database: string) {
  const { outcome } = this.probing!;
  expect(outcome.ranAs, `the session the attempt ran in (${describeOutcome(outcome)})`).to.deep.equal({ user: this.login(label).user, database });
});

/**
 * The last attempt was refused with that SQLSTATE (or, for a live form that is a catalogue check, by the catalogue).
 */
Then('the attempt was refused with SQLSTATE {sqlstate}', function (this: RehearsalWorld, sqlstate: string) {
  this.evidence(expectProbeRefused(this.probing!.outcome, sqlstate));
});

/**
 * The positive control: the last attempt succeeds with a credential entitled to it, or the probe proves nothing.
 *
 * The target decides what runs: a hermetic target runs the control as the entitled credential (prod's owner, the
 * provisioner, credentials_editor) and the mirror too; a live one, which holds only the sandbox's identity, the
 * mirror alone — the same attempt on the sandbox's own object, as the sandbox login, rolled back. An attempt
 * without a mirror is then not applicable, with the reason.
 */
Then('the same attempt succeeds for a credential entitled to it', async function (this: RehearsalWorld) {
  const proof = await provePositive(this.target, probeEndpoint(this.target), this.probing!.probe, await credentials(this, this.probing!.label));
  for (const line of proof.lines) this.evidence(line);
  expect(proof.succeeded, proof.lines.join('; ')).to.equal(true);
});

/**
 * Every attempt of the probe catalogue that nothing of the sandbox's is entitled to (a probe without a mirror) succeeds
 * for the credential entitled to it, each named in the evidence with its control.
 *
 * A target that holds only the sandbox's identity (live) cannot run them: not applicable, naming the attempts and the
 * credentials they need.
 */
Then('every attempt nothing of the sandbox\'s is entitled to succeeds for the credential entitled to it', async function (this: RehearsalWorld) {
  const proof = await proveUnmirroredControls(this.target, probeEndpoint(this.target), await credentials(this));
  for (const line of proof.lines) this.evidence(line);
  expect(proof.failed, `positive controls that did not succeed, so their probes prove nothing: ${proof.failed.join('; ')}`).to.deep.equal([]);
});

/** The last attempt's live-safe form (rolled back, or a catalogue check) is refused too. */
Then('the form safe for a live prod is refused too', async function (this: RehearsalWorld) {
  const { label, probe } = this.probing!;
  this.attach(expectLiveFormRefused(await runProbeOnTarget(this.target, probe, await credentials(this, label), 'live')), 'text/plain');
});

/** The minted login makes every attempt of the probe catalogue, one after the other, whatever each one's outcome. */
When('login {string} makes every attempt of the matrix', async function (this: RehearsalWorld, label: string) {
  await runEveryProbe(this.target, await credentials(this, label));
});

/**
 * Holds a write of prod's own open on prod table llx_societe while the next steps run, as prod's Dolibarr holds one in
 * the middle of a request.
 *
 * A session of prod's owner role updates one row and leaves its transaction open (ROW EXCLUSIVE on the table, the row
 * locked) until the scenario ends. A live run holds no credential that may write prod: there it holds nothing, and the
 * sessions of prod the watch sees are prod's own (its Dolibarr's), as the evidence says.
 */
Given("prod's own session holds a write open on prod table llx_societe", async function (this: RehearsalWorld) {
  this.lockWatch.write = await holdProdWrite(this.target, await prodOwner(this));
  if (this.lockWatch.write) this.sessions.push(this.lockWatch.write.session);
  this.evidence(describeHeldProdWrite(this.target, this.lockWatch.write));
});

/**
 * Every attempt of the three fences runs in its form safe for a live prod, whatever the target, while a session of the
 * minted login watches the cluster's lock queue every 10 ms.
 *
 * The probes as that minted login; the golden identity's and the clone's fences as logins of their own, minted through
 * Vault where the target has those identities (the evidence names a fence that could not run).
 */
When('login {string} and the golden and clone identities make every attempt of their fences in the form safe for a live prod, the lock queue watched', async function (this: RehearsalWorld, label: string) {
  const fences = keepFenceLogins(this.logins, `${label} lock watch`, await fenceLogins(this.target));
  this.lockWatch.watched = await watchedLiveMatrix(this.target, this.login(label), fences);
  this.evidence(describeWatchedMatrix(this.lockWatch.watched));
});

/**
 * No session of the harness waited on a lock a session of prod's held (or queued for first), none of prod's sessions
 * waited behind one of the harness's, and no wait of the harness's lasted 100 ms or more; the evidence lists every wait the
 * watch saw.
 */
Then("no attempt waited on a lock held by prod's own sessions, and none of prod's sessions waited on an attempt", async function (this: RehearsalWorld) {
  await expectNoLockWaitWithProd(this.lockWatch.watched, this.lockWatch.write, (line) => this.evidence(line));
});
