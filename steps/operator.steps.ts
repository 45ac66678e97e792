import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, showsAddedRow, summaryOf } from '../support/operator/rehearse-command';
import type { RehearsalWorld } from '../support/world';

/**
 * Runs a rehearse command line as the operator would, in its own process and a directory of the scenario's own.
 *
 * Hermetic: configured as the live target, pointed at this target's stack; live: with the run's own configuration.
 * @example When the operator runs "rehearse status"
 */
When('the operator runs {string}', async function (this: RehearsalWorld, line: string) {
  await this.operatorRuns(line);
});

/**
 * The operator's commands from now on run with that variable set, e.g. to the golden it made; a relative path is taken
 * from the directory they run in.
 */
Given('the operator sets {word} to {string}', async function (this: RehearsalWorld, name: string, value: string) {
  await this.operatorSets(name, value);
});

/** The last command the operator ran exited with that status. */
Then('it exits {int}', function (this: RehearsalWorld, code: number) {
  expect(this.command!.code, describeRun(this.command!)).to.equal(code);
  this.evidence(`${summaryOf(this.command!)} → exit ${code}`);
});

/** The last command printed that text, on its output or its error output (one line of it, or a part of one). */
Then('it prints {string}', function (this: RehearsalWorld, text: string) {
  expect(`${this.command!.stdout}\n${this.command!.stderr}`, describeRun(this.command!)).to.contain(text);
});

/** The last command printed the golden's content hash (the target's golden, which the sandbox was reset to). */
Then("it prints the golden's content hash", function (this: RehearsalWorld) {
  expect(this.command!.stdout, describeRun(this.command!)).to.contain(this.target.golden.manifest.root);
});

/** The last command printed prod's content hash as it is now, read through the golden identity (what a golden made now holds). */
Then("it prints prod's content hash", async function (this: RehearsalWorld) {
  expect(this.command!.stdout, describeRun(this.command!)).to.contain((await this.prodState()).root);
});

/** The last command, a diff, shows the thirdparty and the supplier invoice the agent wrote as added rows. */
Then('it shows the thirdparty and the invoice the agent wrote, as added rows', function (this: RehearsalWorld) {
  const { thirdpartyId, invoiceId } = this.written!;
  expect(showsAddedRow(this.command!.stdout, 'public.llx_societe', `rowid=${thirdpartyId}`), describeRun(this.command!)).to.equal(true);
  expect(showsAddedRow(this.command!.stdout, 'public.llx_facture_fourn', `rowid=${invoiceId}`), describeRun(this.command!)).to.equal(true);
});

/** A directory the operator's commands wrote is readable by its owner only (it holds prod's data). */
Then('the operator\'s directory {string} is readable by its owner only', function (this: RehearsalWorld, name: string) {
  expect(statSync(join(this.operator!.dir, name)).mode & 0o777, `${name}'s permissions`).to.equal(0o700);
});
