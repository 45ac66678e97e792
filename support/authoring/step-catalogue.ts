/**
 * The step catalogue: every step a feature may use, read from the code itself, so that an ERP developer writing a
 * feature needs neither support/ nor the step files to find the step they want.
 *
 * The step definitions and parameter types come from Cucumber's own loading of the support code (the `default`
 * profile of cucumber.js, through `loadConfiguration` and `loadSupport`): what the catalogue lists is exactly what a
 * gate run can match. Each one's description is the JSDoc comment right above its definition (`Given(`, `When(`,
 * `Then(`, `defineParameterType(`) at the line Cucumber recorded: the first paragraph is its one-line summary, the
 * next paragraphs its details, and each `@example` line a step text (its following lines, a data table or doc string).
 *
 * Examples come from the shipped features (`features/**\/*.feature`): each file is parsed and compiled to pickles by
 * Gherkin, as Cucumber does, so a Scenario Outline's steps are matched with their examples filled in, and each pickle
 * step is matched against every definition with the definition's own expression — Cucumber's matching, with the
 * parameter types the support code registered. A step no feature uses shows its `@example` instead.
 *
 * `rehearse steps` prints the catalogue for a terminal; `rehearse steps --markdown` prints docs/STEPS.md
 * (`npm run steps:docs` rewrites it; test/step-catalogue.test.ts fails when it is out of date).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { AstBuilder, compile, GherkinClassicTokenMatcher, Parser } from '@cucumber/gherkin';
import { IdGenerator, PickleStepType, type GherkinDocument, type PickleStepArgument, type Step } from '@cucumber/messages';
import type { ParameterType, ParameterTypeRegistry } from '@cucumber/cucumber-expressions';

/** The project's root: cucumber.js, steps/, features/. */
export const ROOT = join(__dirname, '..', '..');
/** The Cucumber profile whose support code the catalogue lists. */
export const PROFILE = 'default';
/** Where the shipped features live (every `*.feature` below it). */
export const FEATURES = 'features';

/** A definition's JSDoc: its one-line summary, further paragraphs, and its `@example`s (each a step and its argument). */
export interface Description {
  readonly summary: string;
  readonly details: readonly string[];
  readonly examples: readonly Example[];
}

export interface Example {
  /** The step as written, with its keyword, e.g. `Given a login role "agent" is minted for instance "erp-sandbox"`. */
  readonly step: string;
  /** The lines of its data table or doc string, if any. */
  readonly argument: readonly string[];
}

/** One step of a shipped feature, as Cucumber runs it (a Scenario Outline's steps with their examples filled in). */
export interface FeatureStep {
  /** The feature file, relative to the root, with forward slashes. */
  readonly uri: string;
  /** The line of the step in the feature file. */
  readonly line: number;
  /** Given, When or Then: the keyword the step counts as (an And or But takes the one before it). */
  readonly keyword: string;
  readonly text: string;
  /** The lines of its data table or doc string, if any. */
  readonly argument: readonly string[];
}

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

// --- the support code, as Cucumber loads it ------------------------------------------------------------------------

/** The parts of Cucumber's support code library the catalogue reads (the API types it as an opaque marker). */
interface LoadedLibrary {
  readonly stepDefinitions: readonly {
    readonly keyword: string;
    readonly pattern: string | RegExp;
    readonly uri: string;
    readonly line: number;
    matchesStepName(text: string): boolean;
  }[];
  readonly parameterTypeRegistry: ParameterTypeRegistry & {
    lookupSource(parameterType: ParameterType<unknown>): { readonly uri: string; readonly line: number } | undefined;
  };
  readonly undefinedParameterTypes: readonly { readonly name: string; readonly expression: string }[];
}

const loaded = new Map<string, Promise<LoadedLibrary>>();

/**
 * The support code of the profile, loaded once per process: Node's module cache would leave a second load empty, since
 * the step files register their steps only when they are first required.
 */
