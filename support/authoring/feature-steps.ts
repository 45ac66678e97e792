/**
 * The steps of the shipped features, as Cucumber runs them: each file parsed and compiled to pickles by Gherkin, so a
 * Scenario Outline's steps come with their examples filled in.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { AstBuilder, compile, GherkinClassicTokenMatcher, Parser } from '@cucumber/gherkin';
import { IdGenerator, PickleStepType, type GherkinDocument, type PickleStepArgument, type Step } from '@cucumber/messages';
import { posix, ROOT } from './project';

/** Where the shipped features live (every `*.feature` below it). */
export const FEATURES = 'features';

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

function featureFiles(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...featureFiles(path));
    else if (name.endsWith('.feature')) found.push(path);
  }
  return found;
}

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
