/**
 * Contract of the hermetic Dolibarr stand-in, on every version it answers as (support/dolibarr/versions.ts): each
 * answer recorded in support/dolibarr/versions.ts — 20.0.2's table, then 19.0.2's and 23's — asserted against a stand-in
 * for prod `erp.arcodange.lab` backed by a real cluster with the fixture, reached through its real host name (a DNS
 * lookup hook maps it to the stand-in's loopback address) over TLS with a per-run self-signed certificate. Every
 * assertion of an answer names its source in its test name: the version it was observed on, or "not verified" and
 * why. Also: one database session per request and none in between, API keys bound to the instance id, the listen
 * address and port, and the redirect fault of the host-guard gate.
 */
import assert from 'node:assert/strict';
import type { LookupFunction } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from 'pg';
import { Agent, request } from 'undici';
import { DEFAULT_SEED } from '../fixtures/dolibarr';
import { DEFAULT_DOLIBARR_PROFILE, DOLIBARR_PROFILES, DOLIBARR_VERSIONS, EVERY_VERSION, missingRight, type DolibarrProfile, type Sourced } from '../support/dolibarr/versions';
import { grantApiAccess, startDolibarrStandin, storedApiKey, type DolibarrStandin } from '../support/hermetic/dolibarr-standin/server';
import { selfSignedCertificate } from './helpers/certificate';
import { instanceNames } from '../support/naming';
import type { PostgresCluster } from '../support/postgres/cluster';
import { connect } from '../support/postgres/connect';
import { type MintedLogin } from '../support/postgres/minting';
import { DirectMinter } from './helpers/direct-minter';
import { provisionFactoryLayout } from '../support/postgres/provision';
import { loadFixtureAsOwner } from '../support/targets/seed-prod';
import { testCluster } from './helpers/cluster';

const prod = instanceNames('erp');
const sandbox = instanceNames('erp', 'sandbox');
const HOST = prod.host; // erp.arcodange.lab
const SANDBOX_HOST = sandbox.host; // erp-sandbox.arcodange.lab
/** Instance unique ids (conf.php) of prod and of a sandbox that has its own. */
const PROD_INSTANCE = 'a3f1c9e07b2d4e6f8a1b3c5d7e9f0a2b';
const SANDBOX_INSTANCE = '5e8d2c4b6a0f1e3d5c7b9a8f6e4d2c0b';
const DELAY_MS = 50;
const AGENT_KEY = 'agent-key-0123456789abcdef';
const ADMIN_KEY = 'admin-key-0123456789abcdef';
const UNKNOWN_KEY = 'unknown-key-0123456789abcdef';
const PROD_AGENT_RIGHTS = [121, 262, 1181, 1231];

const DEFAULT = DOLIBARR_VERSIONS[DEFAULT_DOLIBARR_PROFILE];
const BAD_KEY = EVERY_VERSION.unknownKey.value;

/** `text [source]`: a test name that says where its expected answer comes from. */
const cited = (text: string, ...sources: Sourced<unknown>[]): string => `${text} [${sources.map((entry) => entry.source).join('; ')}]`;

let cluster: PostgresCluster;
let stopCluster: (() => Promise<void>) | undefined;
let minter: DirectMinter | undefined;
let db: Client | undefined;
let testLogin: MintedLogin;
let standinLogin: MintedLogin;
let certificate: { key: Buffer; cert: Buffer };
let standin: DolibarrStandin | undefined;
let dispatcher: Agent | undefined;
let standinUser = '';
let resolved: string[] = [];

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
  ms: number;
}

/** A stand-in and the client that reaches it by its host name. */
interface Target {
  readonly standin: DolibarrStandin;
  readonly dispatcher: Agent;
  readonly host: string;
}

interface CallOptions {
  key?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Default: the prod stand-in of the suite. */
  target?: Target;
  signal?: AbortSignal;
}

async function call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const target = options.target ?? { standin: standin!, dispatcher: dispatcher!, host: HOST };
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.key !== undefined) headers['DOLAPIKEY'] = options.key;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const started = performance.now();
  const res = await request(`https://${target.host}:${target.standin.port}/api/index.php/${path}`, {
    method: method as 'GET',
    headers,
    body: options.body === undefined ? null : JSON.stringify(options.body),
    dispatcher: target.dispatcher,
    signal: options.signal,
  });
  const text = await res.body.text();
  const ms = performance.now() - started;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json, ms };
}

/** A DNS lookup hook: the stand-ins' host names resolve to `address`, anything else is ENOTFOUND. */
function lookupTo(address: string, record?: string[]): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    record?.push(hostname);
    if (hostname !== HOST && hostname !== SANDBOX_HOST) {
      return callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    }
    if (options.all) return callback(null, [{ address, family: 4 }]);
    return callback(null, address, 4);
  }) as unknown as LookupFunction;
}

/** A client of its own (its own connection pool) for the stand-in listening on `address`. */
function agentTo(address: string): Agent {
  return new Agent({ connect: { ca: certificate.cert, lookup: lookupTo(address) } });
}

