/** A live target's golden is refused, with what to do, when its manifest is not one this version can compare with. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { GOLDEN_FORMAT } from '../support/lifecycle/golden';
import { loadGolden } from '../support/targets/live';

const dir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-manifest-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function golden(manifest: object) {
  const path = join(dir, `manifest-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(manifest));
  return loadGolden({ archive: join(dir, 'golden.dump'), list: join(dir, 'golden.list'), manifest: path });
}

describe("a live target's golden manifest", () => {
  it('is loaded at the current format', () => {
    assert.equal(golden({ format: GOLDEN_FORMAT, root: 'abc', entries: [] }).manifest.root, 'abc');
  });

  it('of format 1 is refused: its hash is computed differently, make the golden again', () => {
    assert.throws(() => golden({ format: 1, root: 'abc', entries: [] }), /format 1, made by an earlier version .* make the golden again/);
  });

  it('that is not a manifest is refused, naming where goldens come from', () => {
    assert.throws(() => golden({ root: 'abc' }), /is not a golden manifest of format 2 .* come from rehearse golden/);
  });
});
