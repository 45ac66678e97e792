import { createHash } from 'node:crypto';
import { readFileSync, renameSync } from 'node:fs';
import type { WriteExchange } from '../dolibarr/client';
import type { RelationChange } from '../lifecycle/diff';
import { writeRedacted } from '../redacted-files';
import { redactData } from '../redaction';

/**
 * A changeset: what a rehearsal on the sandbox did, as one file a human reviews and approves before it may be
 * replayed on prod (ADR-0003 §4). It holds the API operations the write tooling sent to the sandbox (with their
 * answers), the sandbox's content hashes before and after, and the row-level diff between them. Its digest is a
 * SHA-256 over its canonical JSON (keys sorted, no whitespace), the digest field itself left out: the approval names
 * the digest, so a changeset edited after review no longer matches what was approved.
 */

export const CHANGESET_FORMAT = 1;

/**
 * One write the tooling sent, as the client told its `onWrite` observer: method, path under the API root, body, the
 * HTTP status Dolibarr answered and its answer (for a create: the new object's id). Keys and headers are never recorded.
 */
export type RecordedOperation = WriteExchange;

/** A content hash of a whole state, and of each relation in it (`kind name` → hash). */
export interface StateHashes {
  readonly root: string;
  readonly relations: Readonly<Record<string, string>>;
}

export interface ChangesetContent {
  readonly format: typeof CHANGESET_FORMAT;
  /** What was rehearsed, in a sentence. */
  readonly title: string;
  readonly rehearsal: {
    /** The Dolibarr host the operations went to: the sandbox's, or promote refuses the changeset. */
    readonly host: string;
    readonly instance: string;
    readonly database: string;
    /** ISO 8601. */
    readonly at: string;
    /** Who recorded it (OS user or CI actor). */
    readonly by: string;
  };
  /** The instance the changeset is for. */
  readonly prod: { readonly instance: string; readonly host: string; readonly database: string };
  readonly operations: readonly RecordedOperation[];
  readonly before: StateHashes;
  readonly after: StateHashes;
  /** The sandbox's diff from before to after, down to rows where a table changed. */
  readonly changes: readonly RelationChange[];
}

export interface Changeset extends ChangesetContent {
  /** `sha256:<hex>` of the canonical content. */
  readonly digest: string;
}

export class ChangesetError extends Error {
  override readonly name = 'ChangesetError';
}

/** JSON with object keys sorted at every level and no whitespace: the same content always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (value === undefined) throw new ChangesetError('a changeset holds no undefined value');
    if (typeof value === 'number' && !Number.isFinite(value)) throw new ChangesetError(`a changeset holds no non-finite number (${value})`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

export function digestOf(content: ChangesetContent): string {
  const { digest: _ignored, ...rest } = content as ChangesetContent & { digest?: string };
  return `sha256:${createHash('sha256').update(canonicalJson(rest)).digest('hex')}`;
}

/**
 * Writes the changeset atomically (a crash leaves the old file or the new one, never half of one) through the
 * redaction point, and returns it as written: a secret the rehearsal met (an answer quoting a key) is `[redacted]`
 * in it, and the digest is the redacted content's, so what is reviewed is what promote would replay.
 */
export function writeChangeset(path: string, content: ChangesetContent): Changeset {
  const written = redactData(content);
  const changeset: Changeset = { ...written, digest: digestOf(written) };
  const partial = `${path}.partial`;
  writeRedacted(partial, `${JSON.stringify(changeset, null, 2)}\n`);
  renameSync(partial, path);
  return changeset;
}

export interface LoadedChangeset {
  readonly changeset: Changeset;
  /** The digest of the content as it is now; differs from `changeset.digest` when the file was edited. */
  readonly computed: string;
}

/** Reads a changeset file; throws ChangesetError (saying what is wrong) when it is not one. */
export function readChangeset(path: string): LoadedChangeset {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ChangesetError(`cannot read the changeset ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ChangesetError(`the changeset ${path} is not JSON: ${(error as Error).message}`);
  }
  const changeset = parsed as Partial<Changeset> | null;
  if (changeset === null || typeof changeset !== 'object' || changeset.format !== CHANGESET_FORMAT) {
    throw new ChangesetError(`${path} is not a changeset of format ${CHANGESET_FORMAT}`);
  }
  const missing = (['title', 'rehearsal', 'prod', 'operations', 'before', 'after', 'changes', 'digest'] as const).filter((key) => changeset[key] === undefined);
  if (missing.length > 0) throw new ChangesetError(`the changeset ${path} lacks ${missing.join(', ')}`);
  if (!Array.isArray(changeset.operations) || !Array.isArray(changeset.changes)) throw new ChangesetError(`the changeset ${path} has malformed operations or changes`);
  return { changeset: changeset as Changeset, computed: digestOf(changeset as Changeset) };
}
