import { join } from 'node:path';
import { failing, replaceExport, type FenceMutation } from '../mutations/mutation';
import { nameScopedGolden } from './faults';
import { RESET_THEN_HASH, RESET_THEN_WRITE } from './reset.mutations';
import * as golden from './golden';

/** The template-clone reset's scenarios that clone the golden database (features/template-clone-reset.feature). */
export const CLONE_RESETS = [
  "a clone reset brings a written sandbox back to the golden's content hash",
  'a clone reset interrupted before the drop is repaired by the next one',
  'a clone reset interrupted between the drop and the rename is repaired by the next one',
];

/**
 * Breaks of the golden (golden.ts): scoped by table name (`pg_dump -t 'llx_*'`) instead of by ownership, so it holds
 * the tables and their triggers but not the functions the triggers call.
 */

export const goldenScopedByTableName: FenceMutation = {
  name: 'golden-scoped-by-table-name',
  gate: 'reset-round-trip',
  breaks: "the golden is scoped by table name (llx_*) instead of by erp_role's ownership",
  apply: () =>
    replaceExport(golden, 'makeGolden', (makeGolden) => async (options) => nameScopedGolden(await makeGolden(options), join(options.dir, 'by-table-name'))),
  expect: () => [
    ...failing(
      /the reset failed and was rolled back.*function public\.update_modified_column_tms\(\) does not exist/,
      ...RESET_THEN_HASH,
      ...RESET_THEN_WRITE,
      "the reset's credential is the sandbox's own Vault lease, and it is gone once revoked",
      'a login role that made an object without SET ROLE cannot be revoked, and the harness names the drift',
    ),
    // The template-clone reset builds its golden database from the same golden: the restore fails the same way.
    ...failing(
      /restoring the golden .* failed: .*function public\.update_modified_column_tms\(\) does not exist/,
      ...CLONE_RESETS,
    ),
  ],
};
