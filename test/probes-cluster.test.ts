/**
 * The probe catalogue against real clusters laid out like the factory's, one per layout, with the
 * fixture in prod `erp` and in the sandbox (as a reset leaves it): what each probe claims (its refusal, its
 * control, its mirror, its weakness, the fences it covers) is checked against what PostgreSQL actually does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SEED } from '../fixtures/dolibarr';
import { takeSnapshot } from '../support/lifecycle/snapshot';
import { instanceNames } from '../support/naming';
import type { PostgresCluster } from '../support/postgres/cluster';
import { connect, ident, withClient } from '../support/postgres/connect';
import { DirectMinter } from './helpers/direct-minter';
import {
  BOUNDS,
  defineProbe,
  describeMirror,
  describeOutcome,
  FENCES,
  missingFromSandbox,
  mirrorObjects,
  probeCatalogue,
  runControl,
  runMirror,
  runProbe,
  type ControlOutcome,
  type MirrorOutcome,
  type Fence,
  type Form,
  type Probe,
  type ProbeContext,
  type ProbeCredentials,
  type ProbeOutcome,
} from '../support/postgres/probes';
import { provisionFactoryLayout, userLookupSignature, type Layout } from '../support/postgres/provision';
import { loadFixtureAsOwner } from '../support/targets/seed-prod';
import { testCluster } from './helpers/cluster';

const prod = instanceNames('erp');
const sandbox = instanceNames('erp', 'sandbox');

interface Rig {
  readonly layout: Layout;
  readonly cluster: PostgresCluster;
  readonly context: ProbeContext;
  readonly credentials: ProbeCredentials;
  readonly probes: readonly Probe[];
}

const rigs = new Map<Layout, Rig>();
const stops: (() => Promise<void>)[] = [];

async function startRig(layout: Layout): Promise<Rig> {
  const { cluster, stop } = await testCluster();
  stops.push(stop);
  const provisioned = await provisionFactoryLayout(cluster, [prod, sandbox], layout);
  const minter = new DirectMinter({ endpoint: cluster.endpoint, credentialsEditor: provisioned.credentialsEditor });
  await loadFixtureAsOwner(cluster.endpoint, minter, prod, { seed: DEFAULT_SEED, scale: 0.2 });
  // The mirrors aim at the sandbox's own Dolibarr objects, owned by its owner role as a reset leaves them.
  await loadFixtureAsOwner(cluster.endpoint, minter, sandbox, { seed: DEFAULT_SEED, scale: 0.05 });
  const credentials: ProbeCredentials = {
    sandbox: await minter.mint(sandbox),
    prodOwner: await minter.mint(prod),
    credentialsEditor: provisioned.credentialsEditor,
    provisioner: provisioned.provisioner,
  };
  const context: ProbeContext = { prod, sandbox, userLookup: userLookupSignature(layout) };
  return { layout, cluster, context, credentials, probes: probeCatalogue(context) };
}

function rig(layout: Layout): Rig {
  const found = rigs.get(layout);
  assert.ok(found, `the ${layout} cluster did not start`);
  return found;
}

async function matrix(r: Rig, form: Form): Promise<ProbeOutcome[]> {
  const outcomes: ProbeOutcome[] = [];
  for (const probe of r.probes) outcomes.push(await runProbe(r.cluster.endpoint, probe, form, r.credentials, r.context));
  return outcomes;
}

async function controls(r: Rig): Promise<ControlOutcome[]> {
  const outcomes: ControlOutcome[] = [];
  for (const probe of r.probes) outcomes.push(await runControl(r.cluster.endpoint, probe, r.credentials, r.context));
  return outcomes;
}

async function mirrors(r: Rig): Promise<MirrorOutcome[]> {
  const outcomes: MirrorOutcome[] = [];
  for (const probe of r.probes) if (probe.mirror.kind !== 'none') outcomes.push(await runMirror(r.cluster.endpoint, probe, r.credentials, r.context));
  return outcomes;
}

/** Every mirror succeeded, in a session of the sandbox login in the sandbox database. */
function assertMirrorsSucceed(r: Rig, outcomes: readonly MirrorOutcome[]): void {
  const failed = outcomes.filter((outcome) => !outcome.succeeded);
  assert.deepEqual(failed.map(describeMirror), [], 'a failed mirror proves nothing on a target without an entitled credential');
  for (const outcome of outcomes) assert.deepEqual(outcome.ranAs, { user: r.credentials.sandbox.user, database: sandbox.database }, outcome.probe.id);
  assert.equal(outcomes.length, r.probes.filter((probe) => probe.mirror.kind !== 'none').length);
}

