import type { ClientTools, Login, ToolResult } from './cluster';

/** A client tool that exited non-zero; carries its stderr (pg_restore reports errors per entry). */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  constructor(
    readonly tool: string,
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(`${tool} failed (exit ${exitCode}): ${stderr.trim().split('\n').slice(0, 10).join('\n')}`);
  }
}

function succeeded(tool: string, result: ToolResult): ToolResult {
  if (result.exitCode !== 0) throw new ToolError(tool, result.exitCode, result.stderr);
  return result;
}

/** A custom-format (`-Fc`) archive of `database`, made by the cluster's own pg_dump as `login`. */
export async function dumpArchive(
  tools: ClientTools,
  login: Login,
  database: string,
  options: readonly string[] = [],
  sessionOptions?: string,
): Promise<Buffer> {
  const result = await tools.run('pg_dump', ['--format=custom', ...options], { login, database, options: sessionOptions });
  return succeeded('pg_dump', result).stdout;
}

/** The archive's table of contents as pg_restore -l prints it, comments left out. */
export async function listArchive(tools: ClientTools, login: Login, archive: Buffer): Promise<string[]> {
  // pg_restore -l reads the archive from stdin and connects to nothing.
  const result = await tools.run('pg_restore', ['--list'], { login, database: 'postgres', stdin: archive });
  return succeeded('pg_restore', result)
    .stdout.toString()
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith(';'));
}

/**
 * The entries of a table of contents owned by `owner` (the owner is the last word of each line, e.g.
 * `219; 1255 16462 FUNCTION public update_modified_column_tms() erp_role`): exactly what
 * `DROP OWNED BY` removes on the other side, and nothing the provisioner owns.
 */
export function entriesOwnedBy(toc: readonly string[], owner: string): string[] {
  return toc.filter((line) => line.trimEnd().split(/\s+/).at(-1) === owner);
}

/** A privilege entry of a table of contents: `ACL` (the grants on an object) or `DEFAULT ACL` (ALTER DEFAULT PRIVILEGES). */
const PRIVILEGE_ENTRY = /^\d+;\s+\d+\s+\d+\s+(?:DEFAULT\s+)?ACL\s/;

/** Whether a line of `pg_restore -l` is a privilege entry (`ACL` or `DEFAULT ACL`) rather than an object or its data. */
export function isPrivilegeEntry(line: string): boolean {
  return PRIVILEGE_ENTRY.test(line);
}

/**
 * The entries a golden restores: those `owner` owns (entriesOwnedBy), less the privilege entries. A grant names prod's
 * roles — restored into the sandbox, prod's `GRANT SELECT … TO erp_reader_role` would let the golden identity read the
 * sandbox, and `ALTER DEFAULT PRIVILEGES FOR ROLE erp_role` cannot even run there (the sandbox's login is no member of
 * erp_role), which would fail every reset. The sandbox's privileges are its owner role's, as its own layout gives them.
 */
export function restorableEntries(toc: readonly string[], owner: string): string[] {
  return entriesOwnedBy(toc, owner).filter((line) => !isPrivilegeEntry(line));
}

/** The owner of the table-of-contents entry of that kind and schema-qualified name (e.g. FUNCTION, `public.f(text)`), if listed. */
export function entryOwner(toc: readonly string[], kind: string, qualifiedName: string): string | undefined {
  const dot = qualifiedName.indexOf('.');
  const wanted = ` ${kind} ${qualifiedName.slice(0, dot)} ${qualifiedName.slice(dot + 1)} `;
  return toc.find((line) => line.includes(wanted))?.trimEnd().split(/\s+/).at(-1);
}
