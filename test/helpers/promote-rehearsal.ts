import { knownSupplierInvoice, writeSupplierInvoice } from '../../support/erp/supplier-invoice';
import { stateOf } from '../../support/lifecycle/state';
import { replayOrder } from '../../support/promote/replay-plan';
import { RehearsalRecording } from '../../support/promote/record';
import type { Changeset } from '../../support/promote/changeset';
import { resetTargetSandbox } from '../../support/targets/reset';
import type { Target } from '../../support/targets/target';
import { agentWriteTooling } from '../../support/targets/write-tooling';

/**
 * Test only: the agent's rehearsal of a supplier invoice for a new thirdparty — two writes — recorded from the golden on
 * a hermetic target's sandbox, as the promotion gate records it, without loading promote (whose credential only the
 * promote command and the gate may reach: test/promote-boundary.test.ts).
 */
export async function recordTwoWrites(target: Target, path: string): Promise<Changeset> {
  const { sandbox, prod } = target;
  const login = await target.minter.mint(sandbox);
  try {
    await resetTargetSandbox(target, login);
    await target.dolibarr.applySandboxOverlay();
    const recording = await RehearsalRecording.start(
      {
        sandbox,
        prod,
        sandboxState: () => stateOf(target.endpointFor(sandbox.database), login, sandbox, target.workDir),
        tooling: (onWrite) => agentWriteTooling(target, { onWrite }),
      },
      { title: 'a supplier invoice for a new thirdparty, promoted through a crash', by: 'the agent' },
    );
    let changeset: Changeset;
    try {
      await writeSupplierInvoice(recording.tooling(), knownSupplierInvoice(1));
      changeset = await recording.finish(path);
    } finally {
      await recording.close();
    }
    const writes = replayOrder(changeset.operations).map((operation) => `${operation.method} ${operation.path}`);
    if (writes.join(', ') !== 'POST /thirdparties, POST /supplierinvoices') throw new Error(`the rehearsal made ${writes.join(', ')}, not the two writes the test needs`);
    return changeset;
  } finally {
    await target.minter.revoke(login);
  }
}
