import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  allInstances,
  ConfigError,
  isLive,
  loadConfig,
  nodeFiles,
  parseApplications,
  parseEnvFile,
  parseResolve,
  type ConfigFiles,
  type EnvRecord,
  type HarnessConfig,
} from '../support/config';
import { createCertificateAuthority } from '../support/hermetic/certificates';
import { Secret } from '../support/secret';

/** Values planted to prove that no configuration message ever shows a secret. */
const VAULT_TOKEN = 'hvs.PLANTED-vault-token-7f3a9c21';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.PLANTED-ci-jwt.c2lnbmF0dXJl';

let dir: string;
let empty: string;
let vaultCa: string;
let dolibarrCa: string;

/** The problems loadConfig reports, checked for planted secrets on the way. */
function problemsOf(env: EnvRecord, files?: ConfigFiles, cwd = dir): readonly string[] {
  try {
    loadConfig(env, { cwd, ...(files ? { files } : {}) });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    for (const text of [error.message, ...error.problems]) {
      assert.ok(!text.includes(VAULT_TOKEN) && !text.includes(JWT), `a message shows a planted secret: ${text}`);
    }
    for (const problem of error.problems) assert.ok(!problem.includes('\n'), `one line each: ${problem}`);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

/** A complete, valid live configuration (paths relative to `dir`, the working directory of the tests). */
function liveEnv(): Record<string, string | undefined> {
  return {
    ERP_REHEARSAL_TARGET: 'live',
    VAULT_ADDR: 'https://vault.arcodange.lab:8200',
    VAULT_CACERT: 'homelab-ca.pem',
    ERP_REHEARSAL_VAULT_AUTH: 'jwt',
    ERP_REHEARSAL_VAULT_JWT: JWT,
    VAULT_TOKEN, // set in the operator's shell, unused with jwt auth: still never shown
    ERP_REHEARSAL_SANDBOX_DB_HOST: 'postgres.arcodange.lab',
    ERP_REHEARSAL_PROD_DB_HOST: 'postgres.arcodange.lab',
    ERP_REHEARSAL_PROD_DB_PORT: '6432',
    ERP_REHEARSAL_PROD_DB_SSLMODE: 'verify-ca',
    ERP_REHEARSAL_GOLDEN_ARCHIVE: 'golden/golden.dump',
    ERP_REHEARSAL_PG_BINDIR: '/usr/lib/postgresql/15/bin',
    ERP_REHEARSAL_DOLIBARR_CA: 'dolibarr-ca.pem',
    ERP_REHEARSAL_RESOLVE: 'erp.arcodange.lab=127.0.0.1, erp-sandbox.arcodange.lab=[::1]',
    ERP_REHEARSAL_REPORT_DIR: 'out/reports',
    ERP_REHEARSAL_WAIVERS: 'waivers.yaml',
    ERP_REHEARSAL_PRE_RESET_COMMAND: 'kubectl -n erp-sandbox scale deploy/dolibarr --replicas=0',
  };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'erp-rehearsal-config-'));
  empty = await mkdtemp(join(tmpdir(), 'erp-rehearsal-config-empty-'));
  vaultCa = (await createCertificateAuthority()).ca;
  dolibarrCa = (await createCertificateAuthority()).ca;
  const manifest = JSON.stringify({ format: 2, root: 'sha256:0f3c', database: 'erp', ownerRole: 'erp_role', createdAt: new Date().toISOString() });
  const aged = (fields: Record<string, unknown>) => JSON.stringify({ format: 2, root: 'sha256:0f3c', database: 'erp', ownerRole: 'erp_role', createdAt: new Date().toISOString(), ...fields });
  const files: Record<string, string> = {
    'homelab-ca.pem': vaultCa,
    'dolibarr-ca.pem': dolibarrCa,
    'not-a-cert.pem': '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n',
    'corrupt-cert.pem': '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n',
    'golden/golden.dump': 'PGDMP fake archive',
    'golden/golden.list': ';\n; Archive created at …\n',
    'golden/manifest.json': manifest,
    'nolist/golden.dump': 'PGDMP',
    'nolist/manifest.json': manifest,
    'not-json.json': '{"root": ',
    'no-root.json': '{"format": 1, "entries": []}',
    'format-1.json': aged({ format: 1 }),
    'other-prod.json': aged({ database: 'webapp' }),
    'stale.json': aged({ createdAt: new Date(Date.now() - 200 * 3_600_000).toISOString() }),
    'undated.json': aged({ createdAt: undefined }),
    'ci.jwt': `${JWT}\n`,
    'sa-token': 'service-account-token',
    'waivers.yaml': '[]\n',
  };
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  await mkdir(join(dir, 'a-directory'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(empty, { recursive: true, force: true });
});

describe('loadConfig: the hermetic target', () => {
  const load = (env: EnvRecord) => loadConfig(env, { cwd: empty });

  it('defaults to the hermetic target with erp × [prod, sandbox]', () => {
    const config = load({});
    assert.equal(config.target, 'hermetic');
    assert.equal(config.prod.database, 'erp');
    assert.equal(config.sandbox.database, 'erp-sandbox');
    assert.deepEqual(allInstances(config).map((names) => names.instance), ['erp', 'erp-sandbox']);
    assert.equal(config.postgres.provider, 'auto');
    assert.equal(config.fixture.scale, 1);
    assert.deepEqual(config.reports, { dir: 'reports' });
    assert.equal(config.waivers, undefined);
    assert.equal(config.live, undefined);
    assert.equal(isLive(config), false);
  });

  it('provisions extra applications like the tfvars list, envs defaulting to prod', () => {
    assert.deepEqual(parseApplications('webapp erp:prod,sandbox'), [
      { name: 'webapp', envs: ['prod'] },
      { name: 'erp', envs: ['prod', 'sandbox'] },
    ]);
    const config = load({ ERP_REHEARSAL_APPLICATIONS: 'webapp erp:prod,sandbox' });
    assert.deepEqual(allInstances(config).map((names) => names.ownerRole), ['webapp_role', 'erp_role', 'erp_sandbox_role']);
  });

  it('reports every bad value at once, one line each', () => {
    const problems = problemsOf(
      {
        ERP_REHEARSAL_PG_PROVIDER: 'podman',
        ERP_REHEARSAL_FIXTURE_SCALE: '-1',
        ERP_REHEARSAL_FIXTURE_SEED: 'abc',
        ERP_REHEARSAL_TARGET: 'staging',
      },
      undefined,
      empty,
    );
    assert.equal(problems.length, 4);
    assert.match(problems.join('\n'), /ERP_REHEARSAL_PG_PROVIDER="podman"/);
    assert.match(problems.join('\n'), /ERP_REHEARSAL_FIXTURE_SCALE="-1"/);
    assert.match(problems.join('\n'), /ERP_REHEARSAL_FIXTURE_SEED="abc"/);
    assert.match(problems.join('\n'), /ERP_REHEARSAL_TARGET="staging": use hermetic or live/);
  });

  it('refuses applications that do not provision the pair the gates use', () => {
    assert.throws(() => load({ ERP_REHEARSAL_APPLICATIONS: 'erp' }), /must provision app "erp" with envs "prod" and "sandbox"/);
    assert.throws(() => load({ ERP_REHEARSAL_APPLICATIONS: 'erp:prod,Sandbox' }), /uppercase/);
  });

  it('names the variable of a bad domain, app or sandbox env, once each, and refuses prod as the sandbox', () => {
    assert.deepEqual(problemsOf({ ERP_REHEARSAL_DOMAIN: 'Arcodange.LAB' }, undefined, empty), [
      'ERP_REHEARSAL_DOMAIN: domain "Arcodange.LAB" is not a lowercase DNS name such as "arcodange.lab"',
    ]);
    const problems = problemsOf({ ERP_REHEARSAL_APP: 'Erp', ERP_REHEARSAL_SANDBOX_ENV: 'prod' }, undefined, empty);
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /^ERP_REHEARSAL_APP: app "Erp" is not kebab-case: uppercase/);
    assert.match(problems[1]!, /^ERP_REHEARSAL_SANDBOX_ENV="prod": the sandbox must not be prod/);
  });

  it('ignores live-only variables, even bad ones, and reads the report directory and waivers', () => {
    const config = loadConfig(
      { ...liveEnv(), ERP_REHEARSAL_TARGET: undefined, VAULT_ADDR: 'http://nowhere', ERP_REHEARSAL_SANDBOX_DB_PORT: 'x', ERP_REHEARSAL_RESOLVE: '=' },
      { cwd: dir },
    );
    assert.equal(config.target, 'hermetic');
    assert.equal(config.live, undefined);
    assert.deepEqual(config.reports, { dir: 'out/reports' });
    assert.equal(config.waivers, join(dir, 'waivers.yaml'));
    assert.equal(config.reset.preCommand, 'kubectl -n erp-sandbox scale deploy/dolibarr --replicas=0');
  });

  it('refuses a waiver file that cannot be read, on either target', () => {
    assert.deepEqual(problemsOf({ ERP_REHEARSAL_WAIVERS: 'no-such-waivers.yaml' }), [
      'ERP_REHEARSAL_WAIVERS="no-such-waivers.yaml": the waiver file does not exist; point it at the waiver file, or unset it',
    ]);
  });
});

