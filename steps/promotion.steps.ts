import { Given, Then, When, type DataTable } from '@cucumber/cucumber';
import { expect } from 'chai';
import { beforeStateNotGolden, editInvoiceAmount, hideInvoiceLines, rehearsedOnProdHost, writtenByHand } from '../support/promote/faults';
import {
  describePromotion,
  expectProdDiffAsRehearsed,
  expectRefusedFor,
  expectReviewShowsRowsAdded,
  expectThirdpartyRemapped,
} from '../support/promote/gate-checks';
import { renderReviewHtml } from '../support/promote/review-html';
import { renderReviewText } from '../support/promote/review';
import {
  advanceProdThirdpartyIds,
  changeProdThirdparties,
  promoterAsAgent,
  prodWriteCredentialIsAgentKey,
  removeProdWriteCredential,
} from '../support/targets/promotion-faults';
import { GATE_ACTOR, promoteInScenario, rehearsalForScenario, scenarioAudit, scenarioChangeset as changeset } from '../support/targets/promotion';
import type { RehearsalWorld } from '../support/world';

/**
 * The agent's rehearsal of a supplier invoice for a new thirdparty, recorded as a changeset; the scenario gets a copy.
 *
 * The rehearsal runs once, from a sandbox reset to the golden with the overlay applied; each scenario promotes its own
 * copy of the changeset and writes its own promote audit file. Not applicable on a live target that holds promote's
 * identity: there a promotion could write prod.
 */
Given(
  "the agent's rehearsal of a supplier invoice with {int} lines for a new thirdparty, recorded once from the golden as a changeset",
  async function (this: RehearsalWorld, lines: number) {
    const { digest, operations, changes } = await rehearsalForScenario(this, lines);
    this.evidence(`changeset ${digest}: ${operations.length} operations, ${changes.length} relations changed`);
  },
);

/** Renders the scenario's changeset for review, as rehearse review does: the terminal text and the HTML page. */
When('the changeset is reviewed', function (this: RehearsalWorld) {
  this.review = { text: renderReviewText(changeset(this), { colour: false, file: this.changesetPath }), html: renderReviewHtml(changeset(this)) };
});

/**
 * Both reviews (terminal and HTML) show the changeset's digest and, per relation of the table, the rows added.
 *
 * The table has the columns `relation` and `added rows`; no row may be removed or changed.
 */
Then('the review names the digest and the rows added to:', function (this: RehearsalWorld, table: DataTable) {
  expectReviewShowsRowsAdded(this.review!, changeset(this).digest, table.hashes());
});

/** Promotes the scenario's changeset approved with its own digest, as rehearse promote --approve DIGEST does. */
When('the changeset is promoted with --approve and its digest', async function (this: RehearsalWorld) {
  await promoteInScenario(this, { approve: changeset(this).digest });
});

/** Promotes the scenario's changeset with --approve naming a digest that is not the changeset's. */
When("the changeset is promoted with --approve and another changeset's digest", async function (this: RehearsalWorld) {
  await promoteInScenario(this, { approve: `sha256:${'0'.repeat(64)}` });
});

/** Promotes the scenario's changeset with no approval and no terminal to ask on. */
When('the changeset is promoted without --approve, not on a terminal', async function (this: RehearsalWorld) {
  await promoteInScenario(this, {});
});

/** Promotes the scenario's changeset, the human typing its digest at the prompt. */
When('the changeset is promoted with its digest typed at the prompt', async function (this: RehearsalWorld) {
  await promoteInScenario(this, { confirm: async (digest) => digest });
});

/** Promotes the scenario's changeset, the human typing a digest that differs from it at the prompt. */
When('the changeset is promoted with another digest typed at the prompt', async function (this: RehearsalWorld) {
  await promoteInScenario(this, { confirm: async (digest) => digest.replace(/.$/, (last) => (last === '0' ? '1' : '0')) });
});

/** Edits the invoice amount in the scenario's changeset after review, without re-digesting it. */
Given("the changeset's invoice amount is edited after review", function (this: RehearsalWorld) {
  editInvoiceAmount(this.changesetPath!);
});

/**
 * Rewrites the scenario's changeset to say it was rehearsed on prod's host, and re-digests it so the digest matches.
 */
Given("the changeset says it was rehearsed on prod's host, re-digested", function (this: RehearsalWorld) {
  rehearsedOnProdHost(this.changesetPath!, this.target.prod.host);
});

/** Removes the invoice's lines from the diff the scenario's changeset shows for review, its digest left as it was. */
Given("the diff the changeset shows hides the invoice's lines after review", function (this: RehearsalWorld) {
  hideInvoiceLines(this.changesetPath!, { redigest: false });
});

/**
 * Removes the invoice's lines from the diff the scenario's changeset shows for review, and recomputes its digest.
 *
 * The operations still write the lines: the diff is not what they do.
 */