function loadLibrary(root: string): Promise<LoadedLibrary> {
  let library = loaded.get(root);
  if (!library) {
    library = (async () => {
      // Loaded on demand: Cucumber's API is slow to load, and only this needs it.
      const { loadConfiguration, loadSupport } = await import('@cucumber/cucumber/api');
      const environment = { cwd: root };
      const { runConfiguration } = await loadConfiguration({ profiles: [PROFILE] }, environment);
      const support = (await loadSupport(runConfiguration, environment)) as unknown as LoadedLibrary;
      if (support.undefinedParameterTypes.length > 0) {
        const missing = support.undefinedParameterTypes.map(({ name, expression }) => `{${name}} in "${expression}"`);
        throw new Error(`step expressions use parameter types nobody defined: ${missing.join('; ')} (define them in steps/parameter-types.ts)`);
      }
      return support;
    })();
    loaded.set(root, library);
  }
  return library;
}

// --- descriptions, from the source -----------------------------------------------------------------------------------

/**
 * The JSDoc comment that ends on the line right above `line` (1-based) of `source`, or undefined when there is none
 * there. A blank line or a `//` comment between the two means no description.
 */
export function descriptionAbove(source: string, line: number): Description | undefined {
  const lines = source.split(/\r?\n/);
  const end = line - 2;
  if (end < 0 || !lines[end]!.trimEnd().endsWith('*/')) return undefined;
  let start = end;
  while (start >= 0 && !lines[start]!.trimStart().startsWith('/**')) {
    if (start < end && lines[start]!.includes('*/')) return undefined;
    start -= 1;
  }
  if (start < 0) return undefined;
  const text = lines.slice(start, end + 1).map((raw, index, all) => {
    let content = raw.trim();
    if (index === 0) content = content.replace(/^\/\*\*/, '');
    if (index === all.length - 1) content = content.replace(/\*\/$/, '');
    content = content.replace(/^\*(?!\/)/, '');
    // One space after the star is the comment's own; more is the text's (an example's table, indented).
    return content.replace(/^ /, '').trimEnd();
  });
  return parseDescription(text);
}

function parseDescription(lines: readonly string[]): Description | undefined {
  const paragraphs: string[] = [];
  const examples: Example[] = [];
  let paragraph: string[] = [];
  let example: { step: string; argument: string[] } | undefined;
  let inTags = false;
  const endParagraph = () => {
    if (paragraph.length > 0) paragraphs.push(paragraph.join(' '));
    paragraph = [];
  };
  for (const line of lines) {
    const trimmed = line.trim();
    if (trimmed.startsWith('@')) {
      endParagraph();
      inTags = true;
      example = undefined;
      const [, tag, rest = ''] = /^@(\S+)\s*(.*)$/.exec(trimmed) ?? [];
      if (tag === 'example' && rest !== '') {
        example = { step: rest, argument: [] };
        examples.push(example);
      }
    } else if (trimmed === '') {
      endParagraph();
      example = undefined;
    } else if (inTags) {
      example?.argument.push(trimmed);
    } else {
      paragraph.push(trimmed);
    }
  }
  endParagraph();
  const [summary, ...details] = paragraphs;
  if (summary === undefined && examples.length === 0) return undefined;
  return { summary: summary ?? '', details, examples };
}

/** The step text of an example, without its keyword. */
export function exampleText(example: Example): string {
  return example.step.replace(/^(Given|When|Then|And|But|\*)\s+/, '');
}

// --- the shipped features ----------------------------------------------------------------------------------------------

function featureFiles(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...featureFiles(path));
    else if (name.endsWith('.feature')) found.push(path);
  }
  return found;
}

const posix = (path: string) => path.split(sep).join('/');

const KEYWORDS: Partial<Record<string, string>> = {
  [PickleStepType.CONTEXT]: 'Given',
  [PickleStepType.ACTION]: 'When',
  [PickleStepType.OUTCOME]: 'Then',
};

