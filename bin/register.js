'use strict';
// Lets Node run the TypeScript sources directly, once per process whoever asks first (the CLI, Cucumber's
// requireModule, a test). CommonJS on purpose: ts-node's ESM loader is broken on Node 20+. Types are
// checked by `npm run typecheck`, not at every start. SWC transpiles about five times faster than TypeScript, which
// every process pays at start-up; ERP_REHEARSAL_TRANSPILER=typescript takes TypeScript's own output instead, whose
// CommonJS exports are plain writable properties (SWC's are getters) — what the fence mutation suite replaces.
if (!process[Symbol.for('ts-node.register.instance')]) {
  const swc = process.env.ERP_REHEARSAL_TRANSPILER !== 'typescript';
  require('ts-node').register({ transpileOnly: true, swc, project: require('node:path').join(__dirname, '..', 'tsconfig.json') });
}
