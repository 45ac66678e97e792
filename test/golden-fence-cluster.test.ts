/**
 * Prod's read-only golden identity against real clusters laid out like the factory's, one per layout, with the fixture
 * in prod and in the sandbox: every attempt of its fence is refused as golden-fence.ts claims, in the hermetic form and
 * in the form safe for a live prod; a fence broken on purpose is seen; the attempts never wait on prod's locks; the
 * golden's sessions are read-only or refused; and the golden made by it restores nothing of prod's privileges.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SEED } from '../fixtures/dolibarr';
import { connectReadOnly, GoldenError, makeGolden, requireReadOnlySession } from '../support/lifecycle/golden';
import { takeSnapshot } from '../support/lifecycle/snapshot';
import { instanceNames } from '../support/naming';
import { goldenNames } from '../support/naming/golden';
import type { PostgresCluster } from '../support/postgres/cluster';
import { connect, withClient } from '../support/postgres/connect';
import {
  attemptAsGolden,
  describeGoldenOutcome,
  goldenAttempts,
  liveFormOf,
  type GoldenAttemptOutcome,
  type GoldenFenceContext,
  type GoldenForm,
} from '../support/postgres/golden-fence';
import type { MintedLogin } from '../support/postgres/minting';
import { NotReadOnlyError, runBounded } from '../support/postgres/probes';
import { provisionFactoryLayout, type Layout, type ProvisionedLayout } from '../support/postgres/provision';
import { loadFixtureAsOwner } from '../support/targets/seed-prod';
import { testCluster } from './helpers/cluster';
import { DirectMinter } from './helpers/direct-minter';

const prod = instanceNames('erp');
const sandbox = instanceNames('erp', 'sandbox');
const context: GoldenFenceContext = { prod, sandbox };
const reader = goldenNames(prod).readerRole;

interface Rig {
  readonly layout: Layout;
  readonly cluster: PostgresCluster;
  readonly provisioned: ProvisionedLayout;
  readonly golden: MintedLogin;
  readonly prodOwner: MintedLogin;
}

const rigs = new Map<Layout, Rig>();
const stops: (() => Promise<void>)[] = [];

async function startRig(layout: Layout): Promise<Rig> {
  const { cluster, stop } = await testCluster();
  stops.push(stop);
  const provisioned = await provisionFactoryLayout(cluster, [prod, sandbox], layout);
  const minter = new DirectMinter({ endpoint: cluster.endpoint, credentialsEditor: provisioned.credentialsEditor });
  // Loaded after provisioning, by erp_role: the reader role's SELECT on it comes from default privileges alone.
  await loadFixtureAsOwner(cluster.endpoint, minter, prod, { seed: DEFAULT_SEED, scale: 0.05 });
  await loadFixtureAsOwner(cluster.endpoint, minter, sandbox, { seed: DEFAULT_SEED, scale: 0.05 });
  return { layout, cluster, provisioned, golden: await minter.mint(goldenNames(prod).minting), prodOwner: await minter.mint(prod) };
}

function rig(layout: Layout): Rig {
  const found = rigs.get(layout);
  assert.ok(found, `the ${layout} cluster did not start`);
  return found;
}

function attempt(r: Rig, name: string, form: GoldenForm): Promise<GoldenAttemptOutcome> {
  return attemptAsGolden(() => r.cluster.endpoint, r.golden, context, name, form);
}

async function everyAttempt(r: Rig, form: GoldenForm): Promise<GoldenAttemptOutcome[]> {
  const outcomes: GoldenAttemptOutcome[] = [];
  for (const { attempt: name } of goldenAttempts(context)) outcomes.push(await attempt(r, name, form));
  return outcomes;
}

function prodRoot(r: Rig): Promise<string> {
  return withClient(r.cluster.endpoint, r.prodOwner, prod.database, async (client) => (await takeSnapshot(client, { ownerRole: prod.ownerRole })).root);
}

/** Runs `sql` as the provisioner in prod's database: how a fence is broken here on purpose, and mended again. */
function asProvisioner(r: Rig, sql: string): Promise<unknown> {
  return withClient(r.cluster.endpoint, r.provisioned.provisioner, prod.database, (client) => client.query(sql));
}

function assertAllRefused(outcomes: readonly GoldenAttemptOutcome[]): void {
  const wrong = outcomes.filter((outcome) => outcome.verdict !== 'refused');
  assert.deepEqual(wrong.map(describeGoldenOutcome), [], 'every attempt refused for its own reason');
}

