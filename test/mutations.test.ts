/**
 * The fence mutation suite's own logic (the verdict, the catalogue, how a mutation is installed) and the rules that
 * keep mutations out of every process but a mutation run's. The suite itself runs with `npm run mutations`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfiguration, loadSources } from '@cucumber/cucumber/api';
import { instanceNames } from '../support/naming';
import { tally, type ScenarioVerdict } from '../support/gates/report';
import { MUTATIONS } from '../support/mutations/catalogue';
import { failing, replaceExport, type MutationContext } from '../support/mutations/mutation';
import { selectMutations } from '../support/mutations/run';
import { renderSummary } from '../support/mutations/table';
import { judge, suiteHolds } from '../support/mutations/verdict';

const ROOT = join(__dirname, '..');
const context: MutationContext = { prod: instanceNames('erp'), sandbox: instanceNames('erp', 'sandbox'), layout: 'hardened' };

function scenario(name: string, outcome: ScenarioVerdict['outcome'], problem?: string): ScenarioVerdict {
  return { feature: 'F', scenario: name, uri: 'features/f.feature', status: outcome === 'passed' ? 'PASSED' : 'FAILED', outcome, evidence: [], claims: [], ...(problem ? { problem } : {}) };
}

describe('the verdict on a mutation run', () => {
  const expected = failing(/not refused/, 'a', 'b');

  it('is detected when exactly the expected scenarios fail, each for its reason', () => {
    const verdict = judge(tally([scenario('a', 'failed', 'failed at "x": not refused'), scenario('b', 'failed', 'not refused'), scenario('c', 'passed')], []), expected);
    assert.equal(verdict.verdict, 'detected');
    assert.deepEqual(verdict.failing, ['a', 'b']);
  });

  it('is not detected when an expected scenario passes, or fails for another reason, or is not in the run', () => {
    assert.equal(judge(tally([scenario('a', 'failed', 'not refused'), scenario('b', 'passed')], []), expected).verdict, 'not detected');
    const other = judge(tally([scenario('a', 'failed', 'not refused'), scenario('b', 'failed', 'timeout')], []), expected);
    assert.equal(other.verdict, 'not detected');
    assert.deepEqual(other.expected[1], { scenario: 'b', seen: 'failed for another reason', problem: 'timeout' });
    assert.equal(judge(tally([scenario('a', 'failed', 'not refused')], []), expected).expected[1]!.seen, 'absent');
  });

  it('is collateral when a scenario nobody expected fails too, or the run has an error', () => {
    const collateral = judge(tally([scenario('a', 'failed', 'not refused'), scenario('b', 'failed', 'not refused'), scenario('c', 'failed', 'boom')], []), expected);
    assert.equal(collateral.verdict, 'collateral');
    assert.deepEqual(collateral.unexpected, [{ scenario: 'c', problem: 'boom' }]);
    assert.equal(judge(tally([scenario('a', 'failed', 'not refused'), scenario('b', 'failed', 'not refused')], ['AfterAll failed']), expected).verdict, 'collateral');
  });

  it('counts a not-applicable scenario as not passing: on the hermetic target every scenario runs', () => {
    assert.equal(judge(tally([scenario('a', 'not applicable')], []), []).verdict, 'red');
  });

  it('is green for a control run only when every scenario passed and the run had no error', () => {
    assert.equal(judge(tally([scenario('a', 'passed')], []), []).verdict, 'green');
    assert.equal(judge(tally([scenario('a', 'passed')], ['boom']), []).verdict, 'red');
    assert.equal(judge(tally([], []), []).verdict, 'error');
  });

  it('holds for the suite only when the control is green and every mutation was detected', () => {
    assert.equal(suiteHolds(['green', 'detected', 'detected']), true);
    assert.equal(suiteHolds(['green', 'detected', 'collateral']), false);
    assert.equal(suiteHolds(['red', 'detected']), false);
    assert.equal(suiteHolds([]), false);
  });

  it('renders a table row per run, and the details of the runs that are not as they must be', () => {
    const run = (name: string, verdict: ReturnType<typeof judge>) => ({ name, gate: 'g', breaks: `breaks ${name}`, seconds: 1, exitCode: 1, log: 'x.log', verdict });
    const text = renderSummary([
      run('control', judge(tally([scenario('a', 'passed')], []), [])),
      run('m1', judge(tally([scenario('a', 'passed'), scenario('b', 'failed', 'not refused')], []), expected)),
    ]);
    assert.match(text, /\| control \| breaks control \| g \| 0 \| 0 of 1 \| \*\*green\*\* \|/);
    assert.match(text, /\| m1 \| breaks m1 \| g \| 2 \(1 failed as expected\) \| 1 of 2 \| \*\*not detected\*\* \|/);
    assert.match(text, /expected: a — \*\*passed\*\*/);
  });
});

