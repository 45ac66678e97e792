/** The step catalogue as docs/STEPS.md (`npm run steps:docs`; test/step-catalogue.test.ts fails when it is out of date). */
import { exampleOf, type StepCatalogue, type StepEntry } from './step-catalogue';

const featuresUsing = (entry: StepEntry) => [...new Set(entry.uses.map((use) => use.uri))];

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
