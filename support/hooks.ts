import { After, AfterAll, Before, setDefaultTimeout, setDefinitionFunctionWrapper, setParallelCanAssign } from '@cucumber/cucumber';
import { serialScenarios } from './authoring/serial';
import { NOT_APPLICABLE_MEDIA_TYPE } from './gates/outcomes';
import { NotApplicable } from './not-applicable';
import { NEEDS_TARGET } from './targets/no-target';
import { closeTarget, openTarget } from './targets/session';
import type { Target } from './targets/target';
import type { RehearsalWorld, WorldParameters } from './world';

// Starting a cluster, loading the fixture and resetting take seconds, not Cucumber's default 5.
setDefaultTimeout(120_000);

let target: Target | undefined;

// Run in parallel, scenarios tagged @serial (they change what all share) each run alone.
setParallelCanAssign(serialScenarios);

// Every step and hook: a NotApplicable thrown anywhere below becomes Cucumber's `skipped`, with the reason attached
// for the gate report (which lists the scenario as not applicable, never as passed).
setDefinitionFunctionWrapper((code: (...args: unknown[]) => unknown) =>
  async function notApplicableAware(this: { attach?: (data: string, mediaType: string) => unknown }, ...args: unknown[]) {
    try {
      return await code.apply(this, args);
    } catch (error) {
      if (!(error instanceof NotApplicable) || typeof this?.attach !== 'function') throw error;
      await this.attach(error.reason, NOT_APPLICABLE_MEDIA_TYPE);
      return 'skipped';
    }
  },
);

// Built (or joined: the runner builds it first) for the first scenario that needs it, so a run of @no-target
// scenarios alone starts nothing; those scenarios get no target and no hooks.
Before({ tags: NEEDS_TARGET }, async function (this: RehearsalWorld) {
  const { target: kind } = this.parameters as WorldParameters;
  target ??= await openTarget('hooks', kind, (line) => process.stderr.write(`[target] ${line}\n`));
  this.useTarget(target);
  this.dolibarrBaseline = target.dolibarr.standins?.counts();
});

After({ tags: NEEDS_TARGET }, async function (this: RehearsalWorld) {
  for (const undo of this.undo.splice(0).reverse()) await undo();
  this.target.dolibarr.standins?.redirectSandboxTo(undefined);
  for (const tooling of this.toolings) await tooling.close();
  for (const session of this.vaultSessions) await session.close({ revokeOutstanding: true });
  for (const session of this.sessions) await session.end();
  // Every login a scenario minted is revoked, as Vault revokes a lease; a failure here is a finding.
  for (const login of this.logins.values()) await this.target.minter.revoke(login);
});

AfterAll(async function () {
  await closeTarget('hooks');
});
