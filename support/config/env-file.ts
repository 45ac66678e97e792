import { resolve } from 'node:path';
import { setting, type EnvRecord } from '../env';
import { fileProblem, type ConfigFiles } from './files';

/**
 * The optional `.env` file: `ERP_REHEARSAL_ENV_FILE`, else `./.env` when it exists. Simple `KEY=value` lines:
 * blank lines and `#` comments are skipped, an `export ` prefix is allowed, a value may be wrapped in single or
 * double quotes (taken literally: no escapes, no interpolation), an unquoted value ends at ` #` (an inline comment).
 * The real environment wins over the file. A malformed line is a configuration problem naming the file and the
 * line number, never the line's text (it may hold a secret).
 */

export const ENV_FILE_VARIABLE = 'ERP_REHEARSAL_ENV_FILE';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface EnvFileContent {
  readonly values: ReadonlyMap<string, string>;
  readonly problems: readonly string[];
}

/** Parses the text of a `.env` file; `file` names it in problems. Later lines win over earlier ones. */
export function parseEnvFile(text: string, file: string): EnvFileContent {
  const values = new Map<string, string>();
  const problems: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, index) => {
    const where = `.env file "${file}" line ${index + 1}`;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const statement = trimmed.replace(/^export\s+/, '');
    const equals = statement.indexOf('=');
    if (equals < 0) {
      problems.push(`${where} is not a KEY=value line (no "="): fix it or comment it out with #`);
      return;
    }
    const name = statement.slice(0, equals).trim();
    if (!NAME.test(name)) {
      problems.push(`${where}: the name before "=" is not a variable name (letters, digits and "_", not starting with a digit)`);
      return;
    }
    const raw = statement.slice(equals + 1).trim();
    const quote = raw[0];
    if (quote === '"' || quote === "'") {
      const end = raw.indexOf(quote, 1);
      if (end < 0) {
        problems.push(`${where}: the value of ${name} opens a ${quote === '"' ? 'double' : 'single'} quote that is not closed on that line`);
        return;
      }
      const rest = raw.slice(end + 1).trim();
      if (rest !== '' && !rest.startsWith('#')) {
        problems.push(`${where}: the value of ${name} has text after its closing quote (quote the whole value, no escapes)`);
        return;
      }
      values.set(name, raw.slice(1, end));
      return;
    }
    values.set(name, raw.replace(/\s+#.*$/, ''));
  });
  return { values, problems };
}

export interface EnvWithFile {
  /** The environment, completed by the `.env` file's values for the names the environment does not set. */
  readonly env: EnvRecord;
  /** The file read, if any. */
  readonly file?: string;
  readonly problems: readonly string[];
}

/** Reads the `.env` file the environment selects (if any) under `cwd` and merges it under `env`. */
export function withEnvFile(env: EnvRecord, files: ConfigFiles, cwd: string): EnvWithFile {
  const given = setting(env, ENV_FILE_VARIABLE);
  const file = resolve(cwd, given ?? '.env');
  let text: string;
  try {
    text = files.readText(file);
  } catch (error) {
    if (given === undefined && (error as { code?: unknown } | null)?.code === 'ENOENT') return { env, problems: [] };
    const problem = given === undefined
      ? `.env file "${file}" ${fileProblem(error)}: make it a readable KEY=value file, or remove it`
      : `${ENV_FILE_VARIABLE}="${given}": the file ${fileProblem(error)}; point it at a readable KEY=value file, or unset it`;
    return { env, problems: [problem] };
  }
  const { values, problems } = parseEnvFile(text, file);
  const merged: Record<string, string | undefined> = Object.fromEntries(values);
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined) Object.defineProperty(merged, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return { env: merged, file, problems };
}
