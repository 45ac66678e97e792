/**
 * Strictness for feature authors: a step nobody defined fails the run, and the run prints the snippet to paste. (The
 * verdict's rules for undefined, ambiguous, pending and skipped steps are test/report.test.ts's.) And scenarios that
 * change what all share run alone when Cucumber runs in parallel.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Pickle } from '@cucumber/messages';
import { serialScenarios } from '../support/authoring/serial';

const ROOT = join(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-strictness-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('a feature with a step nobody wrote', () => {
  it('fails the run, exit 1, and prints the snippet to paste', () => {
    const feature = join(dir, 'credit-note.feature');
    writeFileSync(
      feature,
      ['Feature: an ERP developer rehearses a credit note', '  Scenario: the step is not written yet', '    When the agent books a credit note of 12.50 for thirdparty "ACME"', ''].join('\n'),
    );
    const run = spawnSync(process.execPath, [join(ROOT, 'bin', 'rehearse.js'), 'gates', feature], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, ERP_REHEARSAL_REPORT_DIR: join(dir, 'reports') },
      timeout: 180_000,
    });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /Undefined\. Implement with the following snippet:/);
    assert.ok(run.stdout.includes("When('the agent books a credit note of {float} for thirdparty {string}', async function"), run.stdout);
    assert.match(run.stdout, /gates: 0 passed, 1 failed/);
    assert.match(run.stdout, /undefined at "the agent books a credit note of 12\.50 for thirdparty \\?"ACME\\?""/);
  });
});

describe('serial scenarios when Cucumber runs in parallel', () => {
  const pickle = (name: string, ...tags: string[]) => ({ name, tags: tags.map((tag) => ({ name: tag, astNodeId: '' })) }) as unknown as Pickle;
  const reset = pickle('a reset', '@serial');
  const reading = pickle('a catalog read');

  it('runs a @serial scenario only when nothing else runs', () => {
    assert.equal(serialScenarios(reset, []), true);
    assert.equal(serialScenarios(reset, [reading]), false);
    assert.equal(serialScenarios(reset, [pickle('another reset', '@serial')]), false);
  });

  it('runs other scenarios alongside each other, never alongside a @serial one', () => {
    assert.equal(serialScenarios(reading, [pickle('another read')]), true);
    assert.equal(serialScenarios(reading, [reset]), false);
  });
});
