import { failing, replaceExport, type FenceMutation } from '../../mutations/mutation';
import { LIVE_FORM_FEATURES } from '../../mutations/reach';
import * as golden from '../golden-fence';
import type { LiveForm } from './probe';
import * as catalogue from './catalogue';

/**
 * Breaks of the probes' live forms (probe.ts, catalogue.ts): a live form that a regression turned back into the attempt
 * itself. defineProbe refuses such a form when a probe is defined, so the break is made past it, on the catalogue's
 * output, as a hand edit of a defined probe would.
 */

/** The scenario that proves no live form queues behind prod's own sessions. */
const NO_WAIT_ON_PROD = "no attempt of the matrix waits on a lock held by prod's own session, and prod never waits on the harness";

/** A transactional attempt's catalogue form turned back into the attempt itself, rolled back; any other form as it was. */
function itself(attempt: { readonly transactional: boolean; readonly live: LiveForm }): LiveForm {
  return attempt.transactional && attempt.live.kind === 'catalogue' ? { kind: 'rollback' } : attempt.live;
}

export const liveFormLocksBeforeCheck: FenceMutation = {
  name: 'live-form-locks-before-check',
  gate: 'prod-undroppable',
  reaches: LIVE_FORM_FEATURES,
  breaks:
    'the live forms of the attempts PostgreSQL locks for before it checks the privilege (CREATE TRIGGER on prod\'s llx_societe, COMMENT and ALTER DATABASE on prod\'s database, DROP FUNCTION, TRUNCATE) are the attempts themselves, rolled back, not catalogue checks',
  apply: () => {
    replaceExport(catalogue, 'probeCatalogue', (original) => (context) => original(context).map((probe) => ({ ...probe, live: itself(probe) })));
    replaceExport(golden, 'goldenAttempts', (original) => (context) => original(context).map((attempt) => ({ ...attempt, live: itself({ transactional: attempt.transactional, live: golden.liveFormOf(attempt) }) })));
  },
  // Behind prod's open write, CREATE TRIGGER waits for its table lock (50 ms at most), and prod's sessions behind it:
  // the probes' on the as-provisioned layout, the golden identity's on both (its login may connect to prod).
  expect: () => failing(/waited on a lock held by prod's sessions|waited on an attempt/, NO_WAIT_ON_PROD),
};
