import { Given, Then, When, type DataTable } from '@cucumber/cucumber';
import { expect } from 'chai';
import { HostGuardRefusal } from '../support/dolibarr/host-guard';
import { NotApplicable, requireOnTarget } from '../support/not-applicable';
import { writeAttempt } from '../support/dolibarr-fence/attempts';
import { sendWithoutGuard, type DolibarrAnswer } from '../support/dolibarr-fence/unguarded';
import { knownSupplierInvoice, writeSupplierInvoice } from '../support/erp/supplier-invoice';
import { thirdpartyNames } from '../support/erp/thirdparty';
import type { DolibarrStandins, StandinCounts } from '../support/targets/dolibarr-sites';
import { expandPlaceholders } from '../support/targets/placeholders';
import { probeForm } from '../support/targets/probes';
import type { RehearsalWorld } from '../support/world';

const KEYS = { "the sandbox agent's key": 'sandboxAgent', "prod's agent key": 'prodAgent' } as const;

/** The key a step sends; prod's is held by the hermetic target only. */
function keyOf(world: RehearsalWorld, key: 'sandboxAgent' | 'prodAgent') {
  return requireOnTarget(world.target.dolibarr.keys[key], `the ${world.target.kind} target holds no ${key === 'prodAgent' ? "prod agent's" : "sandbox agent's"} key`);
}

function standins(world: RehearsalWorld): DolibarrStandins {
  const { standins } = world.target.dolibarr;
  if (!standins || !world.dolibarrBaseline) throw new NotApplicable(`what a Dolibarr instance saw can only be observed on the stand-ins, not on the ${world.target.kind} target`);
  return standins;
}

/** What `instance`'s Dolibarr accepted since the scenario started. */
function seenSinceStart(world: RehearsalWorld, instance: 'prod' | 'sandbox'): StandinCounts {
  const now = standins(world).counts()[instance];
  const before = world.dolibarrBaseline![instance];
  return { connections: now.connections - before.connections, requests: now.requests - before.requests };
}

const describeAnswer = (answer: DolibarrAnswer): string => `HTTP ${answer.status} ${JSON.stringify(answer.message ?? answer.body)}`;

// --- the sandbox's Dolibarr: overlay and rehearsal writes -------------------------------------------------------

Given('the sandbox overlay gives the agent its sandbox key and write rights', async function (this: RehearsalWorld) {
  await this.target.dolibarr.applySandboxOverlay();
});

When(
  /^the agent writes a supplier invoice with (\d+) lines for a new thirdparty through the sandbox's Dolibarr$/,
  async function (this: RehearsalWorld, count: string) {
    this.written = await writeSupplierInvoice(this.writeTooling(), knownSupplierInvoice(Number(count)));
  },
);

// --- the host-guard -------------------------------------------------------------------------------------------

Given('the write tooling is configured with Dolibarr URL {string}', function (this: RehearsalWorld, url: string) {
  this.toolingUrl = expandPlaceholders(this.target, url);
});

Given("the write tooling is configured with the sandbox's Dolibarr URL", function (this: RehearsalWorld) {
  this.toolingUrl = this.target.dolibarr.sandbox.url;
});

When('it tries to create a thirdparty', async function (this: RehearsalWorld) {
  try {
    const id = await this.writeTooling().createThirdparty({ name: 'Host-guard probe SARL', fournisseur: 1 });
    this.refusal = undefined;
    this.attach(`created thirdparty ${id}`, 'text/plain');
  } catch (error) {
    this.refusal = error as Error;
  }
});

Then('the host-guard refuses it, naming host {string} and reason {string}', function (this: RehearsalWorld, host: string, reason: string) {
  const refusal = this.refusal;
  expect(refusal, 'the attempt was refused').to.not.equal(undefined);
  expect(refusal, `the refusal (${refusal?.message})`).to.be.instanceOf(HostGuardRefusal);
  const { refusedHost, reason: actual } = refusal as HostGuardRefusal;
  expect({ host: refusedHost, reason: actual }, `the refused host and reason (${refusal!.message})`).to.deep.equal({ host: expandPlaceholders(this.target, host), reason });
  this.attach(refusal!.message, 'text/plain');
});

Then('no Dolibarr saw a connection', function (this: RehearsalWorld) {
  expect({ prod: seenSinceStart(this, 'prod').connections, sandbox: seenSinceStart(this, 'sandbox').connections }).to.deep.equal({ prod: 0, sandbox: 0 });
});

Then(/^(prod|the sandbox)'s Dolibarr saw (no|\d+) (connections?|requests?)$/, function (this: RehearsalWorld, who: string, count: string, what: string) {
  const seen = seenSinceStart(this, who === 'prod' ? 'prod' : 'sandbox');
  expect(what.startsWith('connection') ? seen.connections : seen.requests, `${what} ${who}'s Dolibarr accepted`).to.equal(count === 'no' ? 0 : Number(count));
});

