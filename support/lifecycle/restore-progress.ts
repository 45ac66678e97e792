/**
 * Progress of a restore that runs in other sessions (psql replaying the golden, or pg_restore's jobs),
 * read from the server while it runs: which golden entry each session is at and how many rows its COPY
 * has processed. For a person watching a long reset on a terminal; CI logs stay quiet unless asked.
 */
import type { Client } from 'pg';

/** pg_restore -l's entry types of more than one word, longest first. */
const MULTI_WORD_TYPES = ['MATERIALIZED VIEW DATA', 'SEQUENCE OWNED BY', 'MATERIALIZED VIEW', 'FK CONSTRAINT', 'SEQUENCE SET', 'TABLE DATA', 'DEFAULT ACL'];

/** A golden list line, e.g. `3456; 0 16500 TABLE DATA public llx_societe erp_role`, as `TABLE DATA public.llx_societe`. */
export function listEntryKey(line: string): string | undefined {
  const match = /^\d+;\s+\d+\s+\d+\s+(.*)\s+\S+$/.exec(line.trim());
  if (!match) return undefined;
  const described = match[1]!;
  const type = MULTI_WORD_TYPES.find((candidate) => described.startsWith(`${candidate} `)) ?? described.split(' ')[0]!;
  const [schema, ...name] = described.slice(type.length + 1).split(' ');
  return schema === undefined || name.length === 0 ? undefined : `${type} ${schema}.${name.join(' ')}`;
}

/** What a restore statement restores, as the list entry keys it may be (a constraint is a CONSTRAINT or an FK CONSTRAINT). */
export function statementEntryKeys(query: string): string[] {
  const unquote = (name: string) => name.replace(/"/g, '');
  let match = /^COPY\s+([^\s(]+)/i.exec(query);
  if (match) return [`TABLE DATA ${unquote(match[1]!)}`];
  match = /^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(\S+)\s+ON\s+(?:ONLY\s+)?("?[^".\s]+"?)\./i.exec(query);
  if (match) return [`INDEX ${unquote(match[2]!)}.${unquote(match[1]!)}`];
  match = /^CREATE\s+(TABLE|SEQUENCE)\s+([^\s(]+)/i.exec(query);
  if (match) return [`${match[1]!.toUpperCase()} ${unquote(match[2]!)}`];
  match = /^ALTER\s+TABLE\s+(?:ONLY\s+)?(\S+)\s+ADD\s+CONSTRAINT\s+(\S+)/i.exec(query);
  if (match) return ['CONSTRAINT', 'FK CONSTRAINT'].map((type) => `${type} ${unquote(match![1]!)} ${unquote(match![2]!)}`);
  return [];
}

export interface RestoreActivity {
  readonly query: string;
  /** Rows its COPY has processed so far, when it is a COPY. */
  readonly rows?: number;
}

/** The restore sessions' current statements: sessions named `application` on this database, other than `client`'s own. */
export async function restoreActivity(client: Client, application: string): Promise<RestoreActivity[]> {
  const { rows } = await client.query<{ query: string; rows: string | null }>(
    `SELECT left(a.query, 200) AS query, p.tuples_processed::text AS rows
       FROM pg_stat_activity a LEFT JOIN pg_stat_progress_copy p ON p.pid = a.pid
      WHERE a.datname = current_database() AND a.application_name = $1 AND a.pid <> pg_backend_pid() AND a.state = 'active'
      ORDER BY a.pid`,
    [application],
  );
  return rows.map((row) => ({ query: row.query, ...(row.rows === null ? {} : { rows: Number(row.rows) }) }));
}

/** Turns activity samples into progress lines: the furthest entry of the golden's list reached, and what each session does. */
export class RestoreProgress {
  private readonly position = new Map<string, number>();
  private furthest = 0;

  constructor(
    listLines: readonly string[],
    private readonly started = Date.now(),
  ) {
    listLines.forEach((line, index) => {
      const key = listEntryKey(line);
      if (key !== undefined && !this.position.has(key)) this.position.set(key, index + 1);
    });
  }

  get entries(): number {
    return this.position.size;
  }

  line(activity: readonly RestoreActivity[], now = Date.now()): string {
    const doing = activity.map((session) => {
      const keys = statementEntryKeys(session.query);
      const key = keys.find((candidate) => this.position.has(candidate));
      if (key !== undefined) this.furthest = Math.max(this.furthest, this.position.get(key)!);
      const what = key ?? session.query.replace(/\s+/g, ' ').slice(0, 60);
      return session.rows === undefined ? what : `${what} (${session.rows.toLocaleString('en-US')} rows)`;
    });
    const seconds = Math.round((now - this.started) / 1000);
    return `reset: ${seconds} s, entry ${this.furthest} of ${this.entries}${doing.length > 0 ? `: ${doing.join('; ')}` : ''}`;
  }
}

/**
 * Polls the restore sessions every `everyMs` through `client` (idle while the restore runs) and reports a
 * line each time, until the returned stop function is called. A failed poll is reported once and ends the watch.
 */
export function watchRestore(client: Client, application: string, listLines: readonly string[], report: (line: string) => void, everyMs = 1000): () => Promise<void> {
  const progress = new RestoreProgress(listLines);
  let stopped = false;
  let pending: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    pending = pending.then(async () => {
      if (stopped) return;
      try {
        report(progress.line(await restoreActivity(client, application)));
      } catch (error) {
        stopped = true;
        report(`reset: progress not available: ${(error as Error).message}`);
      }
    });
  }, everyMs);
  return async () => {
    stopped = true;
    clearInterval(timer);
    await pending;
  };
}
