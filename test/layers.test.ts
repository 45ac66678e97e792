// The layers docs/ARCHITECTURE.md draws, held: every import in support/ and steps/ goes down a layer, and no module
// imports itself back through others. A new folder must be given its place here before it can be imported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

/** Bottom first. A unit is a folder of support/ (or a file at its top), steps/ or fixtures/; it imports lower layers only. */
const LAYERS: readonly (readonly string[])[] = [
  ['fixtures', 'redaction'],
  ['env', 'secret', 'sql-secrets', 'redacted-files', 'crash-printing', 'name-lookup', 'process', 'naming', 'not-applicable'],
  ['secret-free-env'],
  ['postgres'],
  ['lifecycle'],
  ['vault', 'dolibarr'],
  ['erp'],
  ['config'],
  ['promote', 'dolibarr-fence', 'vault-fence', 'operator'],
  ['gateway'],
  ['hermetic'],
  ['targets'],
  ['gates', 'authoring'],
  ['world'],
  ['hooks', 'mutations', 'bench'],
  ['cli'],
  ['steps'],
];
const RANK = new Map(LAYERS.flatMap((units, rank) => units.map((unit) => [unit, rank] as const)));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function unitOf(file: string): string {
  const parts = relative(ROOT, file).split('/');
  if (parts[0] === 'steps' || parts[0] === 'fixtures') return parts[0];
  return parts.length === 2 ? parts[1]!.replace(/\.ts$/, '') : parts[1]!;
}

function resolveImport(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  return [`${base}.ts`, join(base, 'index.ts')].find((candidate) => {
    try {
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  });
}

/** Relative imports of a file, static, re-exports and dynamic `import()` alike; type-only imports count too. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\s[^'";]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/gm),
    ...text.matchAll(/^\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g),
  ].map((match) => match[1]!);
  return specifiers.flatMap((specifier) => resolveImport(file, specifier) ?? []);
}

// Fence mutations are imported by support/mutations/ only (test/mutations.test.ts holds that); they reach into the
// module they break, so they stand outside the layers.
const FILES = [...sources(join(ROOT, 'support')), ...sources(join(ROOT, 'steps'))].filter(
  (file) => !file.endsWith('.mutations.ts'),
);
const GRAPH = new Map(FILES.map((file) => [file, importsOf(file)]));

type Graph = ReadonlyMap<string, readonly string[]>;

function upwardImports(graph: Graph): string[] {
  return [...graph].flatMap(([file, targets]) =>
    targets
      .filter((target) => unitOf(target) !== unitOf(file) && !(RANK.get(unitOf(target))! < RANK.get(unitOf(file))!))
      .map((target) => `${relative(ROOT, file)} imports ${relative(ROOT, target)}`),
  );
}

function cyclesOf(graph: Graph): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    path.push(file);
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === 'open') {
        cycles.push(path.slice(path.indexOf(target)).concat(target).map((f) => relative(ROOT, f)).join(' → '));
      } else if (!state.has(target)) visit(target);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

test('every folder of support/ has its layer', () => {
  const unplaced = [...new Set(FILES.map(unitOf))].filter((unit) => !RANK.has(unit));
  assert.deepEqual(unplaced, [], 'give each new folder its place in LAYERS (and in docs/ARCHITECTURE.md)');
});

test('every import goes down the layers', () => {
  assert.deepEqual(upwardImports(GRAPH), []);
});

test('no module imports itself back through others', () => {
  assert.deepEqual(cyclesOf(GRAPH), []);
});

test('the check reads the imports and sees an upward import and a cycle', () => {
  const at = (path: string): string => join(ROOT, path);
  // The tree's own imports are read: the World imports the targets it builds on.
  assert.ok(GRAPH.get(at('support/world.ts'))!.includes(at('support/targets/target.ts')));
  const planted: Graph = new Map([
    [at('support/postgres/a.ts'), [at('support/targets/b.ts'), at('support/naming/c.ts')]],
    [at('support/naming/c.ts'), [at('support/naming/d.ts')]],
    [at('support/naming/d.ts'), [at('support/naming/c.ts')]],
  ]);
  assert.deepEqual(upwardImports(planted), ['support/postgres/a.ts imports support/targets/b.ts']);
  assert.deepEqual(cyclesOf(planted), ['support/naming/c.ts → support/naming/d.ts → support/naming/c.ts']);
});