Given("the sandbox's Dolibarr redirects every request to prod's", function (this: RehearsalWorld) {
  standins(this).redirectSandboxTo(`${this.target.dolibarr.prod.url}/api/index.php/thirdparties`);
});

When("a request is sent to prod's Dolibarr without the host-guard", async function (this: RehearsalWorld) {
  const { prod, ca, lookup } = this.target.dolibarr;
  const answer = await sendWithoutGuard({ url: prod.url, ca, lookup }, undefined, { method: 'GET', path: '/status' });
  this.attach(describeAnswer(answer), 'text/plain');
});

Then("the write tooling reaches the sandbox's Dolibarr through each of these URLs:", async function (this: RehearsalWorld, table: DataTable) {
  for (const { url } of table.hashes()) {
    this.toolingUrl = expandPlaceholders(this.target, url!);
    const status = await this.writeTooling().status();
    expect(status.dolibarrVersion, `Dolibarr's version through ${this.toolingUrl}`).to.match(/^\d+\.\d+\.\d+$/);
  }
});

When('the write tooling creates a thirdparty named {string}', async function (this: RehearsalWorld, name: string) {
  const id = await this.writeTooling().createThirdparty({ name, fournisseur: 1 });
  this.written = { thirdpartyId: id, invoiceId: 0, lineIds: [] };
});

Then('the sandbox holds that thirdparty, named {string}', async function (this: RehearsalWorld, name: string) {
  const id = this.written?.thirdpartyId;
  expect(id, 'a thirdparty was created').to.be.a('number');
  expect(await this.inSandbox((client) => thirdpartyNames(client, id!))).to.deep.equal([name]);
});

// --- prod's Dolibarr refuses writes with keys that must not write -------------------------------------------------

When(
  /^(the sandbox agent's key|prod's agent key) is sent to prod's Dolibarr to (.+), bypassing the host-guard$/,
  async function (this: RehearsalWorld, keyName: keyof typeof KEYS, write: string) {
    const attempt = writeAttempt(write);
    const key = KEYS[keyName];
    const { prod, ca, lookup } = this.target.dolibarr;
    // The target decides the form: a live prod only ever gets the form that writes nothing even past the rights check.
    const sent = probeForm(this.target) === 'hermetic' ? attempt.write : attempt.liveSafe;
    const answer = await sendWithoutGuard({ url: prod.url, ca, lookup }, keyOf(this, key), sent);
    this.prodWrite = { attempt, key, answer };
    this.evidence(`${sent.method} ${sent.path} to ${prod.host} → ${describeAnswer(answer)}`);
  },
);

Then("prod's Dolibarr refuses it with HTTP {int} {string}", function (this: RehearsalWorld, status: number, message: string) {
  const { answer } = this.prodWrite!;
  expect({ status: answer.status, message: answer.message }, describeAnswer(answer)).to.deep.equal({ status, message });
});

Then('the form safe for a live prod is refused the same way', async function (this: RehearsalWorld) {
  const { attempt, key, answer } = this.prodWrite!;
  const { prod, ca, lookup } = this.target.dolibarr;
  const safe = await sendWithoutGuard({ url: prod.url, ca, lookup }, keyOf(this, key), attempt.liveSafe);
  this.attach(`live-safe ${attempt.liveSafe.method} ${attempt.liveSafe.path} → ${describeAnswer(safe)}`, 'text/plain');
  const pastRights = safe.status === attempt.pastRights.status ? ' (it got past the rights check: the fence is broken)' : '';
  expect({ status: safe.status, message: safe.message }, `the live-safe form${pastRights}`).to.deep.equal({ status: answer.status, message: answer.message });
});

Then("the same request with the same key succeeds on the sandbox's Dolibarr", async function (this: RehearsalWorld) {
  const { attempt, key } = this.prodWrite!;
  const { sandbox, ca, lookup } = this.target.dolibarr;
  const answer = await sendWithoutGuard({ url: sandbox.url, ca, lookup }, keyOf(this, key), attempt.write);
  expect(answer.status, describeAnswer(answer)).to.equal(200);
});

Then('the same key reads prod\'s thirdparties', async function (this: RehearsalWorld) {
  const { key } = this.prodWrite!;
  const { prod, ca, lookup } = this.target.dolibarr;
  const answer = await sendWithoutGuard({ url: prod.url, ca, lookup }, keyOf(this, key), { method: 'GET', path: '/thirdparties?limit=1' });
  expect(answer.status, describeAnswer(answer)).to.equal(200);
  expect(answer.body, 'a list of one thirdparty').to.be.an('array').with.length(1);
});
