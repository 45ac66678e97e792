/**
 * Promote's dress rehearsal on a hermetic target (a real cluster, the Dolibarr stand-in): a real rehearsal makes its
 * own diff again from the golden; a diff its operations do not make, a before-state that is not the golden's and an
 * operation the sandbox refuses are each refused with what differs. The gate's side (nothing reaches prod, the audit)
 * is features/promotion-gate.feature.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../support/config';
import { stateOf } from '../support/lifecycle/state';
import type { Changeset } from '../support/promote/changeset';
import { compareDiffs } from '../support/promote/compare';
import { dressRehearse } from '../support/promote/dress-rehearsal';
import { PromotionRefused } from '../support/promote/refusal';
import { dressRehearsalSite } from '../support/targets/dress-rehearsal';
import { buildHermeticTarget } from '../support/targets/hermetic';
import { recordFromGolden } from './helpers/promote-rehearsal';
import type { Target } from '../support/targets/target';

/** The refusal `work` ends in, for exactly `reason`. */
async function refusal(work: Promise<unknown>, reason: string): Promise<PromotionRefused> {
  const error = await work.then(() => undefined, (thrown: unknown) => thrown);
  assert.ok(error instanceof PromotionRefused, `a refusal, not ${String(error)}`);
  assert.equal(error.reason, reason, error.message);
  return error;
}

describe("promote's dress rehearsal on a hermetic target", { timeout: 300_000 }, () => {
  let target: Target;
  let recorded: Changeset;

  before(async () => {
    const config = loadConfig({ ...process.env, ERP_REHEARSAL_PG_PROVIDER: 'local', ERP_REHEARSAL_TARGET: 'hermetic' });
    target = await buildHermeticTarget(config, () => undefined);
    recorded = await recordFromGolden(target, 2, join(target.workDir, 'dress-rehearsal.changeset.json'), 'a supplier invoice with 2 lines for a new thirdparty');
  });
  after(() => target?.close());

  const sandboxRequests = () => target.dolibarr.standins!.counts().sandbox.requests;
  const sandboxRoot = async () => {
    const login = await target.minter.mint(target.sandbox);
    try {
      return (await stateOf(target.endpointFor(target.sandbox.database), login, target.sandbox)).root;
    } finally {
      await target.minter.revoke(login);
    }
  };

  it("replays a real rehearsal from the golden: the sandbox's diff is the changeset's, and the sandbox keeps its writes", async () => {
    const lines: string[] = [];
    const requests = sandboxRequests();
    const rehearsal = await dressRehearse(recorded, dressRehearsalSite(target), (line) => lines.push(line));
    assert.equal(rehearsal.operations, 2);
    assert.ok(sandboxRequests() - requests >= 2, 'the operations reached the sandbox');
    assert.deepEqual(compareDiffs(recorded.changes, rehearsal.changes).differences, []);
    assert.deepEqual(
      rehearsal.changes.filter((change) => change.kind === 'table').map((change) => change.name).sort(),
      recorded.changes.filter((change) => change.kind === 'table').map((change) => change.name).sort(),
    );
    // The overlay's relations are named where they are left out of the before-state's check.
    assert.ok(lines.some((line) => /starts from the golden \(the overlay's .*table public\.llx_user\b/.test(line)), lines.join('\n'));
    assert.notEqual(await sandboxRoot(), target.golden.manifest.root, "the sandbox holds the changeset's writes afterwards");
  });

  it("refuses a diff its operations do not make, naming the relation it hides", async () => {
    const hidden = { ...recorded, changes: recorded.changes.filter((change) => change.name !== 'public.llx_facture_fourn_det') };
    const refused = await refusal(dressRehearse(hidden, dressRehearsalSite(target)), 'not what its operations do');
    assert.deepEqual(refused.details, ['public.llx_facture_fourn_det: content changed in the dress rehearsal, unchanged in the changeset']);
  });

  it("refuses a before-state that is not the golden's, naming the relation, before replaying anything", async () => {
    const elsewhere = { ...recorded, before: { ...recorded.before, relations: { ...recorded.before.relations, 'table public.llx_societe': '0'.repeat(64) } } };
    const requests = sandboxRequests();
    const refused = await refusal(dressRehearse(elsewhere, dressRehearsalSite(target)), 'not rehearsed from the golden');
    assert.deepEqual(refused.details, ['table public.llx_societe']);
    assert.equal(sandboxRequests(), requests, "no operation reached the sandbox's Dolibarr");
  });

  it('refuses operations the sandbox does not accept from the golden, naming the operation', async () => {
    const missing = { ...recorded, operations: [{ method: 'PUT' as const, path: '/thirdparties/999999', body: { name: 'Nobody' }, status: 200, response: 999999 }], changes: [] };
    const refused = await refusal(dressRehearse(missing, dressRehearsalSite(target)), 'not what its operations do');
    assert.equal(refused.details.length, 1);
    assert.match(refused.details[0]!, /^operation 1 of 1 \(PUT \/thirdparties\/999999\): Dolibarr PUT .*999999 → 404/);
  });
});