Given("the diff the changeset shows hides the invoice's lines, re-digested", function (this: RehearsalWorld) {
  hideInvoiceLines(this.changesetPath!, { redigest: true });
});

/**
 * Replaces the scenario's changeset by one written by hand, naming the sandbox's host, with a digest of its own.
 *
 * Its header and before-state are the rehearsal's; its diff shows one new thirdparty, while its operations create it and
 * rename an existing one.
 */
Given("the changeset is replaced by one written by hand for the sandbox's host, with a valid digest", function (this: RehearsalWorld) {
  writtenByHand(this.changesetPath!);
});

/** Makes the scenario's changeset say its thirdparties were not the golden's when the rehearsal started, re-digested. */
Given("the changeset's before-state is not the golden's, re-digested", function (this: RehearsalWorld) {
  beforeStateNotGolden(this.changesetPath!);
});

/** Removes promote's prod-write credential from Vault until the scenario ends. */
Given("promote's prod-write credential is missing from Vault", function (this: RehearsalWorld) {
  this.undo.push(removeProdWriteCredential(this.target));
});

/** Replaces promote's prod-write credential in Vault with the agent's sandbox key until the scenario ends. */
Given("promote's prod-write credential is the agent's sandbox key", function (this: RehearsalWorld) {
  this.undo.push(prodWriteCredentialIsAgentKey(this.target));
});

/**
 * Moves prod's thirdparty id sequence on, as a rolled-back insert would, so prod's next ids differ from the sandbox's.
 */
Given("prod's thirdparty ids moved on since the rehearsal, as a rolled-back insert leaves them", async function (this: RehearsalWorld) {
  await advanceProdThirdpartyIds(this.target);
});

/** Makes promote log in to Vault with the agent's identity instead of its own, for this scenario. */
Given("promote logs in to Vault as the agent's identity", function (this: RehearsalWorld) {
  this.promoteTarget = promoterAsAgent(this.target);
});

/** Changes rows of prod's thirdparties that the rehearsal also changed, a conflict for promote; taken back after the scenario. */
Given("prod's thirdparties changed since the rehearsal started", async function (this: RehearsalWorld) {
  await changeProdThirdparties(this.target, this.undo);
});

/**
 * Promote replayed that many operations on prod, the invoice's thirdparty remapped to prod's new id.
 *
 * The thirdparty, then the invoice; the invoice's `socid` is prod's new thirdparty, not the sandbox's.
 */
Then("promote replayed {int} operations on prod, the invoice's thirdparty remapped to prod's new id", function (this: RehearsalWorld, count: number) {
  this.evidence(describePromotion(expectThirdpartyRemapped(this.promotion, changeset(this), count)));
});

/**
 * Prod's diff after the promotion equals the rehearsed one, modulo generated ids, timestamps and the acting user.
 *
 * Provisional refs are ignored too.
 */
Then("prod's diff equals the rehearsed diff, modulo generated ids and timestamps", function (this: RehearsalWorld) {
  expectProdDiffAsRehearsed(this.promotion);
});

/**
 * Promote refused the last promotion for exactly that reason (nothing was sent to prod).
 *
 * Reasons: approval mismatch, no approval, not confirmed, edited after review, not rehearsed on the sandbox, not
 * rehearsed from the golden, not what its operations do, no prod-write credential, the agent's key, the agent's
 * identity, conflict.
 */
Then('promote refuses it for {string}', function (this: RehearsalWorld, reason: string) {
  const refusal = expectRefusedFor(this.promotion, reason);
  this.evidence(`promote refused (${reason}): ${refusal.message.split('\n')[0]}`);
});

/** Promote refused the last promotion for exactly that reason, and what the refusal shows includes the given text. */
Then('promote refuses it for {string}, naming {string}', function (this: RehearsalWorld, reason: string, named: string) {
  const refusal = expectRefusedFor(this.promotion, reason);
  expect(refusal.details.join('\n'), 'what the refusal shows').to.include(named);
  this.evidence(`promote refused (${reason}): ${refusal.message}`);
});

/** The last line of the scenario's promote audit has that outcome and the changeset's digest. */
Then('the promote audit records the changeset\'s digest as {string}', function (this: RehearsalWorld, outcome: string) {
  const last = scenarioAudit(this).at(-1)!;
  expect({ outcome: last.outcome, digest: last.digest }).to.deep.equal({ outcome, digest: changeset(this).digest });
});

/** The last line of the scenario's promote audit has that outcome and that reason, by the promotion gate. */
Then('the promote audit records the attempt as {string} for {string}', function (this: RehearsalWorld, outcome: string, reason: string) {
  const last = scenarioAudit(this).at(-1)!;
  expect({ outcome: last.outcome, reason: last.reason }).to.deep.equal({ outcome, reason });
  expect(last.who, 'who').to.equal(GATE_ACTOR);
});
