// The recording gateway against scripted loopback Dolibarrs (the sandbox's, and prod's behind a redirect): what it
// forwards, with which key, what it records, and what it refuses before anything leaves it.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, LookupFunction } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import type { WriteExchange } from '../support/dolibarr/client';
import { startGateway, type RecordingGateway } from '../support/gateway/server';
import { decide } from '../support/gateway/requests';
import { instanceNames } from '../support/naming';
import { registerSecret } from '../support/redaction';
import { selfSignedCertificate } from './helpers/certificate';

const SANDBOX = instanceNames('erp', 'sandbox', 'arcodange.lab');
const PROD = instanceNames('erp', 'prod', 'arcodange.lab');
const KEY = 'agent-sandbox-key-3f9c0a7e51';
registerSecret(KEY);

interface Seen { readonly host: string; readonly method: string; readonly url: string; readonly key: string | undefined; readonly body: string }
type Script = (seen: Seen) => { status: number; body: string; headers?: Record<string, string> };

describe('the recording gateway', () => {
  let certificate: { key: Buffer; cert: Buffer };
  let upstream: Server;
  let port = 0;
  const seen: Seen[] = [];
  let script: Script = () => ({ status: 200, body: '[]' });
  const gateways: RecordingGateway[] = [];

  const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (hostname !== SANDBOX.host && hostname !== PROD.host) return callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    return options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4);
  }) as unknown as LookupFunction;

  before(async () => {
    certificate = selfSignedCertificate([SANDBOX.host, PROD.host]);
    // One server stands for both hosts: the Host header says which one a request reached.
    upstream = createServer(certificate, (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const key = req.headers['dolapikey'];
        const entry = { host: String(req.headers.host).split(':')[0]!, method: req.method!, url: req.url!, key: Array.isArray(key) ? key.join() : key, body };
        seen.push(entry);
        const reply = script(entry);
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(reply.body);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    port = (upstream.address() as AddressInfo).port;
  });

  afterEach(async () => {
    seen.length = 0;
    script = () => ({ status: 200, body: '[]' });
    for (const gateway of gateways.splice(0)) await gateway.close();
  });

  after(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

  async function gateway(writes: WriteExchange[] = []): Promise<RecordingGateway> {
    const started = await startGateway({
      sandbox: SANDBOX, url: `https://${SANDBOX.host}:${port}`, port, apiKey: KEY, ca: certificate.cert, lookup, onWrite: (exchange) => writes.push(exchange),
    });
    gateways.push(started);
    return started;
  }

  async function send(url: string, init: RequestInit = {}): Promise<{ status: number; text: string; headers: Headers }> {
    const res = await fetch(url, { redirect: 'manual', ...init });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  it('forwards a read to the sandbox with the agent\'s key, and records no write', async () => {
    script = () => ({ status: 200, body: JSON.stringify([{ id: '1', name: 'Acme' }]) });
    const writes: WriteExchange[] = [];
    const { url } = await gateway(writes);
    const answer = await send(`${url}/api/index.php/thirdparties?limit=1`);
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.text), [{ id: '1', name: 'Acme' }]);
    assert.deepEqual(seen.map(({ host, method, url: path, key }) => ({ host, method, path, key })), [
      { host: SANDBOX.host, method: 'GET', path: '/api/index.php/thirdparties?limit=1', key: KEY },
    ]);
    assert.deepEqual(writes, []);
  });

  it('records a write with its body, the status and the sandbox\'s answer, as a changeset keeps it', async () => {
    script = () => ({ status: 200, body: '7' });
    const writes: WriteExchange[] = [];
    const { url } = await gateway(writes);
    const answer = await send(`${url}/api/index.php/thirdparties`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Acme', fournisseur: 1 }) });
    assert.equal(answer.status, 200);
    assert.equal(answer.text, '7');
    assert.deepEqual(writes, [{ method: 'POST', path: '/thirdparties', body: { name: 'Acme', fournisseur: 1 }, status: 200, response: 7 }]);
    assert.deepEqual(JSON.parse(seen[0]!.body), { name: 'Acme', fournisseur: 1 });
  });

  it('records a write the sandbox refused, with its status, so the replay can leave it out', async () => {
    script = () => ({ status: 400, body: JSON.stringify({ error: { code: 400, message: 'name is mandatory' } }) });
    const writes: WriteExchange[] = [];
    const { url } = await gateway(writes);
    const answer = await send(`${url}/api/index.php/thirdparties`, { method: 'POST', body: '{}' });
    assert.equal(answer.status, 400);
    assert.equal(writes.length, 1);
    assert.equal(writes[0]!.status, 400);
  });

  for (const [name, path, headers] of [
    ['a DOLAPIKEY header', '/api/index.php/thirdparties', { DOLAPIKEY: 'the-agents-own-key' }],
    ['a DOLAPIKEY query parameter', '/api/index.php/thirdparties?DOLAPIKEY=the-agents-own-key', {}],
    ['an api_key query parameter', '/api/index.php/thirdparties?limit=1&api_key=the-agents-own-key', {}],
  ] as const) {
    it(`refuses a request carrying its own key in ${name}, 403 as Dolibarr words errors, and sends nothing`, async () => {
      const writes: WriteExchange[] = [];
      const started = await gateway(writes);
      const answer = await send(`${started.url}${path}`, { method: 'POST', headers, body: JSON.stringify({ name: 'Acme' }) });
      assert.equal(answer.status, 403);
      const error = (JSON.parse(answer.text) as { error: { code: number; message: string } }).error;
      assert.equal(error.code, 403);
      assert.match(error.message, /adds the agent's sandbox key itself; send no key/);
      assert.deepEqual(seen, []);
      assert.deepEqual(writes, []);
      assert.equal(started.refusals.length, 1);
    });
  }

  it('refuses at once a write promote could not replay, naming the writes it can, and sends nothing', async () => {
    const writes: WriteExchange[] = [];
    const { url } = await gateway(writes);
    const answer = await send(`${url}/api/index.php/supplierinvoices/5/validate`, { method: 'POST', body: '{}' });
    assert.equal(answer.status, 403);
    const { message } = (JSON.parse(answer.text) as { error: { message: string } }).error;
    assert.match(message, /refuses POST \/supplierinvoices\/5\/validate: promote could not replay it/);
    assert.match(message, /POST \/supplierinvoices/);
    assert.deepEqual(seen, []);
    assert.deepEqual(writes, []);
  });

  it("answers the sandbox's redirect to prod as a refusal, relays no Location, and prod sees nothing", async () => {
    script = (request) => (request.host === SANDBOX.host
      ? { status: 307, body: '', headers: { location: `https://${PROD.host}:${port}/api/index.php/thirdparties` } }
      : { status: 200, body: '99' });
    const writes: WriteExchange[] = [];
    const { url } = await gateway(writes);
    const answer = await send(`${url}/api/index.php/thirdparties`, { method: 'POST', body: JSON.stringify({ name: 'Acme' }) });
    assert.equal(answer.status, 403);
    assert.equal(answer.headers.get('location'), null);
    assert.match((JSON.parse(answer.text) as { error: { message: string } }).error.message, /refused to leave the sandbox: .*redirect/);
    assert.deepEqual(seen.map((request) => request.host), [SANDBOX.host]);
    assert.deepEqual(writes, []);
  });

  for (const path of ['/index.php', '/api/index.php/../../admin/index.php', '/api/index.php//thirdparties', '/api/index.php/thirdparties%2F..']) {
    it(`refuses ${path}: only Dolibarr's API is forwarded`, async () => {
      const { url } = await gateway();
      const answer = await new Promise<number>((resolve, reject) => {
        // Sent as written (fetch would fold the dots).
        const req = httpRequest(`${url}/`, { path, method: 'GET' }, (res) => { res.resume(); resolve(res.statusCode!); });
        req.on('error', reject);
        req.end();
      });
      assert.equal(answer, 404);
      assert.deepEqual(seen, []);
    });
  }

  it("refuses a request naming another Host than the gateway's (a web page reached through DNS rebinding)", async () => {
    const { url } = await gateway();
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${url}/api/index.php/thirdparties`, { headers: { host: `evil.example:${new URL(url).port}` } }, (res) => { res.resume(); resolve(res.statusCode!); });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 403);
    assert.deepEqual(seen, []);
  });

  it('never relays the key, even when the sandbox quotes it', async () => {
    script = () => ({ status: 200, body: JSON.stringify({ echo: KEY }) });
    const { url } = await gateway();
    const answer = await send(`${url}/api/index.php/status`);
    assert.equal(answer.text.includes(KEY), false);
    assert.match(answer.text, /\[redacted\]/);
  });

  it('will not forward to prod: a gateway for prod is refused before it listens', async () => {
    await assert.rejects(
      startGateway({ sandbox: PROD, url: `https://${PROD.host}:${port}`, port, apiKey: KEY, onWrite: () => undefined }),
      /forwards to a sandbox only/,
    );
    await assert.rejects(
      startGateway({ sandbox: SANDBOX, url: `https://${PROD.host}:${port}`, port, apiKey: KEY, onWrite: () => undefined }),
      /host-guard refused host/,
    );
  });

  it('decides a write body that is not a JSON object is the agent\'s mistake, 400', () => {
    assert.deepEqual(decide({ method: 'POST', url: '/api/index.php/thirdparties', headers: {}, body: '[1]' }).kind, 'refused');
    assert.equal((decide({ method: 'PUT', url: '/api/index.php/thirdparties/3', headers: {}, body: 'name=x' }) as { status: number }).status, 400);
    assert.deepEqual(decide({ method: 'DELETE', url: '/api/index.php/thirdparties/3', headers: {}, body: '' }), {
      kind: 'forward', method: 'DELETE', path: '/api/index.php/thirdparties/3', write: { method: 'DELETE', path: '/thirdparties/3' },
    });
  });
});
