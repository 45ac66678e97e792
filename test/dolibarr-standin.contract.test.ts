/**
 * Contract of the hermetic Dolibarr stand-in: every row of shared/facts/vault-and-dolibarr.md's Dolibarr table,
 * answered by a stand-in for prod `erp.arcodange.lab` backed by a real cluster with the fixture, reached through
 * its real host name (a DNS lookup hook maps it to 127.0.0.1) over TLS with a per-run self-signed certificate.
 */
import assert from 'node:assert/strict';
import type { LookupFunction } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Client } from 'pg';
import { Agent, request } from 'undici';
import { DEFAULT_SEED } from '../fixtures/dolibarr';
import { grantApiAccess, startDolibarrStandin, storedApiKey, type DolibarrStandin } from '../support/hermetic/dolibarr-standin/server';
import { selfSignedCertificate } from './helpers/certificate';
import { instanceNames } from '../support/naming';
import type { PostgresCluster } from '../support/postgres/cluster';
import { connect } from '../support/postgres/connect';
import { PostgresMinter } from '../support/postgres/minting';
import { provisionFactoryLayout } from '../support/postgres/provision';
import { loadFixtureAsOwner } from '../support/targets/seed-prod';
import { testCluster } from './helpers/cluster';

const prod = instanceNames('erp');
const sandbox = instanceNames('erp', 'sandbox');
const HOST = prod.host; // erp.arcodange.lab
const DELAY_MS = 50;
const AGENT_KEY = 'agent-key-0123456789abcdef';
const ADMIN_KEY = 'admin-key-0123456789abcdef';
const UNKNOWN_KEY = 'unknown-key-0123456789abcdef';
const PROD_AGENT_RIGHTS = [121, 262, 1181, 1231];

const NO_KEY = "Unauthorized: Failed to login to API. No parameter 'HTTP_DOLAPIKEY' on HTTP header (and no parameter DOLAPIKEY in URL).";
const BAD_KEY = 'Unauthorized: Error user not valid (not found with api key or bad status or bad validity dates) (conf->entity=1)';

let cluster: PostgresCluster;
let stopCluster: (() => Promise<void>) | undefined;
let minter: PostgresMinter | undefined;
let db: Client | undefined;
let certificate: { key: Buffer; cert: Buffer };
let standin: DolibarrStandin | undefined;
let dispatcher: Agent | undefined;
let standinUser = '';
let resolved: string[] = [];

interface Answer {
  status: number;
  text: string;
  json: unknown;
  ms: number;
}

async function call(method: string, path: string, options: { key?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.key !== undefined) headers['DOLAPIKEY'] = options.key;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const started = performance.now();
  const res = await request(`https://${HOST}:${standin!.port}/api/index.php/${path}`, {
    method: method as 'GET',
    headers,
    body: options.body === undefined ? null : JSON.stringify(options.body),
    dispatcher,
  });
  const text = await res.body.text();
  const ms = performance.now() - started;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, text, json, ms };
}

/** Asserts a Dolibarr error body: `{"error":{"code","message"},"debug":{…}}` (non-production). */
function assertError(answer: Answer, status: number, message: string): void {
  assert.equal(answer.status, status, answer.text);
  const body = answer.json as { error?: { code?: unknown; message?: unknown }; debug?: unknown };
  assert.deepEqual(body.error, { code: status, message });
  assert.equal(typeof body.debug, 'object', 'a non-production instance adds a debug object');
  assert.deepEqual(Object.keys(body).sort(), ['debug', 'error']);
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
  minter = new PostgresMinter({ endpoint: cluster.endpoint, credentialsEditor: layout.credentialsEditor });
  await loadFixtureAsOwner(cluster.endpoint, minter, prod, { seed: DEFAULT_SEED, scale: 0.2 });
  const standinLogin = await minter.mint(prod);
  standinUser = standinLogin.user;
  const testLogin = await minter.mint(prod);
  db = await connect(cluster.endpoint, testLogin, prod.database);
  await grantApiAccess(db, { login: 'ai_agent', apiKey: AGENT_KEY, rights: PROD_AGENT_RIGHTS });
  const { rows: adminRights } = await db.query<{ fk_id: number }>(
    "SELECT fk_id FROM llx_user_rights WHERE fk_user = (SELECT rowid FROM llx_user WHERE login = 'admin') ORDER BY fk_id",
  );
  await grantApiAccess(db, { login: 'admin', apiKey: ADMIN_KEY, rights: adminRights.map((r) => r.fk_id) });

  certificate = selfSignedCertificate([HOST]);
  standin = await startDolibarrStandin({
    host: HOST,
    key: certificate.key,
    cert: certificate.cert,
    database: { endpoint: cluster.endpoint, login: standinLogin, name: prod.database },
    unknownKeyDelayMs: DELAY_MS,
  });
  const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    resolved.push(hostname);
    if (hostname !== HOST) return callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    if (options.all) return callback(null, [{ address: '127.0.0.1', family: 4 }]);
    return callback(null, '127.0.0.1', 4);
  }) as unknown as LookupFunction;
  dispatcher = new Agent({ connect: { ca: certificate.cert, lookup } });
});

