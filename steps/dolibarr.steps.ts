import { Given, Then, When, type DataTable } from '@cucumber/cucumber';
import { expect } from 'chai';
import { expectHostGuardRefusal, expectRefusedFor, expectVersionThrough, tryToCreateThirdparty } from '../support/dolibarr-fence/host-guard-checks';
import { describeLiveSafeAnswer, expectLiveSafeRefusedAlike, expectMissingRightRefusal, refusalIn } from '../support/dolibarr-fence/refusals';
import { allSaw, connectionsSeen, seenAt, type Observers } from '../support/dolibarr-fence/seen';
import { describeAnswer } from '../support/dolibarr-fence/unguarded';
import { knownSupplierInvoice, writeSupplierInvoice } from '../support/erp/supplier-invoice';
import { thirdpartyNames } from '../support/erp/thirdparty';
import { expandPlaceholders } from '../support/targets/placeholders';
import { dolibarrObservers, prodDolibarrVersion, redirectSandboxToProd, sendPastGuard, sendProdWrite } from '../support/targets/dolibarr-fence';
import type { RehearsalWorld } from '../support/world';

const KEYS = { "the sandbox agent's key": 'sandboxAgent', "prod's agent key": 'prodAgent' } as const;

/** Who watches the Dolibarr instances in this scenario: this process's log, and the stand-ins where the target has them. */
const observers = (world: RehearsalWorld): Observers => dolibarrObservers(world.target, world.traffic, world.dolibarrBaseline);

// --- the sandbox's Dolibarr: overlay and rehearsal writes -------------------------------------------------------

/**
 * Applies the sandbox overlay: the agent's sandbox API key and write rights (122, 1232) in the sandbox's Dolibarr.
 *
 * A reset brings the golden back without the overlay: run this step after a reset, before a rehearsed write.
 */
Given('the sandbox overlay gives the agent its sandbox key and write rights', async function (this: RehearsalWorld) {
  await this.target.dolibarr.applySandboxOverlay();
});

/**
 * The agent's write tooling creates a new thirdparty and a supplier invoice with that many lines for it.
 *
 * Through the sandbox's Dolibarr; what it created is kept for the diff and the checks that follow.
 */
When(
  /^the agent writes a supplier invoice with (\d+) lines for a new thirdparty through the sandbox's Dolibarr$/,
  async function (this: RehearsalWorld, count: string) {
    this.written = await writeSupplierInvoice(this.writeTooling(), knownSupplierInvoice(Number(count)));
  },
);

// --- the host-guard -------------------------------------------------------------------------------------------

/**
 * Points the agent's write tooling at that Dolibarr URL for the rest of the scenario.
 *
 * The URL may use the placeholders {domain}, {prod}, {sandbox}, {port}, {other port}, {prod address} and {sandbox
 * address}, replaced by the target's values.
 */
Given('the write tooling is configured with Dolibarr URL {string}', async function (this: RehearsalWorld, url: string) {
  this.toolingUrl = await expandPlaceholders(this.target, url);
});

/** Points the agent's write tooling at the sandbox's own Dolibarr URL (the default). */
Given("the write tooling is configured with the sandbox's Dolibarr URL", function (this: RehearsalWorld) {
  this.toolingUrl = this.target.dolibarr.sandbox.url;
});

/** The write tooling tries to create a thirdparty, its network traffic observed; a refusal is kept for the next steps. */
When('it tries to create a thirdparty', async function (this: RehearsalWorld) {
  const attempt = await tryToCreateThirdparty(() => this.writeTooling(), this.traffic);
  this.refusal = 'refusal' in attempt ? attempt.refusal : undefined;
  if ('id' in attempt) this.attach(`created thirdparty ${attempt.id}`, 'text/plain');
});

/**
 * The last attempt was refused by the write tooling's host-guard, which named that host and that reason.
 *
 * Reasons: host, userinfo, malformed, ip literal, scheme, port, redirect. The host may use the URL placeholders.
 */
