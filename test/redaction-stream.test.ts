/**
 * The redaction point on streams: a value split across writes at any position is still hidden, nothing else is lost,
 * held back or reordered (a prompt shows at once), and what is held back goes out with the stream's end and at exit.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { encodedForms, redact, RedactionFilter, redactWrites, REDACTED, registerSecret } from '../support/redaction';

const REGISTER = join(__dirname, '..', 'bin', 'register.js');

// A token, a password with characters the report formats escape and multi-byte characters, and a key that begins
// with a longer one's beginning (the filter must not settle on the shorter one too early).
const TOKEN = 'hvs.CAESIStreamPlantedToken0c9d';
const PASSWORD = 'Strëam"pl<anted&pässwörd€1';
const SHORT = 'stream-planted-key';
const LONG = 'stream-planted-key-extended-42';
for (const value of [TOKEN, PASSWORD, SHORT, LONG]) registerSecret(value);

function through(filter: RedactionFilter, chunks: readonly Buffer[]): { pieces: Buffer[]; all: string } {
  const pieces = [...chunks.map((chunk) => filter.push(chunk)), filter.end()];
  return { pieces, all: Buffer.concat(pieces).toString('utf8') };
}

/** A writable that records what reaches it, chunk by chunk, as the terminal would show it. */
function recorder(): { stream: NodeJS.WriteStream; seen: string[] } {
  const seen: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      seen.push(chunk.toString('utf8'));
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  return { stream, seen };
}

describe('RedactionFilter', () => {
  const text = `token ${TOKEN}, json {"password":${JSON.stringify(PASSWORD)}}, xml <x p="${PASSWORD.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;')}"/>, keys ${LONG} ${SHORT} end`;
  const bytes = Buffer.from(text, 'utf8');
  const expected = redact(text);

  it('is given a text that holds every value, in several encodings', () => {
    assert.equal((expected.match(/\[redacted\]/g) ?? []).length, 5);
    for (const value of [TOKEN, PASSWORD, SHORT, LONG]) for (const form of encodedForms(value)) assert.ok(!expected.includes(form), form);
  });

  it('hides a value split in two at every byte of the text, and hands out everything else in order', () => {
    for (let at = 0; at <= bytes.length; at++) {
      const { all } = through(new RedactionFilter(), [bytes.subarray(0, at), bytes.subarray(at)]);
      assert.equal(all, expected, `split at byte ${at}`);
    }
  });

  it('hides values written one byte at a time, and in three pieces at every pair of positions around each value', () => {
    assert.equal(through(new RedactionFilter(), [...bytes].map((byte) => Buffer.from([byte]))).all, expected);
    for (const value of [TOKEN, JSON.stringify(PASSWORD).slice(1, -1), LONG]) {
      const start = bytes.indexOf(Buffer.from(value, 'utf8'));
      assert.ok(start >= 0, value);
      const end = start + Buffer.byteLength(value);
      for (let first = start; first <= end; first++) {
        for (let second = first; second <= end; second++) {
          const { all } = through(new RedactionFilter(), [bytes.subarray(0, first), bytes.subarray(first, second), bytes.subarray(second)]);
          assert.equal(all, expected, `pieces at ${first} and ${second}`);
        }
      }
    }
  });

  it('never hands out a piece holding a value, even a piece that ends the stream', () => {
    for (let at = 0; at <= bytes.length; at++) {
      for (const piece of through(new RedactionFilter(), [bytes.subarray(0, at), bytes.subarray(at)]).pieces) {
        for (const value of [TOKEN, PASSWORD, SHORT, LONG]) {
          for (const form of encodedForms(value)) assert.ok(!piece.includes(Buffer.from(form, 'utf8')), `split at ${at}`);
        }
      }
    }
  });

  it('holds back only what could begin a value: text that cannot goes out at once', () => {
    const filter = new RedactionFilter();
    assert.equal(filter.push(Buffer.from('plain words, nothing held\n')).toString(), 'plain words, nothing held\n');
    assert.equal(filter.held, 0);
    assert.equal(filter.push(Buffer.from('the token is hvs.CAES')).toString(), 'the token is ');
    assert.equal(filter.held, 'hvs.CAES'.length);
    assert.equal(filter.push(Buffer.from('ok')).toString(), 'hvs.CAESok', 'once it cannot be a value any more, it goes out');
    assert.equal(filter.held, 0);
    assert.equal(filter.push(Buffer.from(`a line ending with a value ${TOKEN}\n`)).toString(), `a line ending with a value ${REDACTED}\n`);
    assert.equal(filter.push(Buffer.from(`the value itself last ${TOKEN}`)).toString(), `the value itself last ${REDACTED}`, 'no longer value begins with it');
    assert.equal(filter.push(Buffer.from(`a value a longer one begins with ${SHORT}`)).toString(), 'a value a longer one begins with ');
    assert.equal(filter.push(Buffer.from('.')).toString(), `${REDACTED}.`);
    assert.equal(filter.held, 0);
  });

  it('passes binary data through unchanged', () => {
    const data = Buffer.from(Array.from({ length: 512 }, (_, at) => (at * 37) % 256));
    const { all: _all, pieces } = through(new RedactionFilter(), [data.subarray(0, 100), data.subarray(100)]);
    assert.ok(Buffer.concat(pieces).equals(data));
  });
});

