import { lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { redact, redactBytes, redactData } from '../redaction';

/**
 * The report files of a gate run (`html`, `junit` and `message` NDJSON, in the configuration's `reports.dir`), and
 * their rewrite through the redaction point when the run ends. The formatters' bytes are already redacted as they are
 * written (redacted-reports.ts), so a run killed at any moment leaves no registered secret in them; the rewrite adds
 * what that cannot know: a value registered only after it went by, and files a step put in the directory itself.
 */

/** The files every gate run writes, and the Cucumber formatter of each. */
export function reportFiles(dir: string): { readonly html: string; readonly junit: string; readonly message: string } {
  return {
    html: join(dir, 'cucumber-report.html'),
    junit: join(dir, 'cucumber-report.xml'),
    message: join(dir, 'cucumber-messages.ndjson'),
  };
}

/** Cucumber's `formats.files`: output path → formatter name. */
export function reportFormats(dir: string): Record<string, string> {
  const files = reportFiles(dir);
  return { [files.html]: 'html', [files.junit]: 'junit', [files.message]: 'message' };
}

/** Removes the run's report files (an interrupted run's are incomplete: half a report would mislead). */
export function discardReportFiles(dir: string): void {
  for (const file of Object.values(reportFiles(dir))) rmSync(file, { force: true });
}

// File systems keep modification times coarsely: a file written in the run's first instant must count.
const MTIME_SLACK_MS = 2_000;

/**
 * Rewrites through `redact` every regular file under `dir` modified since `since` (ms since the epoch).
 * Returns the files that held a secret. Files older than the run are left alone: they went through this
 * when their own run ended, and a report directory pointed at the wrong place must not rewrite a tree.
 */
export function redactReportFiles(dir: string, since: number): string[] {
  const changed: string[] = [];
  for (const file of filesUnder(dir)) {
    if (lstatSync(file).mtimeMs < since - MTIME_SLACK_MS) continue;
    if (redactFile(file)) changed.push(file);
  }
  return changed;
}

function filesUnder(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.isFile() ? [path] : []; // symbolic links are not followed
  });
}

/** Rewrites one file through the redaction point; returns whether it changed. */
export function redactFile(file: string): boolean {
  const data = readFileSync(file);
  const text = data.toString('utf8');
  let redacted: Buffer;
  if (Buffer.from(text, 'utf8').equals(data)) {
    let content = text;
    if (file.endsWith('.ndjson')) content = redactMessageLines(content);
    else if (file.endsWith('.html')) content = redactHtmlMessages(content);
    redacted = Buffer.from(redact(content), 'utf8');
  } else {
    redacted = redactBytes(data);
  }
  if (redacted.equals(data)) return false;
  writeFileSync(file, redacted);
  return true;
}

interface AttachmentLike {
  body: string;
  contentEncoding: string;
}

const isAttachment = (value: object): value is AttachmentLike =>
  (value as Partial<AttachmentLike>).contentEncoding === 'BASE64' && typeof (value as Partial<AttachmentLike>).body === 'string';

/** A base64 attachment's body with every registered secret of its content redacted (text or bytes). */
function redactBase64(body: string): string {
  const data = Buffer.from(body, 'base64');
  const text = data.toString('utf8');
  const redacted = Buffer.from(text, 'utf8').equals(data) ? Buffer.from(redact(text), 'utf8') : redactBytes(data);
  return redacted.equals(data) ? body : redacted.toString('base64');
}

/** An attachment whose base64 body is redacted once decoded (its other fields by the walk); undefined for any other node. */
function base64Attachment(node: object): object | undefined {
  if (!isAttachment(node)) return undefined;
  const fields = Object.entries(node);
  const redacted = fields.map(([key, value]) => [key, key === 'body' ? redactBase64(value as string) : redactData(value)] as const);
  // The same fields in the same order: the message as Cucumber made it, but for the body.
  return redacted.some(([, value], at) => value !== fields[at]![1]) ? Object.fromEntries(redacted) : node;
}

/**
 * A Cucumber message with every registered secret redacted from every string in it, base64 attachments decoded,
 * redacted and re-encoded; the same object when it held none (the original is never changed). What the report
 * formatters are given (redacted-reports.ts), and what the rewrite of a finished file applies.
 */
export function redactEnvelope<T>(envelope: T): T {
  return redactData(envelope, base64Attachment);
}

/** NDJSON messages: each line with a base64 attachment holding a secret is re-encoded with it redacted. */
function redactMessageLines(content: string): string {
  return content
    .split('\n')
    .map((line) => {
      if (!line.includes('"BASE64"')) return line;
      try {
        const envelope: unknown = JSON.parse(line);
        const replaced = redactEnvelope(envelope);
        return replaced === envelope ? line : JSON.stringify(replaced);
      } catch {
        return line;
      }
    })
    .join('\n');
}

const HTML_MESSAGES_START = 'window.CUCUMBER_MESSAGES = [';
const HTML_MESSAGES_END = '];\n</script>';

/**
 * The HTML report embeds the messages as JSON in a script (with `<` written `\x3C`): base64 attachments in
 * there are handled like the NDJSON's. A report that does not have that shape is only redacted as text.
 */
function redactHtmlMessages(content: string): string {
  const start = content.indexOf(HTML_MESSAGES_START);
  if (start < 0 || !content.includes('"BASE64"')) return content;
  const from = start + HTML_MESSAGES_START.length;
  const end = content.indexOf(HTML_MESSAGES_END, from);
  if (end < 0) return content;
  let envelopes: unknown[];
  try {
    const json = content.slice(from, end).replace(/\\\\|\\x3C/g, (escape) => (escape === '\\\\' ? escape : '\\u003c'));
    envelopes = JSON.parse(`[${json}]`) as unknown[];
  } catch {
    return content;
  }
  let changed = false;
  const written = envelopes.map((envelope) => {
    const replaced = redactEnvelope(envelope);
    if (replaced !== envelope) changed = true;
    return JSON.stringify(replaced).replace(/</g, '\\x3C');
  });
  return changed ? `${content.slice(0, from)}${written.join(',')}${content.slice(end)}` : content;
}
