/**
 * The harness's one redaction point (docs/ARCHITECTURE.md, rule 5): a process-wide registry of secret values, and
 * their replacement by `[redacted]` in text, data, bytes and streams, as each value is and as the report formats
 * encode it, so a password holding `"`, `<` or `&` does not slip through in its escaped form.
 */

export const REDACTED = '[redacted]';
/** Shorter values would turn ordinary words and numbers into `[redacted]`, and a secret that short protects nothing. */
export const MIN_SECRET_LENGTH = 6;

// Per process: a Cucumber worker process (parallel mode, which the profiles do not use) has its own.
const secrets = new Set<string>();

interface Compiled {
  /** Every encoded form of every value, found in JavaScript strings. */
  readonly text: FormIndex;
  /** The same forms as their UTF-8 bytes, one latin1 character per byte: found in raw output. */
  readonly bytes: FormIndex;
  /** The byte forms in code-unit order: those beginning with a given text are found by binary search. */
  readonly sortedByteForms: readonly string[];
  /** The length in bytes of the longest form. */
  readonly longest: number;
}
let compiled: Compiled | undefined;

/**
 * Registers `value` as a secret of this process; from now on `redact` hides it. Returns whether it was
 * registered (false for a non-string or a value shorter than MIN_SECRET_LENGTH). Every `Secret` registers its value
 * when it is made; a plain string that is a secret (a password, a JWT read from a file) is registered where it enters.
 */
export function registerSecret(value: string): boolean {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return false;
  if (!secrets.has(value)) {
    secrets.add(value);
    compiled = undefined;
  }
  return true;
}

/** Whether `value` itself is registered (for tests and the environment of hook commands; never lists values). */
export function isRegisteredSecret(value: string): boolean {
  return secrets.has(value);
}

/** `text` with every registered value, in any of the encodings of the report formats, replaced by `[redacted]`. */
export function redact(text: string): string {
  if (secrets.size === 0 || typeof text !== 'string' || text === '') return text;
  return replaceForms(compile().text, text);
}

/** Whether `text` holds a registered value in any encoding `redact` knows. */
export function containsSecret(text: string): boolean {
  return redact(text) !== text;
}

/**
 * `value` (data such as a parsed JSON document or a Cucumber message) with `redact` applied to every string in it,
 * keys left as they are; the same object wherever nothing changed, and the original never changed. `special` may
 * take over a node (return its redacted form) or leave it to the walk (undefined).
 */
export function redactData<T>(value: T, special?: (node: object) => object | undefined): T {
  if (secrets.size === 0) return value;
  return redactNode(value, special) as T;
}

function redactNode(value: unknown, special: ((node: object) => object | undefined) | undefined): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object') return value;
  const taken = special?.(value);
  if (taken !== undefined) return taken;
  if (Array.isArray(value)) {
    const items = value.map((item) => redactNode(item, special));
    return items.some((item, at) => item !== value[at]) ? items : value;
  }
  let changed: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const redacted = redactNode(item, special);
    if (redacted !== item) (changed ??= { ...value })[key] = redacted;
  }
  return changed ?? value;
}

/** Byte-level redaction for data that is not UTF-8 text: the UTF-8 bytes of each form of each value are replaced. */
export function redactBytes(data: Buffer): Buffer {
  if (secrets.size === 0 || data.length === 0) return data;
  const text = data.toString('latin1');
  const redacted = replaceForms(compile().bytes, text);
  return redacted === text ? data : Buffer.from(redacted, 'latin1');
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

/**
 * Forms bucketed by their first MIN_SECRET_LENGTH code units (every form is at least that long), each bucket longest
 * first, and a table of their first two code units that turns most positions of a text away in one lookup: the cost
 * of a text no longer grows with the number of values. One regular expression alternating every form took 0.3–0.5 s
 * per megabyte once a run had registered a few hundred values.
 */
interface FormIndex {
  readonly starts: Uint8Array;
  readonly byPrefix: ReadonlyMap<string, readonly string[]>;
}

function pairAt(text: string, at: number): number {
  return ((text.charCodeAt(at) << 7) ^ text.charCodeAt(at + 1)) & 0xffff;
}

/** The index of `forms`, which come longest first. */
function indexForms(forms: readonly string[]): FormIndex {
  const starts = new Uint8Array(0x10000);
  const byPrefix = new Map<string, string[]>();
  for (const form of forms) {
    starts[pairAt(form, 0)] = 1;
    const prefix = form.slice(0, MIN_SECRET_LENGTH);
    const bucket = byPrefix.get(prefix);
    if (bucket) bucket.push(form);
    else byPrefix.set(prefix, [form]);
  }
  return { starts, byPrefix };
}

/** The leftmost form in `text` from `from` on, the longest where several start there (as an alternation would match). */
function nextForm(index: FormIndex, text: string, from: number): { readonly at: number; readonly form: string } | undefined {
  for (let at = from, last = text.length - MIN_SECRET_LENGTH; at <= last; at++) {
    if (index.starts[pairAt(text, at)] === 0) continue;
    const bucket = index.byPrefix.get(text.slice(at, at + MIN_SECRET_LENGTH));
    const form = bucket?.find((candidate) => text.startsWith(candidate, at));
    if (form !== undefined) return { at, form };
  }
  return undefined;
}

function replaceForms(index: FormIndex, text: string): string {
  let out = '';
  let from = 0;
  for (let found = nextForm(index, text, 0); found; found = nextForm(index, text, from)) {
    out += text.slice(from, found.at) + REDACTED;
    from = found.at + found.form.length;
  }
  return from === 0 ? text : out + text.slice(from);
}

function compile(): Compiled {
  if (compiled) return compiled;
  // Longest first: where one value contains another, the longer one is replaced whole.
  const forms = [...new Set([...secrets].flatMap(encodedForms))].sort((a, b) => b.length - a.length);
  const byteForms = [...new Set(forms.map((form) => Buffer.from(form, 'utf8').toString('latin1')))].sort((a, b) => b.length - a.length);
  const sortedByteForms = [...byteForms].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  compiled = { text: indexForms(forms), bytes: indexForms(byteForms), sortedByteForms, longest: byteForms[0]!.length };
  return compiled;
}

/** Whether a form longer than `text` begins with all of it (`forms` in code-unit order). */
function beginsLongerForm(forms: readonly string[], text: string): boolean {
  let low = 0;
  let high = forms.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (forms[middle]! < text) low = middle + 1;
    else high = middle;
  }
  // Those beginning with `text` follow it in order, `text` itself first if it is one.
  for (let at = low; at < forms.length && forms[at]!.startsWith(text); at++) if (forms[at]!.length > text.length) return true;
  return false;
}

