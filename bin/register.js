'use strict';
// Lets Node run the TypeScript sources directly, once per process whoever asks first (the CLI, Cucumber's
// requireModule, a test). CommonJS on purpose: ts-node's ESM loader is broken on Node 20+. Types are
// checked by `npm run typecheck`, not at every start.
if (!process[Symbol.for('ts-node.register.instance')]) {
  require('ts-node').register({ transpileOnly: true, project: require('node:path').join(__dirname, '..', 'tsconfig.json') });
}
