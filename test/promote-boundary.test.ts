/**
 * The promotion gate's boundary: no code path outside promote can load the prod-write credential or aim the write
 * tooling at prod. Checked on the module graph (every value import, resolved as Node resolves it, from every module
 * of the project) and on the grant the client takes.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { DolibarrClient } from '../support/dolibarr/client';
import { grantProdWrites, type ProdWriteGrant } from '../support/dolibarr/prod-grant';
import { instanceNames } from '../support/naming';

const ROOT = join(__dirname, '..');

function sources(): string[] {
  return ['support', 'steps', 'test', 'fixtures', 'bin']
    .flatMap((dir) => readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true }))
    .filter((entry) => entry.isFile() && /\.(ts|js)$/.test(entry.name))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

/** The project modules `file` imports as values (type-only imports are erased and load nothing). */
function valueImports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*import\s+(?!type\s)[^;]*?from\s+'([^']+)'/gm),
    ...text.matchAll(/^\s*export\s+(?!type\s)[^;]*?from\s+'([^']+)'/gm),
    ...text.matchAll(/\b(?:require|import)\(\s*'([^']+)'\s*\)/g),
  ].map((match) => match[1]!);
  return specifiers
    .filter((specifier) => specifier.startsWith('.'))
    .flatMap((specifier) => {
      try {
        return [relative(ROOT, require.resolve(resolve(ROOT, dirname(file), specifier)))];
      } catch {
        return [];
      }
    });
}

/** Every module from which `target` can be reached by value imports. */
function importersOf(target: string): Set<string> {
  const graph = new Map(sources().map((file) => [file, valueImports(file)]));
  const reaching = new Set<string>();
  let frontier = [target];
  while (frontier.length > 0) {
    const next = [...graph.entries()].filter(([file, imports]) => !reaching.has(file) && imports.some((imported) => frontier.includes(imported))).map(([file]) => file);
    for (const file of next) reaching.add(file);
    frontier = next;
  }
  return reaching;
}

describe("the prod-write credential's boundary", () => {
  it('only promote loads the credential: its loader is imported by promote alone, and promote by its command and its gate alone', () => {
    const direct = (target: string) => sources().filter((file) => valueImports(file).includes(target)).sort();
    assert.deepEqual(direct('support/promote/credential.ts'), ['support/promote/promote.ts']);
    assert.deepEqual(direct('support/promote/promote.ts'), ['support/cli/promote.ts', 'support/targets/promotion.ts']);
    // The command is loaded by the CLI's `promote` and `review` commands only (on demand), which bin/rehearse.js runs.
    assert.deepEqual(direct('support/cli/promote.ts'), ['support/cli/main.ts']);
    const reaching = [...importersOf('support/promote/credential.ts')].sort();
    assert.deepEqual(reaching, [
      'bin/rehearse.js',
      'steps/agent.steps.ts',
      'steps/promotion.steps.ts',
      'support/cli/main.ts',
      'support/cli/promote.ts',
      'support/promote/promote.ts',
      'support/targets/agent-rehearsal.ts',
      'support/targets/promotion.ts',
      'test/cli.test.ts',
    ]);
  });

  it('only promote makes a prod-write grant for the write tooling', () => {
    const direct = sources().filter((file) => valueImports(file).includes('support/dolibarr/prod-grant.ts'));
    assert.deepEqual(direct.sort(), ['support/dolibarr/client.ts', 'support/promote/promote.ts', 'test/promote-boundary.test.ts']);
    const source = readFileSync(join(ROOT, 'support/dolibarr/client.ts'), 'utf8');
    assert.doesNotMatch(source, /grantProdWrites\(/, 'the client checks grants, it never makes one');
  });

  it('the client refuses a look-alike grant, both targets at once, and a grant for a host that is not prod', () => {
    const prod = instanceNames('erp', 'prod', 'arcodange.lab');
    const sandbox = instanceNames('erp', 'sandbox', 'arcodange.lab');
    const forged = Object.freeze({ prod }) as ProdWriteGrant;
    assert.throws(() => new DolibarrClient({ prodGrant: forged, apiKey: 'key-0123456789' }), /a prod-write grant must come from grantProdWrites/);
    assert.throws(() => new DolibarrClient({ sandbox, prodGrant: grantProdWrites(prod), apiKey: 'key-0123456789' }), /not both/);
    assert.throws(() => grantProdWrites(sandbox), /a prod-write grant is for a prod instance/);
    const client = new DolibarrClient({ prodGrant: grantProdWrites(prod), apiKey: 'key-0123456789' });
    assert.deepEqual(client.toJSON(), { host: 'erp.arcodange.lab', port: 443 });
    void client.close();
  });
});
