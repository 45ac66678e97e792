/**
 * The probe catalogue's live forms and mirrors are safe by construction: defineProbe refuses any probe whose live
 * form could change prod if its fence were broken, or whose mirror could outlive its rollback, and every probe of
 * the catalogue got through it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AstBuilder, GherkinClassicTokenMatcher, Parser } from '@cucumber/gherkin';
import { IdGenerator, type Scenario } from '@cucumber/messages';
import { instanceNames } from '../support/naming';
import { cloneAttempts, CloneAttemptDefinitionError, defineCloneAttempt, type CloneAttempt } from '../support/postgres/clone-fence';
import { defineGoldenAttempt, GoldenAttemptDefinitionError, goldenAttempts, liveFormOf, type GoldenAttempt } from '../support/postgres/golden-fence';
import {
  databaseRule,
  defineProbe,
  dropFunctionRule,
  executedWrites,
  FENCES,
  liveSql,
  locksBeforeCheck,
  OWNS_DATABASE,
  tableRule,
  mirrorObjects,
  mirrorSql,
  nonTransactionalConstructs,
  probeCatalogue,
  ProbeDefinitionError,
  type Probe,
  type ProbeContext,
  withoutLiterals,
  withoutMirror,
} from '../support/postgres/probes';
import { LAYOUTS, userLookupSignature } from '../support/postgres/provision';

const prod = instanceNames('erp');
const sandbox = instanceNames('erp', 'sandbox');
const contexts: ProbeContext[] = LAYOUTS.map((layout) => ({ prod, sandbox, userLookup: userLookupSignature(layout) }));

/** A well-formed probe to vary: SET ROLE, rolled back. */
const base: Probe = {
  id: 'set-role-prod-owner',
  attempt: 'set role erp_role',
  database: 'sandbox',
  statement: 'SET ROLE "erp_role"',
  transactional: true,
  refusal: { sqlstate: '42501', message: /^permission denied to set role "erp_role"$/, reason: 'not a member of erp_role' },
  fence: 'membership of erp_role, never granted to the sandbox login',
  covers: ['membership', 'no superuser'],
  live: { kind: 'rollback' },
  control: { credential: 'prod owner', database: 'prod', statement: 'SET ROLE "erp_role"', transactional: true },
  mirror: { kind: 'rollback', statement: 'SET ROLE "erp_sandbox_role"' },
};

/** The attempts nothing of the sandbox's is entitled to: they have no mirror, and say why. */
const WITHOUT_MIRROR = [
  'grant-prod-owner-to-self',
  'create-database',
  'create-role',
  'alter-self-superuser',
  'alter-self-createdb',
  'alter-self-bypassrls',
  'copy-to-program',
  'read-server-file',
  'lo-import-server-file',
];

/** defineProbe refuses `probe` for `why`; with `context` (as the catalogue calls it), checked against prod's names too. */
function rejects(probe: Probe, why: RegExp, context?: ProbeContext): void {
  assert.throws(() => defineProbe(probe, context), (error: unknown) => {
    assert.ok(error instanceof ProbeDefinitionError, `a ProbeDefinitionError, not ${String(error)}`);
    assert.match(error.message, why);
    return true;
  });
}