/** Polls `probe` until it returns something other than undefined; fails after `timeoutMs`. No fixed sleep. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) assert.fail(`still not the case after ${timeoutMs} ms: ${what}`);
    await delay(10);
  }
}

/** The backends of any Dolibarr stand-in connected to `database`, as pg_stat_activity shows them. */
async function standinSessions(database: string): Promise<{ pid: number; application_name: string }[]> {
  const { rows } = await db!.query<{ pid: number; application_name: string }>(
    "SELECT pid, application_name FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'dolibarr-standin %'",
    [database],
  );
  return rows;
}

/** Waits until no stand-in session is connected to `database` any more (a closed backend takes a moment to go). */
async function noStandinSession(database: string): Promise<void> {
  await eventually(`no dolibarr-standin session on ${database}`, async () =>
    ((await standinSessions(database)).length === 0 ? true : undefined));
}

/** Starts a stand-in of prod's database with the suite's certificate; `overrides` win. */
function startOther(overrides: Partial<Parameters<typeof startDolibarrStandin>[0]>): Promise<DolibarrStandin> {
  return startDolibarrStandin({
    host: HOST,
    instanceId: PROD_INSTANCE,
    key: certificate.key,
    cert: certificate.cert,
    database: { endpoint: cluster.endpoint, login: standinLogin, name: prod.database },
    unknownKeyDelayMs: DELAY_MS,
    ...overrides,
  });
}

/** A second session of the test that holds `llx_societe` row 1 FOR UPDATE until `release()`. */
async function lockThirdparty1(): Promise<{ pid: number; release(): Promise<void> }> {
  const locker = await connect(cluster.endpoint, testLogin, prod.database);
  try {
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM llx_societe WHERE rowid = 1 FOR UPDATE');
    const { rows } = await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return {
      pid: rows[0]!.pid,
      async release() {
        try {
          await locker.query('ROLLBACK');
        } finally {
          await locker.end();
        }
      },
    };
  } catch (error) {
    await locker.end();
    throw error;
  }
}

/** The stand-in backend waiting for the lock of session `lockerPid`, with its role. */
async function blockedStandinSession(lockerPid: number): Promise<{ pid: number; usename: string; super: boolean }> {
  return eventually('a dolibarr-standin session waits for the test\'s lock', async () => {
    const { rows } = await db!.query<{ pid: number; usename: string; super: boolean }>(
      `SELECT a.pid, a.usename::text AS usename, r.rolsuper AS super
         FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename
        WHERE a.datname = $1 AND a.application_name = $2 AND $3 = ANY(pg_blocking_pids(a.pid))`,
      [prod.database, `dolibarr-standin ${HOST}`, lockerPid],
    );
    return rows[0];
  });
}

/** Asserts a Dolibarr error body: `{"error":{"code","message"},"debug":{…}}` (without API_PRODUCTION_MODE). */
function assertError(answer: Answer, status: number, message: string): void {
  assert.equal(answer.status, status, answer.text);
  const body = answer.json as { error?: { code?: unknown; message?: unknown }; debug?: unknown };
  assert.deepEqual(body.error, { code: status, message });
  assert.equal(typeof body.debug, 'object', 'without API_PRODUCTION_MODE an error body has a debug object');
  assert.deepEqual(Object.keys(body).sort(), ['debug', 'error']);
}

/** Asserts Dolibarr's technical-error page: 202, HTML, with the version's words. */
function assertDatabaseDownPage(answer: Answer, profile: DolibarrProfile): void {
  assert.equal(answer.status, 202, answer.text);
  assert.match(String(answer.headers['content-type']), /^text\/html/);
  assert.equal(answer.json, undefined, 'not JSON');
  assert.ok(answer.text.includes(profile.databaseDownPage.value), answer.text);
}

/** The n-th staff user of the fixture (neither admin nor ai_agent). */
async function staffLogin(n: number): Promise<string> {
  const { rows } = await db!.query<{ login: string }>(
    "SELECT login FROM llx_user WHERE login NOT IN ('admin', 'ai_agent') ORDER BY rowid OFFSET $1 LIMIT 1", [n]);
  assert.equal(rows.length, 1, `the fixture has a staff user #${n}`);
  return rows[0]!.login;
}

async function userId(login: string): Promise<number> {
  const { rows } = await db!.query<{ rowid: number }>('SELECT rowid FROM llx_user WHERE login = $1', [login]);
  return rows[0]!.rowid;
}

before(async () => {
  ({ cluster, stop: stopCluster } = await testCluster());
  const layout = await provisionFactoryLayout(cluster, [prod, sandbox]);
  minter = new DirectMinter({ endpoint: cluster.endpoint, credentialsEditor: layout.credentialsEditor });
  await loadFixtureAsOwner(cluster.endpoint, minter, prod, { seed: DEFAULT_SEED, scale: 0.2 });
  standinLogin = await minter.mint(prod);
  standinUser = standinLogin.user;
  testLogin = await minter.mint(prod);
  db = await connect(cluster.endpoint, testLogin, prod.database);
  await grantApiAccess(db, { instanceId: PROD_INSTANCE, login: 'ai_agent', apiKey: AGENT_KEY, rights: PROD_AGENT_RIGHTS });
  const { rows: adminRights } = await db.query<{ fk_id: number }>(
    "SELECT fk_id FROM llx_user_rights WHERE fk_user = (SELECT rowid FROM llx_user WHERE login = 'admin') ORDER BY fk_id",
  );
  await grantApiAccess(db, { instanceId: PROD_INSTANCE, login: 'admin', apiKey: ADMIN_KEY, rights: adminRights.map((r) => r.fk_id) });

  certificate = selfSignedCertificate([HOST, SANDBOX_HOST]);
  standin = await startOther({});
  dispatcher = new Agent({ connect: { ca: certificate.cert, lookup: lookupTo(standin.address, resolved) } });
});

