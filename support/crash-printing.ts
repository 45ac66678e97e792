import { inspect } from 'node:util';
import { flushRedactedWrites, redact, redactWrites } from './redaction';

/**
 * Node prints an uncaught exception (a throw in a timer, a stream's callback, a module being loaded) or an unhandled
 * rejection itself, straight to the standard error's file descriptor, past the redaction point. Installed first thing
 * by the CLI (bin/rehearse.js), this prints them through it instead, the way Node would have (the error as `inspect`
 * shows it, then Node's version line), and exits as Node would: 1. An unhandled rejection reaches this handler only
 * when Node's mode turns it into an uncaught exception (the default, `--unhandled-rejections=throw`); with the modes
 * that only warn, Node keeps running as it would anyway.
 */

/** The exit code Node gives an uncaught exception (and an unhandled rejection in its default mode). */
export const UNCAUGHT_EXIT_CODE = 1;

let installed = false;

/** Routes stdout and stderr through the redaction point and prints crashes through it. Idempotent. */
export function printCrashesRedacted(): void {
  redactWrites(process.stdout);
  redactWrites(process.stderr);
  if (installed) return;
  installed = true;
  process.on('uncaughtException', (error: unknown, origin: NodeJS.UncaughtExceptionOrigin) => {
    try {
      process.stderr.write(`${crashText(error, origin)}\n`);
      flushRedactedWrites();
    } finally {
      process.exit(UNCAUGHT_EXIT_CODE);
    }
  });
}

/** What is printed for a crash: Node's own rendering of the error (stack, cause, extra fields), redacted. */
export function crashText(error: unknown, origin: NodeJS.UncaughtExceptionOrigin = 'uncaughtException'): string {
  const what = origin === 'unhandledRejection' ? 'an unhandled rejection' : 'an uncaught exception';
  let shown: string;
  try {
    shown = error instanceof Error ? inspect(error) : `${what} that is not an Error: ${inspect(error)}`;
  } catch {
    shown = String(error);
  }
  return redact(`rehearse: ${what} (a bug of the harness or of a library it uses)\n${shown}\n\nNode.js ${process.version}`);
}
