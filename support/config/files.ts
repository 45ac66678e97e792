import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';

/**
 * The few file reads the configuration makes (the `.env` file, CA certificates, the golden manifest) and the
 * readability checks of the files the run will need (golden archive, restore list, waivers, token files).
 * Tests pass their own; the default reads the real file system.
 */
export interface ConfigFiles {
  /** The file's text; throws like `fs.readFileSync` (ENOENT, EACCES, EISDIR…). */
  readText(path: string): string;
  /** Throws unless `path` is a regular file this process can open for reading; its content is not read. */
  checkReadable(path: string): void;
}

export const nodeFiles: ConfigFiles = {
  readText: (path) => readFileSync(path, 'utf8'),
  checkReadable: (path) => {
    const fd = openSync(path, 'r');
    try {
      if (fstatSync(fd).isDirectory()) throw Object.assign(new Error(`EISDIR: ${path}`), { code: 'EISDIR' });
    } finally {
      closeSync(fd);
    }
  },
};

/** Why a file could not be used, in words an operator acts on ("does not exist", "cannot be read …"). */
export function fileProblem(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'ENOTDIR':
      return 'does not exist (a part of the path is not a directory)';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read (permission denied)';
    case 'EISDIR':
      return 'is a directory, not a file';
    default:
      return `cannot be read (${typeof code === 'string' ? code : 'unknown error'})`;
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** `null` when `text` holds one or more PEM certificates that parse, else why not. Never quotes the text. */
export function pemCertificateProblem(text: string): string | null {
  const blocks = text.match(PEM_CERTIFICATE);
  if (!blocks) return 'is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" block)';
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      return `holds a PEM block that is not a valid certificate (certificate ${index + 1} of ${blocks.length})`;
    }
  }
  return null;
}