/** Every step of every feature below `features/`, as Cucumber compiles them, in path and document order. */
export function readFeatureSteps(root: string = ROOT): FeatureStep[] {
  const steps: FeatureStep[] = [];
  for (const path of featureFiles(join(root, FEATURES))) {
    const uri = posix(relative(root, path));
    const newId = IdGenerator.incrementing();
    let document: GherkinDocument;
    try {
      document = new Parser(new AstBuilder(newId), new GherkinClassicTokenMatcher()).parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new Error(`${uri} is not valid Gherkin: ${(error as Error).message}`);
    }
    const astSteps = new Map<string, Step>();
    const collect = (children: readonly { background?: { steps: readonly Step[] }; scenario?: { steps: readonly Step[] }; rule?: { children: readonly object[] } }[]) => {
      for (const child of children) {
        for (const step of [...(child.background?.steps ?? []), ...(child.scenario?.steps ?? [])]) astSteps.set(step.id, step);
        if (child.rule) collect(child.rule.children as never);
      }
    };
    collect(document.feature?.children ?? []);
    for (const pickle of compile(document, uri, newId)) {
      for (const step of pickle.steps) {
        const source = astSteps.get(step.astNodeIds[0]!);
        steps.push({
          uri,
          line: source?.location.line ?? pickle.location?.line ?? 0,
          keyword: KEYWORDS[step.type ?? ''] ?? source?.keyword.trim() ?? '*',
          text: step.text,
          argument: argumentLines(step.argument),
        });
      }
    }
  }
  return steps;
}

/** A step's data table (columns aligned) or doc string, as it is written under the step. */
function argumentLines(argument: PickleStepArgument | undefined): string[] {
  if (argument?.docString) return ['"""', ...argument.docString.content.split('\n'), '"""'];
  const rows = argument?.dataTable?.rows.map((row) => row.cells.map((cell) => cell.value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, '\\n'))) ?? [];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => [...(row[column] ?? '')].length))) ?? [];
  return rows.map((row) => `| ${row.map((cell, column) => cell + ' '.repeat(widths[column]! - [...cell].length)).join(' | ')} |`);
}

// --- the catalogue -------------------------------------------------------------------------------------------------------

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

const featuresUsing = (entry: StepEntry) => [...new Set(entry.uses.map((use) => use.uri))];

// --- Markdown ------------------------------------------------------------------------------------------------------------

/** Text for Markdown: `<` outside code spans is escaped, so `<app>-<env>` is shown, not taken for HTML. */
function markdownText(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) => (part.startsWith('`') ? part : part.replace(/</g, '&lt;')))
    .join('');
}

