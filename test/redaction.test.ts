import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { redactFile } from '../support/gates/report-files';
import { containsSecret, MIN_SECRET_LENGTH, REDACTED, redact, registerSecret } from '../support/redaction';
import { Secret } from '../support/secret';

const REHEARSE = join(__dirname, '..', 'bin', 'rehearse.js');

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
