// The layers docs/ARCHITECTURE.md draws, held: every import in support/ and steps/ goes down a layer, and no module
// imports itself back through others. A new folder must be given its place here before it can be imported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

/** Bottom first. A unit is a folder of support/ (or a file at its top), or steps/; it may import lower layers only. */
const LAYERS: readonly (readonly string[])[] = [
  ['redaction'],
  ['secret', 'sql-secrets', 'redacted-files', 'crash-printing', 'name-lookup', 'process', 'naming', 'not-applicable'],
  ['config', 'secret-free-env'],
  ['postgres'],
  ['lifecycle'],
  ['vault', 'dolibarr'],
  ['erp'],
  ['promote', 'dolibarr-fence', 'vault-fence', 'operator'],
  ['hermetic'],
  ['targets'],
  ['gates', 'authoring'],
  ['world', 'hooks', 'mutations', 'bench'],
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
  if (parts[0] === 'steps') return 'steps';
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

test('every folder of support/ has its layer', () => {
  const unplaced = [...new Set(FILES.map(unitOf))].filter((unit) => !RANK.has(unit));
  assert.deepEqual(unplaced, [], 'give each new folder its place in LAYERS (and in docs/ARCHITECTURE.md)');
});

test('every import goes down the layers', () => {
  const upward = [...GRAPH].flatMap(([file, targets]) =>
    targets
      .filter((target) => unitOf(target) !== unitOf(file) && !(RANK.get(unitOf(target))! < RANK.get(unitOf(file))!))
      .map((target) => `${relative(ROOT, file)} imports ${relative(ROOT, target)}`),
  );
  assert.deepEqual(upward, []);
});

test('no module imports itself back through others', () => {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    path.push(file);
    for (const target of GRAPH.get(file) ?? []) {
      if (state.get(target) === 'open') {
        cycles.push(path.slice(path.indexOf(target)).concat(target).map((f) => relative(ROOT, f)).join(' → '));
      } else if (!state.has(target)) visit(target);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of FILES) if (!state.has(file)) visit(file);
  assert.deepEqual(cycles, []);
});

test('the check sees an upward import and a cycle', () => {
  // A check that reads no imports would pass every tree: it must see the steps importing support and the two
  // directions the folders' imports actually take.
  const world = join(ROOT, 'support/world.ts');
  assert.ok(GRAPH.get(world)!.some((target) => unitOf(target) === 'targets'));
  assert.ok(RANK.get('targets')! < RANK.get('world')!);
  assert.ok([...GRAPH].some(([file, targets]) => unitOf(file) === 'steps' && targets.length > 0));
});