async function prodRoot(r: Rig): Promise<string> {
  return withClient(r.cluster.endpoint, r.credentials.prodOwner, prod.database, async (client) => (await takeSnapshot(client, { ownerRole: prod.ownerRole })).root);
}

function lines(outcomes: readonly ProbeOutcome[]): string {
  return outcomes.map((outcome) => `  ${describeOutcome(outcome)}`).join('\n');
}

/** Every outcome was seen in the sandbox login's own session (or the server refused that session). */
function assertRanAsSandbox(r: Rig, outcomes: readonly ProbeOutcome[]): void {
  for (const outcome of outcomes) {
    if (outcome.refusedAt === 'connection') {
      assert.equal(outcome.ranAs, undefined);
      continue;
    }
    const database = outcome.probe.database === 'prod' ? prod.database : sandbox.database;
    assert.deepEqual(outcome.ranAs, { user: r.credentials.sandbox.user, database }, outcome.probe.id);
  }
}

function assertAllRefused(outcomes: readonly ProbeOutcome[]): void {
  const wrong = outcomes.filter((outcome) => outcome.verdict !== 'refused');
  assert.deepEqual(wrong.map((o) => o.probe.id), [], `not refused for the right reason:\n${lines(wrong)}`);
}

function assertControlsSucceed(outcomes: readonly ControlOutcome[]): void {
  const failed = outcomes.filter((outcome) => !outcome.succeeded);
  assert.deepEqual(
    failed.map((o) => `${o.probe.id}: ${o.credential} got ${o.sqlstate} ${o.message}`),
    [],
    'a failed control means the probe is broken and proves nothing',
  );
}

before(async () => {
  const started = await Promise.allSettled((['hardened', 'as-provisioned'] as const).map(startRig));
  for (const result of started) if (result.status === 'fulfilled') rigs.set(result.value.layout, result.value);
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) throw (failure as PromiseRejectedResult).reason;
});

after(async () => {
  await Promise.allSettled(stops.map((stop) => stop()));
});

describe('on the hardened layout', () => {
  it('the hermetic form of every probe is refused for the right reason, prod probes at the locked door', async () => {
    const r = rig('hardened');
    const outcomes = await matrix(r, 'hermetic');
    assertAllRefused(outcomes);
    assertRanAsSandbox(r, outcomes);
    const atTheDoor = outcomes.filter((o) => o.refusedAt === 'connection').map((o) => o.probe.id);
    assert.deepEqual(atTheDoor, r.probes.filter((p) => p.database === 'prod').map((p) => p.id));
    for (const outcome of outcomes.filter((o) => o.refusedAt === 'connection')) {
      assert.equal(outcome.message, `permission denied for database "${prod.database}"`);
    }
  });

  it('the live form of every probe is refused too', async () => {
    const r = rig('hardened');
    const outcomes = await matrix(r, 'live');
    assertAllRefused(outcomes);
    assertRanAsSandbox(r, outcomes);
  });

  it('every positive control succeeds for the credential entitled to it', async () => {
    assertControlsSucceed(await controls(rig('hardened')));
  });

  it('every mirror succeeds as the sandbox login on the sandbox\'s own object, while its probe\'s live form is refused on prod', async () => {
    const r = rig('hardened');
    assert.deepEqual(await missingFromSandbox(r.cluster.endpoint, r.credentials.sandbox, r.context, mirrorObjects(r.probes)), []);
    assertMirrorsSucceed(r, await mirrors(r));
    assertAllRefused(await matrix(r, 'live'));
  });

  it('a mirror leaves the sandbox as it was: every one is rolled back', async () => {
    const r = rig('hardened');
    const sandboxRoot = () =>
      withClient(r.cluster.endpoint, r.credentials.sandbox, sandbox.database, async (client) => (await takeSnapshot(client, { ownerRole: sandbox.ownerRole })).root);
    const before = await sandboxRoot();
    await mirrors(r);
    assert.equal(await sandboxRoot(), before);
  });

  it('prod\'s content hash is unchanged by every hermetic-form probe run with the sandbox login', async () => {
    const r = rig('hardened');
    const before = await prodRoot(r);
    await matrix(r, 'hermetic');
    assert.equal(await prodRoot(r), before);
  });
});

