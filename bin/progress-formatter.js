'use strict';
// The project's progress formatter for cucumber.js's profiles: Cucumber imports formatters by path, and Node's
// import() cannot load TypeScript, so this file loads support/gates/progress-formatter.ts through the register hook.
require('./register');
module.exports = require('../support/gates/progress-formatter').default;
