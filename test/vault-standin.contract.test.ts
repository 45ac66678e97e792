/**
 * Contract of the hermetic Vault stand-in, driven with the real node-vault client over TLS (per-run CA, host name
 * `vault.arcodange.lab` resolved to the loopback by a lookup hook) against a real cluster provisioned with the
 * factory layout for erp and erp-sandbox. Every status and error text asserted here is the real Vault's (see the
 * header of support/hermetic/vault-standin/server.ts for what is verified and what is chosen).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import vault = require('node-vault');
import type { Client } from 'pg';
import { createCertificateAuthority, type ServerCertificate } from '../support/hermetic/certificates';
import { loopbackLookup } from '../support/hermetic/dns';
import {
  generateSigningKey,
  MAX_REVOKE_ATTEMPTS,
  projectedServiceAccountClaims,
  signJwt,
  startVaultStandin,
  type JwtClaims,
  type SigningKey,
  type VaultStandin,
  type VaultStandinOptions,
} from '../support/hermetic/vault-standin/server';
import { instanceNames } from '../support/naming';
import type { Login, PostgresCluster } from '../support/postgres/cluster';
import { connect } from '../support/postgres/connect';
import { creationStatements, VAULT_USERNAME } from '../support/postgres/minting';
import { provisionFactoryLayout } from '../support/postgres/provision';
import { testCluster } from './helpers/cluster';

const prod = instanceNames('erp');
const sandbox = instanceNames('erp', 'sandbox');
const HOST = 'vault.arcodange.lab';
const SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const SA_AUDIENCE = 'vault';
const CI_ISSUER = 'https://gitea.arcodange.lab/api/actions';
const CI_AUDIENCE = 'https://vault.arcodange.lab';
const ROOT_TOKEN = `hvs.root-${randomBytes(12).toString('hex')}`;
const SHORT_TOKEN = `hvs.short-${randomBytes(12).toString('hex')}`;
const SANDBOX_API_KEY = `sandbox-key-${randomBytes(12).toString('hex')}`;
const PROD_API_KEY = `prod-key-${randomBytes(12).toString('hex')}`;

const ACL_DENIED = ['1 error occurred:\n\t* permission denied\n\n'];
const INVALID_TOKEN = ['2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n'];

let cluster: PostgresCluster;
let stopCluster: (() => Promise<void>) | undefined;
let db: Client | undefined;
let credentialsEditor: Login;
let certificate: ServerCertificate & { readonly ca: string };
let saIssuer: SigningKey;
let ciIssuer: SigningKey;
let rogue: SigningKey;
let standin: VaultStandin | undefined;
let root: vault.client;

/** Every secret planted or handed out during the run: none may leak into an error. */
const planted = new Set<string>();
/** Every answer the stand-in gave, with the secrets the answer may legitimately carry. */
const exchanges: { what: string; ok: boolean; text: string; allowed: readonly string[] }[] = [];

const plant = <T extends string>(secret: T): T => {
  planted.add(secret);
  return secret;
};

const lookup = loopbackLookup(new Map([[HOST, '127.0.0.1']]));

function client(token?: string): vault.client {
  return vault({ endpoint: standin!.url, token, requestOptions: { ca: certificate.ca, agentOptions: { lookup } } });
}

/** A call expected to succeed; records its body. `allowed` lists the secrets it is meant to carry. */
async function ok<T>(what: string, call: () => Promise<T>, allowed: (body: T) => readonly string[] = () => []): Promise<T> {
  const body = await call();
  exchanges.push({ what, ok: true, text: JSON.stringify(body ?? null), allowed: allowed(body) });
  return body;
}

interface Refusal {
  readonly status: number;
  readonly errors: unknown;
  readonly message: string;
}

/** A call expected to be refused by the stand-in (an HTTP answer ≥ 400 or 202); records body and message. */
async function refused(what: string, call: () => Promise<unknown>): Promise<Refusal> {
  try {
    await call();
  } catch (error) {
    const { response, message } = error as { response?: { statusCode: number; body: { errors?: unknown } }; message: string };
    assert.ok(response !== undefined, `${what}: expected an HTTP refusal, got ${message}`);
    exchanges.push({ what, ok: false, text: `${JSON.stringify(response.body ?? null)} ${message}`, allowed: [] });
    return { status: response.statusCode, errors: response.body?.errors, message };
  }
  assert.fail(`${what}: expected a refusal`);
}

function assertRefusal(refusal: Refusal, status: number, errors: readonly string[]): void {
  assert.equal(refusal.status, status, JSON.stringify(refusal));
  assert.deepEqual(refusal.errors, errors);
}

function saToken(namespace: string, serviceAccount: string, options: { key?: SigningKey; audiences?: string[]; issuer?: string; ttlSeconds?: number; now?: Date } = {}): string {
  const claims = projectedServiceAccountClaims({
    namespace,
    serviceAccount,
    issuer: options.issuer ?? SA_ISSUER,
    audiences: options.audiences ?? [SA_AUDIENCE],
    ttlSeconds: options.ttlSeconds,
    now: options.now,
    podName: `${serviceAccount}-0`,
  });
  return plant(signJwt((options.key ?? saIssuer).privateKey, claims));
}

