import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { writeAttempt, writeAttempts } from '../support/dolibarr-fence/attempts';
import { loopbackLookup } from '../support/hermetic/dns';
import { Secret } from '../support/secret';

const ROOT = join(__dirname, '..');

describe('the Dolibarr write attempts sent to prod', () => {
  it('each live-safe form hits the same endpoint with the same method as its write', () => {
    for (const attempt of writeAttempts()) {
      assert.equal(attempt.liveSafe.method, attempt.write.method, attempt.name);
      const resource = (path: string) => path.split('/')[1];
      assert.equal(resource(attempt.liveSafe.path), resource(attempt.write.path), attempt.name);
      assert.ok([400, 404].includes(attempt.pastRights.status), `${attempt.name}: past the rights check the safe form is invalid, not written`);
    }
  });

  it('a live-safe creation leaves out the field Dolibarr requires; a live-safe update or delete names no existing row', () => {
    assert.deepEqual(writeAttempt('create a thirdparty').liveSafe.body, {});
    assert.deepEqual(writeAttempt('create a supplier invoice').liveSafe.body, {});
    assert.match(writeAttempt('update a thirdparty').liveSafe.path, /^\/thirdparties\/2147483647$/);
    assert.match(writeAttempt('delete a thirdparty').liveSafe.path, /^\/thirdparties\/2147483647$/);
  });

  it('an unknown attempt names the known ones', () => {
    assert.throws(() => writeAttempt('drop prod'), /no Dolibarr write attempt "drop prod"; known: "create a thirdparty"/);
  });
});

describe('the write tooling cannot reach the unguarded sender', () => {
  it('nothing under support/dolibarr imports support/dolibarr-fence, and only the guarded dispatcher builds an undici Agent', () => {
    const dir = join(ROOT, 'support', 'dolibarr');
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts'))) {
      const source = readFileSync(join(dir, file), 'utf8');
      assert.doesNotMatch(source, /dolibarr-fence/, file);
      // Besides the dispatcher, only its mutation builds one: the break of the fence, which only a mutation run loads
      // (test/mutations.test.ts checks that nothing imports a mutation).
      if (file !== 'guarded-dispatcher.ts' && file !== 'guarded-dispatcher.mutations.ts') {
        assert.doesNotMatch(source, /new Agent\(|new Pool\(|new Client\(|\bfetch\(/, file);
      }
    }
  });
});

describe('Secret', () => {
  it('never prints its value', () => {
    const secret = new Secret('api key', 'plaNted-vAlue-123');
    for (const text of [String(secret), `${secret}`, JSON.stringify({ secret }), inspect(secret), inspect({ nested: { secret } }, { depth: 5, showHidden: true })]) {
      assert.ok(!text.includes('plaNted-vAlue-123'), text);
    }
    assert.equal(String(secret), '[secret api key]');
    assert.equal(secret.reveal(), 'plaNted-vAlue-123');
    assert.throws(() => new Secret('empty', ''), TypeError);
  });
});

describe('loopbackLookup', () => {
  const lookup = loopbackLookup(new Map([['erp.arcodange.lab', '127.0.0.2'], ['erp-sandbox.arcodange.lab', '127.0.0.3']]));
  const resolve = (name: string, all = false) =>
    new Promise<unknown>((done) => (lookup as unknown as (...args: unknown[]) => void)(name, { all }, (error: unknown, ...rest: unknown[]) => done(error ?? rest)));

  it('resolves the configured names, case-insensitively and fully qualified', async () => {
    assert.deepEqual(await resolve('erp.arcodange.lab'), ['127.0.0.2', 4]);
    assert.deepEqual(await resolve('ERP-SANDBOX.arcodange.lab.'), ['127.0.0.3', 4]);
    assert.deepEqual(await resolve('erp-sandbox.arcodange.lab', true), [[{ address: '127.0.0.3', family: 4 }]]);
  });

  it('any other name is not found', async () => {
    for (const name of ['evil.erp.arcodange.lab', 'erp.arcodange.lab..', 'localhost', '']) {
      const error = await resolve(name) as { code?: string };
      assert.equal(error.code, 'ENOTFOUND', name);
    }
  });
});