describe('loadConfig: the live target', () => {
  const load = (env: EnvRecord, files?: ConfigFiles): HarnessConfig => loadConfig(env, { cwd: dir, ...(files ? { files } : {}) });

  it('parses a complete live configuration to the expected structure', () => {
    const config = load(liveEnv());
    assert.equal(config.target, 'live');
    assert.ok(isLive(config));
    assert.equal(config.sandbox.instance, 'erp-sandbox');
    assert.deepEqual(config.reports, { dir: 'out/reports' });
    assert.equal(config.waivers, join(dir, 'waivers.yaml'));
    const { auth, ...vault } = config.live.vault;
    assert.deepEqual(vault, { address: 'https://vault.arcodange.lab:8200', ca: vaultCa });
    assert.ok(auth.method === 'jwt' && auth.token instanceof Secret);
    assert.equal(auth.token.reveal(), JWT);
    assert.deepEqual({ ...auth, token: undefined }, { method: 'jwt', role: 'gitea_cicd_erp', mount: 'jwt', token: undefined });
    assert.deepEqual(config.live.databases, {
      sandbox: { host: 'postgres.arcodange.lab', port: 5432, sslmode: 'verify-full', ca: vaultCa },
      prod: { host: 'postgres.arcodange.lab', port: 6432, sslmode: 'verify-ca', ca: vaultCa },
    });
    assert.deepEqual(config.live.golden, {
      archive: join(dir, 'golden/golden.dump'),
      list: join(dir, 'golden/golden.list'),
      manifest: join(dir, 'golden/manifest.json'),
    });
    assert.deepEqual(config.live.clientTools, { bindir: '/usr/lib/postgresql/15/bin' });
    assert.deepEqual(config.live.dolibarr, { ca: dolibarrCa });
    assert.deepEqual([...config.live.resolve], [['erp.arcodange.lab', '127.0.0.1'], ['erp-sandbox.arcodange.lab', '::1']]);
  });

  it('defaults: Kubernetes auth as the sandbox instance, the Vault CA for Dolibarr and the databases, golden files beside the archive', () => {
    const files: ConfigFiles = {
      ...nodeFiles,
      checkReadable: (path) => (path === '/var/run/secrets/kubernetes.io/serviceaccount/token' ? undefined : nodeFiles.checkReadable(path)),
    };
    const env = { ...liveEnv(), ERP_REHEARSAL_VAULT_AUTH: undefined, ERP_REHEARSAL_DOLIBARR_CA: undefined, ERP_REHEARSAL_RESOLVE: undefined };
    const config = load(env, files);
    assert.ok(isLive(config));
    assert.deepEqual(config.live.vault.auth, {
      method: 'kubernetes',
      role: 'erp-sandbox',
      mount: 'kubernetes',
      tokenPath: '/var/run/secrets/kubernetes.io/serviceaccount/token',
    });
    assert.deepEqual(config.live.dolibarr, { ca: vaultCa });
    assert.equal(config.live.resolve.size, 0);

    const bare = load({ ...env, VAULT_CACERT: undefined, ERP_REHEARSAL_PROD_DB_PORT: undefined, ERP_REHEARSAL_PROD_DB_SSLMODE: 'disable' }, files);
    assert.ok(isLive(bare));
    assert.deepEqual(bare.live.vault, { address: 'https://vault.arcodange.lab:8200', auth: config.live.vault.auth });
    assert.deepEqual(bare.live.databases.prod, { host: 'postgres.arcodange.lab', port: 5432, sslmode: 'disable' });
    assert.deepEqual(bare.live.dolibarr, {});
  });

  it('takes the role, mount and token file given, and the JWT from a file', () => {
    const env = { ...liveEnv(), ERP_REHEARSAL_VAULT_JWT: undefined, ERP_REHEARSAL_VAULT_TOKEN_FILE: 'ci.jwt' };
    const jwt = load({ ...env, ERP_REHEARSAL_VAULT_ROLE: 'gitea_cicd_erp_nightly', ERP_REHEARSAL_VAULT_MOUNT: 'gitea-jwt' });
    assert.deepEqual(jwt.live?.vault.auth, { method: 'jwt', role: 'gitea_cicd_erp_nightly', mount: 'gitea-jwt', tokenPath: join(dir, 'ci.jwt') });
    const kubernetes = load({ ...env, ERP_REHEARSAL_VAULT_AUTH: 'kubernetes', ERP_REHEARSAL_VAULT_TOKEN_FILE: 'sa-token' });
    assert.deepEqual(kubernetes.live?.vault.auth, { method: 'kubernetes', role: 'erp-sandbox', mount: 'kubernetes', tokenPath: join(dir, 'sa-token') });
    const token = load({ ...env, ERP_REHEARSAL_VAULT_AUTH: 'token' });
    const auth = token.live?.vault.auth;
    assert.ok(auth?.method === 'token');
    assert.equal(auth.token.reveal(), VAULT_TOKEN);
  });

  it('never shows a secret when printed', () => {
    for (const env of [liveEnv(), { ...liveEnv(), ERP_REHEARSAL_VAULT_AUTH: 'token' }]) {
      const config = load(env);
      const texts = [
        JSON.stringify(config, (_key, value: unknown) => (value instanceof Map ? [...value] : value)),
        inspect(config, { depth: 10 }),
        Object.values(config.live?.vault.auth ?? {}).join(' '),
      ];
      for (const text of texts) {
        assert.ok(!text.includes(VAULT_TOKEN) && !text.includes(JWT));
      }
    }
  });

  const unreadable: ConfigFiles = {
    readText: (path) => {
      if (path.endsWith('locked.pem')) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      return nodeFiles.readText(path);
    },
    checkReadable: (path) => {
      if (path.endsWith('locked.dump')) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      nodeFiles.checkReadable(path);
    },
  };

  const cases: ReadonlyArray<readonly [string, Record<string, string | undefined>, RegExp, ConfigFiles?]> = [
    ['missing VAULT_ADDR', { VAULT_ADDR: undefined }, /^VAULT_ADDR is not set: the live target needs the Vault URL, e.g. VAULT_ADDR=https:\/\/vault\.arcodange\.lab:8200$/],
    ['a non-https VAULT_ADDR', { VAULT_ADDR: 'http://vault.arcodange.lab:8200' }, /^VAULT_ADDR="http:\/\/vault\.arcodange\.lab:8200": Vault is reached over https only; give e\.g\. VAULT_ADDR=https:/],
    ['a VAULT_ADDR that is not a URL', { VAULT_ADDR: 'vault.arcodange.lab' }, /^VAULT_ADDR="vault\.arcodange\.lab" is not a URL/],
    ['a VAULT_ADDR with a path', { VAULT_ADDR: 'https://vault.arcodange.lab/v1' }, /^VAULT_ADDR="https:\/\/vault\.arcodange\.lab\/v1": give the origin only/],
    ['a VAULT_ADDR with credentials', { VAULT_ADDR: 'https://admin:hunter2@vault.arcodange.lab' }, /^VAULT_ADDR carries credentials \(user:password@\): remove them/],
    ['a missing CA file', { VAULT_CACERT: 'missing.pem' }, /^VAULT_CACERT="missing\.pem": the file does not exist; set VAULT_CACERT to the PEM file of the CA that signed Vault's certificate/],
    ['an unreadable CA file', { VAULT_CACERT: 'locked.pem' }, /^VAULT_CACERT="locked\.pem": the file cannot be read \(permission denied\)/, unreadable],
    ['a CA path that is a directory', { ERP_REHEARSAL_DOLIBARR_CA: 'a-directory' }, /^ERP_REHEARSAL_DOLIBARR_CA="a-directory": the file is a directory, not a file/],
    ['a CA file that is not a certificate', { VAULT_CACERT: 'not-a-cert.pem' }, /^VAULT_CACERT="not-a-cert\.pem" is not a PEM certificate \(no "-----BEGIN CERTIFICATE-----" block\): set VAULT_CACERT/],
    ['a CA file with a corrupt certificate', { ERP_REHEARSAL_SANDBOX_DB_CA: 'corrupt-cert.pem' }, /^ERP_REHEARSAL_SANDBOX_DB_CA="corrupt-cert\.pem" holds a PEM block that is not a valid certificate/],
    ['an unset golden archive', { ERP_REHEARSAL_GOLDEN_ARCHIVE: undefined }, /^ERP_REHEARSAL_GOLDEN_ARCHIVE is not set: give the path of the golden archive/],
    ['a missing golden archive (and so its list and manifest)', { ERP_REHEARSAL_GOLDEN_ARCHIVE: 'nowhere/golden.dump' }, /^ERP_REHEARSAL_GOLDEN_ARCHIVE="nowhere\/golden\.dump": the golden archive does not exist; point it at the golden archive/],
    ['an unreadable golden archive', { ERP_REHEARSAL_GOLDEN_ARCHIVE: 'golden/locked.dump' }, /^ERP_REHEARSAL_GOLDEN_ARCHIVE="golden\/locked\.dump": the golden archive cannot be read \(permission denied\)/, unreadable],
    ['a missing restore list beside the archive', { ERP_REHEARSAL_GOLDEN_ARCHIVE: 'nolist/golden.dump' }, /^ERP_REHEARSAL_GOLDEN_LIST \(default ".*\/nolist\/golden\.list"\): the restore list does not exist/],
    ['a missing manifest', { ERP_REHEARSAL_GOLDEN_MANIFEST: 'nolist/none.json' }, /^ERP_REHEARSAL_GOLDEN_MANIFEST="nolist\/none\.json": the golden manifest does not exist; point ERP_REHEARSAL_GOLDEN_MANIFEST at the manifest\.json/],
    ['a manifest that is not JSON', { ERP_REHEARSAL_GOLDEN_MANIFEST: 'not-json.json' }, /^ERP_REHEARSAL_GOLDEN_MANIFEST="not-json\.json" is not valid JSON: the golden's files are damaged; make the golden again/],
    ['a manifest without root', { ERP_REHEARSAL_GOLDEN_MANIFEST: 'no-root.json' }, /^ERP_REHEARSAL_GOLDEN_MANIFEST="no-root\.json" has no "root" field/],
    ['a manifest of format 1', { ERP_REHEARSAL_GOLDEN_MANIFEST: 'format-1.json' }, /^ERP_REHEARSAL_GOLDEN_MANIFEST="format-1\.json" is a golden of format 1, made by an earlier version .*; make the golden again \(rehearse golden/],
    ['a golden of another prod', { ERP_REHEARSAL_GOLDEN_MANIFEST: 'other-prod.json' }, /^ERP_REHEARSAL_GOLDEN_MANIFEST="other-prod\.json" is a golden of database "webapp", not of this prod "erp"/],
    ['a golden older than the allowed age', { ERP_REHEARSAL_GOLDEN_MANIFEST: 'stale.json' }, /^ERP_REHEARSAL_GOLDEN_MANIFEST="stale\.json" is 200 hours old, older than ERP_REHEARSAL_GOLDEN_MAX_AGE_HOURS \(192\)/],
    ['a golden of unknown age', { ERP_REHEARSAL_GOLDEN_MANIFEST: 'undated.json' }, /^ERP_REHEARSAL_GOLDEN_MANIFEST="undated\.json" has no valid "createdAt"/],
    ['a bad maximum age', { ERP_REHEARSAL_GOLDEN_MAX_AGE_HOURS: 'a week' }, /^ERP_REHEARSAL_GOLDEN_MAX_AGE_HOURS="a week": must be a number of hours greater than 0/],
    ['a bad port', { ERP_REHEARSAL_SANDBOX_DB_PORT: '70000' }, /^ERP_REHEARSAL_SANDBOX_DB_PORT="70000": must be a TCP port number from 1 to 65535 \(default 5432\)$/],
    ['a port that is not a number', { ERP_REHEARSAL_PROD_DB_PORT: '5432/tcp' }, /^ERP_REHEARSAL_PROD_DB_PORT="5432\/tcp": must be a TCP port number/],
    ['an unknown sslmode', { ERP_REHEARSAL_PROD_DB_SSLMODE: 'prefer' }, /^ERP_REHEARSAL_PROD_DB_SSLMODE="prefer": use disable, require, verify-ca, verify-full \(default verify-full\)$/],
    ['a missing database host', { ERP_REHEARSAL_PROD_DB_HOST: undefined }, /^ERP_REHEARSAL_PROD_DB_HOST is not set: give the host name of the PostgreSQL server that holds the prod database$/],
    ['a database URL instead of a host', { ERP_REHEARSAL_SANDBOX_DB_HOST: 'postgres://postgres.arcodange.lab:5432' }, /^ERP_REHEARSAL_SANDBOX_DB_HOST="postgres:\/\/postgres\.arcodange\.lab:5432": give a host name or an IP address only/],
    ['a bad domain', { ERP_REHEARSAL_DOMAIN: 'arcodange_lab' }, /^ERP_REHEARSAL_DOMAIN: domain "arcodange_lab" is not a lowercase DNS name/],
    ['bad ERP_REHEARSAL_RESOLVE syntax', { ERP_REHEARSAL_RESOLVE: 'erp.arcodange.lab:443:127.0.0.1' }, /^ERP_REHEARSAL_RESOLVE entry "erp\.arcodange\.lab:443:127\.0\.0\.1": write host=address with an IP address/],
    ['a resolve address that is not an IP', { ERP_REHEARSAL_RESOLVE: 'erp.arcodange.lab=localhost' }, /^ERP_REHEARSAL_RESOLVE entry "erp\.arcodange\.lab=localhost": write host=address/],
    ['jwt auth without a JWT', { ERP_REHEARSAL_VAULT_JWT: undefined }, /^ERP_REHEARSAL_VAULT_AUTH=jwt needs a JWT: set ERP_REHEARSAL_VAULT_JWT \(e\.g\. the CI's OIDC token\) or ERP_REHEARSAL_VAULT_TOKEN_FILE/],
    ['jwt auth with both a JWT and a JWT file', { ERP_REHEARSAL_VAULT_TOKEN_FILE: 'ci.jwt' }, /^ERP_REHEARSAL_VAULT_JWT and ERP_REHEARSAL_VAULT_TOKEN_FILE are both set/],
    ['jwt auth with a missing JWT file', { ERP_REHEARSAL_VAULT_JWT: undefined, ERP_REHEARSAL_VAULT_TOKEN_FILE: 'none.jwt' }, /^ERP_REHEARSAL_VAULT_TOKEN_FILE="none\.jwt": the JWT file does not exist/],
    ['token auth without VAULT_TOKEN', { ERP_REHEARSAL_VAULT_AUTH: 'token', VAULT_TOKEN: undefined }, /^VAULT_TOKEN is not set: ERP_REHEARSAL_VAULT_AUTH=token needs a Vault token/],
    ['kubernetes auth outside a pod', { ERP_REHEARSAL_VAULT_AUTH: 'kubernetes', ERP_REHEARSAL_VAULT_TOKEN_FILE: 'none-token' }, /^ERP_REHEARSAL_VAULT_TOKEN_FILE="none-token": the pod's service-account token does not exist; Kubernetes auth runs in the pod/],
    ['an unknown auth method', { ERP_REHEARSAL_VAULT_AUTH: 'approle' }, /^ERP_REHEARSAL_VAULT_AUTH="approle": use kubernetes \(in the cluster\), jwt .* or token \(VAULT_TOKEN\)$/],
    ['a bad Vault role', { ERP_REHEARSAL_VAULT_ROLE: 'erp sandbox' }, /^ERP_REHEARSAL_VAULT_ROLE="erp sandbox": a Vault role name/],
    ['a bad Vault mount', { ERP_REHEARSAL_VAULT_MOUNT: 'auth//jwt' }, /^ERP_REHEARSAL_VAULT_MOUNT="auth\/\/jwt" must be slash-separated segments/],
  ];
  for (const [what, overrides, expected, files] of cases) {
    it(`says what to set, in one line, for ${what}`, () => {
      const problems = problemsOf({ ...liveEnv(), ...overrides }, files);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0]!, expected);
    });
  }

  it('reports several problems at once, one line each', () => {
    const problems = problemsOf({
      ...liveEnv(),
      VAULT_ADDR: 'http://vault.arcodange.lab',
      VAULT_CACERT: 'not-a-cert.pem',
      ERP_REHEARSAL_VAULT_JWT: undefined,
      ERP_REHEARSAL_SANDBOX_DB_PORT: 'five',
      ERP_REHEARSAL_PROD_DB_SSLMODE: 'on',
      ERP_REHEARSAL_GOLDEN_ARCHIVE: 'nowhere/golden.dump', // the list and manifest beside it: not said again
      ERP_REHEARSAL_GOLDEN_MANIFEST: 'no-root.json',
      ERP_REHEARSAL_RESOLVE: 'erp.arcodange.lab',
      ERP_REHEARSAL_FIXTURE_SCALE: '0',
    });
    assert.deepEqual(problems.map((problem) => problem.split(/[ =:(]/, 1)[0]), [
      'ERP_REHEARSAL_FIXTURE_SCALE',
      'VAULT_ADDR',
      'VAULT_CACERT',
      'ERP_REHEARSAL_VAULT_AUTH',
      'ERP_REHEARSAL_SANDBOX_DB_PORT',
      'ERP_REHEARSAL_PROD_DB_SSLMODE',
      'ERP_REHEARSAL_GOLDEN_ARCHIVE',
      'ERP_REHEARSAL_GOLDEN_MANIFEST',
      'ERP_REHEARSAL_RESOLVE',
    ]);
  });

  it('never shows a secret, even one pasted into the wrong variable', () => {
    const problems = problemsOf({
      ...liveEnv(),
      VAULT_ADDR: VAULT_TOKEN,
      ERP_REHEARSAL_SANDBOX_DB_HOST: `${JWT}:5432`,
      ERP_REHEARSAL_RESOLVE: `${VAULT_TOKEN}=${JWT}`,
    });
    assert.equal(problems.length, 3);
    assert.match(problems[0]!, /^VAULT_ADDR="\[secret VAULT_TOKEN\]" is not a URL/);
    assert.match(problems[2]!, /^ERP_REHEARSAL_RESOLVE entry "\[secret VAULT_TOKEN\]=\[secret ERP_REHEARSAL_VAULT_JWT\]"/);
    assert.match(problems[1]!, /^ERP_REHEARSAL_SANDBOX_DB_HOST="\[secret ERP_REHEARSAL_VAULT_JWT\]:5432"/);
  });
});

describe('loadConfig: the golden identity and the golden job', () => {
  const load = (env: EnvRecord, purpose?: 'golden') => loadConfig(env, { cwd: dir, ...(purpose ? { purpose } : {}) });

  it('reads prod through the golden identity when one is configured: under jwt it shares the CI token, with its own role', () => {
    const config = load({ ...liveEnv(), ERP_REHEARSAL_GOLDEN_VAULT_ROLE: 'gitea_cicd_erp_golden' });
    const golden = config.live!.vault.golden as { method: string; role: string; token?: { reveal(): string } };
    assert.equal(golden.method, 'jwt');
    assert.equal(golden.role, 'gitea_cicd_erp_golden');
    assert.equal(golden.token?.reveal(), JWT);
    assert.equal(load(liveEnv()).live!.vault.golden, undefined, 'no golden identity unless configured');
  });

  it('needs the golden service account\'s own token under Kubernetes auth (the pod\'s own is the sandbox\'s)', () => {
    const problems = problemsOf({ ...liveEnv(), ERP_REHEARSAL_VAULT_AUTH: 'kubernetes', ERP_REHEARSAL_VAULT_TOKEN_FILE: 'sa-token', ERP_REHEARSAL_VAULT_JWT: undefined, ERP_REHEARSAL_GOLDEN_VAULT_ROLE: 'erp-golden' });
    assert.deepEqual(problems, ["ERP_REHEARSAL_GOLDEN_VAULT_TOKEN_FILE is not set: Kubernetes auth of the read-only golden identity needs its own service account's token (the pod's own token is the sandbox's)"]);
    const config = load({ ...liveEnv(), ERP_REHEARSAL_VAULT_AUTH: 'kubernetes', ERP_REHEARSAL_VAULT_TOKEN_FILE: 'sa-token', ERP_REHEARSAL_VAULT_JWT: undefined, ERP_REHEARSAL_GOLDEN_VAULT_TOKEN_FILE: 'sa-token' });
    assert.deepEqual(config.live!.vault.golden, { method: 'kubernetes', role: 'erp-golden', mount: 'kubernetes', tokenPath: join(dir, 'sa-token') });
  });

  it('the golden job needs Vault, the golden identity and prod\'s database, and nothing of the sandbox\'s', () => {
    const env = { ERP_REHEARSAL_TARGET: 'live', VAULT_ADDR: 'https://vault.arcodange.lab:8200', VAULT_CACERT: 'homelab-ca.pem', ERP_REHEARSAL_VAULT_AUTH: 'jwt', ERP_REHEARSAL_GOLDEN_VAULT_JWT: JWT, ERP_REHEARSAL_PROD_DB_HOST: 'postgres.arcodange.lab' };
    const config = load(env, 'golden');
    assert.equal(config.live, undefined);
    assert.equal(config.goldenSource!.prod.host, 'postgres.arcodange.lab');
    assert.equal((config.goldenSource!.vault.golden as { role: string }).role, 'gitea_cicd_erp_golden');
    const missing = (() => { try { load({ ERP_REHEARSAL_TARGET: 'live', VAULT_ADDR: 'https://vault.arcodange.lab:8200' }, 'golden'); } catch (error) { return (error as ConfigError).problems; } return []; })();
    assert.deepEqual(missing, [
      'ERP_REHEARSAL_GOLDEN_VAULT_ROLE is not set: the read-only golden identity needs its own Vault identity (its role, and ERP_REHEARSAL_GOLDEN_VAULT_TOKEN_FILE under Kubernetes auth)',
      'ERP_REHEARSAL_PROD_DB_HOST is not set: give the host name of the PostgreSQL server that holds the prod database',
    ]);
  });
});

describe('parseResolve', () => {
  it('maps host names (lowercased) to IPv4 and IPv6 addresses, and refuses a host named twice', () => {
    assert.deepEqual([...parseResolve('Vault.Arcodange.Lab=10.0.0.5,,erp.arcodange.lab = ::1 ,').map], [
      ['vault.arcodange.lab', '10.0.0.5'],
      ['erp.arcodange.lab', '::1'],
    ]);
    assert.deepEqual(parseResolve('erp.arcodange.lab=127.0.0.1,erp.arcodange.lab=127.0.0.2').problems, [
      'ERP_REHEARSAL_RESOLVE names "erp.arcodange.lab" twice: give each host one address',
    ]);
  });
});

describe('the .env file', () => {
  it('parses KEY=value lines: comments, export, quotes taken literally, inline comments, = inside values', () => {
    const text = [
      '# a comment',
      '',
      'ERP_REHEARSAL_DOMAIN=example.lab',
      'export ERP_REHEARSAL_APP = erp   # the app',
      'A="double # not a comment"  # a comment',
      "B='single \"quoted\" $HOME'",
      'C=x=y=z',
      'D=',
      'E=#value',
      '\tF = spaced value ',
      'A="later wins"\r',
    ].join('\n');
    const { values, problems } = parseEnvFile(text, '/x/.env');
    assert.deepEqual(problems, []);
    assert.deepEqual(Object.fromEntries(values), {
      ERP_REHEARSAL_DOMAIN: 'example.lab',
      ERP_REHEARSAL_APP: 'erp',
      A: 'later wins',
      B: 'single "quoted" $HOME',
      C: 'x=y=z',
      D: '',
      E: '#value',
      F: 'spaced value',
    });
  });

  it('reports each malformed line by file and line number, never by its text', () => {
    const text = ['OK=1', `VAULT_TOKEN ${VAULT_TOKEN}`, `1BAD=${JWT}`, `J="${JWT}`, `K='${JWT}' trailing`].join('\n');
    const { problems } = parseEnvFile(text, '/x/.env');
    assert.deepEqual(problems, [
      '.env file "/x/.env" line 2 is not a KEY=value line (no "="): fix it or comment it out with #',
      '.env file "/x/.env" line 3: the name before "=" is not a variable name (letters, digits and "_", not starting with a digit)',
      '.env file "/x/.env" line 4: the value of J opens a double quote that is not closed on that line',
      '.env file "/x/.env" line 5: the value of K has text after its closing quote (quote the whole value, no escapes)',
    ]);
  });

  it('completes the environment from ./.env; the real environment wins', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'erp-rehearsal-dotenv-'));
    try {
      await writeFile(join(cwd, '.env'), 'ERP_REHEARSAL_DOMAIN="example.lab"\nERP_REHEARSAL_FIXTURE_SCALE=2\nERP_REHEARSAL_REPORT_DIR=\'from-file\'\n');
      const config = loadConfig({ ERP_REHEARSAL_FIXTURE_SCALE: '3' }, { cwd });
      assert.equal(config.domain, 'example.lab');
      assert.equal(config.sandbox.host, 'erp-sandbox.example.lab');
      assert.equal(config.fixture.scale, 3);
      assert.equal(config.reports.dir, 'from-file');
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('reads the file ERP_REHEARSAL_ENV_FILE names instead, secrets included, and the live target from it', async () => {
    const lines = Object.entries(liveEnv()).map(([name, value]) => `${name}='${value}'`);
    await writeFile(join(dir, 'live.env'), `# the nightly run\n${lines.join('\n')}\n`);
    await writeFile(join(dir, '.env'), 'ERP_REHEARSAL_DOMAIN=ignored.lab\n');
    try {
      const config = loadConfig({ ERP_REHEARSAL_ENV_FILE: 'live.env', ERP_REHEARSAL_VAULT_AUTH: 'token' }, { cwd: dir });
      assert.ok(isLive(config));
      assert.equal(config.domain, 'arcodange.lab');
      const auth = config.live.vault.auth;
      assert.ok(auth.method === 'token');
      assert.equal(auth.token.reveal(), VAULT_TOKEN);
    } finally {
      await rm(join(dir, '.env'));
    }
  });

  it('is a configuration problem when missing (if named) or malformed, without the line\'s text', async () => {
    assert.deepEqual(problemsOf({ ERP_REHEARSAL_ENV_FILE: 'nowhere.env' }, undefined, empty), [
      'ERP_REHEARSAL_ENV_FILE="nowhere.env": the file does not exist; point it at a readable KEY=value file, or unset it',
    ]);
    await writeFile(join(dir, 'broken.env'), `ERP_REHEARSAL_TARGET=live\nVAULT_TOKEN ${VAULT_TOKEN}\nERP_REHEARSAL_VAULT_JWT="${JWT}\n`);
    const problems = problemsOf({ ERP_REHEARSAL_ENV_FILE: 'broken.env', ...liveEnv() });
    assert.deepEqual(problems, [
      `.env file "${join(dir, 'broken.env')}" line 2 is not a KEY=value line (no "="): fix it or comment it out with #`,
      `.env file "${join(dir, 'broken.env')}" line 3: the value of ERP_REHEARSAL_VAULT_JWT opens a double quote that is not closed on that line`,
    ]);
  });
});

describe('.env.example', () => {
  const documented = [
    'ERP_REHEARSAL_ENV_FILE', 'ERP_REHEARSAL_TARGET', 'ERP_REHEARSAL_DOMAIN', 'ERP_REHEARSAL_APP', 'ERP_REHEARSAL_SANDBOX_ENV',
    'ERP_REHEARSAL_PRE_RESET_COMMAND', 'ERP_REHEARSAL_POST_RESET_COMMAND', 'ERP_REHEARSAL_RESET_LOCK_TIMEOUT_S',
    'ERP_REHEARSAL_REPORT_DIR', 'ERP_REHEARSAL_WAIVERS', 'ERP_REHEARSAL_PG_BINDIR', 'ERP_REHEARSAL_PG_PROVIDER',
    'ERP_REHEARSAL_PG_IMAGE', 'ERP_REHEARSAL_PG_OS_USER', 'ERP_REHEARSAL_APPLICATIONS', 'ERP_REHEARSAL_FIXTURE_SEED',
    'ERP_REHEARSAL_FIXTURE_SCALE', 'ERP_REHEARSAL_LAYOUT', 'ERP_REHEARSAL_DOLIBARR_VERSION', 'VAULT_ADDR', 'VAULT_CACERT', 'ERP_REHEARSAL_VAULT_AUTH',
    'ERP_REHEARSAL_VAULT_ROLE', 'ERP_REHEARSAL_VAULT_MOUNT', 'ERP_REHEARSAL_VAULT_TOKEN_FILE', 'ERP_REHEARSAL_VAULT_JWT',
    'VAULT_TOKEN', 'ERP_REHEARSAL_GOLDEN_ARCHIVE', 'ERP_REHEARSAL_GOLDEN_LIST', 'ERP_REHEARSAL_GOLDEN_MANIFEST',
    'ERP_REHEARSAL_DOLIBARR_CA', 'ERP_REHEARSAL_RESOLVE', 'ERP_REHEARSAL_GOLDEN_MAX_AGE_HOURS', 'ERP_REHEARSAL_CLONE_VAULT_TOKEN_FILE',
    ...['AUTH', 'ROLE', 'MOUNT', 'TOKEN_FILE', 'JWT', 'TOKEN'].map((field) => `ERP_REHEARSAL_GOLDEN_VAULT_${field}`),
    ...['SANDBOX', 'PROD'].flatMap((kind) => ['HOST', 'PORT', 'SSLMODE', 'CA'].map((field) => `ERP_REHEARSAL_${kind}_DB_${field}`)),
  ];

  it('documents every variable, each under a comment line, parses cleanly and gives the hermetic defaults', () => {
    const path = join(__dirname, '..', '.env.example');
    const text = nodeFiles.readText(path);
    const lines = text.split('\n');
    for (const name of documented) {
      const at = lines.findIndex((line) => new RegExp(`^(# )?${name}=`).test(line));
      assert.ok(at > 0, `${name} is not documented in .env.example`);
      assert.match(lines[at - 1]!, /^# /, `${name} has no comment line above it`);
    }
    assert.deepEqual(parseEnvFile(text, path).problems, []);
    const config = loadConfig({ ERP_REHEARSAL_ENV_FILE: path }, { cwd: empty });
    assert.deepEqual(config, loadConfig({}, { cwd: empty }));
  });
});
