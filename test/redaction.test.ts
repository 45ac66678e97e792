import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openReportWriters, UnredactableFormatError } from '../support/gates/redacted-reports';
import { redactFile } from '../support/gates/report-files';
import type { Envelope } from '../support/gates/report';
import { resetSandbox, type ResetOptions } from '../support/lifecycle/reset';
import { appendAudit } from '../support/promote/audit';
import { readChangeset, writeChangeset, type ChangesetContent } from '../support/promote/changeset';
import { Random } from '../fixtures/dolibarr/random';
import { crashText } from '../support/crash-printing';
import { appendRedacted, writeRedacted } from '../support/redacted-files';
import { containsSecret, encodedForms, isRegisteredSecret, MIN_SECRET_LENGTH, REDACTED, redact, redactBytes, registerSecret } from '../support/redaction';
import { Secret } from '../support/secret';
import { environmentWithoutSecrets } from '../support/secret-free-env';
import { registerSqlSecrets, sqlSecrets } from '../support/sql-secrets';

const ROOT = join(__dirname, '..');
const REHEARSE = join(ROOT, 'bin', 'rehearse.js');
const REGISTER = join(ROOT, 'bin', 'register.js');

/** Every form a value can take in the outputs: raw, in JSON (once and twice), in the HTML report's script, in XML. */
function forms(value: string): string[] {
  const once = JSON.stringify(value).slice(1, -1);
  const twice = JSON.stringify(once).slice(1, -1);
  const xml = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return [...new Set([value, once, twice, once.replace(/</g, '\\x3C'), twice.replace(/</g, '\\x3C'), xml])];
}

function assertNoSecret(where: string, text: string, planted: Record<string, string>): void {
  for (const [name, value] of Object.entries(planted)) {
    for (const form of forms(value)) assert.ok(!text.includes(form), `${where} holds the planted ${name} (as ${JSON.stringify(form)})`);
  }
}

