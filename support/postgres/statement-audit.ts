/**
 * Reads a PostgreSQL server log written with `log_line_prefix = '%m [%p] db=%d user=%u session=%c '` and statement
 * logging on, and finds every statement that reached a database and could have changed it without being undone:
 * anything but a read (SELECT, SHOW, SET, transaction control…) that ran outside a transaction, or inside one that
 * was not rolled back. And every DROP DATABASE, in any database, but of the databases the caller says may be dropped
 * (the template-clone reset's own: the sandbox it replaces and its golden, building and next copies). Used by the
 * live-emulation test to show that a live run never sends prod anything that would change it if a fence were broken,
 * and that the golden identity's sessions only read.
 */

export const AUDIT_LOG_LINE_PREFIX = '%m [%p] db=%d user=%u session=%c ';

export interface LoggedStatement {
  readonly session: string;
  readonly database: string;
  readonly user: string;
  readonly text: string;
}

export interface AuditViolation {
  readonly statement: LoggedStatement;
  readonly why: string;
}

const ENTRY = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\] db=(\S*) user=(\S*) session=(\S+) (\w+):\s+(.*)$/;

/** The `statement:` entries of the log, multi-line statements joined. */
export function loggedStatements(log: string): LoggedStatement[] {
  type Entry = { session: string; database: string; user: string; lines: string[] };
  const statements: Entry[] = [];
  let current: Entry | undefined;
  for (const line of log.split('\n')) {
    const entry = ENTRY.exec(line);
    if (entry) {
      const [, database, user, session, level, message] = entry;
      // Simple protocol: "statement: …"; extended protocol (queries with parameters): "execute <name>: …".
      const statement = level === 'LOG' ? /^(?:statement|execute [^:]*): (.*)$/.exec(message!) : null;
      current = statement ? { session: session!, database: database!, user: user!, lines: [statement[1]!] } : undefined;
      if (current) statements.push(current);
    } else if (current && line !== '') {
      current.lines.push(line.replace(/^\t/, ''));
    }
  }
  return statements.map(({ session, database, user, lines }) => ({ session, database, user, text: lines.join('\n').trim() }));
}