after(async () => {
  await dispatcher?.close();
  await standin?.close();
  await db?.end();
  await minter?.revokeAll();
  await stopCluster?.();
});

for (const name of DOLIBARR_PROFILES) {
  const profile = DOLIBARR_VERSIONS[name];
  const refused = (detail?: string) => missingRight(profile, detail);

  describe(`the stand-in answers as Dolibarr ${name} (${profile.version.value})`, () => {
    let previous: DolibarrStandin | undefined;

    before(async () => {
      // Each version starts from prod's agent as the fixture has it: read-only rights, enabled.
      await grantApiAccess(db!, { instanceId: PROD_INSTANCE, login: 'ai_agent', apiKey: AGENT_KEY, rights: PROD_AGENT_RIGHTS });
      previous = standin;
      standin = await startOther({ profile });
    });

    after(async () => {
      await standin?.close();
      standin = previous;
    });

    it(cited(`GET /status without a key → 401 "${profile.noKeyMessage.value}"`, profile.noKeyMessage), async () => {
      assertError(await call('GET', 'status'), 401, profile.noKeyMessage.value);
    });

    it(cited(`GET /status with a valid key → 200, version ${profile.version.value}, fields ${profile.statusFields.value.join(', ')}`, profile.version, profile.statusFields), async () => {
      const answer = await call('GET', 'status', { key: AGENT_KEY });
      assert.equal(answer.status, 200, answer.text);
      const success = (answer.json as { success: Record<string, unknown> }).success;
      assert.deepEqual(Object.keys(success), profile.statusFields.value);
      assert.deepEqual({ code: success['code'], version: success['dolibarr_version'], locked: success['access_locked'] }, { code: 200, version: profile.version.value, locked: '0' });
      if ('environment' in success) assert.equal(success['environment'], 'non-production');
      assert.deepEqual(resolved.filter((h) => h !== HOST), [], 'only the real host name is resolved');
    });

    it(cited('conf.php\'s $dolibarr_main_prod removes environment from /status; no version says "production"', EVERY_VERSION.productionMode), async () => {
      const login = await minter!.mint(prod);
      const other = await startOther({ database: { endpoint: cluster.endpoint, login, name: prod.database }, profile, mainProd: true });
      try {
        const answer = await call('GET', 'status', { key: AGENT_KEY, target: { standin: other, dispatcher: dispatcher!, host: HOST } });
        const success = (answer.json as { success: Record<string, unknown> }).success;
        assert.deepEqual(Object.keys(success), profile.statusFields.value.filter((field) => field !== 'environment'));
        assert.ok(!answer.text.includes('production'), answer.text);
      } finally {
        await other.close();
        await minter!.revoke(login);
      }
    });

    it(cited('the key as ?DOLAPIKEY= and ?api_key=, on every version', EVERY_VERSION.keyInQuery), async () => {
      assert.equal((await call('GET', `status?DOLAPIKEY=${AGENT_KEY}`)).status, 200);
      assert.equal((await call('GET', `status?api_key=${AGENT_KEY}`)).status, 200);
    });

    it(cited(`Authorization: Bearer ${profile.bearer.value ? 'is read, with that capitalised name only' : 'is not read: 401 as without a key'}`, profile.bearer), async () => {
      const capitalised = await call('GET', 'status', { headers: { Authorization: `Bearer ${AGENT_KEY}` } });
      if (profile.bearer.value) assert.equal(capitalised.status, 200, capitalised.text);
      else assertError(capitalised, 401, profile.noKeyMessage.value);
      assertError(await call('GET', 'status', { headers: { authorization: `Bearer ${AGENT_KEY}` } }), 401, profile.noKeyMessage.value);
    });

    it(cited('an unknown key → 401 "Error user not valid", after the anti-brute-force delay', EVERY_VERSION.unknownKey), async () => {
      const answer = await call('GET', 'status', { key: UNKNOWN_KEY });
      assertError(answer, 401, BAD_KEY);
      assert.ok(answer.ms >= DELAY_MS, `answered after ${answer.ms.toFixed(1)} ms`);
      assertError(await call('POST', 'thirdparties', { key: UNKNOWN_KEY, body: { name: 'x' } }), 401, BAD_KEY);
    });

    it(cited('a disabled user (statut 0) is refused like an unknown key', EVERY_VERSION.unknownKey), async () => {
      const login = await staffLogin(0);
      await grantApiAccess(db!, { instanceId: PROD_INSTANCE, login, apiKey: 'disabled-key-0123456789', rights: [121] });
      assert.equal((await call('GET', 'status', { key: 'disabled-key-0123456789' })).status, 200);
      await db!.query('UPDATE llx_user SET statut = 0 WHERE login = $1', [login]);
      try {
        assertError(await call('GET', 'status', { key: 'disabled-key-0123456789' }), 401, BAD_KEY);
      } finally {
        await db!.query('UPDATE llx_user SET statut = 1 WHERE login = $1', [login]);
      }
    });

    it(cited(`POST /thirdparties without right 122 → ${refused().status} "${refused().message}", nothing written`, profile.missingRightStatus), async () => {
      const before = await db!.query('SELECT count(*)::int AS n FROM llx_societe');
      assertError(await call('POST', 'thirdparties', { key: AGENT_KEY, body: { name: 'Intrusion SARL' } }), refused().status, refused().message);
      assert.deepEqual((await db!.query('SELECT count(*)::int AS n FROM llx_societe')).rows, before.rows);
    });

    const insufficient = refused(profile.insufficientRights.value);
    it(cited(`POST /supplierinvoices without right 1232 → ${insufficient.status} "${insufficient.message}", nothing written`, profile.missingRightStatus, profile.insufficientRights), async () => {
      const before = await db!.query('SELECT count(*)::int AS n FROM llx_facture_fourn');
      const answer = await call('POST', 'supplierinvoices', { key: AGENT_KEY, body: { socid: 1, ref_supplier: 'X-1', lines: [] } });
      assertError(answer, insufficient.status, insufficient.message);
      assert.deepEqual((await db!.query('SELECT count(*)::int AS n FROM llx_facture_fourn')).rows, before.rows);
    });

    it(cited(`PUT /thirdparties/{id} without 122 and DELETE without 125 → ${refused().status} "${refused().message}", row untouched`, profile.missingRightStatus), async () => {
      const { rows } = await db!.query<{ nom: string }>('SELECT nom FROM llx_societe WHERE rowid = 1');
      assertError(await call('PUT', 'thirdparties/1', { key: AGENT_KEY, body: { name: 'Renamed' } }), refused().status, refused().message);
      assertError(await call('DELETE', 'thirdparties/1', { key: AGENT_KEY }), refused().status, refused().message);
      assert.deepEqual((await db!.query('SELECT nom FROM llx_societe WHERE rowid = 1')).rows, rows);
    });

    const notAllowed = refused('Not allowed');
    it(cited(`GET /users/info for a plain user → ${notAllowed.status} "${notAllowed.message}"; an admin gets its user`, profile.missingRightStatus, EVERY_VERSION.permissionDetails), async () => {
      assertError(await call('GET', 'users/info', { key: AGENT_KEY }), notAllowed.status, notAllowed.message);
      const answer = await call('GET', 'users/info', { key: ADMIN_KEY });
      assert.equal(answer.status, 200, answer.text);
      assert.equal((answer.json as { login: string }).login, 'admin');
      assert.ok(!answer.text.includes(storedApiKey(PROD_INSTANCE, ADMIN_KEY)) && !answer.text.includes(ADMIN_KEY));
    });

    it(cited(`GET /thirdparties: a list with 121, one by id, 404 "${profile.noThirdparties.value}" when nothing matches, "${EVERY_VERSION.thirdpartyNotFound.value}" for an id`, profile.noThirdparties, EVERY_VERSION.thirdpartyNotFound), async () => {
      const list = await call('GET', 'thirdparties?limit=3&sortfield=t.rowid', { key: AGENT_KEY });
      assert.equal(list.status, 200, list.text);
      assert.deepEqual((list.json as { id: string }[]).map((t) => t.id), ['1', '2', '3']);
      const one = await call('GET', 'thirdparties/2', { key: AGENT_KEY });
      assert.equal(one.status, 200);
      assert.equal((one.json as { id: string }).id, '2');
      const none = await call('GET', `thirdparties?sqlfilters=${encodeURIComponent("(t.nom:=:'No such company, anywhere')")}`, { key: AGENT_KEY });
      assertError(none, 404, profile.noThirdparties.value);
      assertError(await call('GET', 'thirdparties/999999', { key: AGENT_KEY }), 404, EVERY_VERSION.thirdpartyNotFound.value);
    });

    it(cited(`GET /thirdparties: without 121 → ${refused().status}; with 121 but without 262 a non-admin sees nothing → 404`, profile.missingRightStatus, profile.noThirdparties), async () => {
      const key = 'plain-key-0123456789abcdef';
      const login = await staffLogin(0);
      await grantApiAccess(db!, { instanceId: PROD_INSTANCE, login, apiKey: key, rights: [1181] });
      assertError(await call('GET', 'thirdparties', { key }), refused().status, refused().message);
      await grantApiAccess(db!, { instanceId: PROD_INSTANCE, login, apiKey: key, rights: [121] });
      assert.deepEqual(
        (await db!.query('SELECT fk_id FROM llx_user_rights r JOIN llx_user u ON u.rowid = r.fk_user WHERE u.login = $1', [login])).rows,
        [{ fk_id: 121 }], 'grantApiAccess sets exactly the rights given');
      assertError(await call('GET', 'thirdparties', { key }), 404, profile.noThirdparties.value);
    });

    it(cited(`GET /supplierinvoices: an empty list is 200 []; an unknown id 404 "${EVERY_VERSION.supplierInvoiceNotFound.value}"`, EVERY_VERSION.emptySupplierInvoiceList, EVERY_VERSION.supplierInvoiceNotFound), async () => {
      const empty = await call('GET', 'supplierinvoices?thirdparty_ids=2147483647', { key: AGENT_KEY });
      assert.equal(empty.status, 200, empty.text);
      assert.deepEqual(empty.json, []);
      assertError(await call('GET', 'supplierinvoices/999999', { key: AGENT_KEY }), 404, EVERY_VERSION.supplierInvoiceNotFound.value);
    });

    it(cited(`an unknown API → ${EVERY_VERSION.unknownRoute.value.status} "${EVERY_VERSION.unknownRoute.value.text}" as text, with a key or without`, EVERY_VERSION.unknownRoute), async () => {
      for (const key of [AGENT_KEY, undefined]) {
        const answer = await call('GET', 'no/such/route', key === undefined ? {} : { key });
        assert.equal(answer.status, 501, answer.text);
        assert.equal(answer.text, EVERY_VERSION.unknownRoute.value.text);
        assert.equal(answer.json, undefined, 'not JSON');
      }
    });

    it(cited("a failing query → 503 with PostgreSQL's verbose text; the session is closed all the same", EVERY_VERSION.databaseError), async () => {
      const answer = await call('GET', `thirdparties?sqlfilters=${encodeURIComponent('(t.no_such_column:=:1)')}`, { key: AGENT_KEY });
      assert.equal(answer.status, 503, answer.text);
      const { message } = (answer.json as { error: { message: string } }).error;
      assert.ok(message.startsWith(`${EVERY_VERSION.databaseError.value}ERROR:  42703: column t.no_such_column does not exist\nLINE 1: `), message);
      assert.match(message, /\n +\^\nLOCATION: {2}\w+, \w+\.c:\d+$/);
      await noStandinSession(prod.database);
    });

    const created = profile.createdId.value === 'string' ? 'a JSON string' : 'a bare JSON number';
    it(cited(`POST /thirdparties with 122 → 200 and the new id as ${created}; the row is in the database`, profile.createdId), async () => {
      await grantApiAccess(db!, { instanceId: PROD_INSTANCE, login: 'ai_agent', apiKey: AGENT_KEY, rights: [...PROD_AGENT_RIGHTS, 122, 1232] });
      const answer = await call('POST', 'thirdparties', { key: AGENT_KEY, body: { name: `Rehearsal ${name} SARL`, fournisseur: 1, town: 'Lyon' } });
      assert.equal(answer.status, 200, answer.text);
      assert.match(answer.text, profile.createdId.value === 'string' ? /^"\d+"$/ : /^\d+$/);
      const id = Number(answer.json);
      const { rows } = await db!.query('SELECT nom, fournisseur, town, fk_user_creat FROM llx_societe WHERE rowid = $1', [id]);
      assert.deepEqual(rows, [{ nom: `Rehearsal ${name} SARL`, fournisseur: 1, town: 'Lyon', fk_user_creat: await userId('ai_agent') }]);
      const updated = await call('PUT', `thirdparties/${id}`, { key: AGENT_KEY, body: { town: 'Paris' } });
      assert.equal(updated.status, 200, updated.text);
      assert.equal((updated.json as { town: string }).town, 'Paris');
    });

    /** Creates a supplier invoice of two lines priced through `field` (or both), and reads its totals back. */
    async function invoiceTotals(fields: readonly ('subprice' | 'pu_ht')[]): Promise<{ id: number; totals: unknown }> {
      const price = (value: number | string) => Object.fromEntries(fields.map((field) => [field, value]));
      const answer = await call('POST', 'supplierinvoices', {
        key: AGENT_KEY,
        body: {
          socid: 1, ref_supplier: `REHEARSAL-${name}-${fields.join('-')}`, date: 1767225600, label: 'rehearsal',
          lines: [
            { description: 'Consulting', ...price(100), qty: 2, tva_tx: 20 },
            { description: 'Travel', ...price('33.33'), qty: 3, tva_tx: 10, remise_percent: 10 },
          ],
        },
      });
      assert.equal(answer.status, 200, answer.text);
      assert.match(answer.text, profile.createdId.value === 'string' ? /^"\d+"$/ : /^\d+$/);
      const id = Number(answer.json);
      const invoice = await db!.query('SELECT total_ht::text, total_tva::text, total_ttc::text FROM llx_facture_fourn WHERE rowid = $1', [id]);
      return { id, totals: invoice.rows[0] };
    }
    // 200 + round(33.33 × 3 × 0.9, 2) = 200 + 89.99; VAT 40 + 9.00
    const PRICED = { total_ht: '289.99000000', total_tva: '49.00000000', total_ttc: '338.99000000' };
    const ZERO = { total_ht: '0.00000000', total_tva: '0.00000000', total_ttc: '0.00000000' };

    it(cited('POST /supplierinvoices with 1232, lines with pu_ht and subprice → the id; invoice, lines and totals in the database', profile.linePriceFields, profile.createdId), async () => {
      const { id, totals } = await invoiceTotals(['pu_ht', 'subprice']);
      assert.deepEqual(totals, PRICED);
      const lines = await db!.query(
        'SELECT description, total_ht::text, tva::text, total_ttc::text FROM llx_facture_fourn_det WHERE fk_facture_fourn = $1 ORDER BY rang', [id]);
      assert.deepEqual(lines.rows, [
        { description: 'Consulting', total_ht: '200.00000000', tva: '40.00000000', total_ttc: '240.00000000' },
        { description: 'Travel', total_ht: '89.99000000', tva: '9.00000000', total_ttc: '98.99000000' },
      ]);
      const read = await call('GET', `supplierinvoices/${id}`, { key: AGENT_KEY });
      assert.equal(read.status, 200, read.text);
      assert.equal((read.json as { lines: unknown[] }).lines.length, 2);
      const list = await call('GET', 'supplierinvoices?thirdparty_ids=1&limit=500', { key: AGENT_KEY });
      assert.ok((list.json as { id: string }[]).some((i) => i.id === String(id)));
    });

    const subpriceOnly = profile.linePriceFields.value.includes('subprice');
    it(cited(`lines with subprice only → ${subpriceOnly ? 'the same totals' : 'totals of 0 (the version reads pu_ht)'}; with pu_ht only → the same totals`, profile.linePriceFields), async () => {
      assert.deepEqual((await invoiceTotals(['subprice'])).totals, subpriceOnly ? PRICED : ZERO);
      assert.deepEqual((await invoiceTotals(['pu_ht'])).totals, profile.linePriceFields.value.includes('pu_ht') ? PRICED : ZERO);
    });

    it(cited('DELETE /thirdparties/{id} with 125 → 200, the row gone', EVERY_VERSION.deleted), async () => {
      const created = await call('POST', 'thirdparties', { key: ADMIN_KEY, body: { name: 'To delete' } });
      const id = Number(created.json);
      const answer = await call('DELETE', `thirdparties/${id}`, { key: ADMIN_KEY });
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.json, EVERY_VERSION.deleted.value);
      assert.deepEqual((await db!.query('SELECT 1 FROM llx_societe WHERE rowid = $1', [id])).rows, []);
    });

    it(cited('API_PRODUCTION_MODE (an llx_const row) removes debug from error bodies; without it, debug is back', EVERY_VERSION.productionMode), async () => {
      await db!.query("INSERT INTO llx_const (name, entity, value, type, visible) VALUES ('API_PRODUCTION_MODE', 1, '1', 'chaine', 0)");
      try {
        assert.deepEqual((await call('GET', 'status')).json, { error: { code: 401, message: profile.noKeyMessage.value } });
        assert.deepEqual((await call('GET', 'thirdparties/999999', { key: AGENT_KEY })).json, { error: { code: 404, message: EVERY_VERSION.thirdpartyNotFound.value } });
      } finally {
        await db!.query("DELETE FROM llx_const WHERE name = 'API_PRODUCTION_MODE'");
      }
      assertError(await call('GET', 'status'), 401, profile.noKeyMessage.value);
    });

    it(cited(`a database it cannot reach → 202 and an HTML page ("${profile.databaseDownPage.value}") to every request, with a key or without, without stopping; a new login brings it back`, EVERY_VERSION.databaseDown, profile.databaseDownPage), async () => {
      const login = await minter!.mint(prod);
      const other = await startOther({ database: { endpoint: cluster.endpoint, login, name: prod.database }, profile });
      const target: Target = { standin: other, dispatcher: dispatcher!, host: HOST };
      try {
        // No idle session: the login can be revoked (DROP ROLE) right after a request, as Vault does.
        assert.equal((await call('GET', 'status', { key: AGENT_KEY, target })).status, 200);
        await noStandinSession(prod.database);
        await minter!.revoke(login);
        for (const key of [AGENT_KEY, UNKNOWN_KEY, undefined]) {
          assertDatabaseDownPage(await call('GET', 'status', key === undefined ? { target } : { key, target }), profile);
        }
        assertDatabaseDownPage(await call('POST', 'thirdparties', { key: AGENT_KEY, body: { name: 'x' }, target }), profile);
        assertDatabaseDownPage(await call('GET', 'no/such/route', { target }), profile);
        const again = await minter!.mint(prod);
        other.useDatabaseLogin(again);
        assert.equal((await call('GET', 'status', { key: AGENT_KEY, target })).status, 200, 'a new login: it answers again');
      } finally {
        await other.close();
      }
      assert.equal((await call('GET', 'status', { key: AGENT_KEY })).status, 200, 'the process is still up');
    });
  });
}

