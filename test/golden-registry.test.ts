/**
 * The golden's journey between workflow runs (.gitea/scripts/golden-registry.js): the version a golden is published
 * under, which version the nightly run takes, which ones a publish deletes, and its settings. The HTTP exchanges with
 * Gitea's package registry are not exercised here: no Gitea runs on these machines, and no stand-in replaces it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ARCHIVE_FILE, LIST_FILE, MANIFEST_FILE } from '../support/lifecycle/golden';

const ROOT = join(__dirname, '..');
const SCRIPT = join(ROOT, '.gitea', 'scripts', 'golden-registry.js');

interface StoredVersion {
  readonly version: string;
  readonly files: readonly string[];
}

interface GoldenRegistry {
  readonly FILES: readonly string[];
  readonly VERSION: RegExp;
  versionOf(manifest: unknown): string;
  newestComplete(stored: readonly StoredVersion[]): StoredVersion | undefined;
  prunable(stored: readonly StoredVersion[], keep: number): string[];
  settingsFrom(env: NodeJS.ProcessEnv): { url: URL; owner: string; name: string; token: string; keep: number };
}

// A plain-JavaScript CI script (it runs before `npm ci`), so it is required rather than imported.
const registry: GoldenRegistry = require(SCRIPT);

const ROOT_HASH = 'ab12'.repeat(16);
const complete = (version: string): StoredVersion => ({ version, files: [...registry.FILES] });
const partial = (version: string): StoredVersion => ({ version, files: ['golden.dump'] });

describe('the golden registry script', () => {
  it("publishes the files `rehearse golden` writes, the manifest last (its presence marks a complete version)", () => {
    assert.deepEqual(registry.FILES, [ARCHIVE_FILE, LIST_FILE, MANIFEST_FILE]);
  });

  describe('the version of a golden', () => {
    it('is its creation time in UTC to the second, then the start of its content hash', () => {
      const version = registry.versionOf({ createdAt: '2025-01-06T01:07:42.123Z', root: ROOT_HASH });
      assert.equal(version, `20250106T010742Z-${ROOT_HASH.slice(0, 12)}`);
      assert.match(version, registry.VERSION);
    });

    it('sorts as the goldens were made', () => {
      const earlier = registry.versionOf({ createdAt: '2025-01-06T23:59:59.999Z', root: 'f'.repeat(64) });
      const later = registry.versionOf({ createdAt: '2025-01-13T01:07:00.000Z', root: '0'.repeat(64) });
      assert.ok(earlier < later, `${earlier} < ${later}`);
    });

    it('is refused for a manifest without a sha256 root or a creation time, saying where goldens come from', () => {
      assert.throws(() => registry.versionOf({ createdAt: '2025-01-06T01:07:42.123Z' }), /no sha256 `root`.*rehearse golden/);
      assert.throws(() => registry.versionOf({ createdAt: '2025-01-06T01:07:42.123Z', root: '../../x' }), /no sha256 `root`/);
      assert.throws(() => registry.versionOf({ createdAt: 'yesterday', root: ROOT_HASH }), /no valid `createdAt`/);
      assert.throws(() => registry.versionOf(null), /no sha256 `root`/);
    });
  });

  describe('the version the nightly run takes', () => {
    it('is the newest complete one, passing over an upload still at work', () => {
      const stored = [complete('20250106T010700Z-aaaaaaaaaaaa'), complete('20250113T010700Z-bbbbbbbbbbbb'), partial('20250120T010700Z-cccccccccccc')];
      assert.equal(registry.newestComplete(stored)?.version, '20250113T010700Z-bbbbbbbbbbbb');
    });

    it("is none when nothing complete is there, whatever else the package holds", () => {
      assert.equal(registry.newestComplete([]), undefined);
      assert.equal(registry.newestComplete([partial('20250120T010700Z-cccccccccccc'), complete('latest'), complete('1.0.0')]), undefined);
    });
  });

  describe('what a publish deletes', () => {
    const versions = ['20250106', '20250113', '20250120', '20250127', '20250203'].map((day) => `${day}T010700Z-${day.repeat(2).slice(0, 12)}`);

    it('complete versions beyond the newest `keep`, oldest first to go', () => {
      assert.deepEqual(registry.prunable(versions.map(complete), 3).sort(), versions.slice(0, 2));
    });

    it('a failed upload older than the newest golden, but not an upload newer than it, nor what it does not own', () => {
      const stored = [partial(versions[0]!), complete(versions[1]!), complete(versions[2]!), partial(versions[3]!), complete('latest')];
      assert.deepEqual(registry.prunable(stored, 3), [versions[0]]);
    });

    it('never the version a nightly run may be fetching while the next golden is published', () => {
      const next = complete('20250210T010700Z-ffffffffffff');
      for (let keep = 2; keep <= 6; keep += 1) {
        for (let n = 1; n <= versions.length; n += 1) {
          const stored = versions.slice(0, n).map((v, i) => (i % 3 === 2 ? partial(v) : complete(v)));
          const taken = registry.newestComplete(stored);
          if (taken === undefined) continue;
          assert.ok(!registry.prunable([...stored, next], keep).includes(taken.version), `keep ${keep}, ${n} versions`);
        }
      }
    });
  });

  describe('settings', () => {
    const env = { GOLDEN_REGISTRY_URL: 'https://gitea.arcodange.lab', GOLDEN_REGISTRY_OWNER: 'arcodange-org', GOLDEN_REGISTRY_TOKEN: 'secret-token' };

    it('default to the package erp-golden, three versions kept', () => {
      const settings = registry.settingsFrom(env);
      assert.equal(settings.url.href, 'https://gitea.arcodange.lab/');
      assert.equal(settings.name, 'erp-golden');
      assert.equal(settings.keep, 3);
    });

    it('refuse, each problem on its line and exit 2, what is missing or would delete the golden being fetched', () => {
      assert.throws(() => registry.settingsFrom({ GOLDEN_REGISTRY_KEEP: '1', GOLDEN_REGISTRY_PACKAGE: 'erp golden' }), (error: Error & { exitCode?: number }) => {
        assert.equal(error.exitCode, 2);
        const lines = error.message.split('\n');
        assert.equal(lines.length, 5, error.message);
        for (const name of ['GOLDEN_REGISTRY_URL', 'GOLDEN_REGISTRY_OWNER', 'GOLDEN_REGISTRY_TOKEN', 'GOLDEN_REGISTRY_PACKAGE', 'GOLDEN_REGISTRY_KEEP']) {
          assert.ok(lines.some((line) => line.startsWith(name)), `${name} in:\n${error.message}`);
        }
        return true;
      });
    });

    it('never echo the token, even when the rest is wrong', () => {
      assert.throws(() => registry.settingsFrom({ ...env, GOLDEN_REGISTRY_URL: 'ftp://gitea' }), (error: Error) => !error.message.includes('secret-token'));
    });
  });

  it('stops at once, exit 2 and one line per problem, when the nightly run has no registry settings', () => {
    const env = { ...process.env, GOLDEN_REGISTRY_URL: '', GOLDEN_REGISTRY_OWNER: '', GOLDEN_REGISTRY_TOKEN: '' };
    const result = spawnSync(process.execPath, [SCRIPT, 'fetch', 'golden/'], { cwd: ROOT, encoding: 'utf8', env });
    assert.equal(result.status, 2, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^GOLDEN_REGISTRY_URL is not set: .*\nGOLDEN_REGISTRY_OWNER is not set: .*\nGOLDEN_REGISTRY_TOKEN is not set: .*\n$/);
  });

  it('says how it is used, exit 2, given anything else', () => {
    const result = spawnSync(process.execPath, [SCRIPT, 'upload'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^usage: golden-registry\.js publish DIR \| fetch DIR\n$/);
  });

  it('and the OIDC token script typecheck (plain JavaScript, checked as TypeScript strict)', () => {
    const scripts = ['golden-registry.js', 'ci-oidc-token.js'].map((name) => join(ROOT, '.gitea', 'scripts', name));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const flags = ['--noEmit', '--allowJs', '--checkJs', '--strict', '--noUnusedLocals', '--noUnusedParameters', '--noImplicitReturns',
      '--target', 'es2022', '--module', 'commonjs', '--moduleResolution', 'node', '--types', 'node', '--skipLibCheck'];
    const result = spawnSync(process.execPath, [tsc, ...flags, ...scripts], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});