describe('redactWrites', () => {
  it('hides a value split across two writes of a stream; the end writes what was held back', () => {
    const { stream, seen } = recorder();
    redactWrites(stream);
    stream.write(`login with ${TOKEN.slice(0, 9)}`);
    stream.write(`${TOKEN.slice(9)} done\n`);
    stream.write(Buffer.from(`password ${PASSWORD}`, 'utf8').subarray(0, 20));
    stream.write(Buffer.from(`password ${PASSWORD}`, 'utf8').subarray(20));
    stream.end(' and the end h');
    assert.equal(seen.join(''), `login with ${REDACTED} done\npassword ${REDACTED} and the end h`);
    for (const chunk of seen) for (const value of [TOKEN, PASSWORD]) assert.ok(!chunk.includes(value));
  });

  it("shows promote's digest prompt at once, and every later write in order", () => {
    const { stream, seen } = recorder();
    redactWrites(stream);
    const prompt = 'Type the digest you reviewed to approve it: ';
    stream.write(`You are about to replay this changeset on prod.\nIts digest is sha256:0123abcd\n`);
    stream.write(prompt);
    assert.equal(seen.join(''), `You are about to replay this changeset on prod.\nIts digest is sha256:0123abcd\n${prompt}`);
    stream.write('sha256:0123abcd');
    stream.write('\n');
    assert.equal(seen.join(''), `You are about to replay this changeset on prod.\nIts digest is sha256:0123abcd\n${prompt}sha256:0123abcd\n`);
  });

  it('calls every write callback, also for a write that was all held back', async () => {
    const { stream } = recorder();
    redactWrites(stream);
    const done: string[] = [];
    await new Promise<void>((resolve) => {
      stream.write('hvs.CAES', () => done.push('first'));
      stream.write('IStreamPlantedToken0c9d\n', () => {
        done.push('second');
        resolve();
      });
    });
    assert.deepEqual(done, ['first', 'second']);
  });

  it('writes out what it holds back when the process exits, and redacts what exit listeners write', () => {
    const script = `
      const { redactWrites, registerSecret } = require(${JSON.stringify(join(__dirname, '..', 'support', 'redaction'))});
      registerSecret(${JSON.stringify(TOKEN)});
      redactWrites(process.stdout);
      process.stdout.write('one ${TOKEN.slice(0, 12)}');
      process.stdout.write('${TOKEN.slice(12)} two\\n');
      process.on('exit', () => process.stdout.write('at exit ${TOKEN}!'));
      process.stdout.write('last words ${TOKEN.slice(0, 7)}');
    `;
    const child = spawnSync(process.execPath, ['--require', REGISTER, '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout, `one ${REDACTED} two\nlast words ${TOKEN.slice(0, 7)}at exit ${REDACTED}!`);
  });
});
