/**
 * What the operator's lifecycle commands refuse, each with one line and exit 2, before anything is reached: every
 * service the configuration names (Vault, both databases) is a listener of this test that counts the connections it
 * accepts, and must count none. The happy paths run against a real stack in features/operator-lifecycle.feature.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCertificateAuthority } from '../support/hermetic/certificates';
import type { Golden } from '../support/lifecycle/golden';
import { writeFakeGolden } from './helpers/fake-golden';
import { damagedGoldenCopy, GOLDEN_DAMAGE_NAMES } from './helpers/damaged-golden';
import { rehearse, ROOT, type RunResult } from './helpers/rehearse';

const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

let dir: string;
let listener: Server;
let port: number;
let connections = 0;
let golden: Golden;

/** The gates run where their Cucumber profiles are; the lifecycle commands wherever the operator is. */
function run(args: string[], env: Record<string, string>): Promise<RunResult> {
  return rehearse(args, { PATH: process.env.PATH, HOME: dir, ...env }, { cwd: args[0] === 'run' ? ROOT : dir, inherit: false });
}

/** A live configuration whose every service is this test's listener. */
function liveEnv(goldenDir: string): Record<string, string> {
  return {
    ERP_REHEARSAL_TARGET: 'live',
    VAULT_ADDR: `https://127.0.0.1:${port}`,
    VAULT_CACERT: join(dir, 'ca.pem'),
    ERP_REHEARSAL_VAULT_AUTH: 'kubernetes',
    ERP_REHEARSAL_VAULT_TOKEN_FILE: join(dir, 'sa-token'),
    ERP_REHEARSAL_GOLDEN_VAULT_TOKEN_FILE: join(dir, 'sa-token'),
    ERP_REHEARSAL_SANDBOX_DB_HOST: '127.0.0.1', ERP_REHEARSAL_SANDBOX_DB_PORT: String(port), ERP_REHEARSAL_SANDBOX_DB_SSLMODE: 'disable',
    ERP_REHEARSAL_PROD_DB_HOST: '127.0.0.1', ERP_REHEARSAL_PROD_DB_PORT: String(port), ERP_REHEARSAL_PROD_DB_SSLMODE: 'disable',
    ERP_REHEARSAL_GOLDEN_ARCHIVE: join(goldenDir, 'golden.dump'),
    ERP_REHEARSAL_STATE_DIR: join(dir, 'state'),
  };
}

/** Refused with exit 2 and `line`, no stack trace, nothing reached. */
async function refused(args: string[], env: Record<string, string>, line: RegExp): Promise<void> {
  const before = connections;
  const result = await run(args, env);
  assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
  assert.match(result.stderr, line);
  assert.doesNotMatch(result.stderr, STACK_FRAME);
  assert.equal(connections - before, 0, `${args.join(' ')} reached a service before refusing`);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-lifecycle-cli-'));
  writeFileSync(join(dir, 'ca.pem'), (await createCertificateAuthority()).ca);
  writeFileSync(join(dir, 'sa-token'), 'service-account-token');
  listener = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as { port: number }).port;
  golden = writeFakeGolden(join(dir, 'golden'));
});

after(async () => {
  await new Promise((resolve) => listener.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('the lifecycle commands refuse bad input at once, one line each, exit 2, nothing reached', () => {
  it('an unknown flag, an unknown reset mode, a diff without its two states', async () => {
    const env = liveEnv(golden.dir);
    await refused(['reset', '--force'], env, /^rehearse: unknown option --force/m);
    await refused(['reset', '--mode', 'fast'], env, /^rehearse: --mode "fast": use atomic, parallel, clone/m);
    await refused(['diff', 'golden'], env, /^rehearse: diff needs exactly 2 arguments/m);
    await refused(['status', '--target', 'staging'], env, /^rehearse: --target "staging": use hermetic or live/m);
  });

  it('a diff of files that are not snapshots', async () => {
    writeFileSync(join(dir, 'not-json.json'), '{"root": ');
    writeFileSync(join(dir, 'other.json'), '{"root": "abc"}');
    const env = liveEnv(golden.dir);
    await refused(['diff', 'missing.json', 'sandbox'], env, /^rehearse: missing\.json does not exist: give a snapshot file/m);
    await refused(['diff', 'not-json.json', 'sandbox'], env, /^rehearse: not-json\.json is not a snapshot: it is not JSON/m);
    await refused(['diff', 'golden', 'other.json'], env, /^rehearse: other\.json is not a snapshot of rehearse snapshot/m);
  });

  it('a golden --out that cannot take a golden', async () => {
    const env = liveEnv(golden.dir);
    mkdirSync(join(dir, 'notes'));
    writeFileSync(join(dir, 'notes', 'todo.txt'), 'not a golden\n');
    await refused(['golden', '--out', 'notes'], env, /^rehearse: --out .*notes already holds something that is not a golden \(todo\.txt\)/m);
    await refused(['golden', '--out', 'todo/nowhere/golden'], env, /^rehearse: --out .*: its directory .* does not exist or is not writable/m);
    await refused(['golden', '--out', 'ca.pem'], env, /^rehearse: --out .*ca\.pem is a file, not a directory/m);
  });

  for (const damage of GOLDEN_DAMAGE_NAMES) {
    it(`a golden that ${damage}`, async () => {
      const damaged = join(dir, `damaged-${damage.replace(/\W+/g, '-')}`);
      damagedGoldenCopy(golden, damaged, damage);
      const says: Record<string, RegExp> = {
        'is of another prod': /is a golden of database "webapp", not of this prod "erp"/,
        'is of format 1': /is a golden of format 1/,
        'has an archive cut short': /is not the golden\.dump its manifest was made with/,
        'has an archive changed after it was made': /is not the golden\.dump its manifest was made with/,
        'has no archive': /the golden archive does not exist/,
      };
      for (const command of [['reset'], ['status'], ['run', '--target', 'live']]) {
        await refused(command, liveEnv(damaged), says[damage]!);
      }
    });
  }
});