describe('the probe catalogue', () => {
  for (const context of contexts) {
    describe(`with user_lookup at ${context.userLookup}`, () => {
      const probes = probeCatalogue(context);

      it('defines every probe through defineProbe (each has a safe live form), with unique ids', () => {
        assert.ok(probes.length >= 34, `${probes.length} probes`);
        for (const probe of probes) assert.equal(defineProbe(probe), probe);
        const ids = probes.map((probe) => probe.id);
        assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], 'duplicate ids');
      });

      it('sends a live prod only rollback-only statements free of non-transactional constructs, or single read-only SELECTs', () => {
        for (const probe of probes) {
          const sql = liveSql(probe);
          if (probe.live.kind === 'rollback') {
            assert.ok(probe.live.statement !== undefined || probe.transactional, `${probe.id}: own statement must be transactional`);
            if (sql !== null) assert.deepEqual(nonTransactionalConstructs(sql), [], `${probe.id}: ${sql}`);
          } else {
            assert.match(sql!, /^SELECT\b/i, probe.id);
            assert.doesNotMatch(sql!, /;/, probe.id);
            assert.deepEqual(nonTransactionalConstructs(withoutLiterals(sql!)), [], `${probe.id}: ${sql}`);
          }
        }
      });

      it('never runs DROP DATABASE, nextval, setval, a signal or a program live: those have substitutes or catalogue forms', () => {
        const byId = new Map(probes.map((probe) => [probe.id, probe]));
        const drop = byId.get('drop-prod-database')!;
        assert.equal(drop.statement, 'DROP DATABASE "erp"');
        assert.equal(drop.transactional, false);
        assert.equal(drop.live.kind, 'catalogue');
        assert.match(liveSql(drop)!, /^SELECT \(pg_has_role\(current_user, d\.datdba, 'USAGE'\) OR r\.rolsuper\) AS allowed .* WHERE d\.datname = 'erp' /);
        for (const id of ['nextval-prod-sequence', 'setval-prod-sequence', 'terminate-prod-session', 'copy-to-program', 'lo-import-server-file', 'create-database']) {
          assert.equal(byId.get(id)?.live.kind, 'catalogue', id);
        }
        assert.equal(liveSql(byId.get('nextval-prod-sequence')!), `SELECT has_sequence_privilege(current_user, 'public.llx_societe_rowid_seq', 'USAGE, UPDATE') AS allowed`);
      });

      it('sends a live prod no statement that locks prod\'s object before its privilege is checked, nor one that executes a write', () => {
        for (const probe of probes.filter((candidate) => candidate.live.kind === 'rollback')) {
          const sql = liveSql(probe);
          if (sql === null) continue;
          assert.deepEqual(locksBeforeCheck(sql), [], `${probe.id}: ${sql}`);
          assert.deepEqual(executedWrites(sql), [], `${probe.id}: ${sql}`);
        }
        const byId = new Map(probes.map((probe) => [probe.id, probe]));
        // Writes are EXPLAINed: PostgreSQL's own privilege check, nothing executed.
        for (const id of ['insert-prod-table', 'update-prod-table', 'delete-prod-table']) {
          const probe = byId.get(id)!;
          assert.equal(liveSql(probe), `EXPLAIN ${probe.statement}`, id);
        }
        // Locked for before the check, or firing prod's triggers: the rule PostgreSQL applies, asked of the catalogue.
        assert.equal(liveSql(byId.get('create-trigger-in-prod')!), tableRule('public.llx_societe', 'TRIGGER'));
        assert.equal(liveSql(byId.get('truncate-prod-table')!), tableRule('public.llx_societe', 'TRUNCATE'));
        for (const id of ['drop-prod-database', 'alter-prod-database-owner', 'rename-prod-database', 'comment-on-prod-database']) {
          assert.equal(liveSql(byId.get(id)!), databaseRule('erp', OWNS_DATABASE), id);
        }
        assert.equal(liveSql(byId.get('drop-user-lookup')!), dropFunctionRule(context.userLookup));
        // What checks first stays PostgreSQL's own answer, rolled back.
        for (const id of ['select-prod-table', 'alter-prod-table', 'drop-prod-table', 'create-table-in-prod', 'set-role-prod-owner', 'replace-user-lookup']) {
          assert.equal(byId.get(id)!.live.kind, 'rollback', id);
        }
      });

      it('expects SQLSTATE 42501 with an anchored message, states a reason and a fence, covers known fences', () => {
        for (const probe of probes) {
          assert.equal(probe.refusal.sqlstate, '42501', probe.id);
          assert.match(probe.refusal.message.source, /^\^.*\$$/, probe.id);
          assert.ok(probe.refusal.reason && probe.fence, probe.id);
          for (const fence of probe.covers) assert.ok(FENCES.includes(fence), `${probe.id}: ${fence}`);
          assert.ok(probe.covers.includes('no superuser'), `${probe.id}: a superuser passes every fence`);
        }
      });

      it('gives every probe a mirror, or says why nothing of the sandbox\'s is entitled to the attempt', () => {
        assert.deepEqual(probes.filter((probe) => probe.mirror.kind === 'none').map((probe) => probe.id), WITHOUT_MIRROR);
        for (const probe of probes) {
          const { mirror } = probe;
          if (mirror.kind === 'none') {
            assert.ok(mirror.why.length > 40, `${probe.id}: a reason, not a word`);
            continue;
          }
          // Not applicable live would hide a mirror the catalogue forgot; a non-rollbackable attempt's counterpart says its rule.
          if (!probe.transactional) assert.ok(mirror.rule, `${probe.id}: the rule of its counterpart`);
          assert.equal(mirrorSql(probe) === null, probe.statement === null, `${probe.id}: only connecting mirrors only connecting`);
        }
      });

      it('runs mirrors only in forms as safe as a live form, aimed at the sandbox\'s own objects, never prod\'s', () => {
        for (const probe of probes) {
          const sql = mirrorSql(probe);
          if (sql === null) continue;
          if (probe.mirror.kind === 'rollback') {
            assert.deepEqual(nonTransactionalConstructs(sql), [], `${probe.id}: ${sql}`);
            assert.doesNotMatch(sql.replace(/;\s*$/, ''), /;/, probe.id);
          } else {
            assert.match(sql, /^SELECT\b/i, probe.id);
            assert.deepEqual(nonTransactionalConstructs(withoutLiterals(sql)), [], `${probe.id}: ${sql}`);
          }
          assert.ok(!sql.includes('"erp"') && !sql.includes("'erp'") && !sql.includes('"erp_role"'), `${probe.id} names prod: ${sql}`);
        }
        const byId = new Map(probes.map((probe) => [probe.id, probe]));
        assert.equal(mirrorSql(byId.get('drop-prod-database')!), `COMMENT ON DATABASE "erp-sandbox" IS 'erp-rehearsal: ownership probe'`);
        assert.equal(mirrorSql(byId.get('set-role-prod-owner')!), 'SET ROLE "erp_sandbox_role"');
        assert.equal(mirrorSql(byId.get('nextval-prod-sequence')!), `SELECT has_sequence_privilege(current_user, 'public.llx_societe_rowid_seq', 'USAGE, UPDATE') AS allowed`);
      });

      it('names the Dolibarr objects its mirrors aim at, so a run can make sure the sandbox holds them', () => {
        assert.deepEqual(mirrorObjects(probes), [
          'public.llx_societe',
          'public.llx_societe_rowid_seq',
          'public.update_modified_column_tms()',
          'public.unix_timestamp(timestamp without time zone)',
        ]);
      });

      it('quotes names taken from the naming rule', () => {
        const hyphenated: ProbeContext = { ...context, prod: instanceNames('dance-lessons-coach'), sandbox: instanceNames('dance-lessons-coach', 'sandbox') };
        const drop = probeCatalogue(hyphenated).find((probe) => probe.id === 'drop-prod-database')!;
        assert.equal(drop.statement, 'DROP DATABASE "dance-lessons-coach"');
        assert.ok(drop.refusal.message.test('must be owner of database dance-lessons-coach'));
        assert.ok(!drop.refusal.message.test('must be owner of database dance-lessons-coachX'));
      });
    });
  }

  it('carries the as-provisioned layout\'s weaknesses, and user_lookup\'s only while it lives in public', () => {
    const [asProvisioned, hardened] = contexts.map((context) => probeCatalogue(context).filter((probe) => probe.weakness).map((probe) => probe.id));
    assert.deepEqual(asProvisioned, ['connect-to-prod', 'create-temp-table-in-prod', 'drop-user-lookup']);
    assert.deepEqual(hardened, ['connect-to-prod', 'create-temp-table-in-prod']);
  });
});

