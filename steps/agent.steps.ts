import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { describeRun } from '../support/operator/rehearse-command';
import { agentRecordLine, expectNoSecretReached, promoteRecorded, recordedWrites } from '../support/targets/agent-rehearsal';
import type { RehearsalWorld } from '../support/world';

/**
 * Runs an agent command of features/agents/ under `rehearse record --reset`, as the operator would, its changeset
 * written to changeset.json in the operator's directory.
 *
 * The command runs with DOLIBARR_URL at the recording gateway and no key; its arguments may use the URL placeholders
 * ({prod}, {port}…).
 * @example When the operator records the agent's command "create-supplier-invoice.sh"
 */
When("the operator records the agent's command {string}", async function (this: RehearsalWorld, command: string) {
  await this.operatorRuns(await agentRecordLine(this.target, command, true));
});

/**
 * Runs an agent command of features/agents/ under `rehearse record` on the sandbox as it is (no reset), as the operator
 * would, its changeset written to changeset.json in the operator's directory.
 *
 * For a command whose every request must be refused: the sandbox's content does not matter to it.
 */
When("the operator records the agent's command {string} on the sandbox as it is", async function (this: RehearsalWorld, command: string) {
  await this.operatorRuns(await agentRecordLine(this.target, command, false));
});

/**
 * The changeset `rehearse record` wrote holds exactly these writes, in order (`METHOD path → status`, comma-separated),
 * matches its digest, and is readable by its owner only.
 */
Then('the changeset it wrote holds the writes {string}', function (this: RehearsalWorld, writes: string) {
  const recorded = recordedWrites(this.operator!.dir);
  expect(recorded.writes, describeRun(this.command!)).to.deep.equal(writes.split(/,\s*/));
  expect(recorded.mode, "the changeset's permissions").to.equal(0o600);
});

/** The changeset `rehearse record` wrote holds no write: nothing the agent tried reached the sandbox's data. */
Then('the changeset it wrote holds no write', function (this: RehearsalWorld) {
  expect(recordedWrites(this.operator!.dir).writes, describeRun(this.command!)).to.deep.equal([]);
});

/** Promotes the changeset `rehearse record` wrote, approved with its digest, as rehearse promote --approve DIGEST does. */
When('the changeset it wrote is promoted with --approve and its digest', async function (this: RehearsalWorld) {
  await promoteRecorded(this, this.operator!.dir);
});

/**
 * Neither the agent's sandbox key nor any secret of the operator's environment is in the environment the agent's
 * command was given (dumped to that file), in the changeset, or in what rehearse record printed.
 */
Then("no secret is in the agent's environment as dumped to {string}, the changeset or the output", function (this: RehearsalWorld, file: string) {
  this.evidence(expectNoSecretReached(this.target, this.operator!.dir, file, `${this.command!.stdout}\n${this.command!.stderr}`, this.operator!.env));
});
