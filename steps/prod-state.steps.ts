import { Given, Then } from '@cucumber/cucumber';
import { NotApplicable } from '../support/not-applicable';
import { unlessNotApplicable } from '../support/targets/applicability';
import type { RehearsalWorld } from '../support/world';

/**
 * Records prod's content hash, to compare with it later ("prod's content hash is unchanged").
 *
 * Prod is read through the read-only golden identity. Live, prod is hashed at most twice a run: this records the run's
 * first hash; where no golden identity is configured, the attempts still run and the comparison is not applicable.
 */
Given("prod's state is recorded", async function (this: RehearsalWorld) {
  const prod = await unlessNotApplicable(() => this.prodState());
  if ('notApplicable' in prod) this.prodStateUnavailable = prod.notApplicable;
  else this.states.set('prod', prod.value);
});

/**
 * Prod's content hash is still the one "prod's state is recorded" recorded.
 *
 * Live, the end of the run settles it with prod's last hash; not applicable where prod's state cannot be read.
 */
Then("prod's content hash is unchanged", async function (this: RehearsalWorld) {
  if (this.prodStateUnavailable) throw new NotApplicable(`prod's content hash cannot be read: ${this.prodStateUnavailable}`);
  await this.expectProdUnchanged(this.states.get('prod')!);
});
