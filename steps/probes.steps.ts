import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { describeOutcome, describeWait, probeCatalogue, runProbe, type Probe, type ProbeOutcome } from '../support/postgres/probes';
import { fenceLogins, holdProdWrite, watchedLiveMatrix } from '../support/targets/live-locks';
import { ensureMirrorObjects, probeContext, probeCredentials, probeForm, provePositive, proveUnmirroredControls } from '../support/targets/probes';
import type { RehearsalWorld } from '../support/world';

/** The login the positive controls run as when they need a prod owner member. */
const PROD_OWNER = 'prod owner';

/** A login of prod's owner role, where the target holds that credential (hermetic: minted on first use); else undefined. */
async function prodOwner(world: RehearsalWorld) {
  if (!world.logins.has(PROD_OWNER) && world.target.kind === 'hermetic') world.logins.set(PROD_OWNER, await world.target.minter.mint(world.target.prod));
  return world.logins.get(PROD_OWNER);
}

/** The probes' credentials: the minted login `label` as the sandbox login; without one, for positive controls only. */
async function credentials(world: RehearsalWorld, label?: string) {
  return probeCredentials(world.target, label === undefined ? undefined : world.login(label), await prodOwner(world));
}

/** Probes run where the sandbox login reaches the cluster (prod and the sandbox share it, as in the factory). */
const endpoint = (world: RehearsalWorld) => world.target.endpointFor(world.target.sandbox.database);

function probeFor(world: RehearsalWorld, attempt: string): Probe {
  const catalogue = probeCatalogue(probeContext(world.target));
  const probe = catalogue.find((candidate) => candidate.attempt === attempt);
  if (!probe) throw new Error(`no probe "${attempt}" in the catalogue; it has: ${catalogue.map((known) => known.attempt).join('; ')}`);
  return probe;
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
  const probe = probeFor(this, attempt);
  this.probing = { label, probe, outcome: await runProbe(endpoint(this), probe, probeForm(this.target), await credentials(this, label), probeContext(this.target)) };
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
  // The auditor's table and the catalogue say the same thing, or the table is not the matrix that ran.
  expect({ sqlstate: probe.refusal.sqlstate, reason: probe.refusal.reason, fence: probe.fence }).to.deep.equal({ sqlstate, reason, fence });
  if (outcome.ranAs) expect(outcome.ranAs.user, 'the session the attempt ran in').to.equal(this.login(label).user);
  expectRefused(this, outcome, sqlstate);
});

/**
 * Refused with `sqlstate`; or, for a live form that is a catalogue check (the statement itself is never sent to a
 * live prod), refused by the catalogue — where no SQLSTATE exists to observe, and the evidence says so.
 */
function expectRefused(world: RehearsalWorld, outcome: ProbeOutcome, sqlstate: string): void {
  expect(outcome.verdict, describeOutcome(outcome)).to.equal('refused');
  if (outcome.refusedAt === 'catalogue') {
    world.evidence(`${outcome.form} form, refused by the catalogue (${outcome.message}): ${outcome.sql} — no statement sent, so no SQLSTATE`);
    return;
  }
  expect(outcome.sqlstate, describeOutcome(outcome)).to.equal(sqlstate);
  world.evidence(`${outcome.form} form, refused at the ${outcome.refusedAt}: ${outcome.sql ?? '(connect)'} → ${outcome.sqlstate} ${outcome.message}`);
}

/** The last attempt ran in a session of that minted login, connected to that database. */
Then('the attempt ran as login {string} in database {string}', function (this: RehearsalWorld, label: string, database: string) {
  const { outcome } = this.probing!;
  expect(outcome.ranAs, `the session the attempt ran in (${describeOutcome(outcome)})`).to.deep.equal({ user: this.login(label).user, database });
});

/**
 * The last attempt was refused with that SQLSTATE (or, for a live form that is a catalogue check, by the catalogue).
 */
