/**
 * A crash-safe promote, end to end on the hermetic stack dressed as a live one (the live target holding promote's own
 * identity, as an operator's `rehearse promote` does): a promotion SIGKILLed after the first of its two writes leaves a
 * journal that the next `rehearse promote` reads to name what reached prod, refusing to send anything; `--resume`
 * sends only the second write, and prod's diff from before the first write is the rehearsed one, each object once.
 * A SIGTERM while the first write is in flight (held on a lock of prod's table) stops the replay once that write is
 * answered and journaled. No secret the run was given reaches the journal, the audit or the output.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { diffSnapshots, type RelationChange } from '../support/lifecycle/diff';
import type { Snapshot } from '../support/lifecycle/snapshot';
import { stateOf } from '../support/lifecycle/state';
import { compareDiffs } from '../support/promote/compare';
import type { Changeset } from '../support/promote/changeset';
import { journalPath, type JournalEntry } from '../support/promote/journal';
import type { AuditRecord } from '../support/promote/audit';
import { withdrawPromotion } from '../support/targets/promotion-faults';
import { killPointStack, waitsOnLock, type KillPointStack } from './helpers/kill-points-stack';
import { filesUnder, killAt, secretsIn } from './helpers/killed-run';
import { recordTwoWrites } from './helpers/promote-rehearsal';
import { REHEARSE, rehearse, type RunResult } from './helpers/rehearse';
import { ident } from '../support/postgres/connect';

describe('a promotion killed or stopped midway is finished from its journal, exactly once', { timeout: 900_000 }, () => {
  let stack: KillPointStack;
  let changeset: Changeset;
  let changesetPath: string;

  before(async () => {
    stack = await killPointStack();
    changesetPath = join(stack.dir, 'two-writes.changeset.json');
    changeset = await recordTwoWrites(stack.target, changesetPath);
  });

  after(async () => {
    await stack?.close();
  });

  /** The live environment with promote's own identity, the audit at `audit`, and a kill point if given. */
  function promoteEnv(audit: string, killAtPoint?: string): Record<string, string> {
    const promoter = stack.target.vault.promoter;
    assert.ok(promoter?.auth.method === 'kubernetes' && promoter.auth.tokenPath, "the stack's promote identity has a token file");
    return {
      ...stack.env,
      ERP_REHEARSAL_PROMOTE_TOKEN_FILE: promoter.auth.tokenPath,
      ERP_REHEARSAL_PROMOTE_AUDIT: audit,
      ERP_REHEARSAL_ACTOR: 'ops-alice',
      ...(killAtPoint ? { ERP_REHEARSAL_KILL_AT: killAtPoint } : {}),
    };
  }

  const promoteArgs = (...more: string[]) => ['promote', changesetPath, '--approve', changeset.digest, '--target', 'live', ...more];

  /** Prod's state now, its row images kept, read by a prod login of the test's own. */
  async function prodState(): Promise<Snapshot> {
    const { target } = stack;
    const login = await target.minter.mint(target.prod);
    try {
      return await stateOf(target.endpointFor(target.prod.database), login, target.prod, join(stack.dir, 'prod-states'));
    } finally {
      await target.minter.revoke(login);
    }
  }

  /**
   * Drops the prod logins a SIGKILLed promote held: nothing of it ran to revoke them (Vault's TTL ends their leases), and
   * the stack's close fails on any login role left in the cluster.
   */
  async function dropLoginsOf(leaseUsernames: readonly string[]): Promise<void> {
    const client = await stack.superuser('postgres');
    try {
      for (const name of leaseUsernames) await client.query(`DROP ROLE IF EXISTS ${ident(name)}`);
    } finally {
      await client.end();
    }
  }

  const leaseNames = () => stack.target.vault.hermetic!.leases().map((lease) => lease.username);

  const prodRequests = () => stack.target.dolibarr.standins!.counts().prod.requests;
  const journalOf = (audit: string) => readFileSync(journalPath(audit, changeset.digest), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as JournalEntry);
  const auditOf = (audit: string) => readFileSync(audit, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as AuditRecord);
  const events = (journal: readonly JournalEntry[]) =>
    journal.map((entry) => ('operation' in entry ? `${entry.event} ${entry.operation}` : entry.event));

  /** Prod's changes from `from` to now equal the rehearsed ones, each added row once. */
  async function assertPromotedOnce(from: Snapshot): Promise<RelationChange[]> {
    const changes = (await diffSnapshots(from, await prodState())).changes;
    const comparison = compareDiffs(changeset.changes, changes);
    assert.ok(comparison.equal, `prod's diff differs from the rehearsed one:\n${comparison.differences.join('\n')}`);
    const added = (list: readonly RelationChange[]) => list.filter((change) => change.kind === 'table').map((change) => `${change.name} +${change.rows?.added.length ?? '?'}`).sort();
    assert.deepEqual(added(changes), added(changeset.changes));
    return [...changes];
  }

  function assertNoSecret(outputs: readonly RunResult[], audit: string): void {
    const promoter = stack.target.vault.promoter!;
    const secrets = { ...stack.planted, "promote's service-account token": readFileSync(promoter.auth.method === 'kubernetes' ? promoter.auth.tokenPath! : '', 'utf8').trim() };
    const texts = new Map<string, string | Buffer>();
    outputs.forEach((run, at) => texts.set(`run ${at + 1}`, `${run.stdout}\n${run.stderr}`));
    for (const file of filesUnder(join(audit, '..'))) texts.set(file.path, file.bytes);
    assert.deepEqual(secretsIn(texts, secrets), []);
  }

  it('killed after the first of two writes: the next promote names what reached prod and sends nothing; --resume finishes it once', async () => {
    const audit = join(stack.dir, 'killed', 'promote-audit.ndjson');
    const prodBefore = await prodState();
    const requestsBefore = prodRequests();
    const leasesBefore = new Set(leaseNames());

    const killed = await killAt(promoteArgs(), promoteEnv(audit, 'promote:after-write:1'), { line: /kill point promote:after-write:1 reached/ });
    await dropLoginsOf(leaseNames().filter((name) => !leasesBefore.has(name)));
    assert.ok(killed.reached, `the kill point was never reached:\n${killed.stderr}`);
    assert.equal(killed.signal, 'SIGKILL', `the run ended by itself (exit ${killed.code}):\n${killed.stderr}`);
    assert.deepEqual(events(journalOf(audit)), ['started', 'sending 1', 'sent 1', 'settled 1']);
    assert.equal(statSync(journalPath(audit, changeset.digest)).mode & 0o777, 0o600, 'the journal is the operator\'s alone');
    assert.deepEqual(auditOf(audit).map((record) => record.outcome), ['replaying'], 'the audit has the replay before its first write');
    assert.equal(prodRequests() - requestsBefore, 1, "prod's Dolibarr saw the first write only");
    const afterKill = await prodState();

    const refused = await rehearse(promoteArgs(), promoteEnv(audit));
    assert.equal(refused.code, 5, refused.stderr);
    assert.match(refused.stderr, /an earlier promotion of this changeset did not finish \(the process died during it\): 1 of 2 operation\(s\) reached prod/);
    assert.match(refused.stderr, /reached prod: operation 1\/2 POST \/thirdparties → \d+/);
    assert.match(refused.stderr, /not sent: operation 2\/2 POST \/supplierinvoices/);
    assert.match(refused.stderr, /--resume/);
    assert.equal(prodRequests() - requestsBefore, 1, 'the refusal sent nothing to prod');
    assert.equal((await prodState()).root, afterKill.root, 'prod unchanged by the refusal');

    const resumed = await rehearse(promoteArgs('--resume'), promoteEnv(audit));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /2 operation\(s\), resumed at operation 2/);
    assert.match(resumed.stdout, /prod's diff equals the rehearsed diff/);
    assert.equal(prodRequests() - requestsBefore, 2, "prod's Dolibarr saw each write once");
    const changes = await assertPromotedOnce(prodBefore);

    assert.deepEqual(events(journalOf(audit)), ['started', 'sending 1', 'sent 1', 'settled 1', 'resumed', 'sending 2', 'sent 2', 'settled 2', 'finished']);
    assert.deepEqual(
      auditOf(audit).map((record) => [record.outcome, record.reason ?? record.resumedAt ?? null]),
      [['replaying', null], ['refused', 'unfinished promotion'], ['replaying', 2], ['promoted', 2]],
    );
    assert.equal(auditOf(audit).at(-1)!.prodDiffEqual, true);

    const again = await rehearse(promoteArgs('--resume'), promoteEnv(audit));
    assert.equal(again.code, 5, again.stderr);
    assert.match(again.stderr, /no unfinished promotion/);
    assert.equal(prodRequests() - requestsBefore, 2, 'a second resume sends nothing');

    assertNoSecret([{ code: killed.code, stdout: killed.stdout, stderr: killed.stderr }, refused, resumed, again], audit);
    await withdrawPromotion(stack.target, { prodChanges: changes } as never);
  });

  it('SIGTERM while the first write is in flight: it is answered and journaled, the second not sent; --resume finishes', async () => {
    const audit = join(stack.dir, 'stopped', 'promote-audit.ndjson');
    const prodBefore = await prodState();
    const requestsBefore = prodRequests();
    // Inserts into prod's thirdparties wait on this lock; reading them does not.
    const release = await stack.holdInSession(stack.target.prod.database, 'public.llx_societe', 'SHARE');
    let run: RunResult;
    try {
      run = await new Promise<RunResult>((resolve, reject) => {
        const child = spawn(process.execPath, [REHEARSE, ...promoteArgs()], { env: { ...process.env, ...promoteEnv(audit) }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        let signalled = false;
        let released = false;
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          // The signal is noted (its line printed): now let the write in flight through.
          if (signalled && !released && /SIGTERM: promote stops once the operation in flight/.test(stderr)) {
            released = true;
            void release().catch(reject);
          }
        });
        child.once('error', reject);
        child.once('close', (code) => resolve({ code, stdout, stderr }));
        void stack
          .waitFor("the first write waits on prod's thirdparties", async () => {
            const client = await stack.superuser(stack.target.prod.database);
            try {
              return await waitsOnLock(client, stack.target.prod.database, /INSERT/i);
            } finally {
              await client.end();
            }
          }, 120_000)
          .then(() => {
            signalled = true;
            child.kill('SIGTERM');
          }, (error: unknown) => {
            child.kill('SIGKILL');
            reject(error);
          });
      });
    } catch (error) {
      await release().catch(() => undefined);
      throw error;
    }
    assert.equal(run.code, 143, run.stderr);
    assert.match(run.stderr, /promote stopped by SIGTERM between two operations: 1 of 2 operation\(s\) reached prod, the rest were not sent/);
    assert.deepEqual(events(journalOf(audit)), ['started', 'sending 1', 'sent 1', 'settled 1', 'stopped']);
    assert.deepEqual(auditOf(audit).map((record) => record.outcome), ['replaying', 'stopped']);
    assert.equal(prodRequests() - requestsBefore, 1, 'the second write was not sent');

    const resumed = await rehearse(promoteArgs('--resume'), promoteEnv(audit));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(prodRequests() - requestsBefore, 2, "prod's Dolibarr saw each write once");
    const changes = await assertPromotedOnce(prodBefore);
    assert.deepEqual(events(journalOf(audit)).slice(5), ['resumed', 'sending 2', 'sent 2', 'settled 2', 'finished']);
    assertNoSecret([run, resumed], audit);
    await withdrawPromotion(stack.target, { prodChanges: changes } as never);
  });
});
