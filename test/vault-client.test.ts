import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import { AddressInfo, LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, afterEach, before, describe, it } from 'node:test';
import { selfSignedCertificate } from './helpers/certificate';
import { createCertificateAuthority } from '../support/hermetic/certificates';
import { runTeardowns } from '../support/process/teardown';
import { isRegisteredSecret } from '../support/redaction';
import { Secret } from '../support/secret';
import {
  DatabaseLease,
  VaultAuthenticationError,
  VaultConfigError,
  VaultConfigInput,
  VaultError,
  VaultEvent,
  VaultLeaseRevocationError,
  VaultPermissionDenied,
  VaultSession,
  VaultSessionOptions,
  VaultUnexpectedResponse,
  VaultUnreachable,
  vaultConfig,
} from '../support/vault';

// ---- planted secrets: none may ever show up in an error, an inspect/JSON/String output, stdout or stderr ----
const TOKEN = 'hvs.PLANTED-given-token-7c1f0a9e2b';
const CLIENT_TOKEN = 'hvs.PLANTED-client-token-3e4f5a6b';
const K8S_JWT = 'eyJhbGciOiJSUzI1NiJ9.PLANTED-k8s-jwt-payload.c2lnLTRkMmU';
const CI_JWT = 'eyJhbGciOiJSUzI1NiJ9.PLANTED-ci-jwt-payload.c2lnLTllOGY';
const PASSWORD = 'A1a-PLANTED-password-9f8e7d6c';
const KV_VALUE = 'PLANTED-dolibarr-api-key-5b6c7d8e';
const SECRETS = [TOKEN, CLIENT_TOKEN, K8S_JWT, CI_JWT, PASSWORD, KV_VALUE];
const FRAGMENTS = ['PLANTED-'];

const VAULT = 'vault.arcodange.lab';
const OTHER = 'elsewhere.arcodange.lab';
const CREDS = 'postgres/creds/erp-sandbox';

type Seen = { method: string; url: string; token: string | undefined; body: unknown };
type Answer = { status: number; body?: unknown } | 'hang';
type Script = Answer | Answer[] | ((seen: Seen) => Answer);

/** Everything this file saw that could hold a secret: errors, events, sessions, leases, KV results. */
const collected: unknown[] = [];
async function rejection(promise: Promise<unknown>): Promise<VaultError> {
  const e = await promise.then(() => assert.fail('expected a rejection'), (e: unknown) => e);
  collected.push(e);
  assert.ok(e instanceof VaultError, `not a VaultError: ${String(e)}`);
  return e;
}

// ---- Vault's answers (docs/ARCHITECTURE.md, "Facts the code relies on") ----
let serial = 0;
function credsAnswer(leaseDuration = 3600, renewable = true, password = PASSWORD) {
  const id = `${(++serial).toString(36)}Xq3ZkP0aB7rT2wYc5nV`;
  return {
    status: 200,
    body: {
      request_id: `req-${id}`,
      lease_id: `${CREDS}/${id}`,
      lease_duration: leaseDuration,
      renewable,
      data: { username: `v-kubernet-erp-sand-${'a'.repeat(20)}-1735689600`, password },
      warnings: null,
      wrap_info: null,
      auth: null,
    },
  };
}
function loginAnswer(policies = ['default', 'erp-sandbox']) {
  return {
    status: 200,
    body: {
      request_id: 'req-login', lease_id: '', renewable: false, lease_duration: 0, data: null, wrap_info: null, warnings: null,
      auth: {
        client_token: CLIENT_TOKEN, accessor: 'acc-1', policies, token_policies: policies, metadata: { role: 'erp-sandbox' },
        lease_duration: 3600, renewable: true, entity_id: 'ent-1', token_type: 'service', orphan: true,
      },
    },
  };
}
function lookupSelfAnswer(token: string | undefined, ttl = 3600, displayName = 'kubernetes-erp-sandbox-erp-sandbox') {
  return {
    status: 200,
    body: {
      data: {
        accessor: 'acc-1', creation_ttl: ttl, display_name: displayName, entity_id: 'ent-1', expire_time: null, explicit_max_ttl: 0,
        id: token, issue_time: '2025-01-01T00:00:00Z', meta: null, num_uses: 0, orphan: true, path: 'auth/kubernetes/login',
        policies: ['default', 'erp-sandbox'], renewable: ttl > 0, ttl, type: 'service',
      },
    },
  };
}
const errorsAnswer = (status: number, ...errors: string[]) => ({ status, body: { errors } });
const renewAnswer = (leaseId: string, leaseDuration: number, renewable = true) => ({
  status: 200,
  body: { request_id: 'req-renew', lease_id: leaseId, renewable, lease_duration: leaseDuration, data: null, wrap_info: null, warnings: null, auth: null },
});
function kvAnswer() {
  return {
    status: 200,
    body: {
      request_id: 'req-kv', lease_id: '', renewable: false, lease_duration: 0,
      data: {
        data: { dolibarr_api_key: KV_VALUE, dolibarr_url: 'https://erp-sandbox.arcodange.lab', port: 5432, flags: { x: 'y' }, note: '' },
        metadata: { created_time: '2025-01-01T00:00:00.000000Z', custom_metadata: null, deletion_time: '', destroyed: false, version: 3 },
      },
      wrap_info: null, warnings: null, auth: null,
    },
  };
}

