/**
 * The live forms of the three fences never queue behind prod's own sessions, nor make them wait: on a real cluster laid
 * out as provisioned today (the sandbox's login reaches prod, so every live form really gets there), another session
 * holds a write open on prod's llx_societe, as prod's Dolibarr does mid-request, while every live form of the
 * prod-undroppable probes, of the golden identity's fence and of the clone fence runs; a separate session reads the lock
 * queue every 10 ms (pg_locks: who waits, since when, behind whom by pg_blocking_pids). Then prod's own writes, which a
 * lock taken before a privilege check would hold back, go on throughout a second run. The negative twin sends CREATE
 * TRIGGER itself, as its live form was before, and the same watch sees it queue and hold prod's writes back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from 'pg';
import { connect } from '../support/postgres/connect';
import { runLiveMatrix } from '../support/postgres/live-matrix';
import {
  describeWait,
  holdWrite,
  judgeLockWaits,
  locksBeforeCheck,
  probeCatalogue,
  runBounded,
  waitsBehind,
  whileWatched,
  type LockWaitRecord,
  type WatchedSession,
} from '../support/postgres/probes';
import { liveLocksRig, writeProdRepeatedly, type LiveLocksRig } from './helpers/live-locks';

let rig: LiveLocksRig;

before(async () => {
  rig = await liveLocksRig();
});

after(async () => {
  await rig?.stop();
});

const PROD = 'erp';

/** The whole live matrix, every fence reaching the one cluster. */
function matrix() {
  const endpoint = rig.cluster.endpoint;
  return runLiveMatrix({ probes: endpoint, golden: () => endpoint, clone: () => endpoint }, rig.logins, rig.context);
}

/** `work`, with the lock queue watched by the cluster's superuser meanwhile. */
function watched<T>(work: () => Promise<T>) {
  return whileWatched(rig.cluster.endpoint, rig.cluster.superuser, 'postgres', work);
}

const harness = (session: WatchedSession) => session.user !== null && rig.harness.has(session.user);

function lines(waits: readonly { readonly pid: number }[], record: LockWaitRecord): string {
  return record.waits.filter((wait) => waits.some((chosen) => chosen.pid === wait.pid)).map(describeWait).join('\n') || 'none';
}

describe('the live forms of the three fences, while prod holds a write open on llx_societe', { timeout: 300_000 }, () => {
  it('make no statement of the harness wait 100 ms on a lock; none waits on prod\'s write at all', async (t) => {
    const held = await holdWrite(rig.cluster.endpoint, rig.prodOwner, PROD);
    try {
      const { result, record } = await watched(matrix);
      assert.equal(await held.held(), true, "prod's write was held open throughout");
      assert.equal(result.fences.filter((fence) => fence.includes('not run')).length, 0, result.fences.join('; '));
      assert.ok(result.lines.length >= 34 + 20 + 6, `${result.lines.length} live forms`);
      assert.ok(record.samples >= 20, `the queue was read ${record.samples} times`);
      const judged = judgeLockWaits(record, rig.harness);
      const ours = record.waits.filter(harness);
      assert.ok(judged.longestHarnessWaitMs < 100, `the harness waited ${judged.longestHarnessWaitMs} ms:\n${lines(ours, record)}`);
      assert.deepEqual(judged.waitedOnOthers.map(describeWait), [], "the harness's waits on prod's sessions");
      assert.deepEqual(judged.heldOthersBack.map(describeWait), [], "prod's sessions' waits on the harness");
      t.diagnostic(`${result.lines.length} live forms (${result.fences.join('; ')}); queue read ${record.samples} times; ${ours.length} lock waits of the harness, the longest ${judged.longestHarnessWaitMs.toFixed(1)} ms`);
    } finally {
      await held.release();
    }
  });

  it("let prod's own writes, which a lock taken before a privilege check would hold back, go on throughout, never behind the harness", async (t) => {
    const held = await holdWrite(rig.cluster.endpoint, rig.prodOwner, PROD);
    const writer = await writeProdRepeatedly(rig.cluster.endpoint, rig.prodOwner, PROD);
    try {
      const { record } = await watched(matrix);
      const writes = await writer.stop();
      assert.ok(writes > 0, "prod's session wrote during the run");
      const writerWaits = record.waits.filter((wait) => wait.pid === writer.pid);
      const behindHarness = waitsBehind(record, (session) => session.pid === writer.pid, harness);
      assert.deepEqual(behindHarness.map(describeWait), [], `prod's writes behind a harness pid (pg_blocking_pids); all its waits:\n${lines(writerWaits, record)}`);
      const judged = judgeLockWaits(record, rig.harness);
      assert.deepEqual(judged.waitedOnOthers.map(describeWait), [], "the harness's waits on prod's sessions");
      assert.ok(judged.longestHarnessWaitMs < 100, `the harness waited ${judged.longestHarnessWaitMs} ms`);
      t.diagnostic(`prod wrote ${writes} times during the run; queue read ${record.samples} times; prod's writer waited ${writerWaits.length} times, behind the harness never`);
    } finally {
      await writer.stop().catch(() => undefined);
      await held.release();
    }
  });

  it('are watched closely enough to see CREATE TRIGGER itself queue behind prod\'s write, and prod\'s writes behind it (the negative twin)', async (t) => {
    const trigger = probeCatalogue(rig.context).find((probe) => probe.id === 'create-trigger-in-prod')!;
    const held = await holdWrite(rig.cluster.endpoint, rig.prodOwner, PROD);
    const writer = await writeProdRepeatedly(rig.cluster.endpoint, rig.prodOwner, PROD);
    const session = await connect(rig.cluster.endpoint, rig.logins.sandbox, PROD);
    try {
      // The statement itself, as the probe's live form sent it before: bounded, yet queued for its 50 ms.
      let seen: { harness: string[]; prod: string[] } | undefined;
      let tries = 0;
      for (const deadline = Date.now() + 60_000; !seen && Date.now() < deadline; tries += 1) {
        const { result: error, record } = await watched(() => runBounded(session, trigger.statement!));
        assert.equal(error?.code, '55P03', `the lock came before the privilege check: ${error?.code} ${error?.message}`);
        const judged = judgeLockWaits(record, rig.harness);
        const prodBehind = waitsBehind(record, (candidate) => candidate.pid === writer.pid, harness);
        if (judged.waitedOnOthers.length > 0 && prodBehind.length > 0) seen = { harness: judged.waitedOnOthers.map(describeWait), prod: prodBehind.map(describeWait) };
      }
      assert.ok(seen, 'the watch never saw CREATE TRIGGER queue behind prod\'s write with prod\'s writes behind it');
      assert.ok(seen.harness.some((line) => line.includes(`behind ${held.pid} `)), seen.harness.join('\n'));
      t.diagnostic(`seen after ${tries} attempt(s): ${seen.harness[0]}; ${seen.prod[0]}`);
    } finally {
      await session.end().catch(() => undefined);
      await writer.stop().catch(() => undefined);
      await held.release();
    }
  });
});