before(async () => {
  const started = await Promise.allSettled((['hardened', 'as-provisioned'] as const).map(startRig));
  for (const result of started) if (result.status === 'fulfilled') rigs.set(result.value.layout, result.value);
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) throw (failure as PromiseRejectedResult).reason;
});

after(async () => {
  for (const stop of stops) await stop().catch(() => undefined);
});

for (const layout of ['hardened', 'as-provisioned'] as const) {
  describe(`the golden identity's fence, ${layout}`, () => {
    it('refuses every attempt, each with its own SQLSTATE and message, and leaves prod as it was', async () => {
      const r = rig(layout);
      const before = await prodRoot(r);
      const outcomes = await everyAttempt(r, 'hermetic');
      assertAllRefused(outcomes);
      for (const outcome of outcomes) assert.equal(outcome.sqlstate, outcome.attempt.refusal.sqlstate, describeGoldenOutcome(outcome));
      const sandboxDoor = outcomes.filter((outcome) => outcome.attempt.database === 'sandbox').map((outcome) => outcome.refusedAt);
      assert.deepEqual(sandboxDoor, layout === 'hardened' ? ['connection', 'connection'] : ['statement', 'statement'], 'where the sandbox refuses it');
      assert.equal(await prodRoot(r), before, "prod's content hash");
    });

    it('refuses every attempt in the form safe for a live prod too: the catalogue answers for what cannot be rolled back or locks first', async () => {
      const r = rig(layout);
      const outcomes = await everyAttempt(r, 'live');
      assertAllRefused(outcomes);
      const catalogue = outcomes.filter((outcome) => outcome.refusedAt === 'catalogue').map((outcome) => outcome.attempt.attempt);
      assert.deepEqual(catalogue, goldenAttempts(context).filter((candidate) => liveFormOf(candidate).kind === 'catalogue').map((candidate) => candidate.attempt));
      assert.deepEqual(catalogue.filter((name) => goldenAttempts(context).find((candidate) => candidate.attempt === name)!.transactional), [
        'truncate prod table llx_societe',
        'create a trigger on prod table llx_societe',
        `change a setting of database ${prod.database}`,
        'drop the trigger function update_modified_column_tms',
      ]);
      // A write's live form is its EXPLAIN, refused by PostgreSQL's own check with the statement's SQLSTATE and message.
      const update = outcomes.find((outcome) => outcome.attempt.attempt === 'update prod table llx_societe')!;
      assert.equal(update.sql, 'EXPLAIN UPDATE public.llx_societe SET nom = nom WHERE rowid = 1');
      assert.deepEqual([update.refusedAt, update.sqlstate, update.message], ['statement', '42501', 'permission denied for table llx_societe']);
    });
  });
}

