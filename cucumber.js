'use strict';
// Cucumber profiles. `default` runs every gate against the hermetic target (a throwaway cluster laid out
// like the factory, started by the harness). Run them with `npm run rehearse` or `npm test`.
const common = {
  requireModule: [require.resolve('./bin/register.js')],
  require: ['support/world.ts', 'support/hooks.ts', 'steps/**/*.ts'],
  paths: ['features/**/*.feature'],
  format: ['progress', 'html:reports/cucumber-report.html'],
  strict: true,
};

module.exports = {
  default: { ...common, worldParameters: { target: 'hermetic' } },
};
