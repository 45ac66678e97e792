/**
 * The step catalogue: every step a feature may use and the parameter types, read from the code itself (the support
 * code as Cucumber loads it, each definition's JSDoc) with the uses found in the shipped features, so that an ERP
 * developer writing a feature needs neither support/ nor the step files. `rehearse steps` renders it (render-text.ts,
 * and render-markdown.ts for docs/STEPS.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParameterType, ParameterTypeRegistry } from '@cucumber/cucumber-expressions';
import { readFeatureSteps, type FeatureStep } from './feature-steps';
import { descriptionAbove, type Description } from './jsdoc';
import { posix, ROOT } from './project';
import { loadLibrary } from './support-library';

export interface StepEntry {
  /** The keyword the step is defined with (Cucumber matches a step whatever its keyword). */
  readonly keyword: string;
  /** The Cucumber expression, or the regular expression as `/…/`. */
  readonly expression: string;
  readonly isRegExp: boolean;
  /** The file defining it, relative to the root, with forward slashes, and the line of its definition. */
  readonly uri: string;
  readonly line: number;
  readonly description?: Description;
  /** Every step of the shipped features it matches, in file order. */
  readonly uses: readonly FeatureStep[];
  /** Whether a step's text (without its keyword) matches it, as Cucumber matches. */
  matches(text: string): boolean;
}

export interface ParameterTypeEntry {
  readonly name: string;
  readonly regexps: readonly string[];
  readonly uri: string;
  readonly line: number;
  readonly description?: Description;
  /** The parameter type as Cucumber registered it: `transform(world, groups)` runs its transformer. */
  readonly type: ParameterType<unknown>;
}

export interface StepCatalogue {
  /** Step definitions by file (files in path order, definitions in line order). */
  readonly files: readonly { readonly uri: string; readonly entries: readonly StepEntry[] }[];
  readonly entries: readonly StepEntry[];
  /** The parameter types the support code defines (not Cucumber's own), in definition order. */
  readonly parameterTypes: readonly ParameterTypeEntry[];
  /** The registry the step expressions were built with. */
  readonly registry: ParameterTypeRegistry;
  /** Every step of the shipped features. */
  readonly featureSteps: readonly FeatureStep[];
  /** Feature steps no definition matches, and those more than one matches. */
  readonly undefinedSteps: readonly FeatureStep[];
  readonly ambiguousSteps: readonly { readonly step: FeatureStep; readonly entries: readonly StepEntry[] }[];
}

/** The catalogue of the support code under `root`, with the uses found in its shipped features. */
export async function stepCatalogue(root: string = ROOT): Promise<StepCatalogue> {
  const library = await loadLibrary(root);
  const sources = new Map<string, string>();
  const describe = (uri: string, line: number) => {
    if (!sources.has(uri)) sources.set(uri, readFileSync(join(root, uri), 'utf8'));
    return descriptionAbove(sources.get(uri)!, line);
  };

  const featureSteps = readFeatureSteps(root);
  const entries = library.stepDefinitions
    .map((definition) => {
      const uri = posix(definition.uri);
      const isRegExp = definition.pattern instanceof RegExp;
      return {
        keyword: definition.keyword === 'Unknown' ? '*' : definition.keyword,
        expression: isRegExp ? `/${(definition.pattern as RegExp).source}/` : String(definition.pattern),
        isRegExp,
        uri,
        line: definition.line,
        description: describe(uri, definition.line),
        uses: [] as FeatureStep[],
        matches: (text: string) => definition.matchesStepName(text),
      };
    })
    .sort((a, b) => (a.uri === b.uri ? a.line - b.line : a.uri < b.uri ? -1 : 1));

  const undefinedSteps: FeatureStep[] = [];
  const ambiguousSteps: { step: FeatureStep; entries: StepEntry[] }[] = [];
  for (const step of featureSteps) {
    const matching = entries.filter((entry) => entry.matches(step.text));
    if (matching.length === 0) undefinedSteps.push(step);
    if (matching.length > 1) ambiguousSteps.push({ step, entries: matching });
    for (const entry of matching) entry.uses.push(step);
  }

  const files: { uri: string; entries: StepEntry[] }[] = [];
  for (const entry of entries) {
    if (files.at(-1)?.uri !== entry.uri) files.push({ uri: entry.uri, entries: [] });
    files.at(-1)!.entries.push(entry);
  }

  const registry = library.parameterTypeRegistry;
  const parameterTypes = [...registry.parameterTypes]
    .filter((type) => !type.builtin)
    .map((type) => {
      const source = registry.lookupSource(type);
      const uri = posix(source?.uri ?? '');
      const line = source?.line ?? 0;
      return { name: type.name ?? '', regexps: type.regexpStrings, uri, line, description: uri ? describe(uri, line) : undefined, type };
    })
    .sort((a, b) => (a.uri === b.uri ? a.line - b.line : a.uri < b.uri ? -1 : 1));

  return { files, entries, parameterTypes, registry, featureSteps, undefinedSteps, ambiguousSteps };
}

/** The example a catalogue entry shows: its first use in a shipped feature, else its definition's first `@example`. */
export function exampleOf(entry: StepEntry): { readonly lines: readonly string[]; readonly from?: string } | undefined {
  const use = entry.uses[0];
  if (use) return { lines: [`${use.keyword} ${use.text}`, ...use.argument.map((line) => `  ${line}`)], from: use.uri };
  const example = entry.description?.examples[0];
  return example && { lines: [example.step, ...example.argument.map((line) => `  ${line}`)] };
}
