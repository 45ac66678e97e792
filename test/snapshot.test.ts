/**
 * The content-addressable snapshot against a real cluster laid out like the factory's: the fixture in
 * prod `erp`, snapshots taken by a minted prod login (a member of erp_role, not a superuser).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from 'pg';
import { DEFAULT_SEED } from '../fixtures/dolibarr';
import { diffSnapshots, type RelationChange } from '../support/lifecycle/diff';
import { entriesOf, snapshotInTransaction, SnapshotError, takeSnapshot, type Snapshot, type SnapshotOptions } from '../support/lifecycle/snapshot';
import { ownedRelations, tableContents } from '../support/lifecycle/snapshot-sql';
import { findDrift } from '../support/postgres/drift';
import { instanceNames } from '../support/naming';
import { dumpArchive } from '../support/postgres/archive';
import type { PostgresCluster } from '../support/postgres/cluster';
import { connect, withClient } from '../support/postgres/connect';
import { roleFlags } from '../support/postgres/catalog';
import { type MintedLogin } from '../support/postgres/minting';
import { DirectMinter } from './helpers/direct-minter';
import { provisionFactoryLayout, USER_LOOKUP } from '../support/postgres/provision';
import { loadFixtureAsOwner } from '../support/targets/seed-prod';
import { testCluster } from './helpers/cluster';

const prod = instanceNames('erp');
const sandbox = instanceNames('erp', 'sandbox');
const PROD_STATE: SnapshotOptions = { ownerRole: prod.ownerRole };
const FACTUREDET = 'table public.llx_facturedet';
const FACTUREDET_SEQUENCE = 'public.llx_facturedet_rowid_seq';

let cluster: PostgresCluster;
let stopCluster: (() => Promise<void>) | undefined;
let minter: DirectMinter | undefined;
let login: MintedLogin;
let client: Client | undefined;
let baseline: Snapshot;
const scratchDirs: string[] = [];

function rowsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-rows-'));
  scratchDirs.push(dir);
  return dir;
}

function db(): Client {
  return client!;
}

/** Runs `work` in a REPEATABLE READ transaction as the owner role, then rolls everything back. */
async function rehearse<T>(work: (client: Client) => Promise<T>): Promise<T> {
  await db().query(`BEGIN ISOLATION LEVEL REPEATABLE READ; SET LOCAL ROLE ${prod.ownerRole}`);
  try {
    return await work(db());
  } finally {
    await db().query('ROLLBACK');
  }
}

/** What differs from the baseline after `change` (rolled back afterwards). */
async function changesAfter(change: string): Promise<readonly RelationChange[]> {
  const changed = await rehearse(async (c) => {
    await c.query(change);
    return snapshotInTransaction(c, PROD_STATE);
  });
  assert.notEqual(changed.root, baseline.root, 'the root hash changes');
  return (await diffSnapshots(baseline, changed)).changes;
}

async function sequenceState(sequence: string): Promise<{ lastValue: string; isCalled: boolean }> {
  const { rows } = await db().query<{ lastValue: string; isCalled: boolean }>(
    `SELECT last_value::text AS "lastValue", is_called AS "isCalled" FROM ${sequence}`,
  );
  return rows[0]!;
}

/** Sequences are not transactional: a test that moves one puts it back. */
async function restoreSequence(sequence: string, state: { lastValue: string; isCalled: boolean }): Promise<void> {
  await db().query('SELECT setval($1, $2, $3)', [sequence, state.lastValue, state.isCalled]);
}

before(async () => {
  ({ cluster, stop: stopCluster } = await testCluster());
  const layout = await provisionFactoryLayout(cluster, [prod, sandbox]);
  minter = new DirectMinter({ endpoint: cluster.endpoint, credentialsEditor: layout.credentialsEditor });
  await loadFixtureAsOwner(cluster.endpoint, minter, prod, { seed: DEFAULT_SEED, scale: 0.2 });
  login = await minter.mint(prod);
  client = await connect(cluster.endpoint, login, prod.database);
  baseline = await takeSnapshot(db(), PROD_STATE);
});

