'use strict';
// Lets Node run the TypeScript sources directly, once per process whoever asks first (the CLI, Cucumber's
// requireModule, a test). Types are checked by `npm run typecheck`, not at every start. Each file is transpiled once
// and kept in node_modules/.cache/erp-rehearsal, keyed by its content, its path and the transpiler: a start-up then
// costs the loading alone, which every CLI process, shard and test pays. SWC by default;
// ERP_REHEARSAL_TRANSPILER=typescript takes TypeScript's own output instead, whose CommonJS exports are plain writable
// properties (SWC's are getters) — what the fence mutation suite replaces. Source maps are inline, so stack traces
// name the .ts lines.
const REGISTERED = Symbol.for('erp-rehearsal.register');
if (!process[REGISTERED]) {
  process[REGISTERED] = true;
  const { createHash } = require('node:crypto');
  const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
  const { join } = require('node:path');
  const root = join(__dirname, '..');
  const transpiler = process.env.ERP_REHEARSAL_TRANSPILER === 'typescript' ? typescriptTranspiler() : swcTranspiler();
  const cacheDir = join(root, 'node_modules', '.cache', 'erp-rehearsal');
  process.setSourceMapsEnabled(true);
  require.extensions['.ts'] = function compileTypeScript(module, filename) {
    const source = readFileSync(filename, 'utf8');
    const key = createHash('sha256').update(`${transpiler.id}\0${filename}\0${source}`).digest('hex');
    const cached = join(cacheDir, `${key}.js`);
    let code;
    try {
      code = readFileSync(cached, 'utf8');
    } catch {
      code = transpiler.transpile(source, filename);
      keep(cached, code);
    }
    module._compile(code, filename);
  };

  /** Writes the cache entry whole or not at all (processes start side by side); a cache that cannot be written is only slower. */
  function keep(path, code) {
    const partial = `${path}.${process.pid}.partial`;
    try {
      mkdirSync(cacheDir, { recursive: true });
      writeFileSync(partial, code);
      renameSync(partial, path);
    } catch {
      // Read-only tree or full disk: every start transpiles, as without a cache.
    }
  }

  function swcTranspiler() {
    // tsconfig.json's target (ES2022), CommonJS with esModuleInterop; class fields defined as TypeScript does for ES2022.
    const options = {
      swcrc: false,
      sourceMaps: 'inline',
      module: { type: 'commonjs', noInterop: false, strictMode: true },
      jsc: { parser: { syntax: 'typescript', dynamicImport: true }, target: 'es2022', keepClassNames: true, transform: { useDefineForClassFields: true } },
    };
    return {
      id: `swc ${require('@swc/core/package.json').version} ${JSON.stringify(options)}`,
      transpile: (source, filename) => require('@swc/core').transformSync(source, { ...options, filename }).code,
    };
  }

  function typescriptTranspiler() {
    const ts = require('typescript');
    const { options, errors } = ts.convertCompilerOptionsFromJson(require(join(root, 'tsconfig.json')).compilerOptions, root);
    if (errors.length > 0) throw new Error(`tsconfig.json: ${errors.map((error) => ts.flattenDiagnosticMessageText(error.messageText, '\n')).join('; ')}`);
    const compilerOptions = { ...options, noEmit: false, sourceMap: false, inlineSourceMap: true };
    return {
      id: `typescript ${ts.version} ${JSON.stringify(compilerOptions)}`,
      transpile: (source, filename) => ts.transpileModule(source, { fileName: filename, compilerOptions }).outputText,
    };
  }
}
