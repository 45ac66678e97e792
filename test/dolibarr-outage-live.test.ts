/**
 * The sandbox's Dolibarr loses its database, seen by a live run pointed at the hermetic stack (the live emulation): the
 * sandbox stand-in's database login is revoked by Vault, as an outage of its credentials would look, so it answers
 * Dolibarr's technical-error page (HTTP 202, HTML). The live gate run stops before any gate with exit 4 and one line
 * saying so; no gate fails for that reason. Given a login again, the same run passes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXIT } from '../support/gates/outcomes';
import { sharedEmulatedLiveStack } from './helpers/live-emulation';
import { runLiveFeature } from './helpers/rehearse';

const FEATURE = 'features/host-guard.feature';

describe("a live run whose sandbox Dolibarr has lost its database", { timeout: 300_000 }, () => {
  const stack = sharedEmulatedLiveStack();

  it('exits 4 with one line before any gate, and runs the gate again once the database is back', async (t) => {
    const { target } = stack();
    const standins = target.dolibarr.standins!;
    const restore = await standins.loseSandboxDatabase();
    let restored = false;
    try {
      const before = standins.counts();
      const lost = await runLiveFeature(FEATURE, stack().env);
      const line = `Dolibarr at ${target.sandbox.host} answered an error page, status 202: its database may be unreachable`;
      assert.equal(lost.code, EXIT.unreachable, lost.output);
      const lines = lost.output.split('\n').filter((text) => text.includes(line));
      assert.equal(lines.length, 1, `the line once\n${lost.output}`);
      assert.match(lines[0]!, /the live target cannot be reached: /);
      t.diagnostic(lines[0]!);
      assert.doesNotMatch(lost.output, /gates: \d+ passed|FAILED|<html|DOCTYPE/i, 'no gate ran, none failed, no page printed');
      const after = standins.counts();
      assert.deepEqual(after.prod, before.prod, "prod's Dolibarr saw nothing");
      assert.equal(after.sandbox.requests - before.sandbox.requests, 1, "one request to the sandbox's Dolibarr: the question whether it answers");

      await restore();
      restored = true;
      const back = await runLiveFeature(FEATURE, stack().env);
      assert.ok(back.code === EXIT.green || back.code === EXIT.notApplicable, `exit ${back.code}\n${back.output}`);
      assert.match(back.output, /gates: [1-9]\d* passed, 0 failed/, back.output);
      assert.doesNotMatch(back.output, /its database may be unreachable/);
      t.diagnostic(/gates: .*/.exec(back.output)![0]);
    } finally {
      if (!restored) await restore();
    }
  });
});
