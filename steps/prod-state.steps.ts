import { Given, Then } from '@cucumber/cucumber';
import { expect } from 'chai';
import { NotApplicable } from '../support/not-applicable';
import type { RehearsalWorld } from '../support/world';

/**
 * Records prod's content hash, to compare with it later ("prod's content hash is unchanged").
 *
 * Prod's state needs a prod credential, which only the hermetic target holds. Live, the attempts still run (a refusal
 * that fails is still a failure); the hash comparison at the end is then not applicable.
 */
Given("prod's state is recorded", async function (this: RehearsalWorld) {
  try {
    this.states.set('prod', await this.prodState());
  } catch (error) {
    if (!(error instanceof NotApplicable)) throw error;
    this.prodStateUnavailable = error.reason;
  }
});

/**
 * Prod's content hash is still the one "prod's state is recorded" recorded.
 *
 * Not applicable where prod's state cannot be read (a live target).
 */
Then("prod's content hash is unchanged", async function (this: RehearsalWorld) {
  if (this.prodStateUnavailable) throw new NotApplicable(`prod's content hash cannot be read: ${this.prodStateUnavailable}`);
  expect((await this.prodState()).root, "prod's content hash").to.equal(this.states.get('prod')!.root);
});