/** A probe with a typo in its table name: it must never count as a refusal. */
function typoProbe(r: Rig): Probe {
  const select = r.probes.find((p) => p.id === 'select-prod-table')!;
  const typo = 'SELECT count(*) FROM public.llx_societee';
  return defineProbe({ ...select, id: 'select-prod-table-typo', statement: typo, control: { ...select.control, statement: typo } });
}

describe('a broken probe is caught, not passed', () => {
  it('as-provisioned: another error than the expected refusal is the wrong reason, and the control fails', async () => {
    const r = rig('as-provisioned');
    const probe = typoProbe(r);
    const outcome = await runProbe(r.cluster.endpoint, probe, 'hermetic', r.credentials, r.context);
    assert.equal(outcome.verdict, 'wrong reason', describeOutcome(outcome));
    assert.equal(outcome.sqlstate, '42P01');
    assert.match(describeOutcome(outcome), /WRONG REASON.*relation "public\.llx_societee" does not exist/);
    const control = await runControl(r.cluster.endpoint, probe, r.credentials, r.context);
    assert.deepEqual([control.succeeded, control.sqlstate], [false, '42P01']);
  });

  it('hardened: the locked door refuses it, but its control still fails, so the row cannot pass', async () => {
    const r = rig('hardened');
    const probe = typoProbe(r);
    const outcome = await runProbe(r.cluster.endpoint, probe, 'hermetic', r.credentials, r.context);
    assert.deepEqual([outcome.verdict, outcome.refusedAt], ['refused', 'connection']);
    const control = await runControl(r.cluster.endpoint, probe, r.credentials, r.context);
    assert.deepEqual([control.succeeded, control.sqlstate], [false, '42P01']);
  });
});