describe('VaultSession against a scripted loopback Vault', () => {
  let certificate: { key: Buffer; cert: Buffer };
  let ca: string;
  let server: HttpsServer;
  let port = 0;
  let other: HttpsServer;
  let otherPort = 0;
  let otherSeen: Seen[] = [];
  let seen: Seen[] = [];
  let script: Record<string, Script> = {};
  let waiters: { match: (s: Seen) => boolean; resolve: (s: Seen) => void }[] = [];
  let events: VaultEvent[] = [];
  let eventWaiters: { match: (e: VaultEvent) => boolean; resolve: (e: VaultEvent) => void }[] = [];
  const sessions: VaultSession[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'vault-client-test-'));
  const output: string[] = [];
  const originalWrites = { stdout: process.stdout.write, stderr: process.stderr.write };

  const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    if (name !== VAULT && name !== OTHER) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    if (options.all) return callback(null, [{ address: '127.0.0.1', family: 4 }]);
    return callback(null, '127.0.0.1', 4);
  }) as unknown as LookupFunction;

  const address = () => `https://${VAULT}:${port}`;
  const k8sTokenFile = join(dir, 'sa-token');
  const ciJwtFile = join(dir, 'ci-jwt');

  function make(auth: VaultConfigInput['auth'], extra: Partial<VaultConfigInput> = {}, options: VaultSessionOptions = {}): VaultSession {
    const session = new VaultSession(
      { address: address(), ca, timeoutMs: 5000, auth, ...extra },
      { lookup, onEvent: (e) => onEvent(e), ...options },
    );
    sessions.push(session);
    collected.push(session);
    return session;
  }
  const kubernetes = (extra: Partial<VaultConfigInput> = {}, options: VaultSessionOptions = {}) =>
    make({ method: 'kubernetes', role: 'erp-sandbox', tokenPath: k8sTokenFile }, extra, options);

  function onEvent(e: VaultEvent): void {
    events.push(e);
    collected.push(e);
    for (const w of [...eventWaiters]) {
      if (w.match(e)) {
        eventWaiters.splice(eventWaiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  }
  function nextEvent(match: (e: VaultEvent) => boolean): Promise<VaultEvent> {
    const done = events.find(match);
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => eventWaiters.push({ match, resolve }));
  }
  function nextRequest(match: (s: Seen) => boolean): Promise<Seen> {
    const done = seen.find(match);
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => waiters.push({ match, resolve }));
  }

  function scripted(s: Seen): Answer | undefined {
    const entry = script[`${s.method} ${s.url}`];
    if (typeof entry === 'function') return entry(s);
    if (Array.isArray(entry)) return entry.length > 1 ? entry.shift() : entry[0];
    if (entry !== undefined) return entry;
    // Defaults: what every test needs and does not care about.
    if (s.method === 'GET' && s.url === '/v1/auth/token/lookup-self') return lookupSelfAnswer(s.token);
    if (s.method === 'PUT' && s.url === '/v1/sys/leases/revoke') return { status: 204 };
    return undefined;
  }

  function record(req: IncomingMessage, text: string): Seen {
    const token = req.headers['x-vault-token'];
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // kept as text
    }
    return { method: req.method!, url: req.url!, token: Array.isArray(token) ? token.join() : token, body };
  }

  function answer(req: IncomingMessage, res: ServerResponse, text: string): void {
    const s = record(req, text);
    seen.push(s);
    for (const w of [...waiters]) {
      if (w.match(s)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(s);
      }
    }
    const a = scripted(s);
    if (a === 'hang') return;
    if (a === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [] }));
      return;
    }
    if (a.status === 204 || a.body === undefined) {
      res.writeHead(a.status).end();
      return;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const location = (a.body as { location?: string } | null)?.location;
    if (a.status >= 300 && a.status < 400 && location) headers['location'] = location;
    res.writeHead(a.status, headers).end(JSON.stringify(a.body));
  }

  function serve(key: Buffer | string, cert: Buffer | string, handler: (req: IncomingMessage, res: ServerResponse, text: string) => void): HttpsServer {
    return createHttpsServer({ key, cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
    });
  }
  const listen = (s: HttpsServer) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
  const shut = async (s: HttpsServer) => {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  before(async () => {
    // Everything written to stdout/stderr while this file runs is kept (and passed on) for the last test.
    for (const stream of ['stdout', 'stderr'] as const) {
      const original = originalWrites[stream];
      process[stream].write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
        output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
        return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
      } as unknown as typeof process.stdout.write;
    }
    certificate = selfSignedCertificate([VAULT, OTHER]);
    ca = certificate.cert.toString('utf8');
    writeFileSync(k8sTokenFile, `${K8S_JWT}\n`);
    writeFileSync(ciJwtFile, `${CI_JWT}\n`);
    server = serve(certificate.key, certificate.cert, answer);
    port = await listen(server);
    other = serve(certificate.key, certificate.cert, (req, res, text) => {
      otherSeen.push(record(req, text));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{}}');
    });
    otherPort = await listen(other);
  });

  afterEach(async () => {
    for (const session of sessions.splice(0)) await session.close();
    await runTeardowns(); // revokes whatever a test left outstanding (the default revoke answer is 204)
    seen = [];
    otherSeen = [];
    script = {};
    waiters = [];
    events = [];
    eventWaiters = [];
  });

  after(async () => {
    process.stdout.write = originalWrites.stdout;
    process.stderr.write = originalWrites.stderr;
    await shut(server);
    await shut(other);
    rmSync(dir, { recursive: true, force: true });
  });

  describe('configuration', () => {
    it('applies defaults and keeps the origin', () => {
      const config = vaultConfig({ address: 'https://vault.arcodange.lab:8200/', auth: { method: 'kubernetes', role: 'erp-sandbox' } });
      assert.equal(config.address, 'https://vault.arcodange.lab:8200');
      assert.equal(config.host, VAULT);
      assert.equal(config.port, 8200);
      assert.equal(config.timeoutMs, 10_000);
      assert.equal(config.readRetries, 2);
      assert.deepEqual(config.auth, { method: 'kubernetes', role: 'erp-sandbox', mount: 'kubernetes', tokenPath: '/var/run/secrets/kubernetes.io/serviceaccount/token' });
      const jwt = vaultConfig({ address: 'https://vault.arcodange.lab', auth: { method: 'jwt', role: 'gitea_cicd_erp', tokenPath: '/run/ci/jwt' } });
      assert.deepEqual(jwt.auth, { method: 'jwt', role: 'gitea_cicd_erp', mount: 'jwt', tokenPath: '/run/ci/jwt' });
      assert.equal(jwt.port, 443);
    });

    it('lists every bad value at once, one line each, never quoting a secret', () => {
      const e = (() => {
        try {
          vaultConfig({
            address: 'http://vault.arcodange.lab/v1?x=1',
            ca: 'not a pem',
            timeoutMs: -1,
            auth: { method: 'jwt', role: 'bad role', token: new Secret('CI JWT', CI_JWT), tokenPath: '/run/ci/jwt' },
          });
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      assert.ok(e instanceof VaultConfigError);
      collected.push(e);
      assert.equal(e.problems.length, 6, e.message);
      assert.match(e.message, /only reached over https/);
      assert.match(e.message, /origin only/);
      assert.match(e.message, /ca must be a PEM string/);
      assert.match(e.message, /timeoutMs -1/);
      assert.match(e.message, /auth\.role "bad role"/);
      assert.match(e.message, /exactly one of token .* and tokenPath/);
    });

    it('refuses a token that is not a Secret, an unknown method, a jwt without token or file', () => {
      const bad = [
        { method: 'token', token: TOKEN },
        { method: 'ldap' },
        { method: 'jwt', role: 'gitea_cicd_erp' },
        { method: 'kubernetes', role: 'erp-sandbox', mount: '../sys' },
        undefined,
      ];
      for (const auth of bad) {
        const e = (() => { try { vaultConfig({ address: 'https://vault.arcodange.lab', auth: auth as never }); } catch (error) { return error; } return undefined; })();
        assert.ok(e instanceof VaultConfigError, JSON.stringify(auth));
        collected.push(e);
      }
      assert.throws(() => vaultConfig({ address: 'not a url', auth: { method: 'token', token: new Secret('t', TOKEN) } }), /is not a URL/);
      assert.throws(() => vaultConfig({ address: 'https://u:p@vault.arcodange.lab', auth: { method: 'token', token: new Secret('t', TOKEN) } }), /credentials/);
    });
  });

  describe('login', () => {
    it('token: uses it as given, then lookup-self (X-Vault-Token) for policies and TTL', async () => {
      script['GET /v1/auth/token/lookup-self'] = (s) => lookupSelfAnswer(s.token, 1800, 'token-erp-sandbox');
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) });
      const identity = await session.login();
      assert.deepEqual(seen.map((s) => [s.method, s.url, s.token]), [['GET', '/v1/auth/token/lookup-self', TOKEN]]);
      assert.equal(identity.method, 'token');
      assert.equal(identity.displayName, 'token-erp-sandbox');
      assert.deepEqual(identity.policies, ['default', 'erp-sandbox']);
      assert.equal(identity.ttlSeconds, 1800);
      assert.equal(identity.renewable, true);
      assert.ok(identity.expiresAt && Math.abs(identity.expiresAt.getTime() - Date.now() - 1_800_000) < 5000);
      assert.deepEqual(session.identity, identity);
      assert.ok(events.some((e) => e.kind === 'logged-in'));
    });

    it('kubernetes: reads the service-account JWT from its file at login time, POST auth/kubernetes/login {role, jwt}', async () => {
      script['POST /v1/auth/kubernetes/login'] = loginAnswer();
      const previous = process.env['VAULT_TOKEN'];
      process.env['VAULT_TOKEN'] = TOKEN; // node-vault would send it on the login: the session must not
      let session: VaultSession;
      try {
        session = kubernetes();
      } finally {
        if (previous === undefined) delete process.env['VAULT_TOKEN'];
        else process.env['VAULT_TOKEN'] = previous;
      }
      writeFileSync(k8sTokenFile, `${K8S_JWT}\n`); // (re)written after the session was made: read at login
      const identity = await session.login();
      assert.deepEqual(seen.map((s) => [s.method, s.url, s.token]), [
        ['POST', '/v1/auth/kubernetes/login', undefined],
        ['GET', '/v1/auth/token/lookup-self', CLIENT_TOKEN],
      ]);
      assert.deepEqual(seen[0]!.body, { role: 'erp-sandbox', jwt: K8S_JWT });
      assert.equal(identity.method, 'kubernetes');
      assert.deepEqual(identity.policies, ['default', 'erp-sandbox']);
    });

    it('kubernetes: another mount; a missing token file is a VaultAuthenticationError naming the file, not the token', async () => {
      script['POST /v1/auth/k8s-homelab/login'] = loginAnswer();
      const session = make({ method: 'kubernetes', role: 'erp-sandbox', mount: 'k8s-homelab', tokenPath: k8sTokenFile });
      await session.login();
      assert.deepEqual(seen.map((s) => s.url), ['/v1/auth/k8s-homelab/login', '/v1/auth/token/lookup-self']);
      const missing = join(dir, 'no-such-token');
      const e = await rejection(make({ method: 'kubernetes', role: 'erp-sandbox', tokenPath: missing }).login());
      assert.ok(e instanceof VaultAuthenticationError);
      assert.equal(e.status, 0);
      assert.equal(e.message, `Vault POST auth/kubernetes/login → no answer: cannot read the service-account token from ${missing} (ENOENT)`);
      assert.equal(seen.length, 2, 'nothing sent without a token');
    });

    it('jwt from a value: POST auth/jwt/login {role: gitea_cicd_erp, jwt}', async () => {
      script['POST /v1/auth/jwt/login'] = loginAnswer(['default', 'erp-ci']);
      const session = make({ method: 'jwt', role: 'gitea_cicd_erp', token: new Secret('CI JWT', CI_JWT) });
      const identity = await session.login();
      assert.deepEqual(seen.map((s) => [s.method, s.url, s.token]), [
        ['POST', '/v1/auth/jwt/login', undefined],
        ['GET', '/v1/auth/token/lookup-self', CLIENT_TOKEN],
      ]);
      assert.deepEqual(seen[0]!.body, { role: 'gitea_cicd_erp', jwt: CI_JWT });
      assert.equal(identity.method, 'jwt');
    });

    it('jwt from a file, on another mount', async () => {
      script['POST /v1/auth/gitea/login'] = loginAnswer();
      await make({ method: 'jwt', role: 'gitea_cicd_erp', mount: 'gitea', tokenPath: ciJwtFile }).login();
      assert.deepEqual(seen[0]!.body, { role: 'gitea_cicd_erp', jwt: CI_JWT });
      assert.equal(seen[0]!.url, '/v1/auth/gitea/login');
    });

    it('400 login refusal → VaultAuthenticationError with Vault\'s message; a refused token (403) too', async () => {
      script['POST /v1/auth/kubernetes/login'] = errorsAnswer(400, 'invalid role name "erp-sandbox"');
      const e = await rejection(kubernetes().login());
      assert.ok(e instanceof VaultAuthenticationError);
      assert.equal(e.status, 400);
      assert.deepEqual(e.errors, ['invalid role name "erp-sandbox"']);
      assert.equal(e.message, 'Vault POST auth/kubernetes/login → 400 invalid role name "erp-sandbox"');
      assert.equal(seen.length, 1, 'a login is never retried');

      script['GET /v1/auth/token/lookup-self'] = errorsAnswer(403, 'permission denied');
      const e2 = await rejection(make({ method: 'token', token: new Secret('Vault token', TOKEN) }).login());
      assert.ok(e2 instanceof VaultAuthenticationError && e2.status === 403);
      assert.equal(e2.message, 'Vault GET auth/token/lookup-self → 403 permission denied');
    });
  });

  describe('database credentials and leases', () => {
    it('GET <credsPath> with the token → a DatabaseLease (password a Secret), tracked', async () => {
      script['POST /v1/auth/kubernetes/login'] = loginAnswer();
      script[`GET /v1/${CREDS}`] = [credsAnswer(3600), credsAnswer(600, false)];
      const session = kubernetes();
      const lease = await session.databaseCredentials(CREDS); // logs in first
      assert.ok(lease instanceof DatabaseLease);
      assert.deepEqual(seen.map((s) => [s.method, s.url, s.token]), [
        ['POST', '/v1/auth/kubernetes/login', undefined],
        ['GET', '/v1/auth/token/lookup-self', CLIENT_TOKEN],
        ['GET', `/v1/${CREDS}`, CLIENT_TOKEN],
      ]);
      assert.match(lease.username, /^v-kubernet-erp-sand-/);
      assert.ok(lease.password instanceof Secret);
      assert.equal(lease.password.reveal(), PASSWORD);
      assert.match(lease.leaseId, /^postgres\/creds\/erp-sandbox\//);
      assert.equal(lease.leaseDurationSeconds, 3600);
      assert.equal(lease.renewable, true);
      assert.equal(lease.credsPath, CREDS);
      assert.ok(Math.abs(lease.expiresAt.getTime() - Date.now() - 3_600_000) < 5000);
      const second = await session.databaseCredentials(CREDS);
      assert.equal(second.renewable, false);
      assert.deepEqual(session.outstandingLeases.map((l) => l.leaseId), [lease.leaseId, second.leaseId]);
      assert.deepEqual(session.outstandingLeaseIds, [lease.leaseId, second.leaseId]);
      assert.deepEqual(events.filter((e) => e.kind === 'lease-obtained').map((e) => (e as { leaseId: string }).leaseId), [lease.leaseId, second.leaseId]);
      collected.push(lease, second);
      assert.equal(JSON.parse(JSON.stringify(lease)).password, `[secret password of ${lease.username}]`);
    });

    it('renew(lease, increment) → PUT sys/leases/renew {lease_id, increment}; without increment {lease_id}', async () => {
      script[`GET /v1/${CREDS}`] = credsAnswer(3600);
      script['PUT /v1/sys/leases/renew'] = (s) => renewAnswer((s.body as { lease_id: string }).lease_id, 7200);
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) });
      const lease = await session.databaseCredentials(CREDS);
      const renewed = await session.renew(lease, 7200);
      assert.equal(renewed, lease, 'the same lease object, updated');
      assert.equal(lease.leaseDurationSeconds, 7200);
      assert.ok(Math.abs(lease.expiresAt.getTime() - Date.now() - 7_200_000) < 5000);
      await session.renew(lease.leaseId);
      const renews = seen.filter((s) => s.url === '/v1/sys/leases/renew');
      assert.deepEqual(renews.map((s) => [s.method, s.token, s.body]), [
        ['PUT', TOKEN, { lease_id: lease.leaseId, increment: 7200 }],
        ['PUT', TOKEN, { lease_id: lease.leaseId }],
      ]);
      await assert.rejects(session.renew(lease, 1.5), TypeError);
      const e = await rejection(session.renew('postgres/creds/erp-sandbox/unknown'));
      assert.match(e.message, /is not outstanding in this session/);
    });

    it('renews automatically at 2/3 of a short lease, and again after that', { timeout: 10_000 }, async () => {
      script[`GET /v1/${CREDS}`] = credsAnswer(1);
      script['PUT /v1/sys/leases/renew'] = (s) => renewAnswer((s.body as { lease_id: string }).lease_id, 1);
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) });
      const lease = await session.databaseCredentials(CREDS);
      const obtained = Date.now();
      const first = await nextRequest((s) => s.url === '/v1/sys/leases/renew');
      const firstAfter = Date.now() - obtained;
      assert.deepEqual([first.method, first.token, first.body], ['PUT', TOKEN, { lease_id: lease.leaseId }]);
      assert.ok(firstAfter >= 400, `renewed after ${firstAfter} ms, not at 2/3 of 1 s`);
      const renewed = await nextEvent((e) => e.kind === 'lease-renewed');
      assert.deepEqual({ ...renewed, expiresAt: undefined }, { kind: 'lease-renewed', leaseId: lease.leaseId, leaseDurationSeconds: 1, expiresAt: undefined, automatic: true });
      await nextRequest((s) => s.url === '/v1/sys/leases/renew' && s !== first);
      await session.revoke(lease);
      assert.deepEqual(session.outstandingLeases, []);
    });

    it('automatic renewal failures are events: a refusal stops, a 5xx is retried, "not renewable" ends it', { timeout: 10_000 }, async () => {
      const answers = [credsAnswer(1), credsAnswer(2), credsAnswer(1)];
      const [refusedId, flakyId] = answers.map((a) => a.body.lease_id);
      script[`GET /v1/${CREDS}`] = answers;
      let flakyCalls = 0;
      script['PUT /v1/sys/leases/renew'] = (s) => {
        const id = (s.body as { lease_id: string }).lease_id;
        if (id === refusedId) return errorsAnswer(400, 'lease not found');
        if (id === flakyId) return ++flakyCalls === 1 ? errorsAnswer(503, 'Vault is sealed') : renewAnswer(id, 2);
        return renewAnswer(id, 1, false);
      };
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) });
      const a = await session.databaseCredentials(CREDS);
      const b = await session.databaseCredentials(CREDS);
      const c = await session.databaseCredentials(CREDS);
      assert.deepEqual([a.leaseId, b.leaseId], [refusedId, flakyId]);
      const failedA = await nextEvent((e) => e.kind === 'lease-renewal-failed' && e.leaseId === a.leaseId);
      assert.ok(failedA.kind === 'lease-renewal-failed');
      assert.equal(failedA.retryAt, undefined, 'a refusal is not retried');
      assert.equal(failedA.error.message, 'Vault PUT sys/leases/renew → 400 lease not found');
      const failedB = await nextEvent((e) => e.kind === 'lease-renewal-failed' && e.leaseId === b.leaseId);
      assert.ok(failedB.kind === 'lease-renewal-failed' && failedB.retryAt instanceof Date, 'a 503 is retried while time is left');
      assert.equal(failedB.error.status, 503);
      await nextEvent((e) => e.kind === 'lease-renewed' && e.leaseId === b.leaseId);
      const ended = await nextEvent((e) => e.kind === 'lease-expiring' && e.leaseId === c.leaseId);
      assert.ok(ended.kind === 'lease-expiring');
      assert.match(ended.reason, /not renewable/);
      assert.equal(c.renewable, false);
      assert.equal(session.outstandingLeases.length, 3, 'renewal problems do not drop leases');
    });

    it('renews a renewable token automatically (POST auth/token/renew-self)', { timeout: 10_000 }, async () => {
      script['GET /v1/auth/token/lookup-self'] = (s) => lookupSelfAnswer(s.token, 1);
      script['POST /v1/auth/token/renew-self'] = { status: 200, body: { auth: { client_token: TOKEN, lease_duration: 1, renewable: true, policies: ['default'] } } };
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) });
      await session.login();
      const renewal = await nextRequest((s) => s.url === '/v1/auth/token/renew-self');
      assert.deepEqual([renewal.method, renewal.token], ['POST', TOKEN]);
      const renewed = await nextEvent((e) => e.kind === 'token-renewed');
      assert.ok(renewed.kind === 'token-renewed' && renewed.ttlSeconds === 1);
    });

    it('the token and a lease stop renewing alike once Vault no longer extends them (max TTL)', { timeout: 10_000 }, async () => {
      script['GET /v1/auth/token/lookup-self'] = (s) => lookupSelfAnswer(s.token, 3);
      script['POST /v1/auth/token/renew-self'] = { status: 200, body: { auth: { client_token: TOKEN, lease_duration: 1, renewable: true, policies: ['default'] } } };
      script[`GET /v1/${CREDS}`] = credsAnswer(3);
      script['PUT /v1/sys/leases/renew'] = (s) => renewAnswer((s.body as { lease_id: string }).lease_id, 1);
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) }, {}, { renewAt: 0.1 });
      const lease = await session.databaseCredentials(CREDS);
      const token = await nextEvent((e) => e.kind === 'token-expiring');
      const leaseEnd = await nextEvent((e) => e.kind === 'lease-expiring' && e.leaseId === lease.leaseId);
      assert.ok(token.kind === 'token-expiring' && leaseEnd.kind === 'lease-expiring');
      assert.equal(token.reason, 'Vault no longer extends it (max TTL reached)');
      assert.equal(leaseEnd.reason, 'Vault no longer extends it (max TTL reached)');
      assert.equal(lease.leaseDurationSeconds, 1);
      assert.deepEqual(session.outstandingLeases, [lease], 'a lease Vault stops extending stays outstanding until revoked');
    });

    it('a credentials answer without a usable credential → VaultUnexpectedResponse, and its lease is revoked at once', async () => {
      const broken = credsAnswer();
      (broken.body as { data: unknown }).data = null;
      script[`GET /v1/${CREDS}`] = broken;
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) });
      const e = await rejection(session.databaseCredentials(CREDS));
      assert.ok(e instanceof VaultUnexpectedResponse);
      assert.match(e.message, new RegExp(`lease ${broken.body.lease_id} revoked`));
      assert.deepEqual(seen.filter((s) => s.url === '/v1/sys/leases/revoke').map((s) => s.body), [{ lease_id: broken.body.lease_id }]);
      assert.deepEqual(session.outstandingLeaseIds, []);
    });

    it('revoke(lease) → PUT sys/leases/revoke {lease_id}; the lease is no longer outstanding', async () => {
      script[`GET /v1/${CREDS}`] = credsAnswer();
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) });
      const lease = await session.databaseCredentials(CREDS);
      await session.revoke(lease);
      const revokes = seen.filter((s) => s.url === '/v1/sys/leases/revoke');
      assert.deepEqual(revokes.map((s) => [s.method, s.token, s.body]), [['PUT', TOKEN, { lease_id: lease.leaseId }]]);
      assert.deepEqual(session.outstandingLeaseIds, []);
      assert.ok(events.some((e) => e.kind === 'lease-revoked' && e.leaseId === lease.leaseId));
    });

    it('revokeAll: a failing revocation stays outstanding; one error lists each lease with Vault\'s message', async () => {
      script[`GET /v1/${CREDS}`] = [credsAnswer(), credsAnswer(), credsAnswer()];
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) });
      const [l1, l2, l3] = [await session.databaseCredentials(CREDS), await session.databaseCredentials(CREDS), await session.databaseCredentials(CREDS)];
      const message = `failed to revoke entry: resp: (*logical.Response)(nil) err: error revoking role: pq: role "${l2.username}" cannot be dropped because some objects depend on it`;
      script['PUT /v1/sys/leases/revoke'] = (s) => {
        const id = (s.body as { lease_id: string }).lease_id;
        if (id === l2.leaseId) return errorsAnswer(400, message);
        if (id === l3.leaseId) return errorsAnswer(503, 'Vault is sealed');
        return { status: 204 };
      };
      const e = await rejection(session.revokeAll());
      assert.ok(e instanceof VaultLeaseRevocationError);
      assert.deepEqual(e.failures.map((f) => [f.leaseId, f.error.status, f.error.errors]), [
        [l2.leaseId, 400, [message]],
        [l3.leaseId, 503, ['Vault is sealed']],
      ]);
      assert.equal(e.message, [
        'Vault could not revoke 2 leases:',
        `  - ${l2.leaseId}: Vault PUT sys/leases/revoke → 400 ${message}`,
        `  - ${l3.leaseId}: Vault PUT sys/leases/revoke → 503 Vault is sealed`,
      ].join('\n'));
      assert.equal(seen.filter((s) => s.url === '/v1/sys/leases/revoke').length, 3, 'each tried once (writes are not retried)');
      assert.deepEqual(session.outstandingLeaseIds, [l2.leaseId, l3.leaseId]);
      assert.ok(!session.outstandingLeaseIds.includes(l1.leaseId));

      const single = await rejection(session.revoke(l2));
      assert.ok(single instanceof VaultLeaseRevocationError);
      assert.equal(single.message, `Vault could not revoke lease ${l2.leaseId}: Vault PUT sys/leases/revoke → 400 ${message}`);
      assert.equal(single.status, 400);

      delete script['PUT /v1/sys/leases/revoke'];
      await session.revokeAll();
      assert.deepEqual(session.outstandingLeaseIds, []);
    });

    it('a registered teardown revokes outstanding leases on runTeardowns(), even after close()', async () => {
      script[`GET /v1/${CREDS}`] = [credsAnswer(), credsAnswer()];
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) });
      const l1 = await session.databaseCredentials(CREDS);
      const l2 = await session.databaseCredentials(CREDS);
      await session.close(); // stops timers, revokes nothing
      assert.equal(seen.filter((s) => s.url === '/v1/sys/leases/revoke').length, 0);
      assert.deepEqual(session.outstandingLeaseIds, [l1.leaseId, l2.leaseId]);
      await assert.rejects(session.databaseCredentials(CREDS), /the session is closed/);
      await runTeardowns();
      assert.deepEqual(seen.filter((s) => s.url === '/v1/sys/leases/revoke').map((s) => (s.body as { lease_id: string }).lease_id).sort(),
        [l1.leaseId, l2.leaseId].sort());
      assert.deepEqual(session.outstandingLeaseIds, []);
    });

    it('close({ revokeOutstanding: true }) revokes; a session without leases registers no teardown', async () => {
      script[`GET /v1/${CREDS}`] = credsAnswer();
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) });
      const lease = await session.databaseCredentials(CREDS);
      await session.close({ revokeOutstanding: true });
      assert.deepEqual(seen.filter((s) => s.url === '/v1/sys/leases/revoke').map((s) => s.body), [{ lease_id: lease.leaseId }]);
      const before = seen.length;
      await runTeardowns();
      assert.equal(seen.length, before, 'nothing left to revoke');
    });
  });

  describe('KV v2', () => {
    it('readKv(kvv2/erp-sandbox/config) → GET kvv2/data/erp-sandbox/config; every value a Secret', async () => {
      script['GET /v1/kvv2/data/erp-sandbox/config'] = kvAnswer();
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) });
      const kv = await session.readKv('kvv2/erp-sandbox/config');
      collected.push(kv);
      assert.deepEqual(seen.map((s) => [s.method, s.url, s.token]), [
        ['GET', '/v1/auth/token/lookup-self', TOKEN],
        ['GET', '/v1/kvv2/data/erp-sandbox/config', TOKEN],
      ]);
      assert.equal(kv.version, 3);
      assert.equal(kv.createdTime, '2025-01-01T00:00:00.000000Z');
      assert.deepEqual(Object.keys(kv.values).sort(), ['dolibarr_api_key', 'dolibarr_url', 'flags', 'port']);
      for (const value of Object.values(kv.values)) assert.ok(value instanceof Secret);
      assert.equal(kv.values['dolibarr_api_key']!.reveal(), KV_VALUE);
      assert.equal(kv.values['port']!.reveal(), '5432');
      assert.equal(kv.values['flags']!.reveal(), '{"x":"y"}');
      assert.deepEqual(kv.emptyKeys, ['note']);
      assert.ok(!inspect(kv, { depth: 10 }).includes(KV_VALUE) && !JSON.stringify(kv).includes(KV_VALUE));
    });

    it('refuses paths that are not plain Vault paths, before any request', async () => {
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) });
      for (const path of ['kvv2', '/kvv2/x', 'kvv2/../sys/x', 'kvv2/x?list=1', 'kvv2//x', '']) {
        await assert.rejects(session.readKv(path), TypeError, path);
      }
      await assert.rejects(session.databaseCredentials('postgres/creds/../../sys/raw'), TypeError);
      assert.deepEqual(seen, []);
    });

    it('a mount that is not KV v2 → VaultUnexpectedResponse', async () => {
      script['GET /v1/kv1/data/x'] = { status: 200, body: { data: { password: KV_VALUE } } };
      const e = await rejection(make({ method: 'token', token: new Secret('Vault token', TOKEN) }).readKv('kv1/x'));
      assert.ok(e instanceof VaultUnexpectedResponse);
      assert.match(e.message, /KV version 2/);
    });
  });

  describe('capabilities (sys/capabilities-self)', () => {
    it('POST sys/capabilities-self {paths} → each path\'s capabilities, read from data (Vault also puts them on top)', async () => {
      const data = { 'postgres/creds/erp': ['deny'], 'kvv2/data/erp-sandbox/config': ['read'] };
      script['POST /v1/sys/capabilities-self'] = { status: 200, body: { ...data, request_id: 'req-cap', lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null } };
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) });
      const answer = await session.capabilities(['postgres/creds/erp', 'kvv2/data/erp-sandbox/config']);
      assert.deepEqual(answer, data);
      assert.deepEqual(seen.map((s) => [s.method, s.url, s.token, s.body]), [
        ['GET', '/v1/auth/token/lookup-self', TOKEN, undefined],
        ['POST', '/v1/sys/capabilities-self', TOKEN, { paths: ['postgres/creds/erp', 'kvv2/data/erp-sandbox/config'] }],
      ]);
    });

    it('an answer without a path asked → VaultUnexpectedResponse; no path or a bad one → TypeError before any request', async () => {
      script['POST /v1/sys/capabilities-self'] = { status: 200, body: { data: { 'postgres/creds/erp': ['deny'] } } };
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) });
      const e = await rejection(session.capabilities(['postgres/creds/erp', 'kvv2/data/erp/config']));
      assert.ok(e instanceof VaultUnexpectedResponse);
      assert.match(e.message, /kvv2\/data\/erp\/config/);
      const before = seen.length;
      await assert.rejects(session.capabilities([]), TypeError);
      await assert.rejects(session.capabilities(['kvv2/../sys/raw']), TypeError);
      assert.equal(seen.length, before);
    });
  });

  describe('errors, retries, TLS', () => {
    it('403 → VaultPermissionDenied "Vault GET postgres/creds/erp → 403 permission denied", not retried', async () => {
      script['GET /v1/postgres/creds/erp'] = errorsAnswer(403, 'permission denied');
      script['GET /v1/kvv2/data/erp/config'] = errorsAnswer(403, 'permission denied');
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) });
      await session.login();
      const e = await rejection(session.databaseCredentials('postgres/creds/erp'));
      assert.ok(e instanceof VaultPermissionDenied);
      assert.equal(e.message, 'Vault GET postgres/creds/erp → 403 permission denied');
      assert.deepEqual([e.status, e.errors, e.method, e.path], [403, ['permission denied'], 'GET', 'postgres/creds/erp']);
      assert.equal(e.name, 'VaultPermissionDenied');
      const e2 = await rejection(session.readKv('kvv2/erp/config'));
      assert.ok(e2 instanceof VaultPermissionDenied && e2.path === 'kvv2/data/erp/config');
      assert.equal(seen.length, 3);
      assert.deepEqual(session.outstandingLeaseIds, []);
    });

    it('idempotent reads are retried on 5xx; a credential read (it mints) and writes never are', async () => {
      script['GET /v1/kvv2/data/erp-sandbox/config'] = [errorsAnswer(503, 'Vault is sealed'), errorsAnswer(500, 'internal error'), kvAnswer()];
      script[`GET /v1/${CREDS}`] = [errorsAnswer(503, 'Vault is sealed'), credsAnswer()];
      script['PUT /v1/sys/leases/renew'] = [errorsAnswer(502, 'bad gateway'), renewAnswer('x', 1)];
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) });
      const kv = await session.readKv('kvv2/erp-sandbox/config');
      assert.equal(kv.version, 3);
      assert.equal(seen.filter((s) => s.url === '/v1/kvv2/data/erp-sandbox/config').length, 3);
      const e = await rejection(session.databaseCredentials(CREDS));
      assert.ok(e.status === 503 && !(e instanceof VaultPermissionDenied));
      assert.equal(e.message, `Vault GET ${CREDS} → 503 Vault is sealed`);
      assert.equal(seen.filter((s) => s.url === `/v1/${CREDS}`).length, 1);
      const lease = await session.databaseCredentials(CREDS, { autoRenew: false });
      const e2 = await rejection(session.renew(lease));
      assert.equal(e2.status, 502);
      assert.equal(seen.filter((s) => s.url === '/v1/sys/leases/renew').length, 1);
    });

    it('a server that never answers → VaultUnreachable (ERR_VAULT_TIMEOUT) within timeoutMs, not retried', { timeout: 10_000 }, async () => {
      script['GET /v1/kvv2/data/slow/config'] = 'hang';
      const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) }, { timeoutMs: 300 });
      await session.login();
      const started = performance.now();
      const e = await rejection(session.readKv('kvv2/slow/config'));
      const elapsed = performance.now() - started;
      assert.ok(e instanceof VaultUnreachable, String(e));
      assert.equal(e.code, 'ERR_VAULT_TIMEOUT');
      assert.equal(e.message, 'Vault GET kvv2/data/slow/config → no answer: ERR_VAULT_TIMEOUT: no answer within 300 ms');
      assert.ok(elapsed >= 250 && elapsed < 2000, `took ${elapsed} ms`);
      assert.equal(seen.filter((s) => s.url === '/v1/kvv2/data/slow/config').length, 1);
      server.closeAllConnections();
    });

    it('TLS: a server certificate the configured CA did not sign → VaultUnreachable, nothing sent', async () => {
      const stranger = selfSignedCertificate([VAULT]).cert.toString('utf8');
      const previous = process.env['VAULT_SKIP_VERIFY'];
      process.env['VAULT_SKIP_VERIFY'] = '1'; // node-vault would turn verification off: the session must not
      try {
        const e = await rejection(make({ method: 'token', token: new Secret('Vault token', TOKEN) }, { ca: stranger }).login());
        assert.ok(e instanceof VaultUnreachable, String(e));
        assert.match(e.code ?? '', /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
        assert.match(e.message, /^Vault GET auth\/token\/lookup-self → no answer: /);
        const e2 = await rejection(make({ method: 'token', token: new Secret('Vault token', TOKEN) }, { ca: undefined }).login());
        assert.ok(e2 instanceof VaultUnreachable, 'without a CA the system store does not trust the run\'s certificate either');
      } finally {
        if (previous === undefined) delete process.env['VAULT_SKIP_VERIFY'];
        else process.env['VAULT_SKIP_VERIFY'] = previous;
      }
      assert.deepEqual(seen, []);
    });

    it('TLS: the configured CA is honoured (a per-run CA signing the server certificate)', async () => {
      const authority = await createCertificateAuthority();
      const chain = { ...(await authority.issue([VAULT])), ca: authority.ca };
      let reached = 0;
      const signed = serve(chain.key, chain.cert, (_req, res) => {
        reached++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(lookupSelfAnswer(undefined, 0).body));
      });
      const signedPort = await listen(signed);
      try {
        const session = new VaultSession(
          { address: `https://${VAULT}:${signedPort}`, ca: chain.ca, auth: { method: 'token', token: new Secret('Vault token', TOKEN) } },
          { lookup, onEvent },
        );
        sessions.push(session);
        const identity = await session.login();
        assert.equal(identity.ttlSeconds, 0);
        assert.equal(identity.expiresAt, undefined);
        assert.equal(reached, 1);
        const e = await rejection(new VaultSession(
          { address: `https://${VAULT}:${signedPort}`, ca, auth: { method: 'token', token: new Secret('Vault token', TOKEN) } },
          { lookup, onEvent },
        ).login());
        assert.ok(e instanceof VaultUnreachable, 'another CA is not trusted');
        assert.equal(reached, 1);
      } finally {
        await shut(signed);
      }
    });

    it('connection refused → VaultUnreachable; a redirect to another host or to http is never followed', async () => {
      const closed = make({ method: 'token', token: new Secret('Vault token', TOKEN) }, { address: `https://${VAULT}:1`, readRetries: 0 });
      const e = await rejection(closed.login());
      assert.ok(e instanceof VaultUnreachable && e.code === 'ECONNREFUSED', String(e));

      for (const location of [`https://${OTHER}:${otherPort}/v1/kvv2/data/erp-sandbox/config`, `https://${VAULT}:${otherPort}/v1/x`, `http://${VAULT}:${port}/v1/x`]) {
        script['GET /v1/kvv2/data/erp-sandbox/config'] = { status: 307, body: { location } };
        const session = make({ method: 'token', token: new Secret('Vault token', TOKEN) });
        const r = await rejection(session.readKv('kvv2/erp-sandbox/config'));
        assert.ok(r instanceof VaultUnreachable, String(r));
        assert.equal(r.code, 'ERR_VAULT_REDIRECT', location);
        assert.equal(r.message, `Vault GET kvv2/data/erp-sandbox/config → no answer: ERR_VAULT_REDIRECT: answered 307 towards ${new URL(location).origin}: redirects are never followed`);
      }
      assert.deepEqual(otherSeen, [], 'the other host never saw a request (nor the token)');
    });
  });

  describe('secrets stay secret', () => {
    it('a server echoing secrets in its errors: every message is redacted', async () => {
      script['POST /v1/auth/kubernetes/login'] = [errorsAnswer(400, `invalid jwt ${K8S_JWT}`), loginAnswer()];
      const session = kubernetes();
      const e = await rejection(session.login());
      assert.ok(e instanceof VaultAuthenticationError);
      assert.equal(e.message, 'Vault POST auth/kubernetes/login → 400 invalid jwt [redacted]');
      await session.login();
      script[`GET /v1/${CREDS}`] = credsAnswer();
      const lease = await session.databaseCredentials(CREDS, { autoRenew: false });
      script['GET /v1/kvv2/data/erp-sandbox/config'] = kvAnswer();
      await session.readKv('kvv2/erp-sandbox/config');
      script['GET /v1/kvv2/data/erp-sandbox/other'] = errorsAnswer(400, `bad request from ${CLIENT_TOKEN}: ${PASSWORD} ${KV_VALUE}`);
      const e2 = await rejection(session.readKv('kvv2/erp-sandbox/other'));
      assert.equal(e2.message, 'Vault GET kvv2/data/erp-sandbox/other → 400 bad request from [redacted]: [redacted] [redacted]');
      script['PUT /v1/sys/leases/revoke'] = { status: 500, body: `<html>${PASSWORD}</html>` };
      const e3 = await rejection(session.revoke(lease));
      assert.ok(!e3.message.includes(PASSWORD));
      delete script['PUT /v1/sys/leases/revoke'];
    });

    it('registers every secret it reads with the redaction point the moment it reads it', async () => {
      // Fresh values: the tests above registered the file's planted ones already.
      const fresh = (what: string) => `${what}-${randomBytes(8).toString('hex')}`;
      const saJwt = `eyJhbGciOiJSUzI1NiJ9.${fresh('fresh-sa-jwt')}.c2ln`;
      const ciJwt = `eyJhbGciOiJSUzI1NiJ9.${fresh('fresh-ci-jwt')}.c2ln`;
      const givenToken = fresh('hvs.fresh-given');
      const clientToken = fresh('hvs.fresh-client');
      const password = fresh('A1a-fresh-password');
      const unusable = fresh('A1a-fresh-unusable-password');
      const apiKey = fresh('fresh-dolibarr-api-key');
      const passphrase = fresh('fresh-passphrase');
      const url = 'https://erp-sandbox.arcodange.lab:8443';
      for (const value of [saJwt, ciJwt, givenToken, clientToken, password, unusable, apiKey, passphrase, url]) assert.ok(!isRegisteredSecret(value));

      // A token given as a Secret made not to redact (as a KV URL is) is registered by the configuration all the same.
      vaultConfig({ address: address(), auth: { method: 'token', token: new Secret('Vault token', givenToken, { redact: false }) } });
      assert.ok(isRegisteredSecret(givenToken), 'the given token');

      const saFile = join(dir, 'fresh-sa-token');
      const ciFile = join(dir, 'fresh-ci-jwt');
      writeFileSync(saFile, `${saJwt}\n`);
      writeFileSync(ciFile, ciJwt);
      const login = loginAnswer();
      script['POST /v1/auth/kubernetes/login'] = { status: 200, body: { ...login.body, auth: { ...login.body.auth, client_token: clientToken } } };
      const session = make({ method: 'kubernetes', role: 'erp-sandbox', tokenPath: saFile });
      await session.login();
      assert.ok(isRegisteredSecret(saJwt), 'the service-account JWT read from its file');
      assert.ok(isRegisteredSecret(clientToken), 'the token Vault granted');
      script['POST /v1/auth/jwt/login'] = loginAnswer();
      await make({ method: 'jwt', role: 'gitea_cicd_erp', tokenPath: ciFile }).login();
      assert.ok(isRegisteredSecret(ciJwt), 'the CI JWT read from its file');

      script[`GET /v1/${CREDS}`] = credsAnswer(3600, true, password);
      await session.databaseCredentials(CREDS, { autoRenew: false });
      assert.ok(isRegisteredSecret(password), "a lease's password");
      script[`GET /v1/${CREDS}`] = { status: 200, body: { lease_id: `${CREDS}/unusable`, lease_duration: 60, renewable: false, data: { password: unusable } } };
      await rejection(session.databaseCredentials(CREDS, { autoRenew: false }));
      assert.ok(isRegisteredSecret(unusable), "the password of an answer the session refuses (no username)");

      script['GET /v1/kvv2/data/erp-sandbox/config'] = {
        status: 200,
        body: { data: { data: { DOLIBARR_API_KEY: apiKey, DOLIBARR_URL: url, BACKUP_PASSPHRASE: passphrase }, metadata: { version: 1 } } },
      };
      const kv = await session.readKv('kvv2/erp-sandbox/config');
      collected.push(kv);
      assert.ok(isRegisteredSecret(apiKey), 'a KV API key (as the sandbox config and promote credential hold theirs)');
      assert.ok(isRegisteredSecret(passphrase), 'a KV passphrase');
      assert.ok(!isRegisteredSecret(url), 'a KV URL is no secret: the output keeps it');
    });

    it('debug logging of the Vault library prints nothing: the session silences it', async () => {
      const debug = require('debug') as { enable(namespaces: string): void; disable(): string };
      const from = output.length;
      debug.enable('node-vault,axios,follow-redirects');
      try {
        script['POST /v1/auth/jwt/login'] = loginAnswer();
        await make({ method: 'jwt', role: 'gitea_cicd_erp', token: new Secret('CI JWT', CI_JWT) }).login();
      } finally {
        debug.disable();
      }
      assert.deepEqual(output.slice(from).filter((line) => line.includes('node-vault ') || line.includes('follow-redirects ')), []);
    });

    it('the session exposes no client, token or agent', async () => {
      script['POST /v1/auth/kubernetes/login'] = loginAnswer();
      const session = kubernetes();
      await session.login();
      const names = new Set<string>();
      for (let o: object | null = session; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
        for (const n of Object.getOwnPropertyNames(o)) names.add(n);
      }
      assert.deepEqual(Object.keys(session), []);
      for (const n of names) assert.ok(!/client|token|agent|transport|request|secret/i.test(n), n);
      for (const text of [inspect(session, { showHidden: true, depth: Infinity }), JSON.stringify(session), String(session), `${session}`]) {
        for (const secret of SECRETS) assert.ok(!text.includes(secret), text);
      }
      assert.deepEqual(JSON.parse(JSON.stringify(session)), {
        address: address(), auth: { method: 'kubernetes', role: 'erp-sandbox', mount: 'kubernetes' },
        loggedIn: true, policies: ['default', 'erp-sandbox'], outstandingLeases: [], closed: false,
      });
    });

    it('(last) no planted token, JWT, password or KV value in any error, event, session, lease or output of this file', () => {
      const errorCount = collected.filter((c) => c instanceof Error).length;
      assert.ok(errorCount >= 25, `${errorCount} errors collected`);
      for (const item of collected) {
        const texts = [String(item), inspect(item, { showHidden: true, depth: 10 }), JSON.stringify(item) ?? ''];
        if (item instanceof Error) texts.push(item.message, item.stack ?? '', inspect(item.cause, { depth: 10 }));
        for (const text of texts) {
          for (const secret of [...SECRETS, ...FRAGMENTS]) assert.ok(!text.includes(secret), `${secret} in ${text}`);
        }
      }
      const written = output.join('');
      for (const secret of [...SECRETS, ...FRAGMENTS]) assert.ok(!written.includes(secret), `${secret} written to stdout/stderr`);
    });
  });
});
