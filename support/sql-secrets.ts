import { registerSecret } from './redaction';

/**
 * The secrets an operator's SQL carries, such as the sandbox overlay (ERP_REHEARSAL_SANDBOX_OVERLAY), which writes the
 * agent's sandbox key into Dolibarr's key storage: every string literal assigned to or compared with a column whose
 * name says it holds a secret (`api_key = '…'`, `pass_crypted = '…'`), and every literal in Dolibarr's encrypted form
 * (`'dolcrypt:…'`, reversible with the instance's id). A PostgreSQL error about the statement may quote such a value.
 */

const ASSIGNED = /\b\w*(?:api_?key|pass\w*|token|secret)\w*\s*(?:=|<>|!=)\s*(?:E)?'((?:[^']|'')*)'/gi;
const DOLCRYPT = /'(dolcrypt:(?:[^']|'')*)'/gi;

/** The secret literals of `sql`, unquoted. */
export function sqlSecrets(sql: string): string[] {
  const found = [...sql.matchAll(ASSIGNED), ...sql.matchAll(DOLCRYPT)].map((match) => match[1]!.replace(/''/g, "'"));
  return [...new Set(found)];
}

/** Registers every secret literal of `sql` with the redaction point (values too short to register are skipped). */
export function registerSqlSecrets(sql: string): void {
  for (const value of sqlSecrets(sql)) registerSecret(value);
}
