import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GoldenDirError, replaceGoldenDir } from '../support/lifecycle/golden-dir';

let root: string;

/** A golden as far as its directory goes: the three files, the manifest naming which one it is. */
function writeFakeGolden(dir: string, which: string): void {
  writeFileSync(join(dir, 'golden.dump'), `archive ${which}`);
  writeFileSync(join(dir, 'golden.list'), `list ${which}`);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ which }));
}

const which = (dir: string) => (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { which: string }).which;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'erp-rehearsal-golden-dir-'));
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('a golden directory is replaced whole or not at all', () => {
  it('writes a new golden, readable by its owner only', async () => {
    const dir = join(root, 'fresh');
    await replaceGoldenDir(dir, async (partial) => writeFakeGolden(partial, 'one'));
    assert.equal(which(dir), 'one');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(['partial', 'previous', 'lock'].filter((suffix) => existsSync(`${dir}.${suffix}`)), []);
  });

  it('keeps the previous golden when the new one fails, and leaves no partial behind', async () => {
    const dir = join(root, 'failing');
    await replaceGoldenDir(dir, async (partial) => writeFakeGolden(partial, 'old'));
    await assert.rejects(
      replaceGoldenDir(dir, async (partial) => {
        writeFileSync(join(partial, 'golden.dump'), 'half');
        throw new Error('pg_dump failed');
      }),
      /pg_dump failed/,
    );
    assert.equal(which(dir), 'old');
    assert.equal(existsSync(`${dir}.partial`), false);
  });

  it('keeps the previous golden when the process is killed mid-golden, and the next golden takes over its lock', async () => {
    const dir = join(root, 'killed');
    await replaceGoldenDir(dir, async (partial) => writeFakeGolden(partial, 'old'));
    const script = `
      const { replaceGoldenDir } = require('./support/lifecycle/golden-dir');
      replaceGoldenDir(${JSON.stringify(dir)}, async (partial) => {
        require('node:fs').writeFileSync(require('node:path').join(partial, 'golden.dump'), 'half of a new archive');
        process.stdout.write('writing\\n');
        await new Promise(() => {});
      });`;
    const child = spawn(process.execPath, ['--require', './bin/register.js', '-e', script], { cwd: join(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    assert.equal(which(dir), 'old', 'the previous golden is intact');
    assert.equal(existsSync(`${dir}.lock`), true, 'a SIGKILL leaves its lock');
    await replaceGoldenDir(dir, async (partial) => writeFakeGolden(partial, 'new'));
    assert.equal(which(dir), 'new');
    assert.equal(existsSync(`${dir}.partial`), false, "the killed golden's partial files are gone");
  });

  it('puts back a golden an interrupted swap set aside, before anything else', async () => {
    const dir = join(root, 'swapped');
    await replaceGoldenDir(dir, async (partial) => writeFakeGolden(partial, 'old'));
    renameSync(dir, `${dir}.previous`); // killed between the swap's two renames
    const lines: string[] = [];
    await assert.rejects(replaceGoldenDir(dir, async () => { throw new Error('prod unreachable'); }, (line) => lines.push(line)), /prod unreachable/);
    assert.equal(which(dir), 'old');
    assert.match(lines.join('\n'), /put back the previous golden/);
  });

  it('refuses a place that holds something else, a file, or a directory that cannot be written', async () => {
    const foreign = join(root, 'notes');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'todo.txt'), 'mine');
    const never = async () => assert.fail('nothing is written');
    await assert.rejects(replaceGoldenDir(foreign, never), (error: Error) => error instanceof GoldenDirError && /already holds something that is not a golden \(todo\.txt\)/.test(error.message));
    assert.equal(readFileSync(join(foreign, 'todo.txt'), 'utf8'), 'mine');
    writeFileSync(join(root, 'a-file'), '');
    await assert.rejects(replaceGoldenDir(join(root, 'a-file'), never), /is a file, not a directory/);
    await assert.rejects(replaceGoldenDir(join(root, 'no', 'such', 'place'), never), /does not exist or is not writable/);
  });
});
