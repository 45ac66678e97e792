/**
 * Nothing left behind after a SIGKILL, where no teardown runs. The harness is killed at several points — mid-promote
 * (hermetic), mid-golden, mid-run (the gates' reset) and mid-reset (live, against the hermetic stack dressed as a live
 * one), and a harness that made drift — each reached by a line it prints (and, where a line comes a moment before the
 * statement, by waiting for that statement to wait on a lock the test holds), never by sleeping. Afterwards: no secret
 * the run was given (planted where a live run reads them: the CI's JWT, a password and the Dolibarr API key in Vault's
 * KV) is in its output or any file it wrote — reports, state directory, its temporary directory; no process of it is
 * alive, children included (by process group, the test's marker in their environment, their server port, the run's
 * temporary directory); and the next run says and clears every leftover: login roles and their leases, work
 * directories (prod's data), the partial golden, the post-reset command a killed reset never ran, a reset's session
 * whose harness is gone, drift of a dead login, a server a dead run left running.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { instanceNames } from '../support/naming';
import { findLocalBinaries } from '../support/postgres/local-binaries';
import { startLocalCluster } from '../support/postgres/local';
import { CHANGESET_FORMAT, writeChangeset } from '../support/promote/changeset';
import { pidRunning } from '../support/process/liveness';
import { mintLedger } from '../support/targets/live';
import { DRIFT_TABLE } from './helpers/dead-login-drift';
import { killPointStack, waitsOnLock, type KillPointStack } from './helpers/kill-points-stack';
import { filesUnder, killAt, processesLeft, secretsIn, type KilledRun, type RunSignature } from './helpers/killed-run';
import { rehearse } from './helpers/rehearse';

const ROOT = join(__dirname, '..');
const SANDBOX = instanceNames('erp', 'sandbox');
const PROD = instanceNames('erp');

describe('killed with SIGKILL, the harness leaves nothing behind that the next run does not clear', { timeout: 900_000 }, () => {
  let stack: KillPointStack;

  before(async () => {
    stack = await killPointStack();
  });

  after(async () => {
    await stack?.close();
  });

  const signature = (run: KilledRun, ports: readonly number[] = []): RunSignature => ({
    pgid: run.pid, marker: stack.marker, ports: [stack.target.cluster!.endpoint.port, ...ports], paths: [stack.tmp],
  });

  /** The kill point was reached and the run died of the SIGKILL, not of its own accord. */
  function assertKilled(run: KilledRun): void {
    assert.ok(run.reached, `the kill point was never reached:\n${run.stdout}\n${run.stderr}`);
    assert.equal(run.signal, 'SIGKILL', `the run ended by itself (exit ${run.code}):\n${run.stderr}`);
  }

  async function assertNothingAlive(run: KilledRun, ports: readonly number[] = []): Promise<void> {
    const left = await processesLeft(signature(run, ports));
    assert.deepEqual(left, [], `processes of the killed run are alive:\n${left.map((p) => `  ${p.pid} ${p.command} (${p.because})`).join('\n')}`);
  }

  /** No secret in the run's output, nor in any file under the reports, the state directory or its temporary directory. */
  function assertNoSecret(run: KilledRun, secrets: Readonly<Record<string, string>>, more: readonly string[] = []): void {
    const texts = new Map<string, string | Buffer>([['stdout', run.stdout], ['stderr', run.stderr]]);
    for (const dir of [stack.reportDir, stack.stateDir, stack.tmp, ...more]) for (const file of filesUnder(dir)) texts.set(file.path, file.bytes);
    assert.deepEqual(secretsIn(texts, secrets), []);
  }

  /** The work directories of process `pid` in the runs' temporary directory. */
  const dirsOf = (pid: number) => readdirSync(stack.tmp).filter((name) => name.startsWith('erp-rehearsal-') && name.includes(`-${pid}-`));

  function assertPrivate(pid: number): void {
    for (const name of dirsOf(pid)) assert.equal(statSync(join(stack.tmp, name)).mode & 0o777, 0o700, `${name} is not private`);
  }

  async function roleExists(name: string): Promise<boolean> {
    const client = await stack.superuser('postgres');
    try {
      return (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;
    } finally {
      await client.end();
    }
  }

  const ledger = () => mintLedger(stack.stateDir);
  const leases = () => stack.target.vault.hermetic!.leases().map((lease) => lease.username);

  it('mid-promote (hermetic): its cluster dies with it; the next run removes its cluster and work directories', async () => {
    const path = join(stack.dir, 'promote.json');
    const recorded = writeChangeset(path, {
      format: CHANGESET_FORMAT,
      title: 'a thirdparty, promoted while the harness is killed',
      rehearsal: { host: SANDBOX.host, instance: SANDBOX.instance, database: SANDBOX.database, at: new Date().toISOString(), by: 'the kill points' },
      prod: { instance: PROD.instance, host: PROD.host, database: PROD.database },
      operations: [{ method: 'POST', path: '/thirdparties', body: { name: 'Killed mid-promote' }, status: 200, response: 1 }],
      before: { root: 'a'.repeat(64), relations: {} },
      after: { root: 'b'.repeat(64), relations: {} },
      changes: [],
    });
    const env = {
      TMPDIR: stack.tmp, ERP_REHEARSAL_KILL_POINT_MARKER: stack.marker, ERP_REHEARSAL_TARGET: 'hermetic', ERP_REHEARSAL_PG_PROVIDER: 'local',
      ERP_REHEARSAL_REPORT_DIR: stack.reportDir, ERP_REHEARSAL_PROMOTE_AUDIT: join(stack.dir, 'promote-audit.ndjson'),
    };
    const run = await killAt(['promote', path, '--approve', recorded.digest, '--target', 'hermetic'], env, { line: /dress rehearsal: resetting the sandbox/ });
    assertKilled(run);
    const port = Number(/at 127\.0\.0\.1:(\d+)/.exec(run.stderr)?.[1]);
    assert.ok(port > 0, `the run said its cluster's port:\n${run.stderr}`);
    await assertNothingAlive(run, [port]);

    // Its own secrets, as it keeps them: the service-account tokens its Vault stand-in's identities log in with, in its
    // work directory (worthless once their issuer died with the run) — never in its output, reports or audit.
    const dirs = dirsOf(run.pid);
    assert.deepEqual(dirs.map((name) => name.split('-')[2]).sort(), ['pg', 'run'], `its cluster and work directories are left: ${dirs.join(', ')}`);
    assertPrivate(run.pid);
    const tokens = Object.fromEntries(filesUnder(join(stack.tmp, dirs.find((name) => name.startsWith('erp-rehearsal-run-'))!))
      .filter((file) => file.path.endsWith('/token'))
      .map((file) => [`service-account token ${file.path.split('/serviceaccount/')[1]}`, file.bytes.toString()]));
    assert.ok(Object.keys(tokens).length >= 3, 'the run held its identities\' tokens');
    const texts = new Map<string, string | Buffer>([['stdout', run.stdout], ['stderr', run.stderr]]);
    for (const dir of [stack.reportDir, stack.stateDir]) for (const file of filesUnder(dir)) texts.set(file.path, file.bytes);
    for (const file of filesUnder(stack.dir).filter((file) => file.path.endsWith('promote-audit.ndjson'))) texts.set(file.path, file.bytes);
    assert.deepEqual(secretsIn(texts, tokens), []);

    const next = await rehearse(['status', '--target', 'live'], stack.env);
    for (const name of dirs) assert.match(next.stderr, new RegExp(`removed \\S*${name}, the \\w+ work directory of a run that is gone \\(pid ${run.pid}\\)`), next.stderr);
    assert.deepEqual(dirsOf(run.pid), []);
  });

  it('mid-golden (live): pg_dump dies with it, the previous golden stays, the next golden removes the partial one and the next run revokes its login', async () => {
    const out = join(stack.dir, 'golden-out');
    const first = await rehearse(['golden', '--target', 'live', '--out', out], stack.env);
    assert.equal(first.code, 0, first.stderr);
    const manifest = () => readFileSync(join(out, 'manifest.json'), 'utf8');
    const previous = manifest();

    const release = await stack.holdInSession(PROD.database, 'public.llx_societe', 'ACCESS EXCLUSIVE');
    let run: KilledRun;
    try {
      run = await killAt(['golden', '--target', 'live', '--out', out], stack.env, {
        line: /dumping erp read-only as \S+/,
        then: () => stack.waitFor("the golden's pg_dump waits on the table the test holds", async () => {
          const client = await stack.superuser(PROD.database);
          try {
            return await waitsOnLock(client, PROD.database, /^LOCK TABLE/);
          } finally {
            await client.end();
          }
        }),
      });
      assertKilled(run);
      // While its statements still wait: a pg_dump left running would wait too (and get no SIGPIPE yet).
      await assertNothingAlive(run);
    } finally {
      await release();
    }
    assertNoSecret(run, stack.planted, [out, `${out}.partial`]);
    assert.equal(manifest(), previous, 'the previous golden is intact');
    assert.ok(existsSync(`${out}.partial`), 'the kill leaves its partial golden');
    assert.equal(statSync(`${out}.partial`).mode & 0o777, 0o700, "the partial golden (prod's data) is private");
    const reader = /dumping erp read-only as (\S+)/.exec(run.stderr)![1]!;

    const next = await rehearse(['golden', '--target', 'live', '--out', out], stack.env);
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stderr, new RegExp(`removing the partial golden a rehearse golden that was killed \\(pid ${run.pid}\\) left`));
    assert.deepEqual(['partial', 'lock', 'previous'].filter((suffix) => existsSync(`${out}.${suffix}`)), []);

    assert.ok(await roleExists(reader), "the killed golden's login is still in the cluster");
    const status = await rehearse(['status', '--target', 'live'], stack.env);
    assert.match(status.stderr, new RegExp(`revoked the lease of login ${reader} \\(`), status.stderr);
    assert.equal(await roleExists(reader), false, `${reader} is gone`);
    assert.ok(!leases().includes(reader), 'its lease is revoked');
  });

  it("mid-run (the gates' reset, live): psql dies with it; the next run names its reset's session, runs its post-reset command, revokes its logins, removes its work directory", async () => {
    const hooks = join(stack.dir, 'gates-hooks.log');
    const env = {
      ...stack.env, ERP_REHEARSAL_PROGRESS: 'on', ERP_REHEARSAL_RESET_LOCK_TIMEOUT_S: '600',
      ERP_REHEARSAL_PRE_RESET_COMMAND: `echo pre >> ${hooks}`, ERP_REHEARSAL_POST_RESET_COMMAND: `echo post >> ${hooks}`,
    };
    const seeded = await rehearse(['reset', '--target', 'live'], stack.env);
    assert.equal(seeded.code, 0, seeded.stderr);
    // The Background's reset: its DROP OWNED waits on a table held by a transaction with no session (one the reset would refuse for).
    const release = await stack.holdPrepared(SANDBOX.database, 'public.llx_societe', 'ACCESS SHARE');
    try {
      const run = await killAt(['run', '--target', 'live', join(ROOT, 'features', 'reset-round-trip.feature')], env, { line: /reset: \d+ s, entry \d+ of \d+: DROP OWNED BY/ });
      assertKilled(run);
      await assertNothingAlive(run);
      assertNoSecret(run, stack.planted);
      assert.deepEqual(readFileSync(hooks, 'utf8').split('\n').filter(Boolean), ['pre']);
      const minted = ledger().outstanding().filter((entry) => entry.by?.pid === run.pid).map((entry) => entry.username);
      assert.ok(minted.length > 0, 'the killed run had minted logins, noted in the ledger');
      assert.equal(dirsOf(run.pid).length, 1, 'its work directory (the staged golden) is left');
      assertPrivate(run.pid);

      const next = await rehearse(['status', '--target', 'live'], env);
      assert.equal(next.code, 1, next.stdout);
      assert.match(next.stdout, new RegExp(`a reset of ${SANDBOX.database} started \\S+ by pid ${run.pid} was killed before it finished; the post-reset command has now run: echo post`));
      assert.deepEqual(readFileSync(hooks, 'utf8').split('\n').filter(Boolean), ['pre', 'post']);
      assert.match(next.stdout, /PROBLEM +1 session\(s\) of a reset whose harness was killed still use erp-sandbox.*a reset's session that no running reset owns/);
      for (const user of minted) {
        assert.match(next.stderr, new RegExp(`revoked the lease of login ${user} \\(`), next.stderr);
        assert.equal(await roleExists(user), false, `${user} is gone`);
        assert.ok(!leases().includes(user), `the lease of ${user} is revoked`);
      }
      assert.match(next.stderr, new RegExp(`removed \\S+, the live work directory of a run that is gone \\(pid ${run.pid}\\)`));
      assert.deepEqual(dirsOf(run.pid), []);
      assert.deepEqual(readdirSync(join(stack.stateDir, 'resets')), [], 'no reset marker is left');
    } finally {
      await release();
    }
    // Its statement done, the killed reset's session finds its client gone and ends: nothing is left for the next reset.
    await stack.waitFor("the killed reset's session ends", async () => {
      const client = await stack.superuser(SANDBOX.database);
      try {
        return (await client.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'erp-rehearsal reset'")).rowCount === 0;
      } finally {
        await client.end();
      }
    });
    const again = await rehearse(['status', '--target', 'live'], env);
    assert.doesNotMatch(again.stdout, /reset whose harness was killed/);
    assert.match(again.stdout, /ok +no login role minted by the harness is left in the cluster/);
  });

  it('mid-reset (live, in its pre-reset command): the hook dies with it; the next reset runs the post-reset command first', async () => {
    const hooks = join(stack.dir, 'reset-hooks.log');
    const run = await killAt(['reset', '--target', 'live'], {
      ...stack.env,
      // A hook that hangs: exec'd, so the shell the harness started is the hook itself; its output away from the
      // harness's pipe, so it cannot notice the harness is gone. It says it runs with a line its command's text (which
      // the harness prints first) does not hold.
      ERP_REHEARSAL_PRE_RESET_COMMAND: 'echo "pre-reset hook $((6 * 7)) hangs" >&2; exec tail -f /dev/null >/dev/null 2>&1',
      ERP_REHEARSAL_POST_RESET_COMMAND: `echo post-of-the-killed-reset >> ${hooks}`,
    }, { line: /pre-reset hook 42 hangs/ });
    assertKilled(run);
    await assertNothingAlive(run);
    assertNoSecret(run, stack.planted);
    const marker = readdirSync(join(stack.stateDir, 'resets')).find((name) => name.includes(`.${run.pid}.`));
    assert.ok(marker, 'the killed reset left its marker');
    assert.doesNotMatch(readFileSync(join(stack.stateDir, 'resets', marker), 'utf8'), /post-of-the-killed-reset/, "the marker keeps no command's text");
    const reader = ledger().outstanding().find((entry) => entry.by?.pid === run.pid)?.username;
    assert.ok(reader, 'the killed reset had minted its login');

    const next = await rehearse(['reset', '--target', 'live'], {
      ...stack.env, ERP_REHEARSAL_PRE_RESET_COMMAND: `echo pre >> ${hooks}`, ERP_REHEARSAL_POST_RESET_COMMAND: `echo post >> ${hooks}`,
    });
    assert.equal(next.code, 0, `${next.stdout}\n${next.stderr}`);
    assert.match(next.stderr, new RegExp(`a reset of ${SANDBOX.database} started \\S+ by pid ${run.pid} was killed before it finished: running the post-reset command first`));
    // The one configured now, said to differ from the killed reset's (whose text the marker does not keep).
    assert.match(next.stderr, /the post-reset command has now run \(the one configured now, not the same as the killed reset's\)/);
    assert.deepEqual(readFileSync(hooks, 'utf8').split('\n').filter(Boolean), ['post', 'pre', 'post']);
    assert.deepEqual(readdirSync(join(stack.stateDir, 'resets')), [], 'no reset marker is left');
    assert.match(next.stderr, new RegExp(`revoked the lease of login ${reader} \\(`));
    assert.match(next.stdout, /= the golden's/);
  });

  it("a killed harness's drift: the next reset names it, drops it as the owner role when asked (anyone else's drift still refuses), then revokes the dead login", async () => {
    const run = await killAt([], stack.env, { line: /drift made by \S+/ }, ['--require', join(ROOT, 'bin', 'register.js'), join(__dirname, 'helpers', 'dead-login-drift.ts')]);
    assertKilled(run);
    await assertNothingAlive(run);
    const login = /drift made by (\S+)/.exec(run.stdout)![1]!;
    const owned = `table public.${DRIFT_TABLE} owned by ${login}`;
    const tableThere = async (name: string) => {
      const client = await stack.superuser(SANDBOX.database);
      try {
        return (await client.query('SELECT 1 FROM pg_class WHERE relname = $1', [name])).rowCount === 1;
      } finally {
        await client.end();
      }
    };

    // Someone else's drift, beside it: the provisioner's table, which no reset may drop.
    const asSuperuser = async (sql: string) => {
      const client = await stack.superuser(SANDBOX.database);
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    };
    await asSuperuser('CREATE TABLE public.kill_points_not_ours (id integer)');
    try {
      const refused = await rehearse(['reset', '--target', 'live'], stack.env);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, new RegExp(`cannot revoke the lease of login ${login} \\(.*Vault cannot drop the role while it owns objects \\(${owned}\\) — rehearse reset --drop-dead-drift`));
      assert.match(refused.stderr, /reset refused: .*1 of them were made by harness logins that are dead, which the reset drops as erp_sandbox_role when asked \(rehearse reset --drop-dead-drift\)/s);

      const stillRefused = await rehearse(['reset', '--target', 'live', '--drop-dead-drift'], stack.env);
      assert.equal(stillRefused.code, 1, stillRefused.stderr);
      assert.match(stillRefused.stderr, /table public\.kill_points_not_ours owned by postgres/);
      assert.ok(await tableThere(DRIFT_TABLE), 'a refused reset dropped nothing');
    } finally {
      await asSuperuser('DROP TABLE public.kill_points_not_ours');
    }

    const cleared = await rehearse(['reset', '--target', 'live', '--drop-dead-drift'], stack.env);
    assert.equal(cleared.code, 0, `${cleared.stdout}\n${cleared.stderr}`);
    assert.match(cleared.stdout, new RegExp(`dropped ${owned}`));
    assert.equal(await tableThere(DRIFT_TABLE), false);
    assert.match(cleared.stderr, new RegExp(`revoked the lease of login ${login} \\(`));
    assert.equal(await roleExists(login), false, `${login} is gone`);
    assert.ok(!ledger().outstanding().some((entry) => entry.username === login), 'the ledger has it revoked');
  });

  it("a login of a run this machine cannot judge (another machine's): status names it, and revokes it only when asked (--revoke)", async () => {
    const login = await stack.target.minter.mint(SANDBOX);
    try {
      const { host, port } = stack.target.cluster!.endpoint;
      // As another machine's run notes it in a ledger this machine shares.
      appendFileSync(join(stack.stateDir, 'minted-logins.ndjson'), `${JSON.stringify({
        event: 'minted', username: login.user, instance: SANDBOX.instance, leaseId: login.leaseId, mintedAt: new Date().toISOString(),
        cluster: `${host}:${port}`, by: { host: 'another-machine', pid: 4242 },
      })}\n`);
      const named = await rehearse(['status', '--target', 'live'], stack.env);
      assert.match(named.stdout, new RegExp(`PROBLEM +login role\\(s\\) minted by the harness and not revoked, of runs this machine cannot tell are over .*${login.user} \\(erp-sandbox, minted \\S+ by pid 4242 on another-machine.* — once no such run is going, rehearse status --revoke revokes them`));
      assert.ok(await roleExists(login.user), 'not revoked without being asked');

      const revoked = await rehearse(['status', '--target', 'live', '--revoke'], stack.env);
      assert.match(revoked.stdout, new RegExp(`ok +revoked the lease of login ${login.user} \\(`));
      assert.equal(await roleExists(login.user), false, `${login.user} is gone`);
      assert.match(revoked.stdout, /ok +no login role minted by the harness is left in the cluster/);
    } finally {
      await stack.target.minter.revoke(login); // Vault: revoking a revoked lease does nothing
    }
  });

  it('a server a dead run left running (a harness whose children could not die with it): the next run stops it and removes its directory', async () => {
    const bindir = findLocalBinaries().bindir;
    assert.ok(bindir, 'PostgreSQL binaries');
    const cluster = await startLocalCluster({ bindir, osUser: 'postgres' });
    try {
      const root = dirname(cluster.serverLogPath!);
      const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
      assert.ok(!pidRunning(deadPid));
      const left = join(stack.tmp, `erp-rehearsal-pg-${deadPid}-0-kp0000`);
      renameSync(root, left);
      const postmaster = Number(readFileSync(join(left, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      assert.ok(pidRunning(postmaster), 'the server runs');

      const next = await rehearse(['status', '--target', 'live'], stack.env);
      assert.match(next.stderr, new RegExp(`stopping the PostgreSQL server \\(pid ${postmaster}\\) a run that is gone left in ${left}`), next.stderr);
      assert.match(next.stderr, new RegExp(`removed ${left}, the pg work directory of a run that is gone \\(pid ${deadPid}\\)`));
      assert.equal(pidRunning(postmaster), false, 'the server is stopped');
      assert.equal(existsSync(left), false);
    } finally {
      await cluster.stop();
    }
  });
});
