import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { appendRedacted } from '../redacted-files';

/**
 * The promote audit trail: one JSON line per attempt, refused or not — who, when, which changeset and digest, and
 * the outcome with its reason. Appended, never rewritten; a line is written before promote returns or throws, through
 * the redaction point (a refusal's reason may quote what Vault or Dolibarr answered). A replay also gets a line before
 * its first write to prod, so a promotion killed midway is in the audit too, its journal named.
 */

export interface AuditRecord {
  readonly at: string;
  readonly who: string;
  readonly changeset: string;
  /** The digest the changeset file carries (absent when it could not be read). */
  readonly digest?: string;
  /** `replaying`: written before the first write to prod; `stopped`: by a signal, at an operation boundary. */
  readonly outcome: 'refused' | 'replaying' | 'promoted' | 'stopped' | 'failed';
  /** The refusal's reason, or what failed. */
  readonly reason?: string;
  /** For a promotion: whether prod's diff equals the rehearsed one. */
  readonly prodDiffEqual?: boolean;
  readonly operations?: number;
  /** A resumed promotion: the first operation (1-based) this attempt sends. */
  readonly resumedAt?: number;
  /** The promotion's journal (support/promote/journal.ts). */
  readonly journal?: string;
}

export function appendAudit(path: string, record: AuditRecord): void {
  mkdirSync(dirname(path), { recursive: true });
  appendRedacted(path, `${JSON.stringify(record)}\n`);
}