/** A code span holding `text`, whatever backticks it contains. */
function code(text: string): string {
  const fence = '`'.repeat(Math.max(0, ...[...text.matchAll(/`+/g)].map((run) => run[0].length)) + 1);
  return fence.length > 1 || text.startsWith(' ') || text.endsWith(' ') ? `${fence} ${text} ${fence}` : `${fence}${text}${fence}`;
}

const link = (uri: string, line: number) => `[${uri}:${line}](../${uri}#L${line})`;

/** The catalogue as docs/STEPS.md: the parameter types, then the steps by file. */
export function renderMarkdown(catalogue: StepCatalogue): string {
  const out: string[] = [
    '# Step catalogue',
    '',
    '<!-- Generated from the step definitions and the shipped features by `npm run steps:docs` (rehearse steps --markdown): do not edit by hand. -->',
    '',
    'Every step a feature may use, by the file that defines it: its expression, what it does or asserts, an example of',
    'its use — from the shipped features (`features/**/*.feature`), or from its definition when no feature uses it yet —',
    'and where it is defined. Cucumber matches a step whatever its keyword (Given, When, Then, And, But): the keyword shown',
    "is the one the step is defined with. Write a step's text as its expression with each `{parameter}` replaced by a",
    'value of that type; an expression between slashes is a regular expression. `rehearse steps` prints this catalogue in',
    'a terminal; README.md ("Adding a feature") says how to add a step.',
    '',
    '## Parameter types',
    '',
    "Cucumber's own: `{string}` (text in double or single quotes), `{int}`, `{float}`, `{word}` (one word, no spaces),",
    '`{}` (anything). The harness adds these; a bad value fails its step with a message that says how to write it.',
    '',
  ];
  for (const type of catalogue.parameterTypes) {
    out.push(`### ${code(`{${type.name}}`)}`, '');
    const description = type.description;
    if (description?.summary) out.push(markdownText(description.summary), '');
    for (const detail of description?.details ?? []) out.push(markdownText(detail), '');
    const facts = [
      ...(description?.examples.length ? [`Example: ${description.examples.map((example) => code(example.step)).join(', ')}`] : []),
      `regexp ${type.regexps.map(code).join(', ')}`,
      `defined at ${link(type.uri, type.line)}`,
    ];
    out.push(`${facts.join(' · ')}`, '');
  }
  for (const file of catalogue.files) {
    out.push(`## ${file.uri}`, '');
    for (const entry of file.entries) {
      out.push(`### ${code(`${entry.keyword} ${entry.expression}`)}`, '');
      if (entry.description?.summary) out.push(markdownText(entry.description.summary), '');
      else out.push('*No description: put a JSDoc comment right above its definition.*', '');
      for (const detail of entry.description?.details ?? []) out.push(markdownText(detail), '');
      const example = exampleOf(entry);
      if (example) out.push('```gherkin', ...example.lines, '```', '');
      const used = featuresUsing(entry);
      const where = used.length > 0 ? `Used in ${used.map(code).join(', ')}` : 'Not used by a shipped feature yet: the example is its definition\'s';
      out.push(`${where} · defined at ${link(entry.uri, entry.line)}`, '');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

// --- text, for a terminal ------------------------------------------------------------------------------------------------

const STYLES = { bold: '1', dim: '2', cyan: '36' } as const;

/** The catalogue for a terminal: per step its expression, summary, example and definition; ANSI styles if `colour`. */
export function renderText(catalogue: StepCatalogue, options: { readonly colour: boolean }): string {
  const paint = (style: keyof typeof STYLES, text: string) => (options.colour ? `\u001b[${STYLES[style]}m${text}\u001b[0m` : text);
  const out: string[] = [
    paint('bold', 'Step catalogue') + ': every step a feature may use, by step file (docs/STEPS.md has the details).',
    'Any keyword matches a step; write each {parameter} as a value of its type.',
    '',
    paint('bold', 'Parameter types') + " (besides Cucumber's {string}, {int}, {float}, {word} and {})",
  ];
  const width = Math.max(0, ...catalogue.parameterTypes.map((type) => type.name.length + 2));
  for (const type of catalogue.parameterTypes) {
    const example = type.description?.examples[0];
    out.push(`  ${paint('cyan', `{${type.name}}`.padEnd(width))}  ${type.description?.summary ?? '(no description)'}${example ? paint('dim', `  e.g. ${example.step}`) : ''}`);
  }
  for (const file of catalogue.files) {
    out.push('', paint('bold', file.uri));
    for (const entry of file.entries) {
      out.push(`  ${paint('cyan', `${entry.keyword} ${entry.expression}`)}`);
      out.push(`      ${entry.description?.summary || '(no description)'}`);
      const example = exampleOf(entry);
      if (example) {
        const [first, ...rest] = example.lines;
        out.push(paint('dim', `      e.g. ${first}${example.from ? `    (${example.from})` : ''}`));
        for (const line of rest) out.push(paint('dim', `           ${line}`));
      }
      out.push(paint('dim', `      ${entry.uri}:${entry.line}`));
    }
  }
  return `${out.join('\n')}\n`;
}
