/**
 * What `rehearse record` refuses before anything is reached (one line, exit 2, no stack trace), and the environment its
 * agent's command gets: the gateway's URLs, no key, no secret. Its happy path and its refusals through the gateway run
 * against a real stack in features/agent-rehearsal.feature.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { commandEnvironment } from '../support/gateway/environment';
import { registerSecret } from '../support/redaction';
import { rehearse } from './helpers/rehearse';

const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-record-cli-'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('rehearse record refuses a command line it cannot run, exit 2, before any target', () => {
  for (const [args, line] of [
    [['record', '--', 'true'], /record needs --title TEXT/],
    [['record', '--title', 'x'], /record needs the agent's command after --/],
    [['record', '--title', 'x', '--serve', '--', 'true'], /record --serve runs no command/],
    [['record', '--title', 'x', '--bogus', '--', 'true'], /unknown option --bogus/],
    [['record', '--title', 'x', 'stray', '--', 'true'], /record takes no argument, not "stray"/],
    [['record', '--title', 'x', '--target', 'staging', '--', 'true'], /--target "staging": use hermetic or live/],
  ] as const) {
    it(args.join(' '), async () => {
      const result = await rehearse(args, { PATH: process.env.PATH, HOME: dir }, { cwd: dir, inherit: false });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, line);
      assert.doesNotMatch(result.stderr, STACK_FRAME);
      assert.equal(result.stdout, '');
    });
  }
});

describe("the agent's command's environment", () => {
  it("points DOLIBARR_URL and DOLIBARR_API_URL at the gateway, and holds no key nor any other secret of the operator's", () => {
    const planted = 'planted-sandbox-key-8d1f0c';
    registerSecret(planted);
    const env = commandEnvironment('http://127.0.0.1:4711', {
      PATH: '/usr/bin',
      DOLIBARR_URL: 'https://erp-sandbox.arcodange.lab',
      DOLIBARR_API_KEY: planted,
      DOLAPIKEY: planted,
      VAULT_TOKEN: 'hvs.operator-token',
      ERP_REHEARSAL_VAULT_JWT: 'eyJ.jwt.sig',
      SOME_URL: `https://agent:${planted}@erp-sandbox.arcodange.lab`,
      HTTPS_PROXY: 'http://proxy.lan:3128',
      NO_PROXY: '.lan',
    });
    assert.equal(env['DOLIBARR_URL'], 'http://127.0.0.1:4711');
    assert.equal(env['DOLIBARR_API_URL'], 'http://127.0.0.1:4711/api/index.php');
    for (const name of ['DOLIBARR_API_KEY', 'DOLAPIKEY', 'VAULT_TOKEN', 'ERP_REHEARSAL_VAULT_JWT', 'SOME_URL']) assert.equal(env[name], undefined, name);
    assert.equal(Object.values(env).some((value) => value?.includes(planted)), false);
    assert.equal(env['PATH'], '/usr/bin');
    assert.equal(env['NO_PROXY'], '.lan,127.0.0.1,localhost');
  });
});
