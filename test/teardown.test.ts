import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';

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

function interrupt(signal: NodeJS.Signals, trigger: RegExp): Promise<{ code: number | null; dataDir: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [REHEARSE, 'features/naming.feature'], {
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
