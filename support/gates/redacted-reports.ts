import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { IRunOptionsFormats } from '@cucumber/cucumber/api';
import { resolveImplementation } from '@cucumber/cucumber/lib/formatter/resolve_implementation';
import { RedactionFilter } from '../redaction';
import { redactEnvelope } from './report-files';
import type { Envelope } from './report';

/**
 * The gate run's report files, written through the redaction point from their first byte. Cucumber would open each
 * file of `formats.files` and let its formatter write to it directly, so a run killed before the end left raw
 * secrets on disk. Here the harness opens the files and runs the same formatters (Cucumber's own html, junit and
 * message plugins, resolved as Cucumber resolves them): each is given the messages with every registered secret
 * redacted (base64 attachments included), and each byte it writes passes a RedactionFilter (the report formats'
 * encodings, a value split across two writes) before a synchronous write to the file — nothing raw is buffered on
 * the way to the disk.
 */

/** A file format whose formatter is one of Cucumber's legacy classes: they write to their stream past this module. */
export class UnredactableFormatError extends Error {
  override readonly name = 'UnredactableFormatError';
}

export interface ReportWriters {
  /** Hands one of the run's messages, redacted, to every formatter. */
  accept(envelope: Envelope): void;
  /** Lets every formatter finish, writes what the filters held back (redacted), closes the files. */
  finish(): Promise<void>;
}

type Options = IRunOptionsFormats['options'];

interface Opened {
  readonly handlers: ((envelope: Envelope) => void)[];
  readonly cleanup: () => Promise<void>;
}

const logger = {
  debug: () => undefined,
  info: (message?: unknown) => process.stderr.write(`${String(message)}\n`),
  warn: (message?: unknown) => process.stderr.write(`${String(message)}\n`),
  error: (message?: unknown) => process.stderr.write(`${String(message)}\n`),
};

/** One file, written synchronously through its own filter. */
class RedactedFile {
  readonly #fd: number;
  readonly #filter = new RedactionFilter();
  #closed = false;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.#fd = openSync(path, 'w');
  }

  write(chunk: string | Uint8Array): void {
    if (this.#closed) throw new Error(`the report ${this.path} is already closed`);
    this.#put(this.#filter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk));
  }

  close(): void {
    if (this.#closed) return;
    try {
      this.#put(this.#filter.end());
    } finally {
      this.#closed = true;
      closeSync(this.#fd);
    }
  }

  #put(data: Buffer): void {
    for (let at = 0; at < data.length; ) at += writeSync(this.#fd, data, at);
  }

  /** The stream a formatter may look at (Cucumber hands one over); what it writes there takes the same way. */
  stream(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        try {
          this.write(chunk);
          done();
        } catch (error) {
          done(error as Error);
        }
      },
    });
  }
}

/**
 * Opens every file of `files` (path → formatter name or module, as Cucumber's `formats.files`), truncating it, and
 * starts its formatter. Throws UnredactableFormatError, before opening anything, for a formatter that is not a plugin.
 */
export async function openReportWriters(files: Readonly<Record<string, string>>, options: Options, cwd = process.cwd()): Promise<ReportWriters> {
  const formats = await Promise.all(
    Object.entries(files).map(async ([path, specifier]) => {
      const implementation = await resolveImplementation(specifier, cwd);
      if (typeof implementation === 'function') {
        throw new UnredactableFormatError(
          `the report format "${specifier}" (${path}) is one of Cucumber's class formatters, which write past the redaction point: use html, junit or message, or print it to stdout`,
        );
      }
      return { path: resolve(cwd, path), plugin: implementation };
    }),
  );
  const opened: Opened[] = [];
  const written: RedactedFile[] = [];
  try {
    for (const { path, plugin } of formats) {
      const file = new RedactedFile(path);
      written.push(file);
      const handlers: Opened['handlers'] = [];
      const optionsOf = plugin.optionsKey ? ((options as Record<string, unknown>)[plugin.optionsKey] ?? {}) : options;
      const cleanup = await plugin.formatter({
        on: (_event: 'message', handler: (envelope: Envelope) => void) => void handlers.push(handler),
        options: optionsOf,
        logger,
        stream: file.stream(),
        write: (chunk: string | Uint8Array) => file.write(chunk),
        directory: dirname(path),
      });
      opened.push({ handlers, cleanup: async () => void (typeof cleanup === 'function' ? await cleanup() : undefined) });
    }
  } catch (error) {
    for (const file of written) file.close();
    throw error;
  }
  return {
    accept(envelope) {
      const redacted = redactEnvelope(envelope);
      for (const { handlers } of opened) for (const handler of handlers) handler(redacted);
    },
    async finish() {
      try {
        for (const { cleanup } of opened) await cleanup();
      } finally {
        for (const file of written) file.close();
      }
    },
  };
}