describe('the stand-in itself', () => {
  it('listens on 127.0.0.1 by default, on a random port, answering as the default version', () => {
    assert.equal(standin!.address, '127.0.0.1');
    assert.ok(Number.isInteger(standin!.port) && standin!.port > 0);
    assert.equal(standin!.profile, DEFAULT);
  });

  it('stores the keys as an HMAC keyed by the instance id, never in clear', async () => {
    const { rows } = await db!.query<{ api_key: string }>("SELECT api_key FROM llx_user WHERE login IN ('ai_agent', 'admin') ORDER BY login");
    assert.deepEqual(rows.map((r) => r.api_key), [storedApiKey(PROD_INSTANCE, ADMIN_KEY), storedApiKey(PROD_INSTANCE, AGENT_KEY)]);
    assert.ok(rows.every((r) => /^standin-hmac-sha256:[0-9a-f]{64}$/.test(r.api_key)));
    assert.ok(rows.every((r) => !r.api_key.includes(ADMIN_KEY) && !r.api_key.includes(AGENT_KEY)));
    assert.notEqual(storedApiKey(PROD_INSTANCE, AGENT_KEY), storedApiKey(SANDBOX_INSTANCE, AGENT_KEY), 'the same key differs per instance');
  });

  it('counts TCP connections and requests: a fresh client adds exactly one of each', async () => {
    assert.equal((await call('GET', 'status', { key: AGENT_KEY })).status, 200);
    const connections = standin!.connections();
    const requests = standin!.requests();
    assert.ok(connections >= 1 && requests >= connections, `${connections} connections, ${requests} requests`);
    const fresh = agentTo(standin!.address);
    try {
      await request(`https://${HOST}:${standin!.port}/api/index.php/status`, { dispatcher: fresh }).then((r) => r.body.text());
    } finally {
      await fresh.close();
    }
    assert.equal(standin!.connections(), connections + 1);
    assert.equal(standin!.requests(), requests + 1);
  });
});