describe('redaction point', () => {
  it('replaces every registered value, raw and as the report formats encode it', () => {
    const password = 'pw"with<special>&chars\\1';
    registerSecret(password);
    assert.equal(redact(`PGPASSWORD=${password}`), `PGPASSWORD=${REDACTED}`);
    assert.equal(redact(JSON.stringify({ password })), `{"password":"${REDACTED}"}`);
    assert.equal(redact(JSON.stringify(JSON.stringify({ password }))), `"{\\"password\\":\\"${REDACTED}\\"}"`);
    assert.equal(redact(JSON.stringify(password).replace(/</g, '\\x3C')), `"${REDACTED}"`);
    assert.equal(redact(`<failure message="${'pw&quot;with&lt;special>&amp;chars\\1'}"/>`), `<failure message="${REDACTED}"/>`);
  });

  it('registers what a Secret holds, but no value shorter than the minimum', () => {
    const key = new Secret('API key', 'dolibarr-key-0123456789');
    assert.equal(redact(`DOLAPIKEY: ${key.reveal()}`), `DOLAPIKEY: ${REDACTED}`);
    assert.equal(MIN_SECRET_LENGTH, 6);
    assert.equal(registerSecret('abcde'), false);
    new Secret('short', 'xyzzy');
    assert.equal(redact('abcde xyzzy'), 'abcde xyzzy');
    assert.ok(!containsSecret('nothing secret here'));
  });

  it('prefers the longest value when one contains another', () => {
    registerSecret('token-123456');
    registerSecret('token-123456-extended');
    assert.equal(redact('a token-123456-extended b token-123456'), `a ${REDACTED} b ${REDACTED}`);
  });

  it('replaces what one alternation of every form, longest first, would: leftmost first, the longest where several start', () => {
    // Values and texts of an alphabet no other test's value uses, so the registry's other values never occur in them.
    const random = new Random('redaction', 'oracle');
    const word = (length: number) => Array.from({ length }, () => random.pick([...'ĀāĂă<"'])).join('');
    const stem = word(MIN_SECRET_LENGTH);
    // Values sharing their first characters, values inside others, values that begin others.
    const values = Array.from({ length: 40 }, (_, at) => (at % 2 === 0 ? stem : '') + word(MIN_SECRET_LENGTH + random.int(0, 7)));
    values.push(values[0]! + values[1]!, `${values[2]!}ĀĀ`, values[4]!.slice(0, -1));
    values.forEach((value) => registerSecret(value));
    const oracle = new RegExp(
      [...new Set(values.flatMap(encodedForms))]
        .sort((a, b) => b.length - a.length)
        .map((form) => form.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
        .join('|'),
      'g',
    );
    for (let round = 0; round < 200; round++) {
      const pieces = Array.from({ length: 10 }, () => (random.chance(0.5) ? word(random.int(0, 4)) : encodedForms(random.pick(values))[random.int(0, 2)]!));
      const text = pieces.join('');
      assert.equal(redact(text), text.replace(oracle, REDACTED), `round ${round}: ${JSON.stringify(text)}`);
      assert.equal(redactBytes(Buffer.from(text)).toString(), text.replace(oracle, REDACTED), `round ${round}, as bytes`);
    }
  });

  it('rewrites a report file, base64 attachments of the message stream included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'redaction-'));
    try {
      const secret = 'hvs.base64-planted-token';
      registerSecret(secret);
      const file = join(dir, 'messages.ndjson');
      const attachment = { attachment: { body: Buffer.from(`token ${secret}`).toString('base64'), contentEncoding: 'BASE64', mediaType: 'application/octet-stream' } };
      writeFileSync(file, `${JSON.stringify({ meta: { note: secret } })}\n${JSON.stringify(attachment)}\n`);
      assert.ok(redactFile(file));
      const [first, second] = readFileSync(file, 'utf8').split('\n').map((line) => (line ? JSON.parse(line) : undefined));
      assert.equal(first.meta.note, REDACTED);
      assert.equal(Buffer.from(second.attachment.body, 'base64').toString('utf8'), `token ${REDACTED}`);
      assert.ok(!redactFile(file), 'a redacted file stays as it is');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a gate run with planted secrets', () => {
  // Shaped like the real thing: a Vault service token, a database password with characters the report formats
  // escape, and a Dolibarr API key.
  const planted = {
    'Vault token': 'hvs.CAESIPlantedVaultToken7d1f0c2b9e8a',
    'DB password': 'Pl4nted"db<pass&word\\x9',
    'API key': 'dolapikey-planted-6f1e2d3c4b5a',
  };
  const reports = mkdtempSync(join(tmpdir(), 'rehearse-reports-'));
  after(() => rmSync(reports, { recursive: true, force: true }));

  const run = spawnSync(process.execPath, [REHEARSE, 'run', '--profile', 'redaction-fixture'], {
    cwd: join(__dirname, '..'),
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      ERP_REHEARSAL_REPORT_DIR: reports,
      PLANTED_VAULT_TOKEN: planted['Vault token'],
      PLANTED_DB_PASSWORD: planted['DB password'],
      PLANTED_API_KEY: planted['API key'],
    },
    timeout: 120_000,
  });

  it('ran the fixture: printed, logged, attached and failed with the planted values', () => {
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /^redaction\s+1\s+1\s+1\s+0\s+0\s+RED$/m);
    assert.match(run.stdout, /stdout: X-Vault-Token \[redacted\], PGPASSWORD=\[redacted\], DOLAPIKEY \[redacted\]/);
    assert.match(run.stderr, /stderr: X-Vault-Token \[redacted\], PGPASSWORD=\[redacted\], DOLAPIKEY \[redacted\]/);
    assert.match(run.stdout, /evidence .*token \[redacted\] and password \[redacted\]/);
    assert.match(run.stdout, /FAILED .*postgres:\/\/app:\[redacted\]@db\/erp/);
    assert.match(run.stdout, /n\/a .*token \[redacted\] is the sandbox's/);
  });

  it('shows none of them on stdout or stderr', () => {
    assertNoSecret('stdout', run.stdout, planted);
    assertNoSecret('stderr', run.stderr, planted);
  });

  it('writes the html, junit and message reports, with none of them in any file', () => {
    const files = readdirSync(reports, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    assert.deepEqual(files.map((entry) => entry.name).sort(), ['cucumber-messages.ndjson', 'cucumber-report.html', 'cucumber-report.xml']);
    for (const entry of files) {
      const text = readFileSync(join(entry.parentPath ?? entry.path, entry.name), 'utf8');
      assertNoSecret(entry.name, text, planted);
      assert.ok(text.includes(REDACTED), `${entry.name} shows where a secret was`);
    }
  });

  it('leaves none of them in an attachment, base64 ones decoded', () => {
    const envelopes = readFileSync(join(reports, 'cucumber-messages.ndjson'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
    const attachments = envelopes.filter((envelope) => envelope.attachment).map((envelope) => envelope.attachment);
    assert.ok(attachments.some((attachment) => attachment.contentEncoding === 'BASE64'), 'the fixture attached binary data');
    for (const attachment of attachments) {
      const body = attachment.contentEncoding === 'BASE64' ? Buffer.from(attachment.body, 'base64').toString('utf8') : attachment.body;
      assertNoSecret(`attachment ${attachment.mediaType}`, body, planted);
      assert.ok(body.includes(REDACTED), `attachment ${attachment.mediaType} shows where a secret was`);
    }
    const html = readFileSync(join(reports, 'cucumber-report.html'), 'utf8');
    const embedded = [...html.matchAll(/"body":"([A-Za-z0-9+/=]+)","contentEncoding":"BASE64"/g)].map(([, body]) => Buffer.from(body!, 'base64').toString('utf8'));
    assert.ok(embedded.length > 0, 'the html report embeds the binary attachment');
    for (const body of embedded) assertNoSecret('a base64 attachment of the html report', body, planted);
  });
});

/** Every regular file under `dir`, with its text. */
function filesUnder(dir: string): { name: string; text: string }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => ({ name: entry.name, text: readFileSync(join(entry.parentPath ?? entry.path, entry.name), 'utf8') }));
}

describe('a gate run killed mid-run (SIGKILL)', () => {
  const planted = {
    'Vault token': 'hvs.CAESIKilledRunVaultToken3a9c1e',
    'DB password': 'K1lled"db<pass&word\\x7',
    'API key': 'dolapikey-killed-run-0a1b2c3d4e',
  };
  const reports = mkdtempSync(join(tmpdir(), 'rehearse-killed-'));
  after(() => rmSync(reports, { recursive: true, force: true }));

  it('leaves no planted secret in any file under its report directory, nor in its output', async () => {
    const child = spawn(process.execPath, [REHEARSE, 'run', '--profile', 'redaction-fixture', 'test/fixtures/redaction/killed'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        ERP_REHEARSAL_REPORT_DIR: reports,
        PLANTED_VAULT_TOKEN: planted['Vault token'],
        PLANTED_DB_PASSWORD: planted['DB password'],
        PLANTED_API_KEY: planted['API key'],
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        if (stdout.includes('waiting to be killed')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the run ended (exit ${code}) before it waited to be killed:\n${stdout}\n${stderr}`)));
    });
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, 'SIGKILL');

    const files = filesUnder(reports);
    assert.deepEqual(files.map((file) => file.name).sort(), ['cucumber-messages.ndjson', 'cucumber-report.html', 'cucumber-report.xml']);
    for (const file of files) assertNoSecret(`${file.name} after the kill`, file.text, planted);
    // The steps' output reached the disk before the kill, redacted: the check above is not of empty files.
    const messages = files.find((file) => file.name === 'cucumber-messages.ndjson')!.text;
    const attachments = messages.split('\n').filter(Boolean).map((line) => JSON.parse(line)).filter((envelope) => envelope.attachment);
    assert.ok(attachments.length >= 4, `${attachments.length} attachments on disk`);
    for (const { attachment } of attachments) {
      const body = attachment.contentEncoding === 'BASE64' ? Buffer.from(attachment.body, 'base64').toString('utf8') : attachment.body;
      assertNoSecret(`attachment ${attachment.mediaType} after the kill`, body, planted);
      assert.ok(body.includes(REDACTED), `attachment ${attachment.mediaType} shows where a secret was`);
    }
    assertNoSecret('stdout', stdout, planted);
    assertNoSecret('stderr', stderr, planted);
  });
});

describe('report writers', () => {
  it('write each message redacted as it comes, before the run ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-writers-'));
    try {
      const secret = 'hvs.report-writer-planted-token';
      registerSecret(secret);
      const file = join(dir, 'messages.ndjson');
      const writers = await openReportWriters({ [file]: 'message' }, {});
      const attachment = { attachment: { body: Buffer.from(`token ${secret}`).toString('base64'), contentEncoding: 'BASE64', mediaType: 'application/octet-stream' } };
      writers.accept({ meta: { note: `token ${secret}` } } as unknown as Envelope);
      writers.accept(attachment as unknown as Envelope);
      const before = readFileSync(file, 'utf8');
      await writers.finish();
      assert.equal(readFileSync(file, 'utf8'), before, 'everything was on disk before the end');
      const [first, second] = before.split('\n').filter(Boolean).map((line) => JSON.parse(line));
      assert.equal(first.meta.note, `token ${REDACTED}`);
      assert.equal(Buffer.from(second.attachment.body, 'base64').toString('utf8'), `token ${REDACTED}`);
      assert.ok(attachment.attachment.body === Buffer.from(`token ${secret}`).toString('base64'), "the run's own message is left as it was");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuse a file format whose formatter is one of Cucumber's classes, before opening any file", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-writers-'));
    try {
      await assert.rejects(openReportWriters({ [join(dir, 'a.ndjson')]: 'message', [join(dir, 'b.json')]: 'json' }, {}), UnredactableFormatError);
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a crash Node would print itself', () => {
  const secret = 'hvs.CAESICrashPlantedToken5e6f7a';
  const crash = (how: string, args: readonly string[]) =>
    spawnSync(process.execPath, ['--require', REGISTER, '--require', join(ROOT, 'test', 'fixtures', 'redaction', 'crash.ts'), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, PLANTED_CRASH: how, PLANTED_CRASH_SECRET: secret },
      timeout: 60_000,
    });

  for (const [how, what] of [['throw', 'an uncaught exception'], ['reject', 'an unhandled rejection'], ['reject-value', 'an unhandled rejection']] as const) {
    it(`${how}: Node prints the secret and exits 1; the CLI prints ${what} redacted and exits 1 too`, () => {
      const bare = crash(how, ['-e', 'setInterval(() => undefined, 60_000)']);
      assert.equal(bare.status, 1);
      assert.ok(bare.stderr.includes(secret), 'Node itself prints the planted secret (the fixture crashes with it)');

      const cli = crash(how, [REHEARSE, 'help']);
      assert.equal(cli.status, 1, cli.stderr);
      assert.match(cli.stdout, /^rehearse — prove that the ERP sandbox/, 'the command itself ran first');
      assert.ok(cli.stderr.includes(`rehearse: ${what}`), cli.stderr);
      assert.ok(cli.stderr.includes(`token ${REDACTED}`), cli.stderr);
      assert.match(cli.stderr, new RegExp(`Node\\.js ${process.version.replace(/\./g, '\\.')}`));
      assert.ok(!cli.stdout.includes(secret) && !cli.stderr.includes(secret), cli.stderr);
      if (how !== 'reject-value') assert.match(cli.stderr, /at Timeout\._onTimeout/, 'with its stack');
    });
  }

  it('prints what an error carries beyond its message (cause, fields), redacted', () => {
    const password = 'crash-planted-password-9z8y';
    registerSecret(password);
    const text = crashText(Object.assign(new Error('connection failed', { cause: new Error(`as ${password}`) }), { detail: password }));
    assert.ok(!text.includes(password));
    assert.match(text, /\[cause\]: Error: as \[redacted\]/);
    assert.match(text, /detail: '\[redacted\]'/);
  });
});

describe('reset hook commands', () => {
  it("get the harness's environment without its secrets", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hook-env-'));
    const registered = 'hook-planted-registered-pw-77';
    registerSecret(registered);
    const planted: Record<string, string> = {
      VAULT_TOKEN: 'hvs.hook-planted-vault-token-1',
      ERP_REHEARSAL_VAULT_JWT: 'eyJhbGciOiJSUzI1NiJ9.hook-planted-jwt.c2ln',
      ERP_REHEARSAL_GOLDEN_VAULT_JWT: 'eyJhbGciOiJSUzI1NiJ9.hook-planted-golden-jwt.c2ln',
      ERP_REHEARSAL_CLONE_VAULT_TOKEN: 'hvs.hook-planted-clone-token-2',
      PGPASSWORD: 'hook-planted-pgpassword-3',
      ERP_REHEARSAL_HOOK_TEST_URL: `postgres://app:${registered}@db/erp`,
    };
    const saved = Object.fromEntries(Object.keys(planted).map((name) => [name, process.env[name]]));
    Object.assign(process.env, planted, { ERP_REHEARSAL_HOOK_TEST_PLAIN: 'kept-as-it-is' });
    const [pre, post] = [join(dir, 'pre.env'), join(dir, 'post.env')];
    try {
      // The pre-reset command fails, so the reset stops before it connects anywhere; the post-reset command still runs.
      const options = { preResetCommand: `env > '${pre}'; exit 3`, postResetCommand: `env > '${post}'` } as unknown as ResetOptions;
      await assert.rejects(resetSandbox(options), /pre-reset command failed \(exit 3\)/);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      delete process.env.ERP_REHEARSAL_HOOK_TEST_PLAIN;
    }
    try {
      for (const file of [pre, post]) {
        const text = readFileSync(file, 'utf8');
        assert.match(text, /^ERP_REHEARSAL_HOOK_TEST_PLAIN=kept-as-it-is$/m, `${file}: the rest of the environment is there`);
        assert.match(text, /^PATH=/m);
        for (const [name, value] of Object.entries(planted)) {
          assert.ok(!new RegExp(`^${name}=`, 'm').test(text), `${file} has ${name}`);
          assert.ok(!text.includes(value), `${file} holds the value of ${name}`);
        }
        assert.ok(!text.includes(registered));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keep variables that only look like secrets by their place, not their name or value', () => {
    const env = environmentWithoutSecrets({ ERP_REHEARSAL_VAULT_TOKEN_FILE: '/run/token', VAULT_ADDR: 'https://vault:8200', API_KEY: 'x-planted-key-1', HOME: '/root' });
    assert.deepEqual(env, { ERP_REHEARSAL_VAULT_TOKEN_FILE: '/run/token', VAULT_ADDR: 'https://vault:8200', HOME: '/root' });
  });
});

describe('files written through the redaction point', () => {
  const dir = mkdtempSync(join(tmpdir(), 'redacted-files-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const key = 'dolapikey-planted-in-an-answer-42';
  registerSecret(key);

  it('writeRedacted and appendRedacted write the text redacted, the operator alone may read it', () => {
    const file = join(dir, 'page.html');
    assert.equal(writeRedacted(file, `<p>key ${key}</p>`), `<p>key ${REDACTED}</p>`);
    appendRedacted(file, `\n<p>${JSON.stringify(key)}</p>`);
    assert.equal(readFileSync(file, 'utf8'), `<p>key ${REDACTED}</p>\n<p>"${REDACTED}"</p>`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('a changeset holding a secret is written without it, its digest that of what is written', () => {
    const content = {
      format: 1,
      title: 'a rehearsal whose answer quoted a key',
      rehearsal: { host: 'erp-sandbox.arcodange.lab', instance: 'erp-sandbox', database: 'erp-sandbox', at: '2026-01-01T00:00:00Z', by: 'test' },
      prod: { instance: 'erp', host: 'erp.arcodange.lab', database: 'erp' },
      operations: [{ method: 'POST', path: '/thirdparties', body: { name: 'ACME', note: `key ${key}` }, status: 200, answer: 12 }],
      before: { root: 'a', relations: {} },
      after: { root: 'b', relations: {} },
      changes: [],
    } as unknown as ChangesetContent;
    const path = join(dir, 'changeset.json');
    const written = writeChangeset(path, content);
    const text = readFileSync(path, 'utf8');
    assert.ok(!text.includes(key));
    assert.equal((written.operations[0]!.body as { note: string }).note, `key ${REDACTED}`);
    const { changeset, computed } = readChangeset(path);
    assert.equal(computed, changeset.digest, 'the file is consistent: review and promote accept it as it is');
    assert.ok(!existsSync(`${path}.partial`));
    assert.equal((content.operations[0]!.body as { note: string }).note, `key ${key}`, "the caller's content is left as it was");
  });

  it('the promote audit is appended redacted', () => {
    const path = join(dir, 'audit', 'promote-audit.ndjson');
    appendAudit(path, { at: '2026-01-01T00:00:00Z', who: 'test', changeset: 'c.json', outcome: 'refused', reason: `Dolibarr answered 401 to key ${key}` });
    const [line] = readFileSync(path, 'utf8').split('\n');
    assert.equal(JSON.parse(line!).reason, `Dolibarr answered 401 to key ${REDACTED}`);
  });
});

describe('secrets in SQL the operator gives (the sandbox overlay)', () => {
  it("registers the key the overlay stores, in Dolibarr's encrypted form or as a plain value, and nothing else", () => {
    const stored = 'dolcrypt:AES-256-CTR:7a1b2c3d4e5f6a7b:cGxhbnRlZC1vdmVybGF5LWtleQ==';
    const plain = "plain-overlay-key-o'brien-1";
    const sql = [
      'BEGIN;',
      `UPDATE llx_user SET api_key = '${stored}' WHERE login = 'erp-agent' AND entity IN (0, 1);`,
      `UPDATE llx_user SET pass_crypted = E'${plain.replace(/'/g, "''")}' WHERE login = 'erp-agent';`,
      `INSERT INTO llx_const (name, value) VALUES ('MAIN_KEY', '${stored}-2');`,
      'COMMIT;',
    ].join('\n');
    assert.deepEqual(sqlSecrets(sql).sort(), [stored, `${stored}-2`, plain].sort());
    for (const value of sqlSecrets(sql)) assert.ok(!isRegisteredSecret(value));
    registerSqlSecrets(sql);
    for (const value of [stored, `${stored}-2`, plain]) assert.ok(isRegisteredSecret(value), value);
    assert.ok(!isRegisteredSecret('erp-agent'));
  });
});
