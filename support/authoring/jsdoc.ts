/**
 * A step definition's description, read from the JSDoc comment right above it: the first paragraph is its one-line
 * summary, the next paragraphs its details, and each `@example` line a step text (its following lines, a data table or
 * doc string).
 */

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
