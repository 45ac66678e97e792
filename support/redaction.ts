/**
 * The harness's one redaction point (DESIGN.md, safety rule 4: secrets never appear in logs, reports or
 * attachments).
 *
 * A process-wide registry of secret values: every `Secret` registers its value when it is made, and plain
 * strings that are secrets (a database password held as a string) are registered with `registerSecret`.
 * `redact(text)` replaces every registered value with `[redacted]` — the value as it is, and as the report
 * formats encode it (inside a JSON string, in the HTML report's script, in XML text or attributes), so a
 * password holding `"`, `<` or `&` does not slip through in its escaped form.
 *
 * Where it applies: the CLI routes process.stdout and process.stderr through `redactWrites` (everything the
 * process prints), and rewrites every file the gate run wrote under the report directory through `redact`
 * (support/gates/report-files.ts; base64 attachments are decoded, redacted and re-encoded there).
 *
 * Values shorter than MIN_SECRET_LENGTH characters are not registered: they would turn ordinary words and
 * numbers of the output into `[redacted]`, and a secret that short protects nothing anyway.
 * The registry is per process: a Cucumber worker process (parallel mode, not used by the profiles) has its own.
 */

export const REDACTED = '[redacted]';
export const MIN_SECRET_LENGTH = 6;

const secrets = new Set<string>();
let pattern: RegExp | undefined;

/**
 * Registers `value` as a secret of this process; from now on `redact` hides it. Returns whether it was
 * registered (false for a non-string or a value shorter than MIN_SECRET_LENGTH).
 */
export function registerSecret(value: string): boolean {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return false;
  if (!secrets.has(value)) {
    secrets.add(value);
    pattern = undefined;
  }
  return true;
}

/** How many distinct values are registered (for tests and diagnostics; never the values). */
export function registeredSecretCount(): number {
  return secrets.size;
}

/** `text` with every registered value, in any of the encodings of the report formats, replaced by `[redacted]`. */
export function redact(text: string): string {
  if (secrets.size === 0 || typeof text !== 'string' || text === '') return text;
  pattern ??= compile();
  return text.replace(pattern, REDACTED);
}

/** Whether `text` holds a registered value in any encoding `redact` knows. */
export function containsSecret(text: string): boolean {
  return redact(text) !== text;
}

/** Byte-level redaction for data that is not UTF-8 text: the raw UTF-8 bytes of each value are replaced. */
export function redactBytes(data: Buffer): Buffer {
  let result = data;
  for (const value of secrets) {
    const needle = Buffer.from(value, 'utf8');
    let at = result.indexOf(needle);
    if (at < 0) continue;
    const parts: Buffer[] = [];
    let from = 0;
    while (at >= 0) {
      parts.push(result.subarray(from, at), Buffer.from(REDACTED));
      from = at + needle.length;
      at = result.indexOf(needle, from);
    }
    parts.push(result.subarray(from));
    result = Buffer.concat(parts);
  }
  return result;
}

/**
 * The forms a value takes in the outputs: raw; inside a JSON string, once or twice (a JSON attachment inside a
 * message), also with `<` escaped as the HTML report writes it; XML text and attributes; HTML escaping.
 */
export function encodedForms(value: string): string[] {
  const once = JSON.stringify(value).slice(1, -1);
  const twice = JSON.stringify(once).slice(1, -1);
  const forms = [value, once, twice].flatMap((form) => [form, form.replace(/</g, '\\x3C'), form.replace(/</g, '\\u003c')]);
  forms.push(
    xml(value, { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' }), // xmlbuilder text
    xml(value, { '&': '&amp;', '<': '&lt;', '"': '&quot;', '\t': '&#x9;', '\n': '&#xA;', '\r': '&#xD;' }), // xmlbuilder attribute
    xml(value, { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }), // HTML escaping
    xml(value, { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }),
  );
  return [...new Set(forms)];
}

function xml(value: string, entities: Record<string, string>): string {
  return value.replace(/[&<>"'\t\n\r]/g, (char) => entities[char] ?? char);
}

function compile(): RegExp {
  const forms = [...new Set([...secrets].flatMap(encodedForms))].sort((a, b) => b.length - a.length);
  return new RegExp(forms.map((form) => form.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'), 'g');
}

type Write = NodeJS.WriteStream['write'];
const redacting = new WeakSet<NodeJS.WritableStream>();

/**
 * Routes every `write` of `stream` (process.stdout, process.stderr) through `redact`. Idempotent. A value split
 * across two writes is not recognised; the harness writes whole lines, and Cucumber's formatters whole blocks.
 */
export function redactWrites(stream: NodeJS.WriteStream): void {
  if (redacting.has(stream)) return;
  redacting.add(stream);
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = function redactedWrite(chunk: unknown, ...rest: unknown[]): boolean {
    return write(redactChunk(chunk, typeof rest[0] === 'string' ? rest[0] : undefined), ...rest);
  } as Write;
}

function redactChunk(chunk: unknown, encoding: string | undefined): unknown {
  if (typeof chunk === 'string') {
    return encoding === undefined || /^utf-?8$/i.test(encoding) ? redact(chunk) : chunk;
  }
  if (chunk instanceof Uint8Array && secrets.size > 0) {
    const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
    const redacted = redact(text);
    return redacted === text ? chunk : Buffer.from(redacted, 'utf8');
  }
  return chunk;
}
