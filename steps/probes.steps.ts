import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { describeOutcome, probeCatalogue, runProbe, type Probe, type ProbeOutcome } from '../support/postgres/probes';
import { ensureMirrorObjects, probeContext, probeCredentials, probeForm, provePositive, proveUnmirroredControls } from '../support/targets/probes';
import type { RehearsalWorld } from '../support/world';

/** The login the positive controls run as when they need a prod owner member. */
const PROD_OWNER = 'prod owner';

/** The probes' credentials: the minted login `label` as the sandbox login; without one, for positive controls only. */
async function credentials(world: RehearsalWorld, label?: string) {
  if (!world.logins.has(PROD_OWNER) && world.target.kind === 'hermetic') world.logins.set(PROD_OWNER, await world.target.minter.mint(world.target.prod));
  return probeCredentials(world.target, label === undefined ? undefined : world.login(label), world.logins.get(PROD_OWNER));
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