/**
 * What PostgreSQL 15 locks before it checks the privilege, measured the way the probes' rule (LOCKS_BEFORE_CHECK) claims
 * it: with prod's owner holding a conflicting lock, a statement the sandbox's login may not make gives up on its lock
 * timeout (55P03) when it locks first, and is refused (42501) when it checks first.
 */
describe('what PostgreSQL locks before it checks the privilege, as the probes\' rule names it', { timeout: 120_000 }, () => {
  /** `held`: what prod's owner holds open; each statement: whether it locks first, and whether the rule must name it. */
  const cases: readonly { held: string; statements: readonly { sql: string; locksFirst: boolean; named: boolean }[] }[] = [
    {
      held: 'LOCK TABLE public.llx_societe IN ACCESS EXCLUSIVE MODE',
      statements: [
        { sql: 'CREATE TRIGGER erp_rehearsal_probe BEFORE UPDATE ON public.llx_societe FOR EACH ROW EXECUTE FUNCTION public.update_modified_column_tms()', locksFirst: true, named: true },
        { sql: 'CREATE RULE erp_rehearsal_probe AS ON INSERT TO public.llx_societe DO INSTEAD NOTHING', locksFirst: true, named: true },
        { sql: `COMMENT ON TABLE public.llx_societe IS 'erp-rehearsal'`, locksFirst: true, named: true },
        { sql: 'ANALYZE public.llx_societe', locksFirst: true, named: true },
        // The parser's locks: first, but in the modes prod's own reads and writes take (they queue only behind DDL).
        { sql: 'SELECT count(*) FROM public.llx_societe', locksFirst: true, named: false },
        { sql: 'EXPLAIN UPDATE public.llx_societe SET nom = nom WHERE rowid = 1', locksFirst: true, named: false },
        { sql: 'TRUNCATE public.llx_societe CASCADE', locksFirst: false, named: false },
        { sql: 'ALTER TABLE public.llx_societe ADD COLUMN erp_rehearsal_probe integer', locksFirst: false, named: false },
        { sql: 'DROP TABLE public.llx_societe CASCADE', locksFirst: false, named: false },
        { sql: 'LOCK TABLE public.llx_societe IN ACCESS EXCLUSIVE MODE NOWAIT', locksFirst: false, named: false },
        { sql: 'CREATE INDEX erp_rehearsal_probe ON public.llx_societe (nom)', locksFirst: false, named: false },
        { sql: 'CREATE POLICY erp_rehearsal_probe ON public.llx_societe USING (true)', locksFirst: false, named: false },
      ],
    },
    {
      held: `COMMENT ON FUNCTION public.update_modified_column_tms() IS 'held'`,
      statements: [{ sql: 'DROP FUNCTION public.update_modified_column_tms() CASCADE', locksFirst: true, named: true }],
    },
    {
      held: `COMMENT ON DATABASE ${PROD} IS 'held'`,
      statements: [
        { sql: `COMMENT ON DATABASE ${PROD} IS 'erp-rehearsal'`, locksFirst: true, named: true },
        { sql: `ALTER DATABASE ${PROD} OWNER TO erp_sandbox_role`, locksFirst: false, named: false },
      ],
    },
  ];

  for (const { held, statements } of cases) {
    it(`while prod's owner holds: ${held}`, async () => {
      const holder: Client = await connect(rig.cluster.endpoint, rig.prodOwner, PROD);
      const sandbox = await connect(rig.cluster.endpoint, rig.logins.sandbox, PROD);
      try {
        await holder.query('BEGIN');
        await holder.query(held);
        for (const { sql, locksFirst, named } of statements) {
          const error = await runBounded(sandbox, sql);
          assert.equal(error?.code, locksFirst ? '55P03' : '42501', `${sql}: ${error?.code} ${error?.message}`);
          assert.equal(locksBeforeCheck(sql).length > 0, named, `the rule ${named ? 'must' : 'must not'} name ${sql}`);
        }
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined);
        await holder.end().catch(() => undefined);
        await sandbox.end().catch(() => undefined);
      }
    });
  }
});
