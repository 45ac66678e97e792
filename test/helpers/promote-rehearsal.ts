import { knownSupplierInvoice, writeSupplierInvoice } from '../../support/erp/supplier-invoice';
import type { Changeset } from '../../support/promote/changeset';
import { RehearsalRecording } from '../../support/promote/record';
import { replayOrder } from '../../support/promote/replay-plan';
import { recordingSite, resetForRehearsal } from '../../support/targets/record';
import type { Target } from '../../support/targets/target';

/**
 * Test only: the agent's rehearsal of a supplier invoice with `lines` lines for a new thirdparty, recorded at `path` from
 * the golden with the agent's overlay, as the promotion gate records it, without loading promote (whose credential only
 * the promote command and the gate may reach: test/promote-boundary.test.ts).
 */
export async function recordFromGolden(target: Target, lines: number, path: string, title: string): Promise<Changeset> {
  await resetForRehearsal(target, () => undefined);
  const reader = await target.minter.mint(target.sandbox);
  try {
    const recording = await RehearsalRecording.start(recordingSite(target, reader), { title, by: 'the agent' });
    try {
      await writeSupplierInvoice(recording.tooling(), knownSupplierInvoice(lines));
      return await recording.finish(path);
    } finally {
      await recording.close();
    }
  } finally {
    await target.minter.revoke(reader);
  }
}

/** The rehearsal of recordFromGolden with one invoice line: two writes, the thirdparty then the invoice. */
export async function recordTwoWrites(target: Target, path: string): Promise<Changeset> {
  const changeset = await recordFromGolden(target, 1, path, 'a supplier invoice for a new thirdparty, promoted through a crash');
  const writes = replayOrder(changeset.operations).map((operation) => `${operation.method} ${operation.path}`);
  if (writes.join(', ') !== 'POST /thirdparties, POST /supplierinvoices') throw new Error(`the rehearsal made ${writes.join(', ')}, not the two writes the test needs`);
  return changeset;
}
