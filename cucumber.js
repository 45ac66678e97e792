'use strict';
// Cucumber profiles. `default` runs every gate against the hermetic target (a throwaway cluster laid out
// like the factory, started by the harness); `live` runs them against the live target (the real erp-sandbox,
// prod only as the thing that must refuse). Run them with `rehearse run --target hermetic|live`
// (`npm run rehearse`, `npm test`): the runner adds the html, junit and message reports in the report
// directory (ERP_REHEARSAL_REPORT_DIR, default reports/) and passes them through the redaction point.
// One character per step, and no failure dump at the end: the harness prints the real failures whole, then its
// summary, from the report (a known gap of the layout is one line there, not a stack trace).
const PROGRESS = './bin/progress-formatter.js';

const common = {
  requireModule: [require.resolve('./bin/register.js')],
  require: ['support/world.ts', 'support/hooks.ts', 'steps/**/*.ts'],
  paths: ['features/**/*.feature'],
  format: [PROGRESS],
  // An undefined step prints the snippet to paste, in the shape of the project's steps.
  formatOptions: { snippetInterface: 'async-await' },
  strict: true,
};

module.exports = {
  default: { ...common, worldParameters: { target: 'hermetic' } },
  live: { ...common, worldParameters: { target: 'live' } },
  // Test only (test/redaction.test.ts): a small gate run that plants secrets; its steps need no target.
  'redaction-fixture': {
    requireModule: common.requireModule,
    require: ['test/fixtures/redaction/redaction.steps.ts'],
    paths: ['test/fixtures/redaction/*.feature'],
    format: [PROGRESS],
    strict: true,
    worldParameters: { target: 'none' },
  },
};
