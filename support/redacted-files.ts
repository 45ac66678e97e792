import { appendFileSync, writeFileSync, type Mode } from 'node:fs';
import { redact } from './redaction';

/**
 * The only way the harness writes a file that can hold what a secret touched (a changeset, a review page, the promote
 * audit): the text passes the redaction point before its first byte reaches the disk. Files of the harness's own
 * making that hold no such text (a PID, a CA certificate) are written as they are.
 */

export interface RedactedFileOptions {
  /** The file's mode when it is created (default 0600: these files are the operator's alone). */
  readonly mode?: Mode;
}

/** Writes `text` to `path`, every registered secret in it replaced by `[redacted]`; returns what was written. */
export function writeRedacted(path: string, text: string, options: RedactedFileOptions = {}): string {
  const written = redact(text);
  writeFileSync(path, written, { mode: options.mode ?? 0o600 });
  return written;
}

/** Appends `text` to `path` (created if missing), every registered secret in it replaced by `[redacted]`. */
export function appendRedacted(path: string, text: string, options: RedactedFileOptions = {}): string {
  const written = redact(text);
  appendFileSync(path, written, { mode: options.mode ?? 0o600 });
  return written;
}