describe('live forms and mirrors run bounded: they never wait on another session', () => {
  /** A catalogue query that reads, inside the transaction, the bounds it runs under. */
  const boundsRead = `SELECT current_setting('lock_timeout') = '${BOUNDS.lockTimeout}' AND current_setting('statement_timeout') = '${BOUNDS.statementTimeout}' AS allowed`;

  it('a live catalogue form and a catalogue mirror see lock_timeout and statement_timeout set in their transaction', async () => {
    const r = rig('as-provisioned');
    const select = r.probes.find((p) => p.id === 'select-prod-table')!;
    const probe = defineProbe({
      ...select,
      id: 'bounds-read',
      live: { kind: 'catalogue', query: boundsRead, rule: 'reads the bounds' },
      mirror: { kind: 'catalogue', query: boundsRead, rule: 'reads the bounds' },
    });
    const live = await runProbe(r.cluster.endpoint, probe, 'live', r.credentials, r.context);
    assert.deepEqual([live.verdict, live.message], ['allowed', 'catalogue: allowed = true'], describeOutcome(live));
    const mirror = await runMirror(r.cluster.endpoint, probe, r.credentials, r.context);
    assert.equal(mirror.succeeded, true, describeMirror(mirror));
  });

  it('a mirror gives up on a lock another session of the sandbox holds, and says it never waits', async () => {
    const r = rig('hardened');
    const holder = await connect(r.cluster.endpoint, r.credentials.provisioner, sandbox.database);
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE public.llx_societe IN ACCESS EXCLUSIVE MODE');
      const probe = r.probes.find((p) => p.id === 'select-prod-table')!;
      const outcome = await runMirror(r.cluster.endpoint, probe, r.credentials, r.context);
      assert.deepEqual([outcome.succeeded, outcome.sqlstate], [false, '55P03'], describeMirror(outcome));
      assert.match(outcome.message!, /a mirror never waits: run it again when the sandbox is idle/);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
  });

  it('a broken mirror fails, with the server\'s answer, and is never taken for a success', async () => {
    const r = rig('hardened');
    const select = r.probes.find((p) => p.id === 'select-prod-table')!;
    const typo = defineProbe({ ...select, id: 'select-mirror-typo', mirror: { kind: 'rollback', statement: 'SELECT count(*) FROM public.llx_societee' } });
    const outcome = await runMirror(r.cluster.endpoint, typo, r.credentials, r.context);
    assert.deepEqual([outcome.succeeded, outcome.sqlstate], [false, '42P01']);
    assert.match(describeMirror(outcome), /FAILED — SELECT count\(\*\) FROM public\.llx_societee → 42P01 relation "public\.llx_societee" does not exist/);
    const refusing = defineProbe({ ...select, id: 'select-mirror-refused', mirror: { kind: 'catalogue', query: 'SELECT false AS allowed', rule: 'never allowed' } });
    assert.equal((await runMirror(r.cluster.endpoint, refusing, r.credentials, r.context)).succeeded, false);
  });
});

describe('on the as-provisioned layout', () => {
  for (const form of ['hermetic', 'live'] as const) {
    it(`exactly the probes carrying a weakness are allowed in the ${form} form, and say which weakness and its fix`, async () => {
      const r = rig('as-provisioned');
      const outcomes = await matrix(r, form);
      assertRanAsSandbox(r, outcomes);
      const allowed = outcomes.filter((o) => o.verdict === 'allowed');
      const refused = outcomes.filter((o) => o.verdict === 'refused');
      assert.deepEqual(allowed.map((o) => o.probe.id), r.probes.filter((p) => p.weakness).map((p) => p.id), `allowed:\n${lines(allowed)}`);
      assert.equal(refused.length + allowed.length, outcomes.length, `wrong reasons:\n${lines(outcomes.filter((o) => o.verdict === 'wrong reason'))}`);
      for (const outcome of allowed) {
        const line = describeOutcome(outcome);
        assert.ok(line.includes(outcome.probe.weakness!.name) && line.includes(outcome.probe.weakness!.fix), line);
      }
      // Prod is reached, so the refusals there are the objects' own fences, seen at the statement.
      assert.ok(refused.filter((o) => o.probe.database === 'prod').every((o) => o.refusedAt !== 'connection'), lines(refused));
    });
  }

  it('every positive control succeeds for the credential entitled to it', async () => {
    assertControlsSucceed(await controls(rig('as-provisioned')));
  });

  it('every mirror succeeds as the sandbox login on the sandbox\'s own object', async () => {
    assertMirrorsSucceed(rig('as-provisioned'), await mirrors(rig('as-provisioned')));
  });

  it('prod\'s content hash is unchanged by every hermetic-form probe run with the sandbox login', async () => {
    const r = rig('as-provisioned');
    const before = await prodRoot(r);
    await matrix(r, 'hermetic');
    assert.equal(await prodRoot(r), before);
  });
});

/**
 * One fence broken at a time on the hardened layout (by the provisioner), then put back: the live forms
 * no longer refused must be exactly the probes that claim to cover that fence.
 */
