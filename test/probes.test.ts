/**
 * The probe catalogue's live forms are safe by construction: defineProbe refuses any probe whose live
 * form could change prod if its fence were broken, and every probe of the catalogue got through it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instanceNames } from '../support/naming';
import {
  defineProbe,
  FENCES,
  liveSql,
  nonTransactionalConstructs,
  probeCatalogue,
  ProbeDefinitionError,
  type Probe,
  type ProbeContext,
  withoutLiterals,
} from '../support/postgres/probes';
import { LAYOUTS, userLookupSignature } from '../support/postgres/provision';

const prod = instanceNames('erp');
const sandbox = instanceNames('erp', 'sandbox');
const contexts: ProbeContext[] = LAYOUTS.map((layout) => ({ prod, sandbox, userLookup: userLookupSignature(layout) }));

/** A well-formed probe to vary: COMMENT ON DATABASE, rolled back. */
const base: Probe = {
  id: 'comment-on-prod-database',
  attempt: 'comment on database erp',
  database: 'sandbox',
  statement: `COMMENT ON DATABASE "erp" IS 'x'`,
  transactional: true,
  refusal: { sqlstate: '42501', message: /^must be owner of database erp$/, reason: 'not the owner of database erp' },
  fence: 'ownership of database erp',
  covers: ['membership', 'ownership', 'no superuser'],
  live: { kind: 'rollback' },
  control: { credential: 'prod owner', database: 'prod', statement: `COMMENT ON DATABASE "erp" IS 'x'`, transactional: true },
};

function rejects(probe: Probe, why: RegExp): void {
  assert.throws(() => defineProbe(probe), (error: unknown) => {
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
        assert.equal(liveSql(drop), `COMMENT ON DATABASE "erp" IS 'erp-rehearsal: ownership probe'`);
        for (const id of ['nextval-prod-sequence', 'setval-prod-sequence', 'terminate-prod-session', 'copy-to-program', 'lo-import-server-file', 'create-database']) {
          assert.equal(byId.get(id)?.live.kind, 'catalogue', id);
        }
        assert.equal(liveSql(byId.get('nextval-prod-sequence')!), `SELECT has_sequence_privilege(current_user, 'public.llx_societe_rowid_seq', 'USAGE, UPDATE') AS allowed`);
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
    rejects({ ...base, statement: `COMMENT ON DATABASE "erp" IS 'x'; COMMIT` }, /more than one statement/);
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
