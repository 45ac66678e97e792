/** The step catalogue for a terminal (`rehearse steps`). */
import { exampleOf, type StepCatalogue } from './step-catalogue';

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