/** A Gitea Actions OIDC token for arcodange-org/erp, `overrides` win (undefined removes a claim). */
function ciToken(overrides: Record<string, unknown> = {}, key: SigningKey = ciIssuer): string {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: CI_ISSUER,
    aud: CI_AUDIENCE,
    sub: 'repo:arcodange-org/erp:ref:refs/heads/main',
    repository: 'arcodange-org/erp',
    repository_owner: 'arcodange-org',
    ref: 'refs/heads/main',
    iat: now,
    nbf: now,
    exp: now + 300,
    ...overrides,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return plant(signJwt(key.privateKey, claims as JwtClaims));
}

/** Logs in with Kubernetes auth; the client then carries the token. */
async function k8sClient(role: string, namespace: string, serviceAccount: string): Promise<vault.client> {
  const c = client();
  const jwt = saToken(namespace, serviceAccount);
  const answer = await ok(`kubernetes login ${role}`, () => c.kubernetesLogin({ mount_point: 'kubernetes', role, jwt }), (body) => [plant(body.auth.client_token as string)]);
  assert.equal(c.token, answer.auth.client_token);
  return c;
}

async function creds(c: vault.client, path: string): Promise<{ lease_id: string; lease_duration: number; username: string; password: string; body: Record<string, unknown> }> {
  const body = await ok(`read ${path}`, () => c.read(path), (answer) => [plant(answer.data.password as string)]);
  return { lease_id: body.lease_id, lease_duration: body.lease_duration, username: body.data.username, password: body.data.password, body };
}

async function roleExists(name: string): Promise<boolean> {
  const { rows } = await db!.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
  return rows.length === 1;
}

async function validUntil(name: string): Promise<Date> {
  const { rows } = await db!.query<{ rolvaliduntil: Date }>('SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1', [name]);
  assert.equal(rows.length, 1, `role ${name} exists`);
  return rows[0]!.rolvaliduntil;
}

async function vaultRoles(): Promise<string[]> {
  const { rows } = await db!.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-%' ORDER BY rolname");
  return rows.map((row) => row.rolname);
}

