import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { CHANGESET_FORMAT, writeChangeset, type Changeset } from '../support/promote/changeset';
import { renderReviewHtml } from '../support/promote/review-html';

/**
 * The HTML review as a real browser sees it: Debian's chromium, headless, loads the page from disk, and the test
 * reads the DOM it built (`--dump-dom`) and the screenshot it took. Set ERP_REHEARSAL_REVIEW_SCREENSHOT to a path to
 * keep the screenshot. Without chromium the test fails: it is part of the harness, not optional.
 */

const dir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-review-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BROWSER_TIMEOUT_MS = 15_000;

/** Runs headless chromium on `url` with `args`, in a profile of its own; resolves with what it printed on stdout. */
function chromium(name: string, args: readonly string[], url: string): Promise<string> {
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${join(dir, `profile-${name}`)}`, ...args, url];
  return new Promise((resolve, reject) => {
    const child = spawn('chromium', flags, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    // The whole process group: chromium's renderer and zygote processes go with it.
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), BROWSER_TIMEOUT_MS);
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        error.code === 'ENOENT'
          ? new Error("chromium is not installed: this test needs Debian's chromium, install it with `apt-get install chromium`")
          : error,
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'));
      else reject(new Error(`chromium ${args.join(' ')} ended with ${signal ?? `code ${code}`}${signal === 'SIGKILL' ? ` after ${BROWSER_TIMEOUT_MS} ms` : ''}:\n${stderr}`));
    });
  });
}

function changeset(): Changeset {
  return writeChangeset(join(dir, 'changeset.json'), {
    format: CHANGESET_FORMAT,
    title: 'Create ACME and rename Globex',
    rehearsal: { host: 'erp-sandbox.example.test', instance: 'erp', database: 'dolibarr_sandbox', at: '2025-05-02T10:00:00Z', by: 'alice' },
    prod: { instance: 'erp', host: 'erp.example.test', database: 'dolibarr' },
    operations: [
      { method: 'POST', path: '/thirdparties', body: { name: 'ACME', client: 1 }, status: 200, response: 13 },
      { method: 'PUT', path: '/thirdparties/12', body: { name: 'Globex Corporation' }, status: 200, response: { id: 12 } },
    ],
    before: { root: 'r1', relations: {} },
    after: { root: 'r2', relations: {} },
    changes: [
      {
        key: 'table public.llx_societe',
        kind: 'table',
        name: 'public.llx_societe',
        change: 'content changed',
        rows: {
          added: [{ key: { rowid: '13' }, after: { rowid: '13', nom: 'ACME', client: '1', note_public: '<script>document.title="pwned"</script>' } }],
          removed: [],
          changed: [
            {
              key: { rowid: '12' },
              before: { rowid: '12', nom: 'Globex', client: '1', note_public: null },
              after: { rowid: '12', nom: 'Globex Corporation', client: '1', note_public: null },
              columns: ['nom'],
            },
          ],
        },
      },
      {
        key: 'sequence public.llx_societe_rowid_seq',
        kind: 'sequence',
        name: 'public.llx_societe_rowid_seq',
        change: 'content changed',
        sequence: { before: { lastValue: '12', isCalled: true }, after: { lastValue: '13', isCalled: true } },
      },
    ],
  });
}

/** The inside of the first element of the DOM that opens with `opening` (elements of that tag are not nested here). */
function element(dom: string, opening: string, tag: string): string {
  const start = dom.indexOf(opening);
  assert.ok(start >= 0, `the browser's DOM has no ${opening}`);
  const end = dom.indexOf(`</${tag}>`, start);
  assert.ok(end > start, `the browser's DOM does not close ${opening}`);
  return dom.slice(start + opening.length, end);
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('the HTML review in a headless browser', () => {
  it('renders the changed rows, the changed cells and the digest, and looks like a page', { timeout: 20_000 }, async () => {
    const review = changeset();
    const page = join(dir, 'review.html');
    writeFileSync(page, renderReviewHtml(review, { file: 'changeset.json' }));
    const url = pathToFileURL(page).href;
    const screenshot = join(dir, 'review.png');

    const [dom] = await Promise.all([
      chromium('dom', ['--dump-dom'], url),
      chromium('screenshot', [`--screenshot=${screenshot}`, '--window-size=1280,900'], url),
    ]);

    const societe = element(dom, '<section class="relation" data-relation="public.llx_societe">', 'section');
    assert.match(element(societe, '<h2>', 'h2'), /table<\/span> public\.llx_societe$/);
    const added = element(societe, '<tr class="added" data-key="rowid=13">', 'tr');
    assert.match(added, /<th scope="row">rowid=13<\/th>/);
    assert.match(added, /<td>ACME<\/td>/);
    assert.match(added, /<td>&lt;script&gt;document\.title="pwned"&lt;\/script&gt;<\/td>/, 'a value that looks like markup is text');
    const changed = element(societe, '<tr class="changed" data-key="rowid=12">', 'tr');
    assert.match(changed, /<td class="changed"><span class="before">Globex<\/span> → <span class="after">Globex Corporation<\/span><\/td>/);
    assert.doesNotMatch(dom, /<script/i, 'the browser built no script element');
    assert.match(dom, /<title>Review: Create ACME and rename Globex<\/title>/, 'no script ran');

    assert.equal(element(dom, '<code id="digest">', 'code'), review.digest);
    assert.match(dom, new RegExp(`rehearse promote changeset\\.json --approve ${review.digest}`));
    assert.match(element(dom, '<section class="sequences">', 'section'), /public\.llx_societe_rowid_seq<\/th><td>last_value 12 → 13<\/td>/);

    const png = readFileSync(screenshot);
    assert.deepEqual(pngSize(png), { width: 1280, height: 900 });
    assert.ok(png.length > 20_000, `the screenshot is only ${png.length} bytes: the page rendered next to nothing`);
    const keep = process.env.ERP_REHEARSAL_REVIEW_SCREENSHOT;
    if (keep) copyFileSync(screenshot, keep);
  });
});