describe('breaking one fence of the hardened layout turns red exactly the probes that cover it', () => {
  type Sql = readonly { readonly database: string; readonly sql: string }[];
  const breaks = (login: string): Record<Fence, { readonly apply: Sql; readonly undo: Sql }> => {
    const on = (database: string, sql: string) => ({ database, sql });
    const user = ident(login);
    const erp = ident(prod.database);
    const predefined = 'pg_signal_backend, pg_execute_server_program, pg_read_server_files, pg_write_server_files, pg_read_all_data, pg_write_all_data';
    const functions = `FUNCTION ${userLookupSignature('hardened')}, pg_catalog.lo_import(text), pg_catalog.pg_read_file(text)`;
    return {
      membership: { apply: [on('postgres', `GRANT ${ident(prod.ownerRole)} TO ${user}`)], undo: [on('postgres', `REVOKE ${ident(prod.ownerRole)} FROM ${user}`)] },
      ownership: {
        apply: [on('postgres', `ALTER DATABASE ${erp} OWNER TO ${ident(sandbox.ownerRole)}`)],
        undo: [on('postgres', `ALTER DATABASE ${erp} OWNER TO ${ident(prod.ownerRole)}`)],
      },
      'no superuser': { apply: [on('postgres', `ALTER ROLE ${user} SUPERUSER`)], undo: [on('postgres', `ALTER ROLE ${user} NOSUPERUSER`)] },
      'no createdb': { apply: [on('postgres', `ALTER ROLE ${user} CREATEDB`)], undo: [on('postgres', `ALTER ROLE ${user} NOCREATEDB`)] },
      'no createrole': { apply: [on('postgres', `ALTER ROLE ${user} CREATEROLE`)], undo: [on('postgres', `ALTER ROLE ${user} NOCREATEROLE`)] },
      'predefined roles': { apply: [on('postgres', `GRANT ${predefined} TO ${user}`)], undo: [on('postgres', `REVOKE ${predefined} FROM ${user}`)] },
      'function privileges': {
        apply: [on(sandbox.database, `GRANT USAGE ON SCHEMA pgbouncer TO PUBLIC; GRANT EXECUTE ON ${functions} TO PUBLIC`)],
        undo: [on(sandbox.database, `REVOKE USAGE ON SCHEMA pgbouncer FROM PUBLIC; REVOKE EXECUTE ON ${functions} FROM PUBLIC`)],
      },
      'database connect': {
        apply: [on('postgres', `GRANT CONNECT, TEMP ON DATABASE ${erp} TO PUBLIC`)],
        undo: [on('postgres', `REVOKE CONNECT, TEMP ON DATABASE ${erp} FROM PUBLIC`)],
      },
    };
  };

  async function asProvisioner(r: Rig, statements: Sql): Promise<void> {
    for (const { database, sql } of statements) {
      await withClient(r.cluster.endpoint, r.credentials.provisioner, database, (client) => client.query(sql));
    }
  }

  for (const fence of FENCES) {
    it(`${fence}`, async () => {
      const r = rig('hardened');
      const { apply, undo } = breaks(r.credentials.sandbox.user)[fence];
      await asProvisioner(r, apply);
      let outcomes: ProbeOutcome[];
      try {
        outcomes = await matrix(r, 'live');
      } finally {
        await asProvisioner(r, undo);
      }
      const red = outcomes.filter((o) => o.verdict !== 'refused');
      const claimed = r.probes.filter((p) => p.covers.includes(fence)).map((p) => p.id);
      const seen = red.map((o) => o.probe.id);
      assert.deepEqual(
        seen,
        claimed,
        `with "${fence}" broken, no longer refused: ${seen.join(', ') || 'none'}\n` +
          `claimed to cover it: ${claimed.join(', ') || 'none'}\n` +
          `not claimed but red: ${seen.filter((id) => !claimed.includes(id)).join(', ') || 'none'}\n` +
          `claimed but still refused: ${claimed.filter((id) => !seen.includes(id)).join(', ') || 'none'}\n${lines(red)}`,
      );
    });
  }

  it('and with every fence put back, every live form is refused again', async () => {
    const r = rig('hardened');
    assertAllRefused(await matrix(r, 'live'));
  });
});