/**
 * Redacts a stream of output chunk by chunk, so a value split across two chunks is still found: what could be the
 * beginning of a value (a registered form starts with the chunk's last bytes) is held back until the next chunk
 * or `end()`, everything else is handed out at once, in order, nothing lost. Works on bytes (a chunk may end inside
 * a multi-byte character), so what comes out is exactly what went in but for the `[redacted]` replacements.
 */
export class RedactionFilter {
  /** Held back, one latin1 character per byte. */
  #held = '';

  /** What may be written now of what came so far (possibly nothing). */
  push(chunk: Uint8Array): Buffer {
    const data = Buffer.isBuffer(chunk) ? chunk : chunk.byteLength === 0 ? Buffer.alloc(0) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (secrets.size === 0 && this.#held === '') return data;
    const text = this.#held + data.toString('latin1');
    if (secrets.size === 0) {
      this.#held = '';
      return Buffer.from(text, 'latin1');
    }
    const { bytes: index, sortedByteForms, longest } = compile();
    // What starts at `at` may still change with the next chunk: a form longer than the rest begins with all of it.
    const open = (at: number) => beginsLongerForm(sortedByteForms, text.slice(at));
    // Before `decided` every form fits whole inside `text`: what starts there is settled.
    const decided = text.length - (longest - 1);
    let out = '';
    let from = 0;
    let hold = text.length;
    const firstOpen = (to: number) => {
      for (let at = Math.max(from, decided); at < to; at++) if (open(at)) return at;
      return undefined;
    };
    for (let found = nextForm(index, text, 0); found; found = nextForm(index, text, from)) {
      const unsettled = firstOpen(found.at + 1);
      if (unsettled !== undefined) {
        hold = unsettled;
        break;
      }
      out += text.slice(from, found.at) + REDACTED;
      from = found.at + found.form.length;
    }
    if (hold === text.length) hold = firstOpen(text.length) ?? text.length;
    this.#held = text.slice(hold);
    return Buffer.from(out + text.slice(from, hold), 'latin1');
  }

  /** The rest, redacted: the stream ends (or the process exits). */
  end(): Buffer {
    const rest = Buffer.from(this.#held, 'latin1');
    this.#held = '';
    return redactBytes(rest);
  }

  /** How many bytes are held back (for tests). */
  get held(): number {
    return this.#held.length;
  }
}

type Write = (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;
interface Redacting {
  readonly filter: RedactionFilter;
  readonly write: Write;
}
const redacting = new Map<NodeJS.WritableStream, Redacting>();
let exiting = false;

/**
 * Routes every `write` of `stream` (process.stdout, process.stderr) through the redaction point, chunk by chunk
 * (RedactionFilter). Idempotent. What is held back goes out with the next write, with `end()`, with
 * `flushRedactedWrites()` and at the process's exit. From the exit on, each write goes out whole, redacted on its own:
 * nothing runs after the last 'exit' listener to write what would be held back (the harness's write whole lines).
 */
export function redactWrites(stream: NodeJS.WriteStream): void {
  if (redacting.has(stream)) return;
  const write = stream.write.bind(stream) as Write;
  const end = stream.end.bind(stream) as (...args: unknown[]) => unknown;
  const state: Redacting = { filter: new RedactionFilter(), write };
  redacting.set(stream, state);
  if (redacting.size === 1) process.once('exit', flushAtExit);
  stream.write = function redactedWrite(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    const done = typeof encoding === 'function' ? encoding : callback;
    const data = bytesOf(chunk, typeof encoding === 'string' ? encoding : undefined);
    if (data === undefined) return write(chunk, encoding, callback);
    const out = exiting ? Buffer.concat([state.filter.push(data), state.filter.end()]) : state.filter.push(data);
    return write(out, done);
  } as NodeJS.WriteStream['write'];
  stream.end = function redactedEnd(...args: unknown[]) {
    if (args.length > 0 && typeof args[0] !== 'function') {
      const chunk = args.shift();
      (stream.write as Write)(chunk, typeof args[0] === 'string' ? args.shift() : undefined);
    }
    const rest = state.filter.end();
    if (rest.length > 0) write(rest);
    return end(...args);
  } as NodeJS.WriteStream['end'];
}

/** Writes out what the redacting streams hold back (a prompt before reading the answer; a crash before exit). */
export function flushRedactedWrites(): void {
  for (const { filter, write } of redacting.values()) {
    const rest = filter.end();
    if (rest.length > 0) write(rest);
  }
}

function flushAtExit(): void {
  exiting = true;
  flushRedactedWrites();
}

function bytesOf(chunk: unknown, encoding: string | undefined): Uint8Array | undefined {
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding !== undefined && Buffer.isEncoding(encoding) ? encoding : 'utf8');
  if (chunk instanceof Uint8Array) return chunk;
  return undefined;
}
