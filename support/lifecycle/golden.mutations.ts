import { join } from 'node:path';
import { failing, replaceExport, type FenceMutation } from '../mutations/mutation';
import { EVERY_FEATURE } from '../mutations/reach';
import { nameScopedGolden } from './faults';
import { AGENT_RECORDINGS, GOLDEN_IDENTITY_IN_SANDBOX, RESET_THEN_HASH, RESET_THEN_WRITE } from './reset.mutations';
import * as golden from './golden';
import { CLONE_RESETS } from './template-clone.mutations';

/**
 * Breaks of the golden (golden.ts): scoped by table name (`pg_dump -t 'llx_*'`) instead of by ownership, so it holds
 * the tables and their triggers but not the functions the triggers call.
 */

export const goldenScopedByTableName: FenceMutation = {
  name: 'golden-scoped-by-table-name',
  gate: 'reset-round-trip',
  reaches: EVERY_FEATURE,
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
      ...GOLDEN_IDENTITY_IN_SANDBOX,
    ),
    // The operator's own commands, in processes of their own, refuse a golden whose files no longer match its manifest.
    ...failing(/rehearse (?:snapshot|record) .*→ exit 2/, 'a snapshot kept in a file is diffed with the sandbox later', ...AGENT_RECORDINGS),
    // The template-clone reset builds its golden database from the same golden: the restore fails the same way.
    ...failing(
      /restoring the golden .* failed: .*function public\.update_modified_column_tms\(\) does not exist/,
      ...CLONE_RESETS,
    ),
  ],
};