describe('one database connection per HTTP request, none in between', () => {
  it('while a request runs: exactly one session, through its own minted login role (not a superuser, not the owner role)', async () => {
    await noStandinSession(prod.database);
    const lock = await lockThirdparty1();
    let pending: Promise<Answer> | undefined;
    try {
      pending = call('PUT', 'thirdparties/1', { key: ADMIN_KEY, body: { note_private: 'waited for a lock' } });
      const session = await blockedStandinSession(lock.pid);
      assert.deepEqual({ usename: session.usename, super: session.super }, { usename: standinUser, super: false });
      assert.deepEqual((await standinSessions(prod.database)).map((s) => s.pid), [session.pid], 'one session, no pool');
    } finally {
      await lock.release();
    }
    const answer = await pending;
    assert.equal(answer.status, 200, answer.text);
  });

  it('after a request completes, pg_stat_activity shows no dolibarr-standin session for its database', async () => {
    const lock = await lockThirdparty1();
    let pending: Promise<Answer> | undefined;
    let pid: number;
    try {
      pending = call('PUT', 'thirdparties/1', { key: ADMIN_KEY, body: { note_private: 'waited again' } });
      pid = (await blockedStandinSession(lock.pid)).pid;
    } finally {
      await lock.release();
    }
    assert.equal((await pending).status, 200);
    await eventually(`backend ${pid} of the finished request is gone`, async () => {
      const { rows } = await db!.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
      return rows.length === 0 ? true : undefined;
    });
    await noStandinSession(prod.database);
    // The same for plain reads and refusals, while the HTTP connection itself stays open (keep-alive).
    assert.equal((await call('GET', 'thirdparties?limit=2', { key: AGENT_KEY })).status, 200);
    assertError(await call('GET', 'status', { key: UNKNOWN_KEY }), 401, BAD_KEY);
    await noStandinSession(prod.database);
  });

  it('a client that disconnects mid-request leaves no session behind, and the stand-in goes on', async () => {
    const lock = await lockThirdparty1();
    const abort = new AbortController();
    let pending: Promise<Answer> | undefined;
    try {
      pending = call('PUT', 'thirdparties/1', { key: ADMIN_KEY, body: { note_private: 'abandoned' }, signal: abort.signal });
      await blockedStandinSession(lock.pid);
      abort.abort();
      await assert.rejects(pending, { name: 'AbortError' });
    } finally {
      await lock.release();
    }
    await noStandinSession(prod.database);
    assert.equal((await call('GET', 'status', { key: AGENT_KEY })).status, 200);
    await noStandinSession(prod.database);
  });
});