Then('the host-guard refuses it, naming host {string} and reason {string}', async function (this: RehearsalWorld, host: string, reason: string) {
  const refusal = expectHostGuardRefusal(this.refusal);
  expectRefusedFor(refusal, await expandPlaceholders(this.target, host), reason);
  this.attach(refusal.message, 'text/plain');
});

/**
 * No connection left for any Dolibarr, nor anywhere else, since the scenario started.
 *
 * This process's observed attempts opened no socket to any destination; on a hermetic target neither stand-in accepted
 * a connection either.
 */
Then('no Dolibarr saw a connection', function (this: RehearsalWorld) {
  expect(connectionsSeen(observers(this)), 'connections seen in this scenario').to.deep.equal([]);
});

/**
 * Prod's (or the sandbox's) Dolibarr saw exactly that many connections (or requests) in this scenario.
 *
 * Seen from this process (what its observed attempts opened and sent to that host) and, on a hermetic target, from
 * the stand-in (what it accepted): every observer must count the same.
 */
Then(/^(prod|the sandbox)'s Dolibarr saw (no|\d+) (connections?|requests?)$/, async function (this: RehearsalWorld, who: string, count: string, what: string) {
  const instance = who === 'prod' ? 'prod' : 'sandbox';
  const seen = await seenAt(observers(this), instance, this.target.dolibarr[instance], what.startsWith('connection') ? 'connections' : 'requests');
  expect(seen, `${what} ${who}'s Dolibarr saw`).to.deep.equal(allSaw(seen, count === 'no' ? 0 : Number(count)));
});

/**
 * The sandbox's Dolibarr answers every request with a redirect to prod's Dolibarr, until the scenario ends.
 *
 * Hermetic target only: a stand-in can be told to; a gate run never reconfigures the sandbox's real Dolibarr.
 */
Given("the sandbox's Dolibarr redirects every request to prod's", function (this: RehearsalWorld) {
  redirectSandboxToProd(this.target);
});

/**
 * Sends one request to prod's Dolibarr with the test-only sender that skips the host-guard, its traffic observed.
 *
 * GET /status without a key: Dolibarr refuses it (401) before reading anything, so it is safe to send to a live prod.
 */
When("a request is sent to prod's Dolibarr without the host-guard", async function (this: RehearsalWorld) {
  const answer = await this.traffic.observe(() => sendPastGuard(this.target, 'prod', undefined, { method: 'GET', path: '/status' }));
  this.attach(describeAnswer(answer), 'text/plain');
});

/**
 * The write tooling reaches the sandbox's Dolibarr, and reads its version, through each URL of the table.
 *
 * The table has one column, `url`; the URLs may use the placeholders. The traffic is observed.
 */
Then("the write tooling reaches the sandbox's Dolibarr through each of these URLs:", async function (this: RehearsalWorld, table: DataTable) {
  for (const { url } of table.hashes()) await expectVersionThrough(this, await expandPlaceholders(this.target, url!));
});

/** The agent's write tooling creates a thirdparty with that name (through the Dolibarr it is configured with), its traffic observed. */
When('the write tooling creates a thirdparty named {string}', async function (this: RehearsalWorld, name: string) {
  const id = await this.traffic.observe(() => this.writeTooling().createThirdparty({ name, fournisseur: 1 }));
  this.written = { thirdpartyId: id, invoiceId: 0, lineIds: [] };
});

/** The sandbox's database holds the thirdparty the last write created, with that name. */
Then('the sandbox holds that thirdparty, named {string}', async function (this: RehearsalWorld, name: string) {
  const id = this.written?.thirdpartyId;
  expect(id, 'a thirdparty was created').to.be.a('number');
  expect(await this.inSandbox((client) => thirdpartyNames(client, id!))).to.deep.equal([name]);
});

// --- prod's Dolibarr refuses writes with keys that must not write -------------------------------------------------

