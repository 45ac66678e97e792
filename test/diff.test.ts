import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { diffRowImages, diffSnapshots } from '../support/lifecycle/diff';
import type { RowImageHeader, RowImageLine } from '../support/lifecycle/row-images';
import type { Snapshot, SnapshotEntry } from '../support/lifecycle/snapshot';

const dir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-diff-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function image(header: RowImageHeader, lines: readonly RowImageLine[]): string {
  const path = join(dir, `${++files}.ndjson`);
  writeFileSync(path, [header, ...lines].map((line) => `${JSON.stringify(line)}\n`).join(''));
  return path;
}

const KEYED: RowImageHeader = { relation: 'table public.t', columns: ['id', 'name'], primaryKey: ['id'] };
const KEYLESS: RowImageHeader = { relation: 'table public.u', columns: ['name'], primaryKey: [] };

describe('merging two row images', () => {
  it('counts identical rows of a table without a primary key: three become one, two are removed', async () => {
    const row = { o: '-3', k: ['x'], h: '1' };
    const changes = await diffRowImages(image(KEYLESS, [row, row, row]), image(KEYLESS, [row]));
    assert.deepEqual(changes, { added: [], removed: [{ key: { name: 'x' }, before: { name: 'x' } }, { key: { name: 'x' }, before: { name: 'x' } }], changed: [] });
  });

  it('tells apart two keys that share a sort key', async () => {
    const changes = await diffRowImages(
      image(KEYED, [
        { o: '00', k: ['1'], h: '1', v: ['1', 'a'] },
        { o: '00', k: ['2'], h: '2', v: ['2', 'b'] },
      ]),
      image(KEYED, [{ o: '00', k: ['2'], h: '3', v: ['2', 'c'] }]),
    );
    assert.deepEqual(changes.removed.map((r) => r.key), [{ id: '1' }]);
    assert.deepEqual(changes.changed, [{ key: { id: '2' }, before: { id: '2', name: 'b' }, after: { id: '2', name: 'c' }, columns: ['name'] }]);
    assert.deepEqual(changes.added, []);
  });

  it('merges interleaved keys in int8 order into added, removed and changed, and NULL is not the empty string', async () => {
    // 9 < 10 < 11 as numbers, not as strings: the images are sorted by PostgreSQL.
    const changes = await diffRowImages(
      image(KEYED, [
        { o: '9', k: ['1'], h: '1', v: ['1', null] },
        { o: '11', k: ['3'], h: '3', v: ['3', 'c'] },
      ]),
      image(KEYED, [
        { o: '9', k: ['1'], h: '9', v: ['1', ''] },
        { o: '10', k: ['2'], h: '2', v: ['2', 'b'] },
      ]),
    );
    assert.deepEqual(changes.changed.map((r) => [r.key, r.columns]), [[{ id: '1' }, ['name']]]);
    assert.deepEqual(changes.added.map((r) => r.after), [{ id: '2', name: 'b' }]);
    assert.deepEqual(changes.removed.map((r) => r.before), [{ id: '3', name: 'c' }]);
  });

  it('names a column that exists on one side only', async () => {
    const widened: RowImageHeader = { ...KEYED, columns: ['id', 'name', 'email'] };
    const changes = await diffRowImages(
      image(KEYED, [{ o: '10', k: ['1'], h: '1', v: ['1', 'a'] }]),
      image(widened, [{ o: '10', k: ['1'], h: '1', v: ['1', 'a', 'a@example.org'] }]),
    );
    assert.deepEqual(changes.changed.map((r) => r.columns), [['email']]);
  });

  it('refuses an image that is not sorted', async () => {
    await assert.rejects(
      diffRowImages(image(KEYED, [{ o: '-1', k: ['2'], h: '2', v: ['2', 'b'] }, { o: '-2', k: ['1'], h: '1', v: ['1', 'a'] }]), image(KEYED, [])),
      /not a row image sorted by its key/,
    );
  });
});

function entry(key: string, definitionHash: string, contentHash?: string): SnapshotEntry {
  const [kind, name] = key.split(' ') as [SnapshotEntry['kind'], string];
  return { key, kind, name, definitionHash, ...(contentHash === undefined ? {} : { contentHash, rows: 1 }), hash: `${key}|${definitionHash}|${contentHash}` };
}

function snapshot(entries: SnapshotEntry[]): Snapshot {
  return { root: entries.map((e) => e.hash).join(), database: 'db', ownerRole: 'r', takenAt: '', entries, drift: [] };
}

describe('diffing two snapshots', () => {
  it('classifies each relation once, sorted by key, and reports content without rows when images are missing', async () => {
    const diff = await diffSnapshots(
      snapshot([entry('table public.a', 'd1', 'c1'), entry('table public.b', 'd1', 'c1'), entry('table public.c', 'd1', 'c1'), entry('view public.v', 'd1')]),
      snapshot([entry('table public.a', 'd2', 'c1'), entry('table public.c', 'd1', 'c2'), entry('table public.d', 'd1', 'c1'), entry('view public.v', 'd1')]),
    );
    assert.equal(diff.identical, false);
    assert.deepEqual(
      diff.changes.map((c) => [c.key, c.change, c.rows]),
      [
        ['table public.a', 'definition changed', undefined],
        ['table public.b', 'removed', undefined],
        ['table public.c', 'content changed', undefined],
        ['table public.d', 'added', undefined],
      ],
    );
  });
});
