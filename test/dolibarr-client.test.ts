import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import { AddressInfo, LookupFunction, createServer as createNetServer } from 'node:net';
import { inspect } from 'node:util';
import { after, afterEach, before, describe, it } from 'node:test';
import * as client from '../support/dolibarr/client';
import { selfSignedCertificate } from './helpers/certificate';
import { DolibarrClient, DolibarrClientOptions } from '../support/dolibarr/client';
import {
  DolibarrAuthenticationError,
  DolibarrError,
  DolibarrNetworkError,
  DolibarrNotFoundError,
  DolibarrPermissionError,
  DolibarrTimeoutError,
  DolibarrUnavailable,
  DolibarrUnexpectedResponse,
} from '../support/dolibarr/errors';
import { isUnreachable } from '../support/gates/outcomes';
import { HostGuardRefusal } from '../support/dolibarr/host-guard';
import { instanceNames } from '../support/naming';

const SANDBOX_NAMES = instanceNames('erp', 'sandbox', 'arcodange.lab');
const PROD_NAMES = instanceNames('erp', 'prod', 'arcodange.lab');
const SANDBOX = SANDBOX_NAMES.host;
const PROD = PROD_NAMES.host;
const API_KEY = 'sEcReT-k3y-0123456789abcdef';

type Seen = { method: string; url: string; key: string | undefined; contentType: string | undefined; body: string };
type Answer = { status: number; body: unknown; raw?: boolean } | 'hang';

const err = (code: number, message: string) => ({ error: { code, message }, debug: { source: 'api_x.class.php' } });

/** Everything any client error produced in this file, checked at the end for the key. */
const errors: unknown[] = [];
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  const e = await promise.then(() => assert.fail('expected a rejection'), (e: unknown) => e);
  errors.push(e);
  return e;
}

