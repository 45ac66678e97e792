import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { appendRedacted } from '../redacted-files';

/**
 * The promote audit trail: one JSON line per attempt, refused or not — who, when, which changeset and digest, and
 * the outcome with its reason. Appended, never rewritten; a line is written before promote returns or throws, through
 * the redaction point (a refusal's reason may quote what Vault or Dolibarr answered).
 */

export interface AuditRecord {
  readonly at: string;
  readonly who: string;
  readonly changeset: string;
  /** The digest the changeset file carries (absent when it could not be read). */
  readonly digest?: string;
  readonly outcome: 'refused' | 'promoted' | 'failed';
  /** The refusal's reason, or what failed. */
  readonly reason?: string;
  /** For a promotion: whether prod's diff equals the rehearsed one. */
  readonly prodDiffEqual?: boolean;
  readonly operations?: number;
}

export function appendAudit(path: string, record: AuditRecord): void {
  mkdirSync(dirname(path), { recursive: true });
  appendRedacted(path, `${JSON.stringify(record)}\n`);
}