after(async () => {
  await client?.end();
  await minter?.revokeAll();
  await stopCluster?.();
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

describe('the snapshot of prod, taken by a minted prod login', () => {
  it('needs no superuser and works on a read-only session', async () => {
    assert.equal((await roleFlags(db(), login.user))!.superuser, false);
    const readOnly = await connect(cluster.endpoint, login, prod.database);
    try {
      await readOnly.query('SET default_transaction_read_only = on');
      assert.equal((await takeSnapshot(readOnly, PROD_STATE)).root, baseline.root);
    } finally {
      await readOnly.end();
    }
  });

  it('holds what erp_role owns, by kind, sorted, and not the provisioner\'s user_lookup', () => {
    const keys = baseline.entries.map((entry) => entry.key);
    assert.deepEqual(keys, [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    for (const key of ['table public.llx_societe', `sequence ${FACTUREDET_SEQUENCE}`, 'function public.update_modified_column_tms()', 'view public.llx_facture_outstanding']) {
      assert.ok(keys.includes(key), `${key} is in the snapshot`);
    }
    assert.ok(!keys.includes(`function ${USER_LOOKUP}`));
    const facturedet = baseline.entries.find((entry) => entry.key === FACTUREDET)!;
    assert.ok(facturedet.rows! > 0 && facturedet.contentHash !== undefined);
    assert.equal(baseline.database, prod.database);
    assert.deepEqual(baseline.drift, []);
  });

  it('has the same root hashed on several sessions, which read the first session\'s MVCC snapshot', async () => {
    const opened: Client[] = [];
    // The superuser writes with triggers off, so that putting the row back leaves its tms as it was.
    const writer = await connect(cluster.endpoint, cluster.superuser, prod.database);
    await writer.query('SET session_replication_role = replica');
    const reader = await connect(cluster.endpoint, login, prod.database);
    let tables = 0;
    // The largest tables go first, one to each session: a changed row in each of them reaches every session.
    const { rows: largest } = await writer.query<{ name: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND c.relowner = $1::regrole AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'rowid')
        ORDER BY pg_table_size(c.oid) DESC LIMIT 3`,
      [prod.ownerRole],
    );
    // One statement at a time: a client runs one query at once (node-postgres 9 will refuse a second).
    const flipRowids = async (where: string) => {
      for (const { name } of largest) await writer.query(`UPDATE ${name} SET rowid = -rowid WHERE ${where.replace('$T', name)}`);
    };
    try {
      const parallel = {
        sessions: 3,
        fromBytes: 0,
        connect: async () => {
          const session = await connect(cluster.endpoint, login, prod.database);
          opened.push(session);
          // Writes committed after the snapshot began, before the sessions import it: they must not be seen.
          if (opened.length === 1) await flipRowids('rowid = (SELECT min(rowid) FROM $T)');
          return session;
        },
      };
      const snapshot = await takeSnapshot(reader, { ...PROD_STATE, parallel, onTable: (progress) => (tables = progress.tablesDone) });
      assert.equal(opened.length, 2, 'two more sessions were opened');
      assert.equal(snapshot.root, baseline.root);
      assert.equal(tables, baseline.entries.filter((entry) => entry.rows !== undefined).length, 'progress counted every table with rows');
      assert.ok(opened.every((session) => (session as unknown as { _ending: boolean })._ending), 'the extra sessions were closed');
      assert.notEqual((await takeSnapshot(reader, PROD_STATE)).root, baseline.root, 'the later write is there for a new snapshot');
    } finally {
      await flipRowids('rowid < 0');
      await Promise.all([writer.end(), reader.end()]);
    }
    assert.equal((await takeSnapshot(db(), PROD_STATE)).root, baseline.root);
  });

  it('has the same root with and without row images', async () => {
    assert.equal((await takeSnapshot(db(), { ...PROD_STATE, rowsDir: rowsDir() })).root, baseline.root);
  });

  it('has the same hashes with and without row images for a table too large for one query, whose image streams through a cursor', async () => {
    const [without, withImages, dir] = await rehearse(async (c) => {
      // ≈ 4 MB, past the one-query size (row-images.ts); primary key by rowid, as Dolibarr's tables.
      await c.query(`CREATE TABLE public.llx_large (rowid integer PRIMARY KEY, note text);
                     INSERT INTO public.llx_large SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 25000) g`);
      const dir = rowsDir();
      return [await snapshotInTransaction(c, PROD_STATE), await snapshotInTransaction(c, { ...PROD_STATE, rowsDir: dir }), dir] as const;
    });
    const large = withImages.entries.find((entry) => entry.key === 'table public.llx_large');
    assert.equal(large?.rows, 25000);
    assert.deepEqual(withImages.entries, without.entries);
    assert.equal(withImages.root, without.root);
    const image = readdirSync(dir).find((file) => file.startsWith('table_public.llx_large-'));
    assert.equal(readFileSync(join(dir, image!), 'utf8').trimEnd().split('\n').length, 1 + 25000, 'the header and every row');
  });

  it('knows a table whose heap has no page holds no row, as the server counts a table whose rows are deleted but still on their page', async () => {
    const [relations, without, withImages, dir] = await rehearse(async (c) => {
      await c.query(`CREATE TABLE public.llx_no_pages (rowid integer PRIMARY KEY, note text);
                     CREATE TABLE public.llx_deleted (rowid integer PRIMARY KEY, note text);
                     INSERT INTO public.llx_deleted VALUES (1, 'gone'); DELETE FROM public.llx_deleted;
                     CREATE TABLE public.llx_one_row (rowid integer PRIMARY KEY, note text);
                     INSERT INTO public.llx_one_row VALUES (1, 'kept')`);
      const dir = rowsDir();
      const names = ['public.llx_no_pages', 'public.llx_deleted', 'public.llx_one_row'];
      return [await ownedRelations(c, prod.ownerRole, names), await snapshotInTransaction(c, PROD_STATE), await snapshotInTransaction(c, { ...PROD_STATE, rowsDir: dir }), dir] as const;
    });
    assert.deepEqual(Object.fromEntries(relations.map((relation) => [relation.name, relation.noPages])), {
      'public.llx_no_pages': true,
      'public.llx_deleted': false,
      'public.llx_one_row': false,
    });
    const entry = (name: string) => without.entries.find((e) => e.key === `table public.${name}`)!;
    assert.deepEqual([entry('llx_no_pages').rows, entry('llx_deleted').rows, entry('llx_one_row').rows], [0, 0, 1]);
    assert.equal(entry('llx_no_pages').contentHash, entry('llx_deleted').contentHash, 'no row, whether read or known without reading');
    assert.deepEqual(withImages.entries, without.entries);
    const image = readdirSync(dir).find((file) => file.startsWith('table_public.llx_no_pages-'));
    assert.equal(readFileSync(join(dir, image!), 'utf8').trimEnd().split('\n').length, 1, 'the header alone');
  });

  it('reads the small tables together in one message, each answer the one it gives alone', async () => {
    const [together, alone] = await rehearse(async (c) => {
      const relations = (await ownedRelations(c, prod.ownerRole)).filter((relation) => relation.hasRows && !relation.noPages);
      assert.ok(relations.length > 100, `${relations.length} tables with rows`);
      const alone = [];
      for (const relation of relations) alone.push(...(await tableContents(c, [relation])));
      return [await tableContents(c, relations), alone];
    });
    assert.deepEqual(together, alone);
    assert.ok(new Set(together.map((content) => content.sum)).size > 100, 'tables of different contents');
  });

  it('gives the entries of the relations, functions and views it is asked for as the whole snapshot holds them, and nothing else', async () => {
    const keys = [FACTUREDET, `sequence ${FACTUREDET_SEQUENCE}`, 'view public.llx_facture_outstanding', 'function public.update_modified_column_tms()', 'table public.llx_no_such_table'];
    const entries = await entriesOf(db(), prod.ownerRole, keys);
    assert.deepEqual([...entries.keys()].sort(), keys.slice(0, 4).sort());
    for (const [key, entry] of entries) assert.deepEqual(entry, baseline.entries.find((whole) => whole.key === key), key);
    const moved = await sequenceState(FACTUREDET_SEQUENCE);
    await db().query('SELECT nextval($1)', [FACTUREDET_SEQUENCE]);
    try {
      const after = await entriesOf(db(), prod.ownerRole, [`sequence ${FACTUREDET_SEQUENCE}`]);
      const whole = (await takeSnapshot(db(), PROD_STATE)).entries.find((entry) => entry.key === `sequence ${FACTUREDET_SEQUENCE}`)!;
      assert.notEqual(whole.hash, baseline.entries.find((entry) => entry.key === whole.key)!.hash);
      assert.deepEqual(after.get(whole.key), whole);
    } finally {
      await restoreSequence(FACTUREDET_SEQUENCE, moved);
    }
  });

  it('refuses a transaction that is not REPEATABLE READ, and a takeSnapshot inside a transaction', async () => {
    await db().query('BEGIN');
    try {
      await assert.rejects(snapshotInTransaction(db(), PROD_STATE), /REPEATABLE READ/);
      await assert.rejects(takeSnapshot(db(), PROD_STATE), /inside a transaction/);
    } finally {
      await db().query('ROLLBACK');
    }
  });

  it('leaves the caller\'s transaction usable after a read the server refused', async () => {
    await db().query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    try {
      // Rows, so that the tables are read (one without a page is known to be empty without reading it), together in
      // one message: the refused read is still the one named.
      await db().query(`CREATE TABLE public.readable (x integer); CREATE TABLE public.unreadable (x integer); CREATE TABLE public.readable_too (x integer);
                        INSERT INTO public.readable VALUES (1); INSERT INTO public.unreadable VALUES (1); INSERT INTO public.readable_too VALUES (1);
                        REVOKE SELECT ON public.unreadable FROM "${login.user}"`);
      await assert.rejects(snapshotInTransaction(db(), { ownerRole: login.user }), { code: '42501', message: /^cannot read table public\.unreadable: permission denied/ });
      assert.equal((await db().query('SELECT count(*)::int AS n FROM llx_societe')).rows[0].n > 0, true);
    } finally {
      await db().query('ROLLBACK');
    }
  });

  it('refuses a row image directory that another snapshot already filled', async () => {
    const dir = rowsDir();
    await takeSnapshot(db(), { ...PROD_STATE, rowsDir: dir });
    await assert.rejects(takeSnapshot(db(), { ...PROD_STATE, rowsDir: dir }), /already holds row images/);
  });

  it('reports a login without the owner\'s privileges with the server\'s SQLSTATE', async () => {
    const stranger = await minter!.mint(sandbox);
    const wrongDatabase = await connect(cluster.endpoint, stranger, prod.database);
    try {
      await assert.rejects(takeSnapshot(wrongDatabase, PROD_STATE), (error: unknown) => {
        assert.ok(error instanceof SnapshotError);
        assert.equal(error.code, '42501');
        assert.match(error.message, /permission denied .*\(SQLSTATE 42501\)/);
        return true;
      });
    } finally {
      await wrongDatabase.end();
      await minter!.revoke(stranger);
    }
  });
});

describe('the root hash does not change with', () => {
  it('CLUSTER, which reorders the rows on disk', async () => {
    const physicalOrder = async () => (await db().query('SELECT rowid FROM llx_societe ORDER BY ctid')).rows.map((row) => row.rowid);
    const was = await physicalOrder();
    await db().query('CLUSTER llx_societe USING idx_societe_nom');
    assert.notDeepEqual(await physicalOrder(), was, 'the physical order changed');
    assert.equal((await takeSnapshot(db(), PROD_STATE)).root, baseline.root);
  });

  it('VACUUM FULL, which rewrites a table into a new file', async () => {
    const fileNode = async () => (await db().query("SELECT pg_relation_filenode('llx_facturedet') AS node")).rows[0].node;
    const was = await fileNode();
    await db().query('VACUUM FULL llx_facturedet');
    assert.notEqual(await fileNode(), was);
    assert.equal((await takeSnapshot(db(), PROD_STATE)).root, baseline.root);
  });

  it('the server\'s TimeZone, DateStyle, IntervalStyle, extra_float_digits, bytea_output, search_path', async () => {
    const sample = 'SELECT datec::text AS text FROM public.llx_societe WHERE datec IS NOT NULL ORDER BY rowid LIMIT 1';
    const usual = (await db().query(sample)).rows[0].text;
    const settings = [
      "TimeZone = 'Pacific/Chatham'",
      "DateStyle = 'SQL, DMY'",
      "IntervalStyle = 'sql_standard'",
      'extra_float_digits = -3',
      "bytea_output = 'escape'",
      "search_path = 'pg_catalog'",
      'quote_all_identifiers = on',
    ];
    await withClient(cluster.endpoint, cluster.superuser, prod.database, async (provisioner) => {
      for (const setting of settings) await provisioner.query(`ALTER DATABASE ${prod.database} SET ${setting}`);
    });
    try {
      const reconfigured = await connect(cluster.endpoint, login, prod.database);
      try {
        assert.notEqual((await reconfigured.query(sample)).rows[0].text, usual, 'the settings change how values render');
        assert.equal((await takeSnapshot(reconfigured, PROD_STATE)).root, baseline.root);
      } finally {
        await reconfigured.end();
      }
    } finally {
      await withClient(cluster.endpoint, cluster.superuser, prod.database, (provisioner) => provisioner.query(`ALTER DATABASE ${prod.database} RESET ALL`));
    }
  });

  it('a dump of prod restored into the sandbox by the sandbox\'s own login', async () => {
    // Restored the way a reset runs: pg_dump as a prod login, the script from pg_restore --no-owner
    // --role=erp_sandbox_role, run by psql as a sandbox login. The full archive holds the provisioner's
    // user_lookup too; the sandbox already has its own, so re-creating it is the one expected error.
    const archive = await dumpArchive(cluster.tools, login, prod.database);
    const sandboxLogin = await minter!.mint(sandbox);
    const asSandbox = { login: sandboxLogin, database: sandbox.database };
    const script = await cluster.tools.run('pg_restore', ['--no-owner', '--no-acl', `--role=${sandbox.ownerRole}`, '--file=-'], { ...asSandbox, stdin: archive });
    assert.equal(script.exitCode, 0, script.stderr);
    const restore = await cluster.tools.run('psql', ['--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=0'], { ...asSandbox, stdin: script.stdout });
    const errors = restore.stderr.split('\n').filter((line) => line.includes('ERROR:'));
    assert.deepEqual(errors.map((line) => line.replace(/^.*ERROR:\s+/, '')), ['function "user_lookup" already exists with same argument types']);

    const restored = await withClient(cluster.endpoint, sandboxLogin, sandbox.database, (c) => takeSnapshot(c, { ownerRole: sandbox.ownerRole }));
    assert.equal(restored.entries.length, baseline.entries.length);
    assert.deepEqual(restored.drift, []);
    assert.equal(restored.root, baseline.root, 'the sandbox restored from the dump hashes like prod');
  });
});

describe('the root hash changes with', () => {
  it('one value in one row', async () => {
    const changes = await changesAfter('UPDATE llx_facturedet SET qty = qty + 1 WHERE rowid = 1');
    assert.deepEqual(changes.map((c) => [c.key, c.change]), [[FACTUREDET, 'content changed']]);
  });

  it('one value of each type hashed by its own hash function: integer, numeric(24,8), timestamp', async () => {
    for (const change of [
      'UPDATE llx_facturedet SET fk_product = coalesce(fk_product, 0) + 1 WHERE rowid = 1',
      'UPDATE llx_facturedet SET total_ht = total_ht + 0.00000001 WHERE rowid = 1',
      "UPDATE llx_facturedet SET date_start = coalesce(date_start, '2026-01-01') + interval '1 microsecond' WHERE rowid = 1",
    ]) {
      const changes = await changesAfter(change);
      assert.deepEqual(changes.map((c) => [c.key, c.change]), [[FACTUREDET, 'content changed']], change);
    }
  });

  it('an unconstrained numeric keeping its display scale: 1.0 and 1.00 differ, as their text does', async () => {
    const changed = await rehearse(async (c) => {
      await c.query('CREATE TABLE public.scale_probe (n numeric); INSERT INTO public.scale_probe VALUES (1.0)');
      const before = await snapshotInTransaction(c, PROD_STATE);
      await c.query('UPDATE public.scale_probe SET n = 1.00');
      return [before, await snapshotInTransaction(c, PROD_STATE)];
    });
    assert.notEqual(changed[0]!.root, changed[1]!.root);
  });

  it('NULL becoming the empty string', async () => {
    assert.equal((await db().query('SELECT label FROM llx_facturedet WHERE rowid = 1')).rows[0].label, null);
    const changes = await changesAfter("UPDATE llx_facturedet SET label = '' WHERE rowid = 1");
    assert.deepEqual(changes.map((c) => [c.key, c.change]), [[FACTUREDET, 'content changed']]);
  });

  it('a sequence moved by setval, and not once it is put back', async () => {
    const state = await sequenceState(FACTUREDET_SEQUENCE);
    try {
      await db().query('SELECT setval($1, $2)', [FACTUREDET_SEQUENCE, Number(state.lastValue) + 10]);
      const moved = await takeSnapshot(db(), PROD_STATE);
      const { changes } = await diffSnapshots(baseline, moved);
      assert.deepEqual(changes.map((c) => [c.key, c.change]), [[`sequence ${FACTUREDET_SEQUENCE}`, 'content changed']]);
      assert.deepEqual(changes[0]!.sequence, { before: state, after: { lastValue: String(Number(state.lastValue) + 10), isCalled: true } });
    } finally {
      await restoreSequence(FACTUREDET_SEQUENCE, state);
    }
    assert.equal((await takeSnapshot(db(), PROD_STATE)).root, baseline.root);
  });

  it('a column default', async () => {
    const changes = await changesAfter('ALTER TABLE llx_societe ALTER COLUMN status SET DEFAULT 2');
    assert.deepEqual(changes.map((c) => [c.key, c.change]), [['table public.llx_societe', 'definition changed']]);
  });

  it('a dropped index', async () => {
    const changes = await changesAfter('DROP INDEX idx_societe_nom');
    assert.deepEqual(changes.map((c) => [c.key, c.change]), [['table public.llx_societe', 'definition changed']]);
  });

  it('a function body', async () => {
    const changes = await changesAfter(`CREATE OR REPLACE FUNCTION public.update_modified_column_tms() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN NEW.tms = now() + interval '1 second'; RETURN NEW; END; $$`);
    assert.deepEqual(changes.map((c) => [c.key, c.change]), [['function public.update_modified_column_tms()', 'definition changed']]);
  });

  it('duplicate rows: {1, 1, 2} and {3, 3, 2} differ (an xor of row hashes would not tell)', async () => {
    const contents = await rehearse(async (c) => {
      await c.query('CREATE TABLE public.multiset (x integer); INSERT INTO public.multiset VALUES (1), (1), (2)');
      const first = await snapshotInTransaction(c, PROD_STATE);
      await c.query('TRUNCATE public.multiset; INSERT INTO public.multiset VALUES (3), (3), (2)');
      const second = await snapshotInTransaction(c, PROD_STATE);
      return [first, second].map((s) => s.entries.find((entry) => entry.key === 'table public.multiset')!);
    });
    assert.equal(contents[0]!.rows, 3);
    assert.equal(contents[1]!.rows, 3);
    assert.notEqual(contents[0]!.contentHash, contents[1]!.contentHash);
  });
});

describe('the diff of two snapshots with row images', () => {
  it('names the inserted, updated and deleted rows by primary key, the changed columns and the moved sequence', async () => {
    const sequenceBefore = await sequenceState(FACTUREDET_SEQUENCE);
    let inserted = '';
    const [was, is] = await rehearse(async (c) => {
      const first = await snapshotInTransaction(c, { ...PROD_STATE, rowsDir: rowsDir() });
      inserted = String(
        (await c.query("INSERT INTO llx_facturedet (fk_facture, description, qty, subprice) VALUES (1, 'rehearsed', 1, 10) RETURNING rowid")).rows[0].rowid,
      );
      await c.query('UPDATE llx_facturedet SET qty = qty + 1 WHERE rowid = 2');
      await c.query('DELETE FROM llx_facturedet WHERE rowid = 3');
      return [first, await snapshotInTransaction(c, { ...PROD_STATE, rowsDir: rowsDir() })] as const;
    }).finally(() => restoreSequence(FACTUREDET_SEQUENCE, sequenceBefore));

    const diff = await diffSnapshots(was, is);
    assert.equal(diff.identical, false);
    assert.deepEqual(diff.changes.map((c) => [c.key, c.change]), [
      [`sequence ${FACTUREDET_SEQUENCE}`, 'content changed'],
      [FACTUREDET, 'content changed'],
    ]);
    assert.deepEqual(diff.changes[0]!.sequence, { before: sequenceBefore, after: { lastValue: inserted, isCalled: true } });
    const rows = diff.changes[1]!.rows!;
    assert.deepEqual(rows.added.map((r) => r.key), [{ rowid: inserted }]);
    assert.equal(rows.added[0]!.after!.description, 'rehearsed');
    assert.deepEqual(rows.removed.map((r) => r.key), [{ rowid: '3' }]);
    assert.equal(rows.removed[0]!.before!.rowid, '3');
    assert.deepEqual(rows.changed.map((r) => [r.key, r.columns]), [[{ rowid: '2' }, ['qty']]]);
    assert.equal(Number(rows.changed[0]!.after!.qty), Number(rows.changed[0]!.before!.qty) + 1);
  });

  it('identifies the rows of a table without a primary key by their whole value', async () => {
    const [was, is] = await rehearse(async (c) => {
      const first = await snapshotInTransaction(c, { ...PROD_STATE, rowsDir: rowsDir() });
      await c.query("UPDATE llx_user_param SET value = 'en_US' WHERE fk_user = 1 AND param = 'MAIN_LANG_DEFAULT'");
      return [first, await snapshotInTransaction(c, { ...PROD_STATE, rowsDir: rowsDir() })] as const;
    });
    const { changes } = await diffSnapshots(was, is);
    assert.deepEqual(changes.map((c) => c.key), ['table public.llx_user_param']);
    const rows = changes[0]!.rows!;
    assert.deepEqual(rows.changed, []);
    assert.deepEqual(rows.removed.map((r) => r.key), [{ fk_user: '1', entity: '1', param: 'MAIN_LANG_DEFAULT', value: 'fr_FR' }]);
    assert.deepEqual(rows.added.map((r) => r.key), [{ fk_user: '1', entity: '1', param: 'MAIN_LANG_DEFAULT', value: 'en_US' }]);
  });

  it('finds nothing between two snapshots of the same state', async () => {
    const was = await takeSnapshot(db(), { ...PROD_STATE, rowsDir: rowsDir() });
    const is = await takeSnapshot(db(), { ...PROD_STATE, rowsDir: rowsDir() });
    assert.deepEqual(await diffSnapshots(was, is), { identical: true, changes: [] });
  });

  it('reports changed content without rows when a snapshot kept no images', async () => {
    const changed = await rehearse(async (c) => {
      await c.query('DELETE FROM llx_facturedet WHERE rowid = 3');
      return snapshotInTransaction(c, { ...PROD_STATE, rowsDir: rowsDir() });
    });
    assert.deepEqual((await diffSnapshots(baseline, changed)).changes, [
      { key: FACTUREDET, kind: 'table', name: 'public.llx_facturedet', change: 'content changed' },
    ]);
  });
});

describe('drift: objects the reset cannot see', () => {
  it('is empty on the fixture; user_lookup is infrastructure, and drift without that exception', async () => {
    assert.deepEqual(await findDrift(db(), PROD_STATE), []);
    assert.deepEqual(await findDrift(db(), { ...PROD_STATE, infrastructure: [] }), [
      { kind: 'function', name: USER_LOOKUP, owner: cluster.superuser.user },
    ]);
  });

  it('names a table the login created without SET ROLE, owned by the login', async () => {
    await db().query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    try {
      await db().query('CREATE TABLE public.made_without_set_role (x integer)');
      const expected = [{ kind: 'table', name: 'public.made_without_set_role', owner: login.user }];
      assert.deepEqual(await findDrift(db(), PROD_STATE), expected);
      const snapshot = await snapshotInTransaction(db(), PROD_STATE);
      assert.deepEqual(snapshot.drift, expected);
      assert.ok(!snapshot.entries.some((entry) => entry.name === 'public.made_without_set_role'), 'not part of the state');
      assert.equal(snapshot.root, baseline.root);
    } finally {
      await db().query('ROLLBACK');
    }
  });
});