after(async () => {
  await dispatcher?.close();
  await standin?.close();
  await db?.end();
  await minter?.revokeAll();
  await stopCluster?.();
});

describe('the Dolibarr stand-in answers like Dolibarr 20.0.2 (facts table)', () => {
  it('stores the keys hashed, never in clear', async () => {
    const { rows } = await db!.query<{ api_key: string }>("SELECT api_key FROM llx_user WHERE login IN ('ai_agent', 'admin') ORDER BY login");
    assert.deepEqual(rows.map((r) => r.api_key), [storedApiKey(ADMIN_KEY), storedApiKey(AGENT_KEY)]);
    assert.ok(rows.every((r) => /^[0-9a-f]{64}$/.test(r.api_key)));
  });

  it('GET /status without a key → 401 "No parameter HTTP_DOLAPIKEY"', async () => {
    assertError(await call('GET', 'status'), 401, NO_KEY);
  });

  it('GET /status with a valid key → 200 with the version', async () => {
    const answer = await call('GET', 'status', { key: AGENT_KEY });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json, { success: { code: 200, dolibarr_version: '20.0.2', access_locked: '0', environment: 'non-production' } });
    assert.deepEqual(resolved.filter((h) => h !== HOST), [], 'only the real host name is resolved');
  });

  it('accepts the key as ?DOLAPIKEY=, ?api_key= and Authorization: Bearer too', async () => {
    assert.equal((await call('GET', `status?DOLAPIKEY=${AGENT_KEY}`)).status, 200);
    assert.equal((await call('GET', `status?api_key=${AGENT_KEY}`)).status, 200);
    assert.equal((await call('GET', 'status', { headers: { authorization: `Bearer ${AGENT_KEY}` } })).status, 200);
  });

  it('an unknown key → 401 "Error user not valid", after the anti-brute-force delay', async () => {
    const answer = await call('GET', 'status', { key: UNKNOWN_KEY });
    assertError(answer, 401, BAD_KEY);
    assert.ok(answer.ms >= DELAY_MS, `answered after ${answer.ms.toFixed(1)} ms`);
    assertError(await call('POST', 'thirdparties', { key: UNKNOWN_KEY, body: { name: 'x' } }), 401, BAD_KEY);
  });

  it('a disabled user (statut 0) is refused like an unknown key', async () => {
    const login = await staffLogin(0);
    await grantApiAccess(db!, { login, apiKey: 'disabled-key-0123456789', rights: [121] });
    assert.equal((await call('GET', 'status', { key: 'disabled-key-0123456789' })).status, 200);
    await db!.query('UPDATE llx_user SET statut = 0 WHERE login = $1', [login]);
    try {
      assertError(await call('GET', 'status', { key: 'disabled-key-0123456789' }), 401, BAD_KEY);
    } finally {
      await db!.query('UPDATE llx_user SET statut = 1 WHERE login = $1', [login]);
    }
  });

  it('POST /thirdparties without right 122 → 403 "Forbidden", nothing written', async () => {
    const before = await db!.query('SELECT count(*)::int AS n FROM llx_societe');
    assertError(await call('POST', 'thirdparties', { key: AGENT_KEY, body: { name: 'Intrusion SARL' } }), 403, 'Forbidden');
    assert.deepEqual((await db!.query('SELECT count(*)::int AS n FROM llx_societe')).rows, before.rows);
  });

  it('POST /supplierinvoices without right 1232 → 403 "Forbidden: Insuffisant rights", nothing written', async () => {
    const before = await db!.query('SELECT count(*)::int AS n FROM llx_facture_fourn');
    const answer = await call('POST', 'supplierinvoices', { key: AGENT_KEY, body: { socid: 1, ref_supplier: 'X-1', lines: [] } });
    assertError(answer, 403, 'Forbidden: Insuffisant rights');
    assert.deepEqual((await db!.query('SELECT count(*)::int AS n FROM llx_facture_fourn')).rows, before.rows);
  });

  it('PUT /thirdparties/{id} without 122 and DELETE without 125 → 403 "Forbidden", row untouched', async () => {
    const { rows } = await db!.query<{ nom: string }>('SELECT nom FROM llx_societe WHERE rowid = 1');
    assertError(await call('PUT', 'thirdparties/1', { key: AGENT_KEY, body: { name: 'Renamed' } }), 403, 'Forbidden');
    assertError(await call('DELETE', 'thirdparties/1', { key: AGENT_KEY }), 403, 'Forbidden');
    assert.deepEqual((await db!.query('SELECT nom FROM llx_societe WHERE rowid = 1')).rows, rows);
  });

  it('GET /users/info for a plain user → 403 "Forbidden: Not allowed"; an admin gets its user', async () => {
    assertError(await call('GET', 'users/info', { key: AGENT_KEY }), 403, 'Forbidden: Not allowed');
    const answer = await call('GET', 'users/info', { key: ADMIN_KEY });
    assert.equal(answer.status, 200, answer.text);
    assert.equal((answer.json as { login: string }).login, 'admin');
    assert.ok(!answer.text.includes(storedApiKey(ADMIN_KEY)) && !answer.text.includes(ADMIN_KEY));
  });

  it('GET /thirdparties: a list with 121, one by id, 404 "Thirdparties not found" when nothing matches', async () => {
    const list = await call('GET', 'thirdparties?limit=3&sortfield=t.rowid', { key: AGENT_KEY });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual((list.json as { id: string }[]).map((t) => t.id), ['1', '2', '3']);
    const one = await call('GET', 'thirdparties/2', { key: AGENT_KEY });
    assert.equal(one.status, 200);
    assert.equal((one.json as { id: string }).id, '2');
    const none = await call('GET', `thirdparties?sqlfilters=${encodeURIComponent("(t.nom:=:'No such company, anywhere')")}`, { key: AGENT_KEY });
    assertError(none, 404, 'Thirdparties not found');
    assertError(await call('GET', 'thirdparties/999999', { key: AGENT_KEY }), 404, 'Thirdparty not found');
  });

  it('GET /thirdparties: without 121 → 403; with 121 but without 262 a non-admin sees nothing → 404', async () => {
    const key = 'plain-key-0123456789abcdef';
    const login = await staffLogin(0);
    await grantApiAccess(db!, { login, apiKey: key, rights: [1181] });
    assertError(await call('GET', 'thirdparties', { key }), 403, 'Forbidden');
    await grantApiAccess(db!, { login, apiKey: key, rights: [121] });
    assert.deepEqual(
      (await db!.query('SELECT fk_id FROM llx_user_rights r JOIN llx_user u ON u.rowid = r.fk_user WHERE u.login = $1', [login])).rows,
      [{ fk_id: 121 }], 'grantApiAccess sets exactly the rights given');
    assertError(await call('GET', 'thirdparties', { key }), 404, 'Thirdparties not found');
  });

  it('POST /thirdparties with 122 → 200 and the bare new id; the row is in the database', async () => {
    await grantApiAccess(db!, { login: 'ai_agent', apiKey: AGENT_KEY, rights: [...PROD_AGENT_RIGHTS, 122, 1232] });
    const answer = await call('POST', 'thirdparties', { key: AGENT_KEY, body: { name: 'Rehearsal SARL', fournisseur: 1, town: 'Lyon' } });
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, /^\d+$/, 'a bare JSON number');
    const id = answer.json as number;
    const { rows } = await db!.query('SELECT nom, fournisseur, town, fk_user_creat FROM llx_societe WHERE rowid = $1', [id]);
    assert.deepEqual(rows, [{ nom: 'Rehearsal SARL', fournisseur: 1, town: 'Lyon', fk_user_creat: await userId('ai_agent') }]);
    const updated = await call('PUT', `thirdparties/${id}`, { key: AGENT_KEY, body: { town: 'Paris' } });
    assert.equal(updated.status, 200, updated.text);
    assert.equal((updated.json as { town: string }).town, 'Paris');
  });

  it('POST /supplierinvoices with 1232 and 2 lines → the bare id; invoice, lines and totals are in the database', async () => {
    const answer = await call('POST', 'supplierinvoices', {
      key: AGENT_KEY,
      body: {
        socid: 1, ref_supplier: 'REHEARSAL-0001', date: 1767225600, label: 'rehearsal',
        lines: [
          { description: 'Consulting', subprice: 100, qty: 2, tva_tx: 20 },
          { description: 'Travel', subprice: '33.33', qty: 3, tva_tx: 10, remise_percent: 10 },
        ],
      },
    });
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, /^\d+$/);
    const id = answer.json as number;
    const invoice = await db!.query(
      'SELECT ref, ref_supplier, fk_soc, fk_statut, total_ht::text, total_tva::text, total_ttc::text FROM llx_facture_fourn WHERE rowid = $1', [id]);
    // 200 + round(33.33 × 3 × 0.9, 2) = 200 + 89.99; VAT 40 + 9.00
    assert.deepEqual(invoice.rows, [{
      ref: `(PROV${id})`, ref_supplier: 'REHEARSAL-0001', fk_soc: 1, fk_statut: 0,
      total_ht: '289.99000000', total_tva: '49.00000000', total_ttc: '338.99000000',
    }]);
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

  it('DELETE /thirdparties/{id} with 125 → success', async () => {
    const created = await call('POST', 'thirdparties', { key: ADMIN_KEY, body: { name: 'To delete' } });
    const id = created.json as number;
    const answer = await call('DELETE', `thirdparties/${id}`, { key: ADMIN_KEY });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual((await db!.query('SELECT 1 FROM llx_societe WHERE rowid = $1', [id])).rows, []);
  });

  it('reaches its database only through its own minted login role (not a superuser, not the owner role)', async () => {
    const { rows } = await db!.query<{ usename: string; super: boolean }>(
      `SELECT DISTINCT a.usename::text AS usename, r.rolsuper AS super FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename
        WHERE a.application_name = $1`, [`dolibarr-standin ${HOST}`]);
    assert.deepEqual(rows, [{ usename: standinUser, super: false }]);
  });

  it('counts TCP connections and requests: a fresh client adds exactly one of each', async () => {
    const connections = standin!.connections();
    const requests = standin!.requests();
    assert.ok(connections >= 1 && requests >= connections, `${connections} connections, ${requests} requests`);
    const fresh = new Agent({ connect: { ca: certificate.cert, lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) } });
    try {
      await request(`https://${HOST}:${standin!.port}/api/index.php/status`, { dispatcher: fresh }).then((r) => r.body.text());
    } finally {
      await fresh.close();
    }
    assert.equal(standin!.connections(), connections + 1);
    assert.equal(standin!.requests(), requests + 1);
  });
});

describe('a production-mode stand-in', () => {
  it('omits debug and says production', async () => {
    const login = await minter!.mint(prod);
    const other = await startDolibarrStandin({
      host: HOST,
      key: certificate.key,
      cert: certificate.cert,
      database: { endpoint: cluster.endpoint, login, name: prod.database },
      production: true,
    });
    try {
      const previous = standin!;
      standin = other;
      try {
        const refused = await call('GET', 'status');
        assert.equal(refused.status, 401);
        assert.deepEqual(refused.json, { error: { code: 401, message: NO_KEY } });
        const ok = await call('GET', 'status', { key: AGENT_KEY });
        assert.equal((ok.json as { success: { environment: string } }).success.environment, 'production');
      } finally {
        standin = previous;
      }
    } finally {
      await other.close();
    }
  });
});
