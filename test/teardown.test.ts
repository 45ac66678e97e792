import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { processGone, thisProcess } from '../support/process/liveness';
import { registerTeardown, runTeardowns } from '../support/process/teardown';
import { deadWorkDirs } from '../support/process/work-dirs';

const REHEARSE = join(__dirname, '..', 'bin', 'rehearse.js');

/**
 * Starts a real gate run on the local provider, waits (by reading its progress, not by sleeping) until
 * the stage named by `trigger` is reached, sends `signal`, and reports what was left behind.
 */
/** Whether something still accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// A feature that needs the target (naming is @no-target: it builds none): the signal arrives while it is built. One
// process, on one target: a sharded run's runner has a test of its own below.
function interrupt(signal: NodeJS.Signals, trigger: RegExp, feature = 'features/no-superuser.feature'): Promise<{ code: number | null; dataDir: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [REHEARSE, '--jobs', '1', feature], {
      env: { ...process.env, ERP_REHEARSAL_PG_PROVIDER: 'local' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!sent && trigger.test(stderr)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const dataDir = /data directory (\S+)/.exec(stderr)?.[1] ?? '';
      resolve({ code, dataDir, stderr });
    });
  });
}

describe('teardown of the local cluster', { timeout: 120_000 }, () => {
  for (const [signal, code, stage] of [
    ['SIGINT', 130, /factory layout provisioned/],
    ['SIGTERM', 143, /client tools in/],
  ] as const) {
    it(`removes the cluster when ${signal} arrives after "${stage.source}"`, async () => {
      const run = await interrupt(signal, stage);
      assert.ok(run.dataDir, `the run reported its data directory:\n${run.stderr}`);
      assert.equal(run.code, code, run.stderr);
      assert.match(run.stderr, new RegExp(`${signal}: stopping what the harness started`));
      assert.equal(existsSync(run.dataDir), false, `${run.dataDir} is left behind`);
      const port = Number(/at 127\.0\.0\.1:(\d+)/.exec(run.stderr)?.[1]);
      assert.ok(port > 0, 'the run reported its port');
      assert.equal(await listening(port), false, `the server still listens on ${port}`);
    });
  }
});

describe('Vault leases of an interrupted run', { timeout: 120_000 }, () => {
  it('are revoked on SIGINT before the cluster stops: no login role minted by the run is left', async () => {
    // Interrupted while the scenarios run, when the Dolibarr stand-ins' logins and the scenarios' own are held.
    const run = await interrupt('SIGINT', /configured from Vault KV/, 'features/reset-round-trip.feature');
    assert.equal(run.code, 130, run.stderr);
    assert.match(run.stderr, /SIGINT: stopping what the harness started/);
    assert.match(run.stderr, /login roles minted by the run left in the cluster: none/, run.stderr);
    assert.doesNotMatch(run.stderr, /teardown of .* failed/, run.stderr);
    assert.equal(existsSync(run.dataDir), false, `${run.dataDir} is left behind`);
  });
});

describe('a sharded run whose runner is killed', { timeout: 180_000 }, () => {
  it('stops its shards, each tearing its own cluster down, though the runner had no time to ask (SIGKILL)', async () => {
    const reports = mkdtempSync(join(tmpdir(), 'erp-rehearsal-sharded-kill-'));
    const runner = spawn(process.execPath, [REHEARSE, '--jobs', '2', 'features/reset-round-trip.feature'], {
      env: { ...process.env, ERP_REHEARSAL_PG_PROVIDER: 'local', ERP_REHEARSAL_REPORT_DIR: reports },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<void>((resolve) => runner.once('exit', () => resolve()));
    // Both shards built their targets: each has its cluster and its Vault logins.
    await new Promise<void>((resolve, reject) => {
      runner.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if ((stderr.match(/shard \d\/2: Dolibarr: \S+ answers/g) ?? []).length === 2) resolve();
      });
      runner.once('exit', () => reject(new Error(`the run ended before both shards were up:\n${stderr}`)));
    });
    const shards = readFileSync(`/proc/${runner.pid}/task/${runner.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    assert.equal(shards.length, 2, `the runner's children: ${shards.join(', ')}`);
    const dataDirs = [...stderr.matchAll(/data directory (\S+)/g)].map((match) => match[1]!);
    const ports = [...stderr.matchAll(/at 127\.0\.0\.1:(\d+)/g)].map((match) => Number(match[1]));
    assert.equal(dataDirs.length, 2, stderr);
    runner.kill('SIGKILL');
    await exited;
    // Condition waits with a deadline: each shard sees its runner's channel close, then stops as on SIGTERM.
    for (const pid of shards) await until(() => processGone({ host: thisProcess().host, pid }), `shard process ${pid} to end`);
    for (const dir of dataDirs) assert.equal(existsSync(dir), false, `${dir} is left behind`);
    for (const port of ports) assert.equal(await listening(port), false, `a server still listens on ${port}`);
    // Stopped, not run to their end: an interrupted run discards its half-written reports.
    for (const shard of ['1', '2']) assert.equal(existsSync(join(reports, 'shards', shard, 'cucumber-messages.ndjson')), false, `shard ${shard} ran to its end`);
    rmSync(reports, { recursive: true, force: true });
  });
});

async function until(condition: () => boolean, what: string, deadlineMs = 120_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${deadlineMs / 1000} s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the teardown stack', () => {
  it('does not stop twice what its owner stopped while the stack was draining', async () => {
    const stopped: string[] = [];
    const forgetCluster = registerTeardown({ name: 'a cluster', stop: async () => void stopped.push('cluster') });
    const forgetAudit = registerTeardown({ name: 'an audit', stop: async () => void stopped.push('audit') });
    // The newest stops first; meanwhile a failed build stops the audit and the cluster itself and forgets them.
    registerTeardown({
      name: 'a Vault session',
      stop: async () => {
        stopped.push('vault');
        forgetAudit();
        forgetCluster();
      },
    });
    await runTeardowns();
    assert.deepEqual(stopped, ['vault']);
  });
});

describe("a dead run's leftovers are told from a running one's", () => {
  it('by pid and start time: a work directory is dead when its process is gone, or its pid now runs another process', () => {
    const root = mkdtempSync(join(tmpdir(), 'erp-rehearsal-teardown-'));
    try {
      const me = thisProcess();
      assert.ok(me.start, 'Linux: the start time is known');
      const gone = spawnSync(process.execPath, ['-e', '']).pid!;
      const names = {
        mine: `erp-rehearsal-run-${me.pid}-${me.start}-aaaaaa`,
        gone: `erp-rehearsal-run-${gone}-0-bbbbbb`,
        reused: `erp-rehearsal-live-${me.pid}-${Number(me.start) + 1}-cccccc`,
        notOurs: 'erp-rehearsal-emulation-dddddd',
      };
      for (const name of Object.values(names)) mkdirSync(join(root, name));
      assert.deepEqual(deadWorkDirs(root).map((dir) => dir.path).sort(), [join(root, names.gone), join(root, names.reused)].sort());
      assert.deepEqual(deadWorkDirs(root).find((dir) => dir.path.endsWith(names.gone)), { path: join(root, names.gone), kind: 'run', pid: gone });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("never takes another machine's process, or a running one's, for gone", () => {
    const me = thisProcess();
    assert.equal(processGone(me), false);
    assert.equal(processGone({ ...me, host: `${me.host}-elsewhere` }), false);
    assert.equal(processGone({ host: me.host, pid: spawnSync(process.execPath, ['-e', '']).pid! }), true);
  });
});