/**
 * Sends a write to prod's Dolibarr with that key, through the test-only sender that skips the host-guard.
 *
 * Writes: create a thirdparty, create a supplier invoice, update a thirdparty, delete a thirdparty. The target decides
 * the form: a live prod only ever gets the form that writes nothing even past the rights check.
 */
When(
  /^(the sandbox agent's key|prod's agent key) is sent to prod's Dolibarr to (.+), bypassing the host-guard$/,
  async function (this: RehearsalWorld, keyName: keyof typeof KEYS, write: string) {
    const sent = await sendProdWrite(this.target, KEYS[keyName], write);
    this.prodWrite = sent.write;
    this.evidence(sent.evidence);
  },
);

/** Prod's Dolibarr answered the last write with that HTTP status and exactly that error message. */
Then("prod's Dolibarr refuses it with HTTP {http status} {string}", function (this: RehearsalWorld, status: number, message: string) {
  const { answer } = this.prodWrite!;
  expect({ status: answer.status, message: answer.message }, describeAnswer(answer)).to.deep.equal({ status, message });
});

/**
 * Prod's Dolibarr refused the last write exactly as the version it reports refuses a key without the right to it.
 *
 * The version is read from prod's `/status` with the same key (a read); 20 and later answer 403 `Forbidden…`, 19 answers
 * 401 `Unauthorized…`, each with its own words for a supplier invoice (`Insuffisant rights`, `Insufficiant rights`).
 */
Then("prod's Dolibarr refuses it as its version refuses a key without the right", async function (this: RehearsalWorld) {
  const profile = await prodDolibarrVersion(this.target, this.prodWrite!.key);
  this.prodWrite = { ...this.prodWrite!, profile };
  this.evidence(expectMissingRightRefusal(this.prodWrite, profile));
});

/**
 * Dolibarr's answer to the last write is that refusal, told by its status and message: by authentication (an unknown
 * key) or by the permission model (a right the key's user lacks).
 *
 * On 19 both are 401: only the message tells them apart. The version is the one a previous step read, if any.
 */
Then(/^its message tells a refusal by (authentication|the permission model), not by (?:the permission model|authentication)$/, function (this: RehearsalWorld, by: string) {
  const { answer, profile } = this.prodWrite!;
  const expected = by === 'authentication' ? 'authentication' : 'permission';
  expect(refusalIn(answer, profile), `which refusal ${describeAnswer(answer)} is`).to.equal(expected);
});

/**
 * The last write's live-safe form is refused by prod's Dolibarr with the same status and message.
 *
 * If it got past the rights check instead, the fence is broken.
 */
Then('the form safe for a live prod is refused the same way', async function (this: RehearsalWorld) {
  const safe = await sendPastGuard(this.target, 'prod', this.prodWrite!.key, this.prodWrite!.attempt.liveSafe);
  this.attach(describeLiveSafeAnswer(this.prodWrite!.attempt, safe), 'text/plain');
  expectLiveSafeRefusedAlike(this.prodWrite!, safe);
});

/** The positive control: the last write, with the same key, succeeds (HTTP 200) on the sandbox's Dolibarr. */
Then("the same request with the same key succeeds on the sandbox's Dolibarr", async function (this: RehearsalWorld) {
  const answer = await sendPastGuard(this.target, 'sandbox', this.prodWrite!.key, this.prodWrite!.attempt.write);
  expect(answer.status, describeAnswer(answer)).to.equal(200);
});

/** The last write's key reads prod's thirdparties (HTTP 200): a valid key on prod, refused only its writes. */
Then('the same key reads prod\'s thirdparties', async function (this: RehearsalWorld) {
  const answer = await sendPastGuard(this.target, 'prod', this.prodWrite!.key, { method: 'GET', path: '/thirdparties?limit=1' });
  expect(answer.status, describeAnswer(answer)).to.equal(200);
  expect(answer.body, 'a list of one thirdparty').to.be.an('array').with.length(1);
});