describe('DolibarrClient against a loopback Dolibarr stand-in', () => {
  let certificate: { key: Buffer; cert: Buffer };
  let ca: Buffer;
  let server: HttpsServer;
  let port = 0;
  let seen: Seen[] = [];
  let resolved: string[] = [];
  /** The scripted answers, by "METHOD path" (a list is consumed in order, its last entry then repeats). */
  let script: Record<string, Answer | Answer[]> = {};
  const clients: DolibarrClient[] = [];

  const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    resolved.push(hostname);
    const name = hostname.replace(/\.$/, ''); // as DNS does: "host." is the fully qualified "host"
    const address = name === SANDBOX || name === PROD ? '127.0.0.1' : undefined;
    if (!address) return callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    if (options.all) return callback(null, [{ address, family: 4 }]);
    return callback(null, address, 4);
  }) as unknown as LookupFunction;

  function make(extra: Partial<DolibarrClientOptions> = {}): DolibarrClient {
    const c = new DolibarrClient({ sandbox: SANDBOX_NAMES, port, apiKey: API_KEY, ca, lookup, ...extra });
    clients.push(c);
    return c;
  }

  function answer(req: IncomingMessage, res: ServerResponse, body: string): void {
    const key = req.headers['dolapikey'];
    seen.push({ method: req.method!, url: req.url!, key: Array.isArray(key) ? key.join() : key, contentType: req.headers['content-type'], body });
    // "NOKEY <METHOD> <path>" scripts an answer to a request without a key; otherwise it is Dolibarr's 401.
    const withoutKey = key === undefined ? script[`NOKEY ${req.method} ${req.url}`] : undefined;
    if (withoutKey !== undefined && !Array.isArray(withoutKey) && withoutKey !== 'hang') {
      res.writeHead(withoutKey.status, { 'content-type': withoutKey.raw ? 'text/html' : 'application/json' });
      res.end(withoutKey.raw ? String(withoutKey.body) : JSON.stringify(withoutKey.body));
      return;
    }
    if (key === undefined) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify(err(401,
        "Unauthorized: Failed to login to API. No parameter 'HTTP_DOLAPIKEY' on HTTP header (and no parameter DOLAPIKEY in URL).")));
      return;
    }
    const entry = script[`${req.method} ${req.url}`];
    const a: Answer | undefined = Array.isArray(entry) ? (entry.length > 1 ? entry.shift() : entry[0]) : entry;
    if (a === 'hang') return; // never answers
    if (a === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(err(404, 'Not Found')));
      return;
    }
    res.writeHead(a.status, { 'content-type': a.raw ? 'text/html' : 'application/json' });
    res.end(a.raw ? String(a.body) : JSON.stringify(a.body));
  }

  before(async () => {
    certificate = selfSignedCertificate([SANDBOX, PROD]);
    ca = certificate.cert;
    server = createHttpsServer({ key: certificate.key, cert: ca }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => answer(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(() => {
    seen = [];
    resolved = [];
    script = {};
  });

  after(async () => {
    for (const c of clients) await c.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  describe('calls: method, path, DOLAPIKEY, body, parsing', () => {
    it('status() → GET /api/index.php/status', async () => {
      script['GET /api/index.php/status'] = {
        status: 200,
        body: { success: { code: 200, dolibarr_version: '20.0.2', access_locked: '0', environment: 'non-production' } },
      };
      assert.deepEqual(await make().status(), { dolibarrVersion: '20.0.2', environment: 'non-production', answersAs: '20' });
      assert.deepEqual(seen.map((s) => [s.method, s.url, s.key]), [['GET', '/api/index.php/status', API_KEY]]);
      assert.deepEqual(resolved, [SANDBOX], 'only the sandbox name is ever resolved');
    });

    it('listThirdparties(query) → GET with limit and sqlfilters', async () => {
      const url = '/api/index.php/thirdparties?limit=5&sqlfilters=%28t.nom%3Alike%3A%27ACME%25%27%29';
      script[`GET ${url}`] = { status: 200, body: [{ id: '3', name: 'ACME' }, { id: '4', name: 'ACME 2' }] };
      const list = await make().listThirdparties({ limit: 5, sqlfilters: "(t.nom:like:'ACME%')" });
      assert.deepEqual(list, [{ id: '3', name: 'ACME' }, { id: '4', name: 'ACME 2' }]);
      assert.deepEqual(seen.map((s) => [s.method, s.url, s.key]), [['GET', url, API_KEY]]);
    });

    it('getThirdparty(id) → GET /thirdparties/{id}', async () => {
      script['GET /api/index.php/thirdparties/21'] = { status: 200, body: { id: '21', name: 'Rehearsal SARL' } };
      assert.deepEqual(await make().getThirdparty(21), { id: '21', name: 'Rehearsal SARL' });
      assert.equal(seen[0]!.key, API_KEY);
    });

    it('a create answered with the id as a JSON string (Dolibarr 19: "4") gives the number', async () => {
      script['POST /api/index.php/thirdparties'] = { status: 200, body: '4' };
      script['POST /api/index.php/supplierinvoices'] = { status: 200, body: '5' };
      const c = make();
      assert.equal(await c.createThirdparty({ name: 'Rehearsal SARL' }), 4);
      assert.equal(await c.createSupplierInvoice({ socid: 4 }), 5);
      script['POST /api/index.php/thirdparties'] = { status: 200, body: '4x' };
      assert.ok(await rejection(c.createThirdparty({ name: 'x' })) instanceof DolibarrUnexpectedResponse);
    });

    it('onWrite hears of every write and its answer, a created id as a number whichever way it came; never of a read', async () => {
      script['POST /api/index.php/thirdparties'] = { status: 200, body: '4' };
      script['POST /api/index.php/supplierinvoices'] = { status: 200, body: 5 };
      script['PUT /api/index.php/thirdparties/4'] = { status: 403, body: err(403, 'Forbidden') };
      script['GET /api/index.php/thirdparties/4'] = { status: 200, body: { id: '4' } };
      const heard: unknown[] = [];
      const c = make({ onWrite: (exchange) => heard.push(exchange) });
      await c.createThirdparty({ name: 'Rehearsal SARL' });
      await c.createSupplierInvoice({ socid: 4 });
      await c.getThirdparty(4);
      await rejection(c.updateThirdparty(4, { town: 'Lyon' }));
      assert.deepEqual(heard, [
        { method: 'POST', path: '/thirdparties', body: { name: 'Rehearsal SARL' }, status: 200, response: 4 },
        { method: 'POST', path: '/supplierinvoices', body: { socid: 4 }, status: 200, response: 5 },
        { method: 'PUT', path: '/thirdparties/4', body: { town: 'Lyon' }, status: 403, response: 'Dolibarr PUT /api/index.php/thirdparties/4 → 403: Forbidden' },
      ]);
    });

    it('createThirdparty(fields) → POST JSON, answers the bare id', async () => {
      script['POST /api/index.php/thirdparties'] = { status: 200, body: 21 };
      const id = await make().createThirdparty({ name: 'Rehearsal SARL', fournisseur: 1 });
      assert.equal(id, 21);
      assert.deepEqual(seen.map((s) => [s.method, s.url, s.key, s.contentType, JSON.parse(s.body)]), [
        ['POST', '/api/index.php/thirdparties', API_KEY, 'application/json', { name: 'Rehearsal SARL', fournisseur: 1 }],
      ]);
    });

    it('updateThirdparty(id, fields) → PUT JSON, answers the object', async () => {
      script['PUT /api/index.php/thirdparties/21'] = { status: 200, body: { id: '21', name: 'Renamed' } };
      assert.deepEqual(await make().updateThirdparty(21, { name: 'Renamed' }), { id: '21', name: 'Renamed' });
      assert.deepEqual(seen.map((s) => [s.method, s.url, s.key, JSON.parse(s.body)]), [
        ['PUT', '/api/index.php/thirdparties/21', API_KEY, { name: 'Renamed' }],
      ]);
    });

    it('deleteThirdparty(id) → DELETE', async () => {
      script['DELETE /api/index.php/thirdparties/21'] = { status: 200, body: { success: { code: 200, message: 'Object deleted' } } };
      assert.equal(await make().deleteThirdparty(21), undefined);
      assert.deepEqual(seen.map((s) => [s.method, s.url, s.key, s.body]), [['DELETE', '/api/index.php/thirdparties/21', API_KEY, '']]);
    });

    it('supplier invoices: list, get, create with lines', async () => {
      script['GET /api/index.php/supplierinvoices?limit=2&thirdparty_ids=21'] = { status: 200, body: [{ id: '11', ref: 'SI2501-0001' }] };
      script['GET /api/index.php/supplierinvoices/11'] = { status: 200, body: { id: '11', ref: 'SI2501-0001', lines: [] } };
      script['POST /api/index.php/supplierinvoices'] = { status: 200, body: 12 };
      const c = make();
      assert.deepEqual(await c.listSupplierInvoices({ limit: 2, thirdparty_ids: '21' }), [{ id: '11', ref: 'SI2501-0001' }]);
      assert.deepEqual(await c.getSupplierInvoice(11), { id: '11', ref: 'SI2501-0001', lines: [] });
      const fields = { socid: 21, ref_supplier: 'R-1', lines: [{ desc: 'x', subprice: 10, qty: 1, tva_tx: 20 }] };
      assert.equal(await c.createSupplierInvoice(fields), 12);
      assert.deepEqual(seen.map((s) => [s.method, s.url, s.key]), [
        ['GET', '/api/index.php/supplierinvoices?limit=2&thirdparty_ids=21', API_KEY],
        ['GET', '/api/index.php/supplierinvoices/11', API_KEY],
        ['POST', '/api/index.php/supplierinvoices', API_KEY],
      ]);
      assert.deepEqual(JSON.parse(seen[2]!.body), fields);
    });

    it('userInfo() → GET /users/info', async () => {
      script['GET /api/index.php/users/info'] = { status: 200, body: { id: '7', login: 'erp-agent' } };
      assert.deepEqual(await make().userInfo(), { id: '7', login: 'erp-agent' });
      assert.deepEqual(seen.map((s) => [s.method, s.url, s.key]), [['GET', '/api/index.php/users/info', API_KEY]]);
    });

    it('refuses a non-integer id before any request (no path injection)', async () => {
      const c = make();
      for (const id of [0, -1, 1.5, Number.NaN, '1/../users/info' as unknown as number]) {
        await assert.rejects(c.getThirdparty(id), TypeError);
      }
      assert.deepEqual(seen, []);
    });
  });

  describe('errors', () => {
    it('401 → DolibarrAuthenticationError with Dolibarr\'s message', async () => {
      const message = 'Unauthorized: Error user not valid (not found with api key or bad status or bad validity dates) (conf->entity=1)';
      script['GET /api/index.php/status'] = { status: 401, body: err(401, message) };
      const e = await rejection(make().status());
      assert.ok(e instanceof DolibarrAuthenticationError);
      assert.equal(e.status, 401);
      assert.equal(e.dolibarrMessage, message);
      assert.equal(e.method, 'GET');
      assert.equal(e.path, '/api/index.php/status');
      assert.ok(e.message.includes(message));
    });

    it('403 → DolibarrPermissionError (Forbidden: Insuffisant rights), not retried', async () => {
      script['POST /api/index.php/supplierinvoices'] = { status: 403, body: err(403, 'Forbidden: Insuffisant rights') };
      script['GET /api/index.php/users/info'] = { status: 403, body: err(403, 'Forbidden: Not allowed') };
      const c = make();
      const e = await rejection(c.createSupplierInvoice({ socid: 1 }));
      assert.ok(e instanceof DolibarrPermissionError);
      assert.equal(e.status, 403);
      assert.equal(e.dolibarrMessage, 'Forbidden: Insuffisant rights');
      assert.match(e.message, /POST \/api\/index\.php\/supplierinvoices .*403.*Forbidden: Insuffisant rights/);
      const e2 = await rejection(c.userInfo());
      assert.ok(e2 instanceof DolibarrPermissionError && e2.dolibarrMessage === 'Forbidden: Not allowed');
      assert.equal(seen.length, 2);
    });

    it('404 on a list ("Thirdparties not found") → []; 404 on an object → DolibarrNotFoundError', async () => {
      script['GET /api/index.php/thirdparties'] = { status: 404, body: err(404, 'Thirdparties not found') };
      script['GET /api/index.php/thirdparties/99'] = { status: 404, body: err(404, 'Thirdparty not found') };
      const c = make();
      assert.deepEqual(await c.listThirdparties(), []);
      const e = await rejection(c.getThirdparty(99));
      assert.ok(e instanceof DolibarrNotFoundError && e.dolibarrMessage === 'Thirdparty not found');
    });

    it('a 401 of a rights check (Dolibarr 19) → DolibarrPermissionError, told from an unknown key by its message', async () => {
      script['POST /api/index.php/thirdparties'] = { status: 401, body: err(401, 'Unauthorized') };
      script['POST /api/index.php/supplierinvoices'] = { status: 401, body: err(401, 'Unauthorized: Insuffisant rights') };
      script['GET /api/index.php/users/info'] = { status: 401, body: err(401, 'Unauthorized: Not allowed') };
      script['GET /api/index.php/thirdparties/3'] = { status: 401, body: err(401, 'Unauthorized: Access not allowed for login ai_agent') };
      const c = make();
      for (const refused of [c.createThirdparty({ name: 'x' }), c.createSupplierInvoice({ socid: 1 }), c.userInfo(), c.getThirdparty(3)]) {
        const e = await rejection(refused);
        assert.ok(e instanceof DolibarrPermissionError, String(e));
        assert.equal(e.status, 401);
      }
      script['GET /api/index.php/users/info'] = { status: 401, body: err(401, 'Unauthorized: Error user not valid (not found with api key or bad status or bad validity dates) (conf->entity=1)') };
      assert.ok(await rejection(c.userInfo()) instanceof DolibarrAuthenticationError);
    });

    it('once status() says 20 or later, a 401 is authentication whatever its words; on 19 the words decide', async () => {
      script['POST /api/index.php/thirdparties'] = { status: 401, body: err(401, 'Unauthorized') };
      for (const [version, answersAs, Kind] of [['20.0.2', '20', DolibarrAuthenticationError], ['23.0.0-alpha', '23', DolibarrAuthenticationError], ['19.0.2', '19', DolibarrPermissionError], ['21.0.1', '20', DolibarrAuthenticationError], ['18.0.5', '19', DolibarrPermissionError]] as const) {
        script['GET /api/index.php/status'] = { status: 200, body: { success: { code: 200, dolibarr_version: version, access_locked: '0' } } };
        const c = make();
        assert.deepEqual(await c.status(), { dolibarrVersion: version, answersAs });
        assert.ok(await rejection(c.createThirdparty({ name: 'x' })) instanceof Kind, version);
      }
    });

    it("Dolibarr's technical-error page (202, HTML: its database unreachable) → one line, counted as unreachable", async () => {
      const page = '<!DOCTYPE html>\n<html><body><div>Dolibarr has detected a technical error.</div></body></html>';
      script['GET /api/index.php/status'] = { status: 202, raw: true, body: page };
      script['POST /api/index.php/thirdparties'] = { status: 202, raw: true, body: '<html><body>DolibarrHasDetectedError</body></html>' };
      const c = make();
      for (const answer of [c.status(), c.createThirdparty({ name: 'x' })]) {
        const e = await rejection(answer);
        assert.ok(e instanceof DolibarrUnavailable, String(e));
        assert.equal(e.message, `Dolibarr at ${SANDBOX} answered an error page, status 202: its database may be unreachable`);
        assert.equal(e.status, 202);
        assert.ok(isUnreachable(e), 'an unreachable target (exit 4 on a live run)');
      }
    });

    it('another page or text instead of JSON → one line each, counted as unreachable', async () => {
      script['GET /api/index.php/status'] = { status: 200, raw: true, body: 'Module Api must be enabled to use this feature.' };
      script['GET /api/index.php/users/info'] = { status: 502, raw: true, body: '<html><head><title>502 Bad Gateway</title></head></html>' };
      script['POST /api/index.php/thirdparties'] = { status: 200, body: { not: 'an id' } };
      const c = make({ readRetries: 0 });
      const text = await rejection(c.status());
      assert.ok(text instanceof DolibarrUnavailable && isUnreachable(text));
      assert.equal(text.message, `Dolibarr at ${SANDBOX} answered status 200 with text, not JSON: "Module Api must be enabled to use this feature."`);
      const page = await rejection(c.userInfo());
      assert.ok(page instanceof DolibarrUnavailable);
      assert.equal(page.message, `Dolibarr at ${SANDBOX} answered an error page, status 502, not its API's JSON: check that Dolibarr and its API are up behind that host`);
      assert.ok(await rejection(c.createThirdparty({ name: 'x' })) instanceof DolibarrUnexpectedResponse, 'JSON that is not an id');
    });

    it('checkAnswers(): GET /status without the key; the 401 for it means Dolibarr and its database answer', async () => {
      const c = make();
      await c.checkAnswers();
      assert.deepEqual(seen.map((s) => [s.method, s.url, s.key]), [['GET', '/api/index.php/status', undefined]]);
      script['NOKEY GET /api/index.php/status'] = { status: 202, raw: true, body: '<html>Dolibarr has detected a technical error</html>' };
      const e = await rejection(c.checkAnswers());
      assert.ok(e instanceof DolibarrUnavailable && isUnreachable(e));
      assert.match(e.message, /answered an error page, status 202: its database may be unreachable$/);
    });

    it('status() without environment; every request carried the key', async () => {
      script['GET /api/index.php/status'] = { status: 200, body: { success: { dolibarr_version: '20.0.2' } } };
      assert.deepEqual(await make().status(), { dolibarrVersion: '20.0.2', answersAs: '20' });
      assert.ok(seen.every((s) => s.key === API_KEY));
    });
  });

  describe('retries and timeouts', () => {
    it('a GET is retried on 503 then succeeds', async () => {
      const ok = { status: 200, body: [{ id: '1' }] };
      script['GET /api/index.php/thirdparties'] = [{ status: 503, body: err(503, 'Service Unavailable') }, { status: 502, body: 'x' }, ok];
      assert.deepEqual(await make().listThirdparties(), [{ id: '1' }]);
      assert.equal(seen.length, 3);
    });

    it('a GET gives up after readRetries and reports the last status', async () => {
      script['GET /api/index.php/thirdparties/5'] = { status: 503, body: err(503, 'Service Unavailable') };
      const e = await rejection(make({ readRetries: 1 }).getThirdparty(5));
      assert.ok(e instanceof DolibarrError && e.status === 503 && e.dolibarrMessage === 'Service Unavailable');
      assert.equal(seen.length, 2);
    });

    it('a POST is NOT retried on 503', async () => {
      script['POST /api/index.php/thirdparties'] = [{ status: 503, body: err(503, 'Service Unavailable') }, { status: 200, body: 22 }];
      const e = await rejection(make().createThirdparty({ name: 'once' }));
      assert.ok(e instanceof DolibarrError && e.status === 503);
      assert.equal(seen.length, 1);
    });

    it('a GET is retried on a network error (connection refused), a POST is not', async () => {
      const closed = createNetServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const closedPort = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const c = make({ port: closedPort, readRetries: 2 });
      const e = await rejection(c.status());
      assert.ok(e instanceof DolibarrNetworkError && e.status === 0, String(e));
      assert.equal(resolved.length, 3, 'three connection attempts');
      resolved = [];
      assert.ok(await rejection(c.createThirdparty({ name: 'x' })) instanceof DolibarrNetworkError);
      assert.equal(resolved.length, 1);
    });

    it('a server that never answers → DolibarrTimeoutError within timeoutMs, not retried', async () => {
      script['GET /api/index.php/status'] = 'hang';
      script['POST /api/index.php/thirdparties'] = 'hang';
      const c = make({ timeoutMs: 300 });
      for (const call of [() => c.status(), () => c.createThirdparty({ name: 'slow' })]) {
        const started = performance.now();
        const e = await rejection(call());
        const elapsed = performance.now() - started;
        assert.ok(e instanceof DolibarrTimeoutError, String(e));
        assert.ok(elapsed >= 250 && elapsed < 1500, `took ${elapsed} ms`);
      }
      assert.equal(seen.length, 2, 'one attempt each');
      server.closeAllConnections();
    });
  });

  describe('the API key stays secret', () => {
    it('is redacted even when the server echoes it', async () => {
      script['GET /api/index.php/status'] = { status: 401, body: err(401, `Unauthorized: bad key ${API_KEY}`) };
      script['GET /api/index.php/users/info'] = { status: 500, raw: true, body: `<pre>DOLAPIKEY=${API_KEY}</pre>` };
      const c = make({ readRetries: 0 });
      const e = await rejection(c.status());
      assert.ok(e instanceof DolibarrAuthenticationError);
      assert.match(e.dolibarrMessage, /\[redacted\]/);
      assert.ok(!e.message.includes(API_KEY));
      assert.ok(!(await rejection(c.userInfo()) as Error).message.includes(API_KEY));
    });

    it('never appears in inspect, JSON.stringify, String of the client', () => {
      const c = make();
      for (const text of [inspect(c), inspect(c, { showHidden: true, depth: Infinity }), JSON.stringify(c), String(c), `${Object.entries(c)}`]) {
        assert.ok(!text.includes(API_KEY), text);
        assert.ok(!text.includes(API_KEY.slice(0, 8)), text);
      }
      assert.deepEqual(JSON.parse(JSON.stringify(c)), { host: SANDBOX, port });
    });

    it('a bad key is refused without quoting it', () => {
      for (const apiKey of ['', `${API_KEY}\r\nX: y`, 'with space']) {
        const e = (() => { try { new DolibarrClient({ sandbox: SANDBOX_NAMES, apiKey }); } catch (error) { return error; } return undefined; })();
        assert.ok(e instanceof TypeError);
        assert.ok(!e.message.includes(API_KEY) && !e.message.includes('with space'));
      }
    });

  });

  describe('only the sandbox, only through the guard', () => {
    it('refuses the prod instance names', () => {
      assert.throws(() => new DolibarrClient({ sandbox: PROD_NAMES, apiKey: API_KEY }), /refusing the prod instance "erp\.arcodange\.lab"/);
    });

    it('refuses forged names that would point at prod or elsewhere', () => {
      const forged = [
        { ...SANDBOX_NAMES, host: PROD },
        { ...PROD_NAMES, env: 'sandbox' },
        { ...SANDBOX_NAMES, host: `evil.${SANDBOX}` },
        { ...SANDBOX_NAMES, host: `${PROD}.${SANDBOX}` },
        { ...SANDBOX_NAMES, host: 'ERP-SANDBOX.arcodange.lab' },
        { ...SANDBOX_NAMES, host: '127.0.0.1' },
        { ...SANDBOX_NAMES, host: `${SANDBOX}.` },
        { ...SANDBOX_NAMES, host: 'erp-sandbox.arcodange.lab:443' },
        { host: SANDBOX },
      ];
      for (const sandbox of forged) {
        assert.throws(() => new DolibarrClient({ sandbox: sandbox as never, apiKey: API_KEY }), TypeError, JSON.stringify(sandbox));
      }
      assert.throws(() => new DolibarrClient({ apiKey: API_KEY } as never), TypeError);
    });

    it('a configured URL must spell the sandbox host: refused at construction otherwise, before any lookup', () => {
      for (const url of [
        `https://${PROD}:${port}`, `https://${SANDBOX}@${PROD}:${port}`, `http://${SANDBOX}:${port}`, `https://127.0.0.1:${port}`,
        `https://${SANDBOX}:1`, `https://evil-${SANDBOX}:${port}`, `https://${SANDBOX}.evil.test:${port}`,
      ]) {
        assert.throws(() => make({ url }), HostGuardRefusal, url);
      }
      assert.throws(() => make({ url: `https://${SANDBOX}:${port}/?x=1` }), /must not carry a query or fragment/);
      assert.deepEqual(resolved, []);
    });

    it('a configured URL with a path prefix, capitals or a trailing dot reaches the sandbox', async () => {
      for (const url of [`https://${SANDBOX}:${port}/erp/`, `https://ERP-SANDBOX.arcodange.lab:${port}`, `https://${SANDBOX}.:${port}`]) {
        script['GET /erp/api/index.php/status'] = { status: 200, body: { success: { code: 200, dolibarr_version: '20.0.2' } } };
        script['GET /api/index.php/status'] = { status: 200, body: { success: { code: 200, dolibarr_version: '20.0.2' } } };
        assert.deepEqual(await make({ url }).status(), { dolibarrVersion: '20.0.2', answersAs: '20' }, url);
      }
      assert.deepEqual(seen.map((s) => s.url), ['/erp/api/index.php/status', '/api/index.php/status', '/api/index.php/status']);
    });

    it('a 3xx from the sandbox is a host-guard refusal, never followed', async () => {
      const redirecting = createHttpsServer({ key: certificate.key, cert: ca }, (_req, res) => {
        res.writeHead(302, { location: `https://${PROD}:${port}/api/index.php/thirdparties` }).end();
      });
      await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
      try {
        const c = make({ port: (redirecting.address() as AddressInfo).port });
        const e = await rejection(c.createThirdparty({ name: 'x' }));
        assert.ok(e instanceof HostGuardRefusal && e.reason === 'redirect' && e.refusedHost === PROD, String(e));
        assert.deepEqual(seen, [], 'the prod stand-in was never reached');
        assert.deepEqual(resolved, [SANDBOX]);
      } finally {
        redirecting.closeAllConnections();
        await new Promise<void>((resolve) => redirecting.close(() => resolve()));
      }
    });

    it('the module exports nothing but the guarded client', () => {
      assert.deepEqual(Object.keys(client).sort(), ['DolibarrClient']);
      assert.deepEqual(Object.getOwnPropertyNames(client).filter((n) => n !== '__esModule').sort(), ['DolibarrClient']);
    });

    it('an instance exposes no dispatcher, agent or request helper', () => {
      const c = make();
      const names = new Set<string>();
      for (let o: object | null = c; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
        for (const n of Object.getOwnPropertyNames(o)) names.add(n);
        for (const s of Object.getOwnPropertySymbols(o)) names.add(s.toString());
      }
      assert.deepEqual([...names].sort(), [
        'Symbol(nodejs.util.inspect.custom)',
        'checkAnswers', 'close', 'constructor', 'createSupplierInvoice', 'createThirdparty', 'deleteThirdparty', 'getSupplierInvoice',
        'getThirdparty', 'listSupplierInvoices', 'listThirdparties', 'status', 'toJSON', 'toString', 'updateThirdparty', 'userInfo',
      ].sort());
      assert.deepEqual(Object.keys(c), []);
      for (const n of names) assert.ok(!/dispatch|agent|pool|fetch|request|socket/i.test(n), n);
    });

    it('(last) the API key never appears in any error this file collected', () => {
      assert.ok(errors.length >= 14, `${errors.length} errors`);
      for (const e of errors) {
        for (const text of [String(e), inspect(e, { showHidden: true, depth: 10 }), JSON.stringify(e)]) {
          assert.ok(!text.includes(API_KEY), text);
        }
      }
    });
  });
});