describe('defineProbe refuses a mirror that could outlive its rollback, lift its bounds, or aim at prod', () => {
  const mirrored = (mirror: Probe['mirror'], probe: Partial<Probe> = {}): Probe => ({ ...base, ...probe, mirror });
  const context = contexts[0]!;

  it('accepts a rolled-back statement, a catalogue query answering allowed, and a reasoned none', () => {
    assert.ok(defineProbe(mirrored({ kind: 'rollback', statement: 'SET ROLE "erp_sandbox_role"' }), context));
    assert.ok(defineProbe(mirrored({ kind: 'catalogue', query: `SELECT has_sequence_privilege(current_user, 'public.s', 'UPDATE') AS allowed`, rule: 'reads the ACL' })));
    assert.ok(defineProbe(mirrored({ kind: 'none', why: 'nothing of the sandbox\'s is entitled to it' })));
  });

  it('a mirror that does not roll back, or could end its own transaction', () => {
    rejects(mirrored({ kind: 'rollback', statement: `SELECT nextval('public.llx_societe_rowid_seq')` }), /the mirror contains nextval/);
    rejects(mirrored({ kind: 'rollback', statement: 'DROP DATABASE "erp-sandbox"' }), /the mirror contains DROP DATABASE/);
    rejects(mirrored({ kind: 'rollback', statement: `SELECT pg_terminate_backend(pg_backend_pid())` }), /the mirror contains pg_terminate_backend/);
    rejects(mirrored({ kind: 'rollback', statement: 'COMMIT' }), /transaction control/);
    rejects(mirrored({ kind: 'rollback', statement: `COMMENT ON DATABASE "erp-sandbox" IS 'x'; COMMIT` }), /more than one statement/);
    rejects(mirrored({ kind: 'catalogue', query: `WITH x AS (DELETE FROM public.llx_societe RETURNING 1) SELECT true AS allowed FROM x`, rule: 'r' }), /DELETE: it must only read/);
  });

  it('a mirror or live form that could lift the lock and statement timeouts it runs under', () => {
    rejects(mirrored({ kind: 'rollback', statement: 'SET lock_timeout = 0' }), /lock_timeout: it could lift/);
    rejects(mirrored({ kind: 'rollback', statement: 'RESET ALL' }), /RESET: it could lift/);
    rejects(mirrored({ kind: 'catalogue', query: `SELECT set_config('statement_timeout', '0', true) IS NOT NULL AS allowed`, rule: 'r' }), /set_config: it could lift/);
    rejects({ ...base, live: { kind: 'rollback', statement: 'SET LOCAL statement_timeout = 0', rule: 'r' } }, /statement_timeout: it could lift/);
  });

  it('a mirror aimed at prod\'s database or owner role', () => {
    rejects(mirrored({ kind: 'rollback', statement: `COMMENT ON DATABASE "erp" IS 'x'` }), /names prod's erp: it must aim at the sandbox's own objects/, context);
    rejects(mirrored({ kind: 'rollback', statement: 'SET ROLE "erp_role"' }), /names prod's erp_role/, context);
    // Without the context (a probe defined on its own), the names cannot be checked.
    assert.ok(defineProbe(mirrored({ kind: 'rollback', statement: 'SET ROLE "erp_role"' })));
  });

  it('a none without its reason, a counterpart without its rule, a mirror that only connects for a statement, objects it does not name', () => {
    rejects(mirrored({ kind: 'none', why: ' ' }), /must say why/);
    rejects(
      mirrored({ kind: 'rollback', statement: `COMMENT ON DATABASE "erp-sandbox" IS 'x'` }, { statement: 'DROP DATABASE "erp"', transactional: false, live: { kind: 'rollback', statement: `COMMENT ON DATABASE "erp" IS 'x'`, rule: 'same check' } }),
      /give the rule that makes it so/,
    );
    rejects(mirrored({ kind: 'rollback', statement: null }), /only connects, but the attempt is a statement/);
    rejects(mirrored({ kind: 'rollback', statement: 'SELECT count(*) FROM public.llx_societe', aimsAt: ['public.llx_facture'] }), /aims at public\.llx_facture, which its SQL does not name/);
  });
});

describe('defineProbe refuses a probe without a safe live form', () => {
  it('accepts the well-formed base probe', () => {
    assert.equal(defineProbe(base), base);
  });

  it('a rollback live form of DROP DATABASE (as its own statement or as a substitute)', () => {
    rejects({ ...base, statement: 'DROP DATABASE "erp"', transactional: true }, /DROP DATABASE/);
    rejects({ ...base, live: { kind: 'rollback', statement: 'DROP DATABASE "erp"', rule: 'same' } }, /DROP DATABASE/);
  });

  it('a rollback live form of nextval or setval', () => {
    rejects({ ...base, statement: `SELECT nextval('public.llx_societe_rowid_seq')` }, /nextval/);
    rejects({ ...base, live: { kind: 'rollback', statement: `SELECT setval('public.llx_societe_rowid_seq', 1)`, rule: 'same' } }, /setval/);
  });

  it('a rollback live form of COPY … TO PROGRAM, or of another server-side effect', () => {
    rejects({ ...base, statement: `COPY (SELECT 1) TO PROGRAM 'true'` }, /COPY … PROGRAM/);
    for (const [sql, name] of [
      [`SELECT pg_terminate_backend(42)`, /pg_terminate_backend/],
      [`SELECT lo_import('/etc/passwd')`, /lo_import/],
      [`SELECT dblink_exec('dbname=erp', 'DROP TABLE x')`, /dblink/],
      [`SELECT pg_advisory_lock(1)`, /pg_advisory_lock/],
      [`NOTIFY erp`, /NOTIFY/],
      [`VACUUM public.llx_societe`, /VACUUM/],
      [`CREATE INDEX CONCURRENTLY i ON public.llx_societe (nom)`, /CONCURRENTLY/],
      [`ALTER DATABASE "erp" RENAME TO x`, /RENAME/],
      [`ALTER SYSTEM SET fsync = off`, /ALTER SYSTEM/],
      [`COPY public.llx_societe TO '/tmp/x'`, /server file/],
    ] as const) {
      rejects({ ...base, statement: sql }, name);
    }
  });

  it('a rollback live form of a statement marked non-transactional', () => {
    rejects({ ...base, transactional: false }, /marked non-transactional/);
  });

  it('a rollback live form that could end its own transaction', () => {
    rejects({ ...base, statement: 'SET ROLE "erp_role"; COMMIT' }, /more than one statement/);
    rejects({ ...base, live: { kind: 'rollback', statement: 'COMMIT', rule: 'none' } }, /transaction control/);
  });

  it('a catalogue form with a semicolon, an INSERT in a CTE, or anything but one SELECT', () => {
    const catalogue = (query: string): Probe => ({ ...base, live: { kind: 'catalogue', query, rule: 'reads the catalog' } });
    assert.ok(defineProbe(catalogue(`SELECT has_database_privilege(current_user, 'erp', 'CREATE') AS allowed`)));
    rejects(catalogue(`SELECT false AS allowed; DROP DATABASE "erp"`), /";"/);
    rejects(catalogue(`WITH x AS (INSERT INTO public.llx_societe (nom) VALUES ('x') RETURNING 1) SELECT false AS allowed FROM x`), /INSERT/);
    rejects(catalogue(`SELECT nextval('public.llx_societe_rowid_seq') > 0 AS allowed`), /nextval/);
    rejects(catalogue(`SELECT true AS allowed INTO public.copy`), /INTO/);
    rejects(catalogue(`DELETE FROM public.llx_societe RETURNING true AS allowed`), /not a SELECT/);
    rejects(catalogue(`SELECT true AS permitted`), /"allowed"/);
    rejects(catalogue(`SELECT query_to_xml('SELECT pg_terminate_backend(1)', true, false, '') IS NOT NULL AS allowed`), /SQL held in text/);
  });

  it('a live form that needs the prod session token, which only exists when the runner opens a session', () => {
    rejects(
      { ...base, statement: 'SELECT pg_terminate_backend({prod_session_pid})', transactional: false, needsProdSession: true, live: { kind: 'catalogue', query: 'SELECT {prod_session_pid} > 0 AS allowed', rule: 'x' } },
      /prod session/,
    );
  });

  it('a malformed probe: not kebab-case, loose message, no fence covered', () => {
    rejects({ ...base, id: 'Drop_DB' }, /kebab-case/);
    rejects({ ...base, refusal: { ...base.refusal, message: /must be owner/ } }, /not anchored/);
    rejects({ ...base, covers: [] }, /covers no fence/);
  });
});

describe('features/prod-undroppable.feature and the probe catalogue', () => {
  const feature = join(__dirname, '..', 'features', 'prod-undroppable.feature');
  const document = new Parser(new AstBuilder(IdGenerator.incrementing()), new GherkinClassicTokenMatcher()).parse(readFileSync(feature, 'utf8'));
  const scenarios = (document.feature?.children ?? []).flatMap((child) => (child.scenario ? [child.scenario] : []));
  const outlines = scenarios.filter((scenario) => scenario.name === 'the sandbox credential cannot <attempt>');
  const hasStep = (scenario: Scenario, text: string) => scenario.steps.some((step) => step.text === text);
  /** The <attempt> of every row of the outline, in file order. */
  const attempts = (outline: Scenario) =>
    outline.examples.flatMap((examples) => {
      const column = examples.tableHeader!.cells.findIndex((cell) => cell.value === 'attempt');
      return examples.tableBody.map((row) => row.cells[column]!.value);
    });
  const CONTROL = 'the same attempt succeeds for a credential entitled to it';
  const probes = probeCatalogue(contexts[0]!);

  it('has two outlines of the probes under one name: one with the positive-control step, one without', () => {
    assert.deepEqual(outlines.map((outline) => hasStep(outline, CONTROL)), [true, false]);
  });

  it('runs the probes without a mirror, exactly, in the outline without a positive-control step, and every other probe in the one with it', () => {
    const [mirrored, unmirrored] = outlines;
    const without = withoutMirror(probes).map((probe) => probe.attempt);
    assert.deepEqual(attempts(unmirrored!), without);
    assert.deepEqual(attempts(mirrored!), probes.map((probe) => probe.attempt).filter((attempt) => !without.includes(attempt)));
  });

  it('proves the positive controls of the probes without a mirror in a scenario of their own', () => {
    const proofs = scenarios.filter((scenario) => hasStep(scenario, "every attempt nothing of the sandbox's is entitled to succeeds for the credential entitled to it"));
    assert.deepEqual(proofs.map((scenario) => scenario.name), ["every attempt nothing of the sandbox's is entitled to succeeds for the credential entitled to it"]);
  });
});

/** Statements that lock their object before PostgreSQL checks the privilege, each named by the rule that finds it (measured on PostgreSQL 15). */
const LOCKING_FIRST: readonly (readonly [string, RegExp])[] = [
  ['CREATE TRIGGER t BEFORE UPDATE ON public.llx_societe FOR EACH ROW EXECUTE FUNCTION public.update_modified_column_tms()', /is CREATE TRIGGER, which takes SHARE ROW EXCLUSIVE on the table before the TRIGGER privilege is checked/],
  ['CREATE RULE r AS ON INSERT TO public.llx_societe DO INSTEAD NOTHING', /is CREATE RULE, which takes ACCESS EXCLUSIVE/],
  [`COMMENT ON TABLE public.llx_societe IS 'x'`, /is COMMENT ON, which takes SHARE UPDATE EXCLUSIVE/],
  [`SECURITY LABEL ON TABLE public.llx_societe IS 'x'`, /is SECURITY LABEL/],
  [`ALTER DATABASE "erp" SET work_mem = '64MB'`, /is ALTER DATABASE … SET\/RESET, which takes ACCESS SHARE on the database/],
  ['ALTER DATABASE "erp" RESET work_mem', /is ALTER DATABASE … SET\/RESET/],
  ['DROP FUNCTION public.update_modified_column_tms()', /is DROP of a function, schema, type, trigger…, which takes ACCESS EXCLUSIVE on the object/],
  ['DROP SCHEMA public CASCADE', /is DROP of a function/],
  ['DROP TRIGGER t ON public.llx_societe', /is DROP of a function/],
  ['ANALYZE public.llx_societe', /is ANALYZE/],
];

/** Statements that would execute a write, with prod's triggers, defaults and rules, were their fence broken. */
const EXECUTING: readonly (readonly [string, string])[] = [
  [`INSERT INTO public.llx_societe (rowid, nom) VALUES (-1, 'x')`, 'INSERT'],
  ['UPDATE public.llx_societe SET nom = nom WHERE rowid = 1', 'UPDATE'],
  ['DELETE FROM public.llx_societe WHERE rowid = -1', 'DELETE'],
  ['MERGE INTO public.llx_societe t USING (SELECT 1 AS id) s ON t.rowid = s.id WHEN MATCHED THEN UPDATE SET nom = t.nom', 'MERGE'],
  ['TRUNCATE public.llx_societe', 'TRUNCATE'],
  ['COPY public.llx_societe (nom) FROM STDIN', 'COPY'],
  ['EXECUTE erp_write(1)', 'EXECUTE'],
  ['WITH gone AS (DELETE FROM public.llx_societe WHERE rowid = -1 RETURNING 1) SELECT count(*) FROM gone', 'DELETE'],
  ['WITH one AS (SELECT 1 AS id) UPDATE public.llx_societe SET nom = nom FROM one WHERE rowid = one.id', 'UPDATE'],
  ['EXPLAIN ANALYZE UPDATE public.llx_societe SET nom = nom WHERE rowid = 1', 'EXPLAIN ANALYZE'],
  ['EXPLAIN (ANALYZE, COSTS OFF) DELETE FROM public.llx_societe', 'EXPLAIN ANALYZE'],
];

describe('defineProbe refuses a live form that could stall prod, or run its triggers, defaults or rules', () => {
  const own = (statement: string): Probe => ({ ...base, statement });
  const substitute = (statement: string): Probe => ({ ...base, live: { kind: 'rollback', statement, rule: 'the same check' } });

  it('a statement PostgreSQL locks its object for before it checks the privilege, as its own live form or as a substitute', () => {
    for (const [sql, why] of LOCKING_FIRST) {
      rejects(own(sql), why);
      rejects(substitute(sql), why);
    }
    rejects(own(LOCKING_FIRST[0]![0]), /the statement \(its own live form\) is CREATE TRIGGER.*give a catalogue form of the rule PostgreSQL applies/);
  });

  it('a statement that takes row locks, or a LOCK that may queue', () => {
    rejects(own('SELECT rowid FROM public.llx_societe WHERE rowid = 1 FOR UPDATE'), /locks rows \(FOR UPDATE\/SHARE\): it would wait on prod's open writes/);
    rejects(own('SELECT rowid FROM public.llx_societe FOR NO KEY UPDATE'), /locks rows/);
    rejects(own('SELECT rowid FROM public.llx_societe FOR KEY SHARE'), /locks rows/);
    rejects(own('LOCK TABLE public.llx_societe IN ACCESS EXCLUSIVE MODE'), /a LOCK without NOWAIT/);
    assert.ok(defineProbe(own('LOCK TABLE public.llx_societe IN ACCESS EXCLUSIVE MODE NOWAIT')));
  });

  it('a write PostgreSQL would execute, in any clothing; its EXPLAIN is the live form to give', () => {
    for (const [sql, write] of EXECUTING) {
      rejects(own(sql), new RegExp(`executes ${write}: were its fence broken, prod's triggers would fire, its defaults be evaluated and its rules apply — give EXPLAIN of it`));
      rejects(substitute(sql), new RegExp(`the live substitute executes ${write}`));
      assert.deepEqual(executedWrites(sql), [write], sql);
    }
    for (const sql of ['UPDATE public.llx_societe SET nom = nom WHERE rowid = 1', 'DELETE FROM public.llx_societe WHERE rowid = -1']) {
      assert.ok(defineProbe(substitute(`EXPLAIN ${sql}`)));
      assert.ok(defineProbe(substitute(`EXPLAIN (COSTS OFF) ${sql}`)));
      assert.ok(defineProbe(substitute(`EXPLAIN VERBOSE ${sql}`)));
    }
  });

  it('accepts what checks the privilege first, and words that only name a privilege or an event', () => {
    for (const sql of [
      'SELECT count(*) FROM public.llx_societe',
      'ALTER TABLE public.llx_societe ADD COLUMN erp_rehearsal_probe integer',
      'DROP TABLE public.llx_societe CASCADE',
      'DROP OWNED BY "erp_role"',
      'ALTER TABLE public.llx_societe DROP COLUMN erp_rehearsal_probe',
      'ALTER TABLE public.llx_societe DROP CONSTRAINT erp_rehearsal_probe',
      'ALTER DATABASE "erp" OWNER TO "erp_sandbox_role"',
      'GRANT SELECT, UPDATE ON public.llx_societe TO "erp_sandbox_role"',
      `SELECT 'UPDATE x SET y = 1, COMMENT ON DATABASE erp' AS text`,
    ]) {
      assert.deepEqual(executedWrites(sql), [], sql);
      assert.deepEqual(locksBeforeCheck(sql), [], sql);
      assert.ok(defineProbe(own(sql)), sql);
    }
  });

  it('holds a mirror, which aims at the sandbox, to its own rules only: a rolled-back write of the sandbox\'s is a mirror', () => {
    assert.ok(defineProbe({ ...base, mirror: { kind: 'rollback', statement: 'UPDATE public.llx_societe SET nom = nom WHERE rowid = 1', aimsAt: ['public.llx_societe'] } }));
  });
});

describe("the golden identity's and the clone's fences are held to the probes' rules for live forms", () => {
  const names = { prod, sandbox };
  const goldenBase = goldenAttempts(names).find((attempt) => attempt.attempt === 'set role erp_role')!;
  const golden = (change: Partial<GoldenAttempt>) => () => defineGoldenAttempt({ ...goldenBase, ...change });
  const cloneBase = cloneAttempts(names).find((attempt) => attempt.attempt === 'set role erp_role')!;
  const clone = (change: Partial<CloneAttempt>) => () => defineCloneAttempt({ ...cloneBase, ...change }, names);
  const refusedFor = (kind: new (...args: never[]) => Error, why: RegExp) => (error: unknown) => {
    assert.ok(error instanceof kind, String(error));
    assert.match(error.message, why);
    return true;
  };

  it('their catalogues send no live statement that locks before its check or executes a write; their writes are EXPLAINed', () => {
    for (const attempt of goldenAttempts(names)) {
      const live = liveFormOf(attempt);
      if (live.kind !== 'rollback') continue;
      const sql = live.statement ?? attempt.statement;
      assert.deepEqual([locksBeforeCheck(sql), executedWrites(sql)], [[], []], `${attempt.attempt}: ${sql}`);
    }
    for (const attempt of cloneAttempts(names)) {
      if (attempt.live.kind !== 'rollback') continue;
      const sql = attempt.live.statement ?? attempt.statement;
      assert.deepEqual([locksBeforeCheck(sql), executedWrites(sql)], [[], []], `${attempt.attempt}: ${sql}`);
    }
    const explainedGolden = goldenAttempts(names).filter((attempt) => /^(INSERT|UPDATE|DELETE)\b/.test(attempt.statement));
    assert.deepEqual(explainedGolden.map((attempt) => liveFormOf(attempt)), explainedGolden.map((attempt) => ({ kind: 'rollback', statement: `EXPLAIN ${attempt.statement}`, rule: (liveFormOf(attempt) as { rule: string }).rule })));
    assert.equal(explainedGolden.length, 4, 'insert, update, delete of prod, update of the sandbox');
    const write = cloneAttempts(names).find((attempt) => attempt.attempt === 'write prod table llx_societe')!;
    assert.deepEqual(write.live.kind === 'rollback' && write.live.statement, `EXPLAIN ${write.statement}`);
  });

  it('a golden attempt whose own live form locks before its check, or executes a write', () => {
    assert.throws(golden({ statement: LOCKING_FIRST[0]![0] }), refusedFor(GoldenAttemptDefinitionError, /is CREATE TRIGGER, which takes SHARE ROW EXCLUSIVE/));
    assert.throws(golden({ statement: 'UPDATE public.llx_societe SET nom = nom WHERE rowid = 1' }), refusedFor(GoldenAttemptDefinitionError, /executes UPDATE/));
    assert.throws(golden({ live: { kind: 'rollback', statement: `COMMENT ON DATABASE "erp" IS 'x'`, rule: 'same' } }), refusedFor(GoldenAttemptDefinitionError, /the live substitute is COMMENT ON/));
    assert.throws(golden({ statement: 'LOCK TABLE public.llx_societe IN ACCESS EXCLUSIVE MODE' }), refusedFor(GoldenAttemptDefinitionError, /LOCK without NOWAIT/));
    // A write rolled back on a hermetic target, EXPLAINed on a live one, is well-formed.
    assert.ok(golden({ statement: 'UPDATE public.llx_societe SET nom = nom WHERE rowid = 1', live: { kind: 'rollback', statement: 'EXPLAIN UPDATE public.llx_societe SET nom = nom WHERE rowid = 1', rule: 'r' } })());
  });

  it('a clone attempt whose live form locks before its check, or executes a write', () => {
    assert.throws(clone({ statement: LOCKING_FIRST[0]![0] }), refusedFor(CloneAttemptDefinitionError, /is CREATE TRIGGER/));
    assert.throws(clone({ statement: 'DELETE FROM public.llx_societe WHERE rowid = -1' }), refusedFor(CloneAttemptDefinitionError, /executes DELETE/));
    assert.throws(clone({ live: { kind: 'rollback', statement: 'ANALYZE public.llx_societe', rule: 'r' } }), refusedFor(CloneAttemptDefinitionError, /the live substitute is ANALYZE/));
    assert.throws(clone({ live: { kind: 'rollback', statement: 'EXPLAIN SELECT 1', rule: ' ' } }), refusedFor(CloneAttemptDefinitionError, /needs the rule/));
  });
});