describe('API keys are bound to the instance id', () => {
  it('a key granted with instance id A is refused (401) by a stand-in with instance id B on the same database', async () => {
    const other = await startOther({ instanceId: SANDBOX_INSTANCE });
    const target: Target = { standin: other, dispatcher: dispatcher!, host: HOST };
    try {
      assertError(await call('GET', 'status', { key: AGENT_KEY, target }), 401, BAD_KEY);
      assertError(await call('GET', 'thirdparties', { key: ADMIN_KEY, target }), 401, BAD_KEY);
      assert.equal((await call('GET', 'status', { key: AGENT_KEY })).status, 200, 'still valid on instance A');
      // Re-issued for B, a key works on B only.
      const login = await staffLogin(0);
      const key = 'sandbox-only-key-0123456789';
      await grantApiAccess(db!, { instanceId: SANDBOX_INSTANCE, login, apiKey: key, rights: [121] });
      assert.equal((await call('GET', 'status', { key, target })).status, 200);
      assertError(await call('GET', 'status', { key }), 401, BAD_KEY);
    } finally {
      await other.close();
    }
  });

  it('no stored value contains a key', async () => {
    const keys = [AGENT_KEY, ADMIN_KEY, 'disabled-key-0123456789', 'plain-key-0123456789abcdef', 'sandbox-only-key-0123456789'];
    const { rows } = await db!.query<{ api_key: string }>('SELECT api_key FROM llx_user WHERE api_key IS NOT NULL');
    assert.ok(rows.length >= 3, `${rows.length} keys stored`);
    for (const { api_key } of rows) {
      assert.match(api_key, /^standin-hmac-sha256:[0-9a-f]{64}$/);
      for (const key of keys) assert.ok(!api_key.includes(key), 'a stored value contains a key');
    }
  });
});