describe('the catalogue of fence mutations', () => {
  it('names each mutation once, in kebab case, with a gate, a break and at least one expected failure', () => {
    assert.ok(MUTATIONS.length >= 15);
    assert.equal(new Set(MUTATIONS.map((mutation) => mutation.name)).size, MUTATIONS.length);
    for (const mutation of MUTATIONS) {
      assert.match(mutation.name, /^[a-z0-9_]+(?:-[a-z0-9_]+)*$/, mutation.name);
      assert.ok(mutation.breaks.length > 10 && mutation.gate.length > 0, mutation.name);
      assert.ok(mutation.expect(context).length > 0, `${mutation.name} expects no failure`);
    }
  });

  it('expects only scenarios the shipped features have (Scenario Outline rows expanded)', async () => {
    const { runConfiguration } = await loadConfiguration({ profiles: ['default'] }, { cwd: ROOT });
    const { plan } = await loadSources(runConfiguration.sources, { cwd: ROOT });
    const names = new Set(plan.map((pickle) => pickle.name));
    for (const mutation of MUTATIONS) {
      const expected = mutation.expect(context).map((failure) => failure.scenario);
      assert.equal(new Set(expected).size, expected.length, `${mutation.name} names a scenario twice`);
      for (const name of expected) assert.ok(names.has(name), `${mutation.name} expects a scenario no feature has: "${name}"`);
    }
  });

  it('runs each mutation over features that exist and hold every scenario it expects to fail', async () => {
    const { runConfiguration } = await loadConfiguration({ profiles: ['default'] }, { cwd: ROOT });
    const { plan } = await loadSources(runConfiguration.sources, { cwd: ROOT });
    const features = new Set(plan.map((pickle) => pickle.uri));
    for (const mutation of MUTATIONS) {
      for (const feature of mutation.reaches) assert.ok(features.has(feature), `${mutation.name} reaches "${feature}", which no feature file is`);
      if (mutation.reaches.length === 0) continue;
      for (const { scenario } of mutation.expect(context)) {
        const uris = plan.filter((pickle) => pickle.name === scenario).map((pickle) => pickle.uri);
        assert.ok(uris.some((uri) => mutation.reaches.includes(uri)), `${mutation.name} expects "${scenario}" (${uris.join(', ')}) to fail, outside the features it reaches`);
      }
    }
  });

  it('refuses an unknown name with the names it has', () => {
    assert.throws(() => selectMutations(['no-such-break']), /no fence mutation "no-such-break"; the catalogue has: sandbox-login-granted-erp_role/);
    assert.deepEqual(selectMutations(['host-guard-allows-domain']).map((mutation) => mutation.name), ['host-guard-allows-domain']);
  });
});

describe('installing a mutation', () => {
  it('replaces an exported function for every caller that reaches it through its module', () => {
    const module = { double: (n: number) => n * 2 };
    const callThrough = (n: number) => module.double(n);
    replaceExport(module, 'double', (original) => (n) => original(n) + 1);
    assert.equal(callThrough(2), 5);
  });

  it('fails loudly when the export it breaks is gone, so a mutation never silently breaks nothing', () => {
    assert.throws(() => replaceExport({ value: 1 } as { value: unknown }, 'value', (v) => v), /value is not an exported function/);
    const frozen = Object.freeze({ f: () => 1 });
    assert.throws(() => replaceExport(frozen, 'f', (f) => f), /cannot be replaced/);
  });

  it('is only ever loaded by the mutation runner: no library, step or CLI module imports a mutation', () => {
    const files = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
        .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
        .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
    const importers = [...files('support'), ...files('steps')].filter((file) => {
      if (file.startsWith('support/mutations/') || file.endsWith('.mutations.ts')) return false;
      return /from '[^']*(?:\.mutations|\/mutations\/(?:catalogue|inject|mutation))'/.test(readFileSync(join(ROOT, file), 'utf8'));
    });
    assert.deepEqual(importers, []);
  });

  it('refuses a live target: the variable set for one, and any live target built after the mutation is in', () => {
    const inject = ['--require', './bin/register.js', '--require', './support/mutations/inject.ts'];
    const env = { ...process.env, ERP_REHEARSAL_MUTATION: 'host-guard-allows-domain', ERP_REHEARSAL_TRANSPILER: 'typescript' };
    const onLive = spawnSync(process.execPath, [...inject, '-e', ''], { cwd: ROOT, encoding: 'utf8', env: { ...env, ERP_REHEARSAL_TARGET: 'live' } });
    assert.notEqual(onLive.status, 0);
    assert.match(onLive.stderr, /fence mutations run on the hermetic target only|ERP_REHEARSAL_/);
    const later = spawnSync(
      process.execPath,
      [...inject, '-e', "require('./support/targets/live').buildLiveTarget({}, () => {}).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(3); })"],
      { cwd: ROOT, encoding: 'utf8', env: { ...env, ERP_REHEARSAL_TARGET: 'hermetic' } },
    );
    assert.equal(later.status, 3, later.stderr);
    assert.match(later.stderr, /fence mutation host-guard-allows-domain is installed in this process: it may not build a live target/);
  });
});
