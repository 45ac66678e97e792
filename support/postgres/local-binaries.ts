import { execFileSync } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Programs a local cluster needs: the server itself and the client tools the lifecycle runs. */
export const REQUIRED_PROGRAMS = ['initdb', 'postgres', 'pg_dump', 'pg_restore', 'psql'] as const;
/** What a target that starts no server needs (the live target). */
export const CLIENT_PROGRAMS = ['pg_dump', 'pg_restore', 'psql'] as const;

export interface BinariesLookup {
  /** The directory holding every required program, when one was found. */
  readonly bindir?: string;
  /** Every place looked at and why it did not do, for the error message. */
  readonly tried: readonly string[];
}

function missingPrograms(dir: string, programs: readonly string[]): string[] {
  return programs.filter((program) => {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
}

function pgConfigBindir(): string | undefined {
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** /usr/lib/postgresql/<major>/bin directories, newest major first. */
function debianBindirs(root = '/usr/lib/postgresql'): string[] {
  try {
    return readdirSync(root)
      .filter((major) => /^\d+$/.test(major))
      .sort((a, b) => Number(b) - Number(a))
      .map((major) => join(root, major, 'bin'));
  } catch {
    return [];
  }
}

/**
 * Finds PostgreSQL's binaries. An explicit directory is final: when the operator names one, the harness
 * uses it or says why not, and never falls back to something else behind their back.
 */
export function findLocalBinaries(explicitBindir?: string, programs: readonly string[] = REQUIRED_PROGRAMS): BinariesLookup {
  const candidates = explicitBindir
    ? [{ dir: explicitBindir, source: 'ERP_REHEARSAL_PG_BINDIR' }]
    : [
        ...[pgConfigBindir()].filter((dir): dir is string => !!dir).map((dir) => ({ dir, source: 'pg_config --bindir' })),
        ...debianBindirs().map((dir) => ({ dir, source: 'newest /usr/lib/postgresql/*/bin' })),
      ];
  const tried: string[] = [];
  for (const { dir, source } of candidates) {
    const missing = missingPrograms(dir, programs);
    if (missing.length === 0) return { bindir: dir, tried };
    tried.push(`${dir} (from ${source}) lacks ${missing.join(', ')}`);
  }
  if (candidates.length === 0) tried.push('no pg_config on PATH and no /usr/lib/postgresql/*/bin');
  return { tried };
}
