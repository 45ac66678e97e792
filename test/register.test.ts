/**
 * bin/register.js: TypeScript run directly, each file transpiled once and cached by its content, stack traces on the
 * .ts lines, and TypeScript's own output (writable exports) for the fence mutation suite.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const REGISTER = join(__dirname, '..', 'bin', 'register.js');
const dir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-register-'));
const MODULE = join(dir, 'answer.ts');

after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `script` in a fresh process that required bin/register.js; its stdout, or a failure with its stderr. */
function run(script: string, transpiler?: 'typescript'): string {
  const env = { ...process.env };
  delete env.ERP_REHEARSAL_TRANSPILER;
  if (transpiler) env.ERP_REHEARSAL_TRANSPILER = transpiler;
  const child = spawnSync(process.execPath, ['--require', REGISTER, '-e', script], { encoding: 'utf8', env });
  assert.equal(child.status, 0, child.stderr);
  return child.stdout.trim();
}

describe('bin/register.js', () => {
  it('runs a TypeScript module, and its edited content rather than what it cached before the edit', () => {
    writeFileSync(MODULE, 'export const answer: number = 41;\n');
    assert.equal(run(`console.log(require(${JSON.stringify(MODULE)}).answer)`), '41');
    assert.equal(run(`console.log(require(${JSON.stringify(MODULE)}).answer)`), '41');
    writeFileSync(MODULE, 'export const answer: number = 42;\n');
    assert.equal(run(`console.log(require(${JSON.stringify(MODULE)}).answer)`), '42');
  });

  it('names the .ts line of a throw in a stack trace', () => {
    writeFileSync(MODULE, 'interface Unused {\n  readonly a: string;\n}\nexport function fail(): never {\n  throw new Error("here");\n}\n');
    const stack = run(`try { require(${JSON.stringify(MODULE)}).fail() } catch (e) { console.log(e.stack) }`);
    assert.match(stack, /answer\.ts:5:\d+/);
  });

  it("gives SWC's getters by default and TypeScript's writable exports with ERP_REHEARSAL_TRANSPILER=typescript", () => {
    writeFileSync(MODULE, 'export function f(): number {\n  return 1;\n}\n');
    const describeExport = `const d = Object.getOwnPropertyDescriptor(require(${JSON.stringify(MODULE)}), 'f'); console.log(d.get ? 'getter' : d.writable ? 'writable' : 'other')`;
    assert.equal(run(describeExport), 'getter');
    assert.equal(run(describeExport, 'typescript'), 'writable');
  });
});