/** Polls `probe` until it returns something other than undefined; fails after `timeoutMs`. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) assert.fail(`still not the case after ${timeoutMs} ms: ${what}`);
    await delay(20);
  }
}

function assertClose(actual: Date, expected: Date, toleranceMs: number, what: string): void {
  assert.ok(Math.abs(actual.getTime() - expected.getTime()) <= toleranceMs,
    `${what}: ${actual.toISOString()} is not within ${toleranceMs} ms of ${expected.toISOString()}`);
}

function options(): VaultStandinOptions {
  return {
    host: HOST,
    key: certificate.key,
    cert: certificate.cert,
    database: {
      endpoint: cluster.endpoint,
      credentialsEditor,
      roles: [
        { name: prod.vaultRole, creationStatements: creationStatements(prod.ownerRole), defaultTtlSeconds: 3600, maxTtlSeconds: 7200 },
        { name: sandbox.vaultRole, creationStatements: creationStatements(sandbox.ownerRole), defaultTtlSeconds: 3600, maxTtlSeconds: 7200 },
        { name: 'erp-sandbox-1s', creationStatements: creationStatements(sandbox.ownerRole), defaultTtlSeconds: 1, maxTtlSeconds: 1 },
      ],
    },
    kv: {
      secrets: {
        'erp-sandbox/config': { DOLIBARR_URL: `https://${sandbox.host}`, DOLIBARR_API_KEY: SANDBOX_API_KEY },
        'erp/config': { DOLIBARR_URL: `https://${prod.host}`, DOLIBARR_API_KEY: PROD_API_KEY },
      },
    },
    policies: {
      [sandbox.instance]: {
        [sandbox.credsPath]: ['read'],
        'kvv2/data/erp-sandbox/*': ['read'],
        'sys/leases/revoke': ['update'],
      },
      // The same shape as HCL, as the factory writes its policies.
      [prod.instance]: `
        # prod's own credentials and configuration, nothing else
        path "${prod.credsPath}" { capabilities = ["read"] }
        path "kvv2/data/erp/*" {
          capabilities = ["read"]
        }
        path "sys/leases/revoke" { capabilities = ["update"] }`,
    },
    tokens: [
      { token: ROOT_TOKEN, policies: ['root'] },
      { token: SHORT_TOKEN, policies: [sandbox.instance], ttlSeconds: 1 },
    ],
    kubernetes: {
      issuerPublicKeys: [saIssuer.publicKeyPem],
      issuer: SA_ISSUER,
      roles: [
        { name: sandbox.vaultRole, boundServiceAccountNames: [sandbox.namespace], boundServiceAccountNamespaces: [sandbox.namespace], audience: SA_AUDIENCE, policies: [sandbox.instance], ttlSeconds: 3600 },
        { name: prod.vaultRole, boundServiceAccountNames: [prod.namespace], boundServiceAccountNamespaces: [prod.namespace], audience: SA_AUDIENCE, policies: [prod.instance], ttlSeconds: 3600 },
        { name: 'erp-sandbox-brief', boundServiceAccountNames: [sandbox.namespace], boundServiceAccountNamespaces: [sandbox.namespace], policies: [sandbox.instance], ttlSeconds: 1 },
      ],
    },
    jwt: {
      publicKeys: [ciIssuer.publicKey],
      boundIssuer: CI_ISSUER,
      roles: [{
        name: prod.ciJwtRole,
        boundAudiences: [CI_AUDIENCE],
        boundClaims: { repository: 'arcodange-org/erp' },
        userClaim: 'repository',
        policies: [sandbox.instance],
        ttlSeconds: 600,
      }],
    },
    revocationRetryBaseMs: 5,
  };
}

before(async () => {
  delete process.env['VAULT_TOKEN'];
  ({ cluster, stop: stopCluster } = await testCluster());
  const layout = await provisionFactoryLayout(cluster, [prod, sandbox]);
  credentialsEditor = layout.credentialsEditor;
  plant(credentialsEditor.password);
  plant(SANDBOX_API_KEY);
  plant(PROD_API_KEY);
  plant(ROOT_TOKEN);
  plant(SHORT_TOKEN);
  db = await connect(cluster.endpoint, cluster.superuser, 'postgres');
  const authority = await createCertificateAuthority();
  certificate = { ...(await authority.issue([HOST])), ca: authority.ca };
  [saIssuer, ciIssuer, rogue] = await Promise.all([generateSigningKey(), generateSigningKey(), generateSigningKey()]);
  standin = await startVaultStandin(options());
  root = client(ROOT_TOKEN);
});

after(async () => {
  await standin?.close();
  // The stand-in never revokes on close: drop what the suite left behind.
  for (const name of db === undefined ? [] : await vaultRoles()) {
    await db!.query(`DROP OWNED BY "${name}"; DROP ROLE IF EXISTS "${name}"`).catch(() => undefined);
  }
  await db?.end();
  await stopCluster?.();
});

describe('the Vault stand-in answers the real node-vault client like Vault 1.15', () => {
  it('serves HTTPS on 127.0.0.1 and a random port, reached by its host name', () => {
    assert.equal(standin!.address, '127.0.0.1');
    assert.ok(standin!.port > 0);
    assert.equal(standin!.url, `https://${HOST}:${standin!.port}`);
  });

  it('GET sys/health → initialized, unsealed, active, with a version', async () => {
    const before = standin!.requests();
    const health = await ok('health', () => client().health());
    assert.equal(health.initialized, true);
    assert.equal(health.sealed, false);
    assert.equal(health.standby, false);
    assert.equal(health.version, '1.15.6');
    assert.equal(typeof health.cluster_name, 'string');
    assert.equal(standin!.requests(), before + 1);
  });

  it('refuses a request without a token, with an unknown token and with an expired one', async () => {
    assertRefusal(await refused('lookup-self without token', () => client().tokenLookupSelf()), 403, ['permission denied']);
    assertRefusal(await refused('lookup-self unknown token', () => client(plant(`hvs.${randomBytes(12).toString('hex')}`)).tokenLookupSelf()), 403, INVALID_TOKEN);
    const short = client(SHORT_TOKEN);
    await ok('lookup-self short token', () => short.tokenLookupSelf(), () => [SHORT_TOKEN]);
    await delay(1100);
    assertRefusal(await refused('lookup-self expired token', () => short.tokenLookupSelf()), 403, INVALID_TOKEN);
  });
});

describe('Kubernetes auth', () => {
  it('logs the erp-sandbox service account in as role erp-sandbox', async () => {
    const c = client();
    const jwt = saToken(sandbox.namespace, sandbox.namespace);
    const answer = await ok('kubernetes login', () => c.kubernetesLogin({ mount_point: 'kubernetes', role: sandbox.vaultRole, jwt }), (body) => [plant(body.auth.client_token as string)]);
    assert.match(answer.auth.client_token, /^hvs\./);
    assert.deepEqual(answer.auth.policies, ['default', sandbox.instance]);
    assert.deepEqual(answer.auth.token_policies, ['default', sandbox.instance]);
    assert.equal(answer.auth.lease_duration, 3600);
    assert.equal(answer.auth.renewable, true);
    assert.equal(answer.auth.metadata.role, sandbox.vaultRole);
    assert.equal(answer.auth.metadata.service_account_name, sandbox.namespace);
    assert.equal(answer.auth.metadata.service_account_namespace, sandbox.namespace);

    const self = await ok('lookup-self', () => c.tokenLookupSelf(), () => [c.token]);
    assert.equal(self.data.display_name, `kubernetes-${sandbox.namespace}-${sandbox.namespace}`);
    assert.deepEqual(self.data.policies, ['default', sandbox.instance]);
    assert.equal(self.data.path, 'auth/kubernetes/login');
    assert.ok(self.data.ttl > 3590 && self.data.ttl <= 3600, `ttl ${self.data.ttl}`);
    assert.equal(typeof self.data.accessor, 'string');
    assert.equal(typeof self.data.expire_time, 'string');
  });

  it("refuses prod's service account on role erp-sandbox: service account name not authorized", async () => {
    const jwt = saToken(prod.namespace, prod.namespace);
    assertRefusal(await refused('erp SA as erp-sandbox', () => client().kubernetesLogin({ mount_point: 'kubernetes', role: sandbox.vaultRole, jwt })), 403, ['service account name not authorized']);
  });

  it('refuses the right service account name in another namespace: namespace not authorized', async () => {
    const jwt = saToken(prod.namespace, sandbox.namespace);
    assertRefusal(await refused('SA in wrong namespace', () => client().kubernetesLogin({ mount_point: 'kubernetes', role: sandbox.vaultRole, jwt })), 403, ['namespace not authorized']);
  });

  it('refuses a token not signed by the cluster issuer, an expired one, another audience or issuer', async () => {
    const forged = saToken(sandbox.namespace, sandbox.namespace, { key: rogue });
    assertRefusal(await refused('forged SA token', () => client().kubernetesLogin({ mount_point: 'kubernetes', role: sandbox.vaultRole, jwt: forged })), 403, ['permission denied']);
    const expired = saToken(sandbox.namespace, sandbox.namespace, { now: new Date(Date.now() - 2 * 3600_000) });
    assertRefusal(await refused('expired SA token', () => client().kubernetesLogin({ mount_point: 'kubernetes', role: sandbox.vaultRole, jwt: expired })), 403,
      ['invalid expiration time (exp) claim: token is expired']);
    const otherAudience = saToken(sandbox.namespace, sandbox.namespace, { audiences: ['https://kubernetes.default.svc'] });
    assertRefusal(await refused('SA token for another audience', () => client().kubernetesLogin({ mount_point: 'kubernetes', role: sandbox.vaultRole, jwt: otherAudience })), 403,
      ['invalid audience (aud) claim: audience claim does not match any expected audience']);
    const otherIssuer = saToken(sandbox.namespace, sandbox.namespace, { issuer: 'https://elsewhere.example' });
    assertRefusal(await refused('SA token of another issuer', () => client().kubernetesLogin({ mount_point: 'kubernetes', role: sandbox.vaultRole, jwt: otherIssuer })), 403, ['invalid issuer (iss) claim']);
  });

  it("node-vault 0.12's kubernetesLogin without mount_point posts to auth//login: 301 to auth/login, then 403", async () => {
    // A pitfall of the client, answered as Vault's Go ServeMux does: the harness must pass mount_point.
    const jwt = saToken(sandbox.namespace, sandbox.namespace);
    const before = standin!.requests();
    assertRefusal(await refused('kubernetesLogin without mount_point', () => client().kubernetesLogin({ role: sandbox.vaultRole, jwt })), 403, ['permission denied']);
    assert.equal(standin!.requests(), before + 2, 'the redirect hop and the redirected request');
  });

  it('refuses an unknown role and a login without a JWT', async () => {
    const jwt = saToken(sandbox.namespace, sandbox.namespace);
    assertRefusal(await refused('unknown k8s role', () => client().kubernetesLogin({ mount_point: 'kubernetes', role: 'nope', jwt })), 400, ['invalid role name "nope"']);
    assertRefusal(await refused('k8s login without jwt', () => client().write('auth/kubernetes/login', { role: sandbox.vaultRole })), 400, ['missing jwt']);
  });
});

describe('database credentials (postgres/creds/<instance>)', () => {
  let sandboxClient: vault.client;
  let lease: Awaited<ReturnType<typeof creds>>;

  before(async () => {
    sandboxClient = await k8sClient(sandbox.vaultRole, sandbox.namespace, sandbox.namespace);
  });

  it('mints a login role that is a member of exactly erp_sandbox_role, connects to erp-sandbox and expires', async () => {
    const minted = new Date();
    lease = await creds(sandboxClient, sandbox.credsPath);
    assert.match(lease.lease_id, /^postgres\/creds\/erp-sandbox\/[A-Za-z0-9]{24}$/);
    assert.equal(lease.lease_duration, 3600);
    assert.equal(lease.body.renewable, true);
    assert.equal(lease.body.warnings, null);
    assert.equal(lease.body.wrap_info, null);
    assert.equal(lease.body.auth, null);
    assert.equal(typeof lease.body.request_id, 'string');
    assert.match(lease.username, VAULT_USERNAME);
    assert.ok(lease.username.startsWith('v-kubernet-erp-sand-'), lease.username);

    const { rows } = await db!.query<{ rolname: string }>(
      `SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
        WHERE u.rolname = $1 ORDER BY r.rolname`, [lease.username]);
    assert.deepEqual(rows.map((row) => row.rolname), [sandbox.ownerRole]);
    assertClose(await validUntil(lease.username), new Date(minted.getTime() + 3605_000), 3000, 'VALID UNTIL');

    const login = await connect(cluster.endpoint, { user: lease.username, password: lease.password }, sandbox.database);
    try {
      const { rows: who } = await login.query<{ current_user: string; db: string }>('SELECT current_user, current_database() AS db');
      assert.deepEqual(who[0], { current_user: lease.username, db: sandbox.database });
    } finally {
      await login.end();
    }
    const info = standin!.leases().find((candidate) => candidate.leaseId === lease.lease_id);
    assert.equal(info?.username, lease.username);
    assert.equal(info?.irrevocable, false);
    assert.equal(JSON.stringify(standin!.leases()).includes(lease.password), false, 'leases() never shows a password');
  });

  it('sys/leases/lookup answers the lease times', async () => {
    const answer = await ok('lease lookup', () => sandboxClient.write('sys/leases/lookup', { lease_id: lease.lease_id }));
    assert.equal(answer.data.id, lease.lease_id);
    assert.equal(answer.data.renewable, true);
    assert.ok(answer.data.ttl > 3590 && answer.data.ttl <= 3600);
  });

  it('renew moves VALID UNTIL, and is capped at the max TTL with Vault\'s warning', async () => {
    const renewed = await ok('renew 1800', () => sandboxClient.renew({ lease_id: lease.lease_id, increment: 1800 }));
    assert.equal(renewed.lease_id, lease.lease_id);
    assert.equal(renewed.lease_duration, 1800);
    assert.equal(renewed.renewable, true);
    assertClose(await validUntil(lease.username), new Date(Date.now() + 1805_000), 3000, 'VALID UNTIL after renew');

    const issued = standin!.leases().find((candidate) => candidate.leaseId === lease.lease_id)!.issuedAt;
    const capped = await ok('renew beyond max', () => sandboxClient.renew({ lease_id: lease.lease_id, increment: 100_000 }));
    assert.ok(capped.lease_duration <= 7200 && capped.lease_duration >= 7190, `lease_duration ${capped.lease_duration}`);
    assert.equal(capped.warnings.length, 1);
    assert.match(capped.warnings[0], /^TTL of "27h46m40s" exceeded the effective max_ttl of "(2h0m0s|1h59m\d+s)"; TTL value is capped accordingly$/);
    assertClose(await validUntil(lease.username), new Date(issued.getTime() + 7205_000), 3000, 'VALID UNTIL capped');
  });

  it('the URL forms sys/leases/renew/<lease> and revoke/<lease> need their own ACL paths', async () => {
    assertRefusal(await refused('renew URL form by sandbox', () => sandboxClient.write(`sys/leases/renew/${lease.lease_id}`, { increment: 60 })), 403, ACL_DENIED);
    const renewed = await ok('renew URL form by root', () => root.write(`sys/leases/renew/${lease.lease_id}`, { increment: 600 }));
    assert.equal(renewed.lease_duration, 600);
  });

  it('revoke drops the login role and forgets the lease', async () => {
    const answer = await ok('revoke', () => sandboxClient.revoke({ lease_id: lease.lease_id }));
    assert.equal(answer, '');
    assert.equal(await roleExists(lease.username), false);
    assert.equal(standin!.leases().some((candidate) => candidate.leaseId === lease.lease_id), false);
    // Revoking an unknown (already revoked) lease is not an error in Vault.
    await ok('revoke again', () => sandboxClient.revoke({ lease_id: lease.lease_id }));
    assertRefusal(await refused('renew revoked', () => sandboxClient.renew({ lease_id: lease.lease_id })), 400, ['lease not found']);
  });

  it("keeps its database connection between requests, as the plugin's pool does, and replaces one the server ended", async () => {
    const sessions = async () =>
      (await db!.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = 'vault-standin' AND datname = 'postgres'")).rows.map((row) => row.pid);
    const first = await creds(sandboxClient, sandbox.credsPath);
    const kept = await sessions();
    assert.equal(kept.length, 1, 'one idle connection after a request');
    await ok('revoke kept', () => sandboxClient.revoke({ lease_id: first.lease_id }));
    assert.deepEqual(await sessions(), kept, 'the next request used the same connection');
    // Terminated, and waited for until the backend is gone: the next request finds the connection closed.
    assert.equal((await db!.query<{ done: boolean }>('SELECT pg_terminate_backend($1, 10000) AS done', [kept[0]])).rows[0]!.done, true);
    const second = await creds(sandboxClient, sandbox.credsPath);
    assert.equal(await roleExists(second.username), true);
    await ok('revoke second', () => sandboxClient.revoke({ lease_id: second.lease_id }));
    assert.equal(await roleExists(second.username), false);
    const replaced = await sessions();
    assert.equal(replaced.length, 1);
    assert.notEqual(replaced[0], kept[0]);
  });

  it('a role that owns a table cannot be revoked: 400 like Vault, the role and the lease stay', async () => {
    const owner = await creds(sandboxClient, sandbox.credsPath);
    const login = await connect(cluster.endpoint, { user: owner.username, password: owner.password }, sandbox.database);
    try {
      await login.query('CREATE TABLE leftover (id int)');
    } finally {
      await login.end();
    }
    const refusal = await refused('revoke an owner', () => sandboxClient.revoke({ lease_id: owner.lease_id }));
    assertRefusal(refusal, 400, [
      `failed to revoke entry: resp: (*logical.Response)(nil) err: ERROR: role "${owner.username}" cannot be dropped because some objects depend on it (SQLSTATE 2BP01)`,
    ]);
    assert.equal(await roleExists(owner.username), true);
    const info = standin!.leases().find((candidate) => candidate.leaseId === owner.lease_id);
    assert.equal(info?.irrevocable, false, 'an explicit revocation does not count among the 6 attempts');
    assert.equal(info?.revokeAttempts, 0);

    // Queued revocation (sync=false, as a revoked token's leases): the expiry job retries, then gives up.
    const queued = await refused('queued revoke', () => sandboxClient.write('sys/leases/revoke', { lease_id: owner.lease_id, sync: false }));
    assert.equal(queued.status, 202);
    const irrevocable = await eventually('the lease becomes irrevocable', () =>
      standin!.leases().find((candidate) => candidate.leaseId === owner.lease_id && candidate.irrevocable));
    assert.equal(irrevocable.revokeAttempts, MAX_REVOKE_ATTEMPTS);
    assert.equal(irrevocable.revokeError,
      `out of retries: failed to revoke entry: resp: (*logical.Response)(nil) err: ERROR: role "${owner.username}" cannot be dropped because some objects depend on it (SQLSTATE 2BP01)`.slice(0, 240));
    assert.equal(await roleExists(owner.username), true);

    const listed = await ok('irrevocable leases', () => root.read('sys/leases?type=irrevocable'));
    assert.equal(listed.data.lease_count, 1);
    assert.equal(listed.data.leases[0].lease_id, owner.lease_id);
    assert.match(listed.data.leases[0].mount_id, /^database_[0-9a-f]{8}$/);
    assert.equal(listed.data.leases[0].error, irrevocable.revokeError);
    const counted = await ok('irrevocable count', () => root.read('sys/leases/count?type=irrevocable'));
    assert.equal(counted.data.lease_count, 1);
    assertRefusal(await refused('irrevocable list needs sudo', () => sandboxClient.read('sys/leases?type=irrevocable')), 403, ACL_DENIED);
    assertRefusal(await refused('renew irrevocable', () => sandboxClient.renew({ lease_id: owner.lease_id })), 400,
      ['lease is expired and has failed previous revocation attempts']);

    // Once the object is gone, an explicit revocation succeeds and clears the irrevocable lease.
    const cleanup = await connect(cluster.endpoint, { user: owner.username, password: owner.password }, sandbox.database);
    try {
      await cleanup.query('DROP TABLE leftover');
    } finally {
      await cleanup.end();
    }
    await ok('revoke URL form by root', () => root.write(`sys/leases/revoke/${owner.lease_id}`, {}));
    assert.equal(await roleExists(owner.username), false);
    assert.equal(standin!.leases().some((candidate) => candidate.leaseId === owner.lease_id), false);
  });

  it('a lease past its TTL is revoked by the expiry job (root token: v-token-…)', async () => {
    const brief = await creds(root, 'postgres/creds/erp-sandbox-1s');
    assert.ok(brief.username.startsWith('v-token-erp-sand-'), brief.username);
    assert.equal(brief.lease_duration, 1);
    await eventually('the expired lease is revoked and forgotten', async () =>
      ((await roleExists(brief.username)) || standin!.leases().some((candidate) => candidate.leaseId === brief.lease_id) ? undefined : true));
  });

  it('refuses an unknown database role and an unmounted path', async () => {
    assertRefusal(await refused('unknown db role', () => root.read('postgres/creds/nope')), 400, ['unknown role: nope']);
    assertRefusal(await refused('unmounted path', () => root.read('secret/data/x')), 404, ['no handler for route "secret/data/x". route entry not found.']);
  });
});

describe('ACL: each identity reaches its own instance only', () => {
  let sandboxClient: vault.client;
  let prodClient: vault.client;

  before(async () => {
    sandboxClient = await k8sClient(sandbox.vaultRole, sandbox.namespace, sandbox.namespace);
    prodClient = await k8sClient(prod.vaultRole, prod.namespace, prod.namespace);
  });

  it("the sandbox identity reading prod's creds and prod's KV → 403 permission denied, nothing minted", async () => {
    const before = await vaultRoles();
    assertRefusal(await refused('sandbox reads prod creds', () => sandboxClient.read(prod.credsPath)), 403, ACL_DENIED);
    assertRefusal(await refused('sandbox reads prod kv', () => sandboxClient.read('kvv2/data/erp/config')), 403, ACL_DENIED);
    assert.deepEqual(await vaultRoles(), before);
  });

  it('the sandbox identity reads its own KV configuration (KV v2 shape); a missing secret → 404 with no errors', async () => {
    const answer = await ok('sandbox reads own kv', () => sandboxClient.read('kvv2/data/erp-sandbox/config'), () => [SANDBOX_API_KEY]);
    assert.deepEqual(answer.data.data, { DOLIBARR_URL: `https://${sandbox.host}`, DOLIBARR_API_KEY: SANDBOX_API_KEY });
    assert.equal(answer.data.metadata.version, 1);
    assert.equal(answer.data.metadata.deletion_time, '');
    assert.equal(answer.data.metadata.destroyed, false);
    assert.equal(answer.data.metadata.custom_metadata, null);
    assert.ok(!Number.isNaN(Date.parse(answer.data.metadata.created_time)));
    assertRefusal(await refused('missing kv secret', () => sandboxClient.read('kvv2/data/erp-sandbox/missing')), 404, []);
  });

  it('the prod identity (HCL policy) reads prod and is refused the sandbox', async () => {
    const answer = await ok('prod reads own kv', () => prodClient.read('kvv2/data/erp/config'), () => [PROD_API_KEY]);
    assert.equal(answer.data.data.DOLIBARR_API_KEY, PROD_API_KEY);
    assertRefusal(await refused('prod reads sandbox creds', () => prodClient.read(sandbox.credsPath)), 403, ACL_DENIED);
    const own = await creds(prodClient, prod.credsPath);
    assert.ok(own.username.startsWith('v-kubernet-erp-'), own.username);
    await ok('prod revokes its lease', () => prodClient.revoke({ lease_id: own.lease_id }));
    assert.equal(await roleExists(own.username), false);
  });
});

describe('sys/capabilities-self: what an identity may do, asked without doing it', () => {
  // Verified against Vault's source: vault/logical_system.go handleCapabilities, vault/capabilities.go (sorted),
  // vault/acl.go Capabilities (deny when nothing is granted, root for a root token), http/handler.go
  // injectDataIntoTopRoutes (the data also at the top level), api-docs/system/capabilities-self.
  let sandboxClient: vault.client;
  let prodClient: vault.client;
  const ask = (c: vault.client, what: string, paths: unknown) => ok(what, () => c.write('sys/capabilities-self', { paths }));

  before(async () => {
    sandboxClient = await k8sClient(sandbox.vaultRole, sandbox.namespace, sandbox.namespace);
    prodClient = await k8sClient(prod.vaultRole, prod.namespace, prod.namespace);
  });

  it("the sandbox identity: deny on prod's creds and KV, read on its own; nothing minted", async () => {
    const before = await vaultRoles();
    const paths = [prod.credsPath, 'kvv2/data/erp/config', 'kvv2/data/erp/promote', sandbox.credsPath, 'kvv2/data/erp-sandbox/config'];
    const answer = await ask(sandboxClient, 'sandbox capabilities', paths);
    const expected = {
      [prod.credsPath]: ['deny'],
      'kvv2/data/erp/config': ['deny'],
      'kvv2/data/erp/promote': ['deny'],
      [sandbox.credsPath]: ['read'],
      'kvv2/data/erp-sandbox/config': ['read'],
    };
    assert.deepEqual(answer.data, expected);
    for (const [path, capabilities] of Object.entries(expected)) assert.deepEqual(answer[path], capabilities, `top-level ${path}`);
    assert.equal(answer.capabilities, undefined, 'the backwards-compatible field is there for one path only');
    assert.equal(answer.lease_id, '');
    assert.equal(answer.auth, null);
    assert.deepEqual(await vaultRoles(), before);
  });

  it('one path also answers under `capabilities`; several capabilities come sorted; a root token is root', async () => {
    const one = await ask(prodClient, 'prod capabilities, one path', [prod.credsPath]);
    assert.deepEqual(one.data, { [prod.credsPath]: ['read'], capabilities: ['read'] });
    assert.deepEqual(one.capabilities, ['read']);
    const cubbyhole = await ask(prodClient, 'default policy capabilities', 'cubbyhole/x,sys/leases/revoke');
    assert.deepEqual(cubbyhole.data, { 'cubbyhole/x': ['create', 'delete', 'list', 'read', 'update'], 'sys/leases/revoke': ['update'] });
    const rooted = await ask(root, 'root capabilities', ['sys/anything']);
    assert.deepEqual(rooted.data.capabilities, ['root']);
  });

  it('refuses no paths and an empty path (400), and a caller without a token (403)', async () => {
    assertRefusal(await refused('capabilities of nothing', () => sandboxClient.write('sys/capabilities-self', {})), 400, ['paths must be supplied']);
    assertRefusal(await refused('capabilities of an empty path', () => sandboxClient.write('sys/capabilities-self', { paths: [''] })), 400, ['missing path']);
    assertRefusal(await refused('capabilities without a token', () => client().write('sys/capabilities-self', { paths: [prod.credsPath] })), 403, ['permission denied']);
  });
});

describe('JWT/OIDC auth (Gitea CI role gitea_cicd_erp)', () => {
  const login = (jwt: string, role = prod.ciJwtRole) => client().jwtLogin({ role, jwt });

  it('logs a CI job of arcodange-org/erp in; display name jwt-<user claim>', async () => {
    const c = client();
    const jwt = ciToken();
    const answer = await ok('jwt login', () => c.jwtLogin({ role: prod.ciJwtRole, jwt }), (body) => [plant(body.auth.client_token as string)]);
    assert.deepEqual(answer.auth.policies, ['default', sandbox.instance]);
    assert.equal(answer.auth.lease_duration, 600);
    const self = await ok('jwt lookup-self', () => c.tokenLookupSelf(), () => [c.token]);
    assert.equal(self.data.display_name, 'jwt-arcodange-org/erp');
  });

  it("accepts a token expired within Vault's default 60 s clock-skew leeway, refuses one beyond it", async () => {
    const now = Math.floor(Date.now() / 1000);
    await ok('jwt login within leeway', () => login(ciToken({ iat: now - 600, nbf: now - 600, exp: now - 30 })), (body) => [plant(body.auth.client_token as string)]);
    assertRefusal(await refused('expired jwt', () => login(ciToken({ iat: now - 600, nbf: now - 600, exp: now - 120 }))), 400,
      ['error validating token: invalid expiration time (exp) claim: token is expired']);
  });

  it('refuses a token not yet valid, for another audience, with a bad signature or a tampered payload', async () => {
    const now = Math.floor(Date.now() / 1000);
    assertRefusal(await refused('jwt nbf in the future', () => login(ciToken({ nbf: now + 600, iat: now + 600, exp: now + 900 }))), 400,
      ['error validating token: invalid not before (nbf) claim: token not yet valid']);
    assertRefusal(await refused('jwt wrong audience', () => login(ciToken({ aud: 'https://elsewhere.example' }))), 400,
      ['error validating token: invalid audience (aud) claim: audience claim does not match any expected audience']);
    const badSignature = 'error validating token: error verifying token signature: no known key successfully validated the token signature';
    assertRefusal(await refused('jwt bad signature', () => login(ciToken({}, rogue))), 400, [badSignature]);
    const [header, , signature] = ciToken().split('.');
    const tampered = plant(`${header}.${Buffer.from(JSON.stringify({ iss: CI_ISSUER, aud: CI_AUDIENCE, repository: 'arcodange-org/erp', exp: now + 300 })).toString('base64url')}.${signature}`);
    assertRefusal(await refused('jwt tampered payload', () => login(tampered)), 400, [badSignature]);
  });

  it('refuses a claim outside the bound claims, a missing user claim and an unknown role', async () => {
    assertRefusal(await refused('jwt unbound claim', () => login(ciToken({ repository: 'arcodange-org/webapp' }))), 400,
      ['error validating claims: claim "repository" does not match any associated bound claim values']);
    assertRefusal(await refused('jwt without user claim', () => login(ciToken({ repository: undefined }))), 400, ['claim "repository" not found in token']);
    assertRefusal(await refused('jwt unknown role', () => login(ciToken(), 'nope')), 400, ['role "nope" could not be found']);
  });
});

describe('token revocation revokes the leases created with the token', () => {
  it('auth/token/revoke-self: the token is refused at once, its login roles are dropped', async () => {
    const c = await k8sClient(sandbox.vaultRole, sandbox.namespace, sandbox.namespace);
    const accessor = (await ok('lookup-self before revoke', () => c.tokenLookupSelf(), () => [c.token])).data.accessor as string;
    const first = await creds(c, sandbox.credsPath);
    const second = await creds(c, sandbox.credsPath);
    assert.equal(await ok('revoke-self', () => c.tokenRevokeSelf()), '');
    assertRefusal(await refused('lookup-self after revoke', () => c.tokenLookupSelf()), 403, INVALID_TOKEN);
    await eventually('both roles are dropped and their leases forgotten', async () =>
      ((await roleExists(first.username)) || (await roleExists(second.username)) || standin!.leases().some((candidate) => candidate.tokenAccessor === accessor)
        ? undefined : true));
  });

  it('an expired token (role TTL 1 s) is refused like an unknown one, and its leases are revoked', async () => {
    const c = await k8sClient('erp-sandbox-brief', sandbox.namespace, sandbox.namespace);
    const minted = await creds(c, sandbox.credsPath);
    await eventually('the token expires', async () => {
      try {
        await c.tokenLookupSelf();
        return undefined;
      } catch (error) {
        return error;
      }
    });
    assertRefusal(await refused('expired login token', () => c.tokenLookupSelf()), 403, INVALID_TOKEN);
    await eventually('the lease of the expired token is revoked', async () => (await roleExists(minted.username) ? undefined : true));
  });
});

describe('secrets never leak', () => {
  it('no error body or message carries a token, password, API key or JWT; success bodies only their own', () => {
    assert.ok(exchanges.length > 40, `${exchanges.length} exchanges recorded`);
    assert.ok(planted.size > 20, `${planted.size} secrets planted`);
    for (const exchange of exchanges) {
      for (const secret of planted) {
        if (!exchange.text.includes(secret)) continue;
        assert.ok(exchange.ok && exchange.allowed.includes(secret), `${exchange.what} (${exchange.ok ? 'success' : 'error'}) carries a secret it must not`);
      }
    }
  });

  it('option errors never quote a token value', async () => {
    await assert.rejects(startVaultStandin({ ...options(), tokens: [{ token: ROOT_TOKEN, policies: ['root'] }, { token: ROOT_TOKEN, policies: [] }] }), (error: Error) => {
      assert.match(error.message, /tokens\[1\] has the same value as an earlier token/);
      assert.equal(error.message.includes(ROOT_TOKEN), false);
      return true;
    });
  });
});

describe('close()', () => {
  it('revokes nothing: a lease left outstanding stays listed and its role stays; close is idempotent', async () => {
    const leftover = await creds(root, sandbox.credsPath);
    await standin!.close();
    await standin!.close();
    assert.ok(standin!.leases().some((candidate) => candidate.leaseId === leftover.lease_id && candidate.username === leftover.username));
    assert.equal(await roleExists(leftover.username), true);
    await assert.rejects(client(ROOT_TOKEN).health(), (error: { code?: string }) => ['ECONNREFUSED', 'ECONNRESET'].includes(error.code ?? ''));
  });
});