Then('the attempt was refused with SQLSTATE {sqlstate}', function (this: RehearsalWorld, sqlstate: string) {
  expectRefused(this, this.probing!.outcome, sqlstate);
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
  const proof = await provePositive(this.target, endpoint(this), this.probing!.probe, await credentials(this, this.probing!.label));
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
  const proof = await proveUnmirroredControls(this.target, endpoint(this), await credentials(this));
  for (const line of proof.lines) this.evidence(line);
  expect(proof.failed, `positive controls that did not succeed, so their probes prove nothing: ${proof.failed.join('; ')}`).to.deep.equal([]);
});

/** The last attempt's live-safe form (rolled back, or a catalogue check) is refused too. */
Then('the form safe for a live prod is refused too', async function (this: RehearsalWorld) {
  const { label, probe } = this.probing!;
  const live = await runProbe(endpoint(this), probe, 'live', await credentials(this, label), probeContext(this.target));
  expect(live.verdict, describeOutcome(live)).to.equal('refused');
  this.attach(`live form (${probe.live.kind}): ${live.sql ?? '(connect)'} → refused at the ${live.refusedAt}`, 'text/plain');
});

/** The minted login makes every attempt of the probe catalogue, one after the other, whatever each one's outcome. */
When('login {string} makes every attempt of the matrix', async function (this: RehearsalWorld, label: string) {
  const context = probeContext(this.target);
  for (const probe of probeCatalogue(context)) {
    await runProbe(endpoint(this), probe, probeForm(this.target), await credentials(this, label), context);
  }
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
  const write = await holdProdWrite(this.target, await prodOwner(this));
  if (write) {
    this.sessions.push(write.session);
    this.lockWatch.write = write;
    this.evidence(`prod's own session (pid ${write.pid}, ${write.user}) holds open: ${write.sql}`);
  } else {
    this.evidence(`the ${this.target.kind} target holds no credential that may write prod: the sessions watched are prod's own`);
  }
});

/**
 * Every attempt of the three fences runs in its form safe for a live prod, whatever the target, while a session of the
 * minted login watches the cluster's lock queue every 10 ms.
 *
 * The probes as that minted login; the golden identity's and the clone's fences as logins of their own, minted through
 * Vault where the target has those identities (the evidence names a fence that could not run).
 */
When('login {string} and the golden and clone identities make every attempt of their fences in the form safe for a live prod, the lock queue watched', async function (this: RehearsalWorld, label: string) {
  const fences = await fenceLogins(this.target);
  if (fences.golden) this.logins.set(`${label} lock watch: golden`, fences.golden);
  if (fences.clone) this.logins.set(`${label} lock watch: clone`, fences.clone);
  const watched = await watchedLiveMatrix(this.target, this.login(label), fences);
  this.lockWatch.watched = watched;
  this.evidence(`${watched.run.lines.length} live forms sent (${watched.run.fences.join('; ')}); the lock queue read ${watched.record.samples} times`);
});

/**
 * No session of the harness waited on a lock a session of prod's held (or queued for first), none of prod's sessions
 * waited behind one of the harness's, and no wait of the harness's lasted 100 ms or more; the evidence lists every wait the
 * watch saw.
 */
Then("no attempt waited on a lock held by prod's own sessions, and none of prod's sessions waited on an attempt", async function (this: RehearsalWorld) {
  const { watched, write } = this.lockWatch;
  expect(watched, 'the live forms ran under the watch').to.not.equal(undefined);
  for (const wait of watched!.record.waits) this.evidence(`lock wait seen: ${describeWait(wait)}`);
  expect(watched!.waitedOnOthers.map(describeWait), "attempts that waited on a lock held by prod's sessions").to.deep.equal([]);
  expect(watched!.heldOthersBack.map(describeWait), "prod's sessions that waited on an attempt").to.deep.equal([]);
  expect(watched!.longestHarnessWaitMs, 'the longest lock wait of an attempt, in ms').to.be.below(100);
  if (write) expect(await write.held(), `prod's write (pid ${write.pid}) is still open after the attempts`).to.equal(true);
  this.evidence(`no attempt waited on prod's sessions${write ? ` (its write held open by pid ${write.pid})` : ''}, none of prod's waited on an attempt`);
});