describe('listen address and port', () => {
  it('refuses anything but a loopback IPv4 address, before opening anything', async () => {
    for (const address of ['0.0.0.0', '10.1.2.3', '::1', '::', 'localhost', '127.0.0.256', '127.1', '']) {
      await assert.rejects(startOther({ address }), TypeError, address);
    }
    await assert.rejects(startOther({ port: 70000 }), TypeError);
    await assert.rejects(startOther({ instanceId: '' }), TypeError);
  });

  it('two stand-ins share one port on different loopback addresses (prod 127.0.0.2, sandbox 127.0.0.3)', async () => {
    const prodStandin = await startOther({ address: '127.0.0.2' });
    const toProd = agentTo('127.0.0.2');
    let sandboxStandin: DolibarrStandin | undefined;
    const toSandbox = agentTo('127.0.0.3');
    try {
      sandboxStandin = await startOther({ address: '127.0.0.3', port: prodStandin.port, host: SANDBOX_HOST, instanceId: SANDBOX_INSTANCE });
      assert.deepEqual([prodStandin.address, sandboxStandin.address], ['127.0.0.2', '127.0.0.3']);
      assert.equal(sandboxStandin.port, prodStandin.port);
      const onProd = await call('GET', 'status', { key: AGENT_KEY, target: { standin: prodStandin, dispatcher: toProd, host: HOST } });
      assert.equal(onProd.status, 200, onProd.text);
      // Same database, but the sandbox has its own instance id: prod's key is unknown there.
      const onSandbox = await call('GET', 'status', { key: AGENT_KEY, target: { standin: sandboxStandin, dispatcher: toSandbox, host: SANDBOX_HOST } });
      assertError(onSandbox, 401, BAD_KEY);
      assert.deepEqual([prodStandin.requests(), sandboxStandin.requests()], [1, 1], 'each answered its own request');
    } finally {
      await Promise.all([toProd.close(), toSandbox.close()]);
      await sandboxStandin?.close();
      await prodStandin.close();
    }
  });

  it('a busy address and port rejects the start cleanly, leaving nothing open', async () => {
    const first = await startOther({ address: '127.0.0.2' });
    try {
      await noStandinSession(prod.database);
      const servers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
      const before = servers();
      await assert.rejects(startOther({ address: '127.0.0.2', port: first.port }), { code: 'EADDRINUSE' });
      await eventually('the refused listener is released', async () => (servers() === before ? true : undefined));
      await noStandinSession(prod.database);
      assert.equal(first.requests(), 0);
    } finally {
      await first.close();
    }
  });
});