describe("a broken fence of the golden identity is seen, and prod still isn't changed", () => {
  it('an UPDATE or CREATE granted to the reader role is ALLOWED, and rolled back', async () => {
    const r = rig('hardened');
    const before = await prodRoot(r);
    await asProvisioner(r, `GRANT UPDATE ON public.llx_societe TO ${reader}; GRANT CREATE ON SCHEMA public TO ${reader}`);
    try {
      const update = await attempt(r, 'update prod table llx_societe', 'hermetic');
      const create = await attempt(r, 'create a table in schema public of erp', 'hermetic');
      assert.equal(update.verdict, 'allowed', describeGoldenOutcome(update));
      assert.equal(create.verdict, 'allowed', describeGoldenOutcome(create));
      assert.match(describeGoldenOutcome(update), /ALLOWED.*the golden identity's fence did not hold/);
    } finally {
      await asProvisioner(r, `REVOKE UPDATE ON public.llx_societe FROM ${reader}; REVOKE CREATE ON SCHEMA public FROM ${reader}`);
    }
    assert.equal(await prodRoot(r), before, "prod's content hash: the allowed attempts were rolled back");
  });

  it('a sequence the reader role may advance is seen by the catalogue, and the statement is never sent', async () => {
    const r = rig('hardened');
    const position = () =>
      withClient(r.cluster.endpoint, r.prodOwner, prod.database, async (client) =>
        (await client.query<{ position: string }>('SELECT last_value::text AS position FROM public.llx_societe_rowid_seq')).rows[0]!.position);
    const before = await position();
    await asProvisioner(r, `GRANT USAGE ON SEQUENCE public.llx_societe_rowid_seq TO ${reader}`);
    try {
      const outcome = await attempt(r, 'advance prod sequence llx_societe_rowid_seq', 'hermetic');
      assert.equal(outcome.verdict, 'allowed', describeGoldenOutcome(outcome));
      assert.match(outcome.message ?? '', /the statement itself was not sent/);
    } finally {
      await asProvisioner(r, `REVOKE USAGE ON SEQUENCE public.llx_societe_rowid_seq FROM ${reader}`);
    }
    assert.equal(await position(), before, "prod's sequence did not move");
  });
});

describe("the golden identity's attempts never wait on prod's locks", () => {
  it('gives up after its 50 ms lock timeout (55P03) while a prod session holds the table, instead of queueing behind it', async () => {
    const r = rig('hardened');
    const holder = await connect(r.cluster.endpoint, r.prodOwner, prod.database);
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE public.llx_societe IN ACCESS EXCLUSIVE MODE');
      // The EXPLAINed UPDATE's parse takes its table lock before the privilege check: only the lock timeout stops it waiting.
      const outcome = await attempt(r, 'update prod table llx_societe', 'live');
      assert.equal(outcome.verdict, 'wrong reason', describeGoldenOutcome(outcome));
      assert.equal(outcome.sqlstate, '55P03', describeGoldenOutcome(outcome));
      assert.match(outcome.message ?? '', /^canceling statement due to lock timeout$/);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
  });
});

describe("the golden's sessions", () => {
  it('are read-only when opened as the golden opens them', async () => {
    const r = rig('as-provisioned');
    const client = await connectReadOnly(r.cluster.endpoint, r.golden, prod.database);
    try {
      await assert.rejects(client.query('CREATE TEMPORARY TABLE erp_rehearsal_probe (x integer)'), (error: { code?: string }) => error.code === '25006');
    } finally {
      await client.end();
    }
  });

  it('refuse a session that is not read-only, as when a pooler drops the startup option, saying what to do', async () => {
    const r = rig('as-provisioned');
    const plain = await connect(r.cluster.endpoint, r.golden, prod.database);
    try {
      await assert.rejects(requireReadOnlySession(plain, prod.database), (error: unknown) => {
        assert.ok(error instanceof GoldenError);
        assert.match(error.message, /the golden's session on erp is not read-only \(default_transaction_read_only = off, transaction_read_only = off\)/);
        assert.match(error.message, /nothing was dumped — connect the golden to prod's server directly/);
        return true;
      });
    } finally {
      await plain.end();
    }
  });

  it('refuse a session that asked to be read-only and was then made read-write', async () => {
    const r = rig('as-provisioned');
    const client = await connectReadOnly(r.cluster.endpoint, r.golden, prod.database);
    try {
      await client.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE');
      await assert.rejects(requireReadOnlySession(client, prod.database), /default_transaction_read_only = off/);
    } finally {
      await client.end();
    }
  });
});

describe('the golden made by the golden identity', () => {
  it("lists prod's owned entries for the restore, none of prod's grants or default privileges", async () => {
    const r = rig('hardened');
    const dir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-golden-test-'));
    try {
      const golden = await makeGolden({ endpoint: r.cluster.endpoint, tools: r.cluster.tools, login: r.golden, prod, dir });
      const list = readFileSync(golden.listPath, 'utf8').split('\n').filter(Boolean);
      assert.equal(list.length, golden.manifest.restoredEntries);
      assert.ok(list.some((line) => / TABLE DATA public llx_societe erp_role$/.test(line)), 'the table data is in the list');
      assert.deepEqual(list.filter((line) => / (?:DEFAULT )?ACL /.test(line)), [], 'no privilege entry');
      assert.ok(list.every((line) => line.endsWith(' erp_role')), 'only entries erp_role owns');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a write's form safe for a live prod executes nothing, even with the golden identity's fence broken", () => {
  /** Prod's triggers, rules and defaults, made to leave a mark no rollback takes back: a sequence that moves. */
  const MARKS = [
    'CREATE SEQUENCE public.erp_rehearsal_trigger_mark',
    'CREATE SEQUENCE public.erp_rehearsal_rule_mark',
    'GRANT USAGE ON SEQUENCE public.erp_rehearsal_trigger_mark, public.erp_rehearsal_rule_mark TO PUBLIC',
    `CREATE FUNCTION public.erp_rehearsal_mark() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM nextval('public.erp_rehearsal_trigger_mark'); RETURN NULL; END $$`,
    'CREATE TRIGGER erp_rehearsal_mark BEFORE INSERT OR UPDATE OR DELETE ON public.llx_societe FOR EACH STATEMENT EXECUTE FUNCTION public.erp_rehearsal_mark()',
    `CREATE RULE erp_rehearsal_mark AS ON UPDATE TO public.llx_societe DO ALSO SELECT nextval('public.erp_rehearsal_rule_mark')`,
    `GRANT INSERT, UPDATE, DELETE ON public.llx_societe TO ${reader}`,
    `GRANT USAGE ON SEQUENCE public.llx_societe_rowid_seq TO ${reader}`,
  ];
  const UNMARK = [
    `REVOKE INSERT, UPDATE, DELETE ON public.llx_societe FROM ${reader}`,
    `REVOKE USAGE ON SEQUENCE public.llx_societe_rowid_seq FROM ${reader}`,
    'DROP RULE IF EXISTS erp_rehearsal_mark ON public.llx_societe',
    'DROP TRIGGER IF EXISTS erp_rehearsal_mark ON public.llx_societe',
    'DROP FUNCTION IF EXISTS public.erp_rehearsal_mark()',
    'DROP SEQUENCE IF EXISTS public.erp_rehearsal_trigger_mark, public.erp_rehearsal_rule_mark',
  ];
  /** The last value a sequence handed out (one less than its next when nextval was never called since a setval). */
  const HANDED_OUT = 'last_value - (NOT is_called)::int';
  const marks = (r: Rig) =>
    withClient(r.cluster.endpoint, r.provisioned.provisioner, prod.database, async (client) =>
      (await client.query<{ marks: string }>(
        `SELECT concat_ws(' ', (SELECT ${HANDED_OUT} FROM public.erp_rehearsal_trigger_mark), (SELECT ${HANDED_OUT} FROM public.erp_rehearsal_rule_mark),
                (SELECT ${HANDED_OUT} FROM public.llx_societe_rowid_seq)) AS marks`,
      )).rows[0]!.marks);

  it('no trigger fires, no rule applies, no default is evaluated; the writes themselves would have left their marks', async () => {
    const r = rig('hardened');
    for (const statement of MARKS) await asProvisioner(r, statement);
    try {
      const before = await marks(r);
      for (const name of ['insert into prod table llx_societe', 'update prod table llx_societe', 'delete from prod table llx_societe']) {
        const outcome = await attempt(r, name, 'live');
        assert.equal(outcome.verdict, 'allowed', describeGoldenOutcome(outcome));
        assert.match(outcome.sql, /^EXPLAIN /);
      }
      // And a write that leaves its row's key to prod's default (nextval), EXPLAINed as a live form would be.
      const explained = await withClient(r.cluster.endpoint, r.golden, prod.database, (client) =>
        runBounded(client, "EXPLAIN INSERT INTO public.llx_societe (nom) VALUES ('erp-rehearsal')"));
      assert.equal(explained, undefined);
      assert.equal(await marks(r), before, 'the trigger, the rule and the default left no mark');
      // The same writes themselves, rolled back: the marks move, so the EXPLAINs above would have moved them.
      await withClient(r.cluster.endpoint, r.golden, prod.database, async (client) => {
        assert.equal(await runBounded(client, 'UPDATE public.llx_societe SET nom = nom WHERE rowid = 1'), undefined);
        assert.equal(await runBounded(client, "INSERT INTO public.llx_societe (nom) VALUES ('erp-rehearsal')"), undefined);
      });
      const [trigger, rule, rowid] = (await marks(r)).split(' ').map(Number);
      const [trigger0, rule0, rowid0] = before.split(' ').map(Number);
      assert.deepEqual([trigger! > trigger0!, rule! > rule0!, rowid! > rowid0!], [true, true, true], `${before} → ${await marks(r)}`);
    } finally {
      for (const statement of UNMARK) await asProvisioner(r, statement).catch(() => undefined);
    }
  });

  it('a write in a session opened as the golden opens it is sent only once its transaction reads read-only', async () => {
    const r = rig('hardened');
    const plain = await connect(r.cluster.endpoint, r.golden, prod.database);
    try {
      await assert.rejects(runBounded(plain, 'UPDATE public.llx_societe SET nom = nom WHERE rowid = 1', 'read only by its session'), (error: unknown) => {
        assert.ok(error instanceof NotReadOnlyError);
        assert.match(error.message, /transaction_read_only = off in a session opened read-only, so nothing was sent/);
        return true;
      });
    } finally {
      await plain.end();
    }
    const client = await connectReadOnly(r.cluster.endpoint, r.golden, prod.database);
    try {
      const error = await runBounded(client, 'UPDATE public.llx_societe SET nom = nom WHERE rowid = 1', 'read only by its session');
      assert.equal(error?.code, '25006');
    } finally {
      await client.end();
    }
  });
});