/** Statements that only read, or only steer the session or its transaction. */
const HARMLESS = /^(SELECT|SHOW|SET|RESET|EXPLAIN(?!\s+\(?\s*ANALY[SZ]E)|VALUES|FETCH|CLOSE|DECLARE|DISCARD|DEALLOCATE|PREPARE|SAVEPOINT|RELEASE|ROLLBACK TO|LISTEN|UNLISTEN|LOCK\s+(TABLE\s+)?[^;]*\bIN\s+ACCESS\s+SHARE\s+MODE\s*$)\b/i;
const BEGIN = /^(BEGIN|START\s+TRANSACTION)\b/i;
const ROLLBACK = /^(ROLLBACK|ABORT)\b(?!\s+TO\b)/i;
const COMMIT = /^(COMMIT|END)\b/i;
/**
 * `SELECT` calls that change state all the same. Not `set_config`: like SET, it steers the session or its transaction
 * (pg_dump and the snapshot pin their settings with it), and changes nothing of the database.
 */
const CHANGING_CALL = /\b(pg_terminate_backend|pg_cancel_backend|lo_import|lo_unlink|lo_create|setval|nextval|pg_advisory_lock|pg_reload_conf|pg_rotate_logfile)\s*\(/i;

function changingCall(text: string): boolean {
  return CHANGING_CALL.test(text);
}

function statementsOf(text: string): string[] {
  // psql -c "BEGIN; …; ROLLBACK" arrives as one logged statement: judge each part.
  return text.split(/;\s*(?=(?:[^']*'[^']*')*[^']*$)/).map((part) => part.trim()).filter(Boolean);
}

/** The database a DROP DATABASE names (unquoted as PostgreSQL folds it), or undefined for any other statement. */
function droppedDatabase(text: string): string | undefined {
  const match = /\bDROP\s+DATABASE\s+(?:IF\s+EXISTS\s+)?("(?:[^"]|"")+"|[^\s;(]+)/i.exec(text);
  if (!match) return /\bDROP\s+DATABASE\b/i.test(text) ? '' : undefined;
  const name = match[1]!;
  return name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name.toLowerCase();
}

const SET_TRANSACTION_READ_ONLY = /^SET\s+TRANSACTION\b[^;]*\bREAD\s+ONLY\b/i;
/** A WITH query that only reads: no data-modifying statement in it (string literals aside). */
const READING_WITH = (text: string) => /^WITH\b/i.test(text) && !/\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE)\b/i.test(text.replace(/'(?:[^']|'')*'/g, "''"));

type Judgement = 'begin' | 'commit' | 'rollback' | 'read' | 'change';

/**
 * Each statement (part) of the log with what it is, session by session: transaction control, a read, or what could
 * change a database. Whatever runs in a READ ONLY transaction is a read, since PostgreSQL refuses its writes (pg_dump
 * and the snapshot read so), but for the calls that act outside the data (signals, advisory locks…).
 */
function* judged(statements: readonly LoggedStatement[]): Generator<{ readonly statement: LoggedStatement; readonly judgement: Judgement }> {
  const readOnly = new Map<string, boolean>();
  for (const statement of statements) {
    for (const text of statementsOf(statement.text)) {
      const part = { ...statement, text };
      if (BEGIN.test(text)) {
        readOnly.set(statement.session, /\bREAD\s+ONLY\b/i.test(text));
        yield { statement: part, judgement: 'begin' };
      } else if (ROLLBACK.test(text) || COMMIT.test(text)) {
        readOnly.delete(statement.session);
        yield { statement: part, judgement: ROLLBACK.test(text) ? 'rollback' : 'commit' };
      } else if (SET_TRANSACTION_READ_ONLY.test(text)) {
        if (readOnly.has(statement.session)) readOnly.set(statement.session, true);
        yield { statement: part, judgement: 'read' };
      } else {
        const reads = !changingCall(text) && (readOnly.get(statement.session) === true || HARMLESS.test(text) || READING_WITH(text));
        yield { statement: part, judgement: reads ? 'read' : 'change' };
      }
    }
  }
}

/**
 * What could have changed `database` and was not rolled back; and every DROP DATABASE anywhere but of `droppable`
 * (a DROP DATABASE whose name cannot be read is never droppable).
 */
export function auditStatements(log: string, database: string, droppable: readonly string[] = []): AuditViolation[] {
  const violations: AuditViolation[] = [];
  const open = new Map<string, LoggedStatement[]>();
  for (const { statement, judgement } of judged(loggedStatements(log))) {
    const dropped = droppedDatabase(statement.text);
    if (dropped !== undefined && !droppable.includes(dropped)) violations.push({ statement, why: 'DROP DATABASE' });
    if (statement.database !== database) continue;
    const pending = open.get(statement.session);
    if (judgement === 'begin') open.set(statement.session, []);
    else if (judgement === 'rollback') open.delete(statement.session);
    else if (judgement === 'commit') {
      for (const change of pending ?? []) violations.push({ statement: change, why: 'committed' });
      open.delete(statement.session);
    } else if (judgement === 'change') {
      if (pending) pending.push(statement);
      else violations.push({ statement, why: 'outside a transaction' });
    }
  }
  // A transaction the log never saw end was not rolled back as far as anyone can tell.
  for (const pending of open.values()) for (const change of pending) violations.push({ statement: change, why: 'in a transaction that never ended' });
  return violations;
}

/** Statements of `statements` that do more than read or steer the session and its transaction, whatever became of them. */
export function notReads(statements: readonly LoggedStatement[]): LoggedStatement[] {
  return [...judged(statements)].filter(({ judgement }) => judgement === 'change').map(({ statement }) => statement);
}

export function describeViolation(violation: AuditViolation): string {
  const { statement, why } = violation;
  return `${why}: [${statement.database} as ${statement.user}, session ${statement.session}] ${statement.text.replace(/\s+/g, ' ').slice(0, 200)}`;
}