describe('the redirect fault (host-guard gate)', () => {
  it('redirects every request before auth with the status and Location given, counted; undefined stops it', async () => {
    const location = 'https://attacker.invalid/api/index.php/status';
    const before = await db!.query('SELECT count(*)::int AS n FROM llx_societe');
    standin!.redirectEverythingTo(location);
    const fresh = agentTo(standin!.address);
    try {
      // Counted: a fresh client's request adds one TCP connection and one request.
      const connections = standin!.connections();
      const requests = standin!.requests();
      const answers = [await call('GET', 'status', { key: AGENT_KEY, target: { standin: standin!, dispatcher: fresh, host: HOST } })];
      assert.deepEqual([standin!.connections(), standin!.requests()], [connections + 1, requests + 1]);
      // A missing or unknown key and an unknown route would be 401/404: redirected before routing and auth.
      answers.push(
        await call('GET', 'status'),
        await call('POST', 'thirdparties', { key: ADMIN_KEY, body: { name: 'Redirected SARL' } }),
        await call('GET', 'no/such/route', { key: UNKNOWN_KEY }),
      );
      for (const answer of answers) {
        assert.equal(answer.status, 307);
        assert.equal(answer.headers['location'], location);
        assert.equal(answer.text, '');
      }
      assert.equal(standin!.requests(), requests + answers.length);
      assert.deepEqual((await db!.query('SELECT count(*)::int AS n FROM llx_societe')).rows, before.rows, 'nothing written');

      standin!.redirectEverythingTo('https://other.invalid/', 302);
      const moved = await call('GET', 'status', { key: AGENT_KEY });
      assert.equal(moved.status, 302);
      assert.equal(moved.headers['location'], 'https://other.invalid/');
      assert.throws(() => standin!.redirectEverythingTo(location, 200), TypeError);
      assert.throws(() => standin!.redirectEverythingTo('https://x.invalid/\r\nSet-Cookie: a=b'), TypeError);
    } finally {
      standin!.redirectEverythingTo(undefined);
      await fresh.close();
    }
    assert.equal((await call('GET', 'status', { key: AGENT_KEY })).status, 200);
  });
});

describe('close()', () => {
  it('is idempotent and leaves no session', async () => {
    const other = await startOther({});
    const closing = other.close();
    assert.equal(other.close(), closing);
    await closing;
    await other.close();
    await noStandinSession(prod.database);
  });

  it('does not wait for a request stuck in the database: it closes that request\'s connection', async () => {
    const other = await startOther({});
    const lock = await lockThirdparty1();
    try {
      const pending = call('PUT', 'thirdparties/1', {
        key: ADMIN_KEY, body: { note_private: 'cut off' }, target: { standin: other, dispatcher: dispatcher!, host: HOST },
      });
      await blockedStandinSession(lock.pid);
      await other.close(); // resolves while the lock is still held
      await assert.rejects(pending);
    } finally {
      await lock.release();
    }
    // A backend waiting for a lock notices its closed socket only once it runs again (PostgreSQL finishes that
    // one statement first), then goes.
    await noStandinSession(prod.database);
  });
});
