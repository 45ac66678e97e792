/** Where the project's files are, and paths as the catalogue writes them (relative to the root, with forward slashes). */
import { join, sep } from 'node:path';

/** The project's root: cucumber.js, steps/, features/. */
export const ROOT = join(__dirname, '..', '..');

export const posix = (path: string) => path.split(sep).join('/');
