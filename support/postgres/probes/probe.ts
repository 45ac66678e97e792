import type { InstanceNames } from '../../naming';
import { ident, literal } from '../connect';

/**
 * A probe of the prod-undroppable proof (ADR-0003 §QA): one attempt the sandbox credential must not be
 * able to make, the exact refusal that proves the fence, the positive control that proves the attempt
 * itself is sound, and the form of the attempt that is safe to send to a live prod.
 *
 * The harness's own safety rule (docs/ARCHITECTURE.md, rule 2) is enforced here, at definition time: a probe whose
 * live form could change prod if the fence were broken, or stall it, cannot be defined at all.
 */

/** Who a statement runs as. The probe itself always runs as 'sandbox'; the others serve controls only. */
export type Credential = 'sandbox' | 'prod owner' | 'credentials editor' | 'provisioner';

/** The database a probe targets: prod `erp` or the sandbox `erp-sandbox` (named by the context). */
export type Place = 'prod' | 'sandbox';

export interface ProbeContext {
  readonly prod: InstanceNames;
  readonly sandbox: InstanceNames;
  /** The provisioner's pgbouncer function, as a signature: `public.user_lookup(text)` or `pgbouncer.user_lookup(text)`. */
  readonly userLookup: string;
}

/**
 * The form of a probe that may be sent to a live target:
 * - `rollback`: the probe's own statement (or `statement`, a substitute that goes through the same check,
 *   `rule` saying why it is the same) inside BEGIN … ROLLBACK — never one that locks prod's object before PostgreSQL
 *   checks the privilege (LOCKS_BEFORE_CHECK) nor one that executes a write (a write's live form is its EXPLAIN);
 * - `catalogue`: a read-only query returning one row `{ allowed: boolean }`; refused iff allowed = false.
 */
export type LiveForm =
  | { readonly kind: 'rollback'; readonly statement?: string; readonly rule?: string }
  | { readonly kind: 'catalogue'; readonly query: string; readonly rule: string };

/**
 * The probe's mirror: the same attempt aimed at the sandbox's own object (its database, its owner role, its tables,
 * sequences and functions), run as the sandbox login in the sandbox database, which must SUCCEED — so a refusal on
 * prod is shown to be the fence and not a malformed statement, on a target that holds no credential entitled to
 * the attempt on prod. It is as safe as a live form: nothing of it survives.
 * - `rollback`: `statement` in BEGIN … ROLLBACK (null: connecting to the sandbox is the whole mirror); `rule` says
 *   why it goes through the probe's check when it is not the probe's own statement (required when the probe's
 *   statement cannot be rolled back: the mirror is then the live form's counterpart);
 * - `catalogue`: a read-only query returning one row `{ allowed: boolean }`, asked of the sandbox's own object;
 *   it must answer allowed = true;
 * - `none`: nothing of the sandbox's is entitled to the attempt; `why` says so, and the positive control stays
 *   not applicable wherever the entitled credential is not held.
 *
 * `aimsAt` names the sandbox's objects it needs that only a sandbox holding Dolibarr's schema has (a relation,
 * or a function by its signature), so a run can make sure the sandbox holds them before the mirror runs.
 */
export type Mirror =
  | { readonly kind: 'rollback'; readonly statement: string | null; readonly rule?: string; readonly aimsAt?: readonly string[] }
  | { readonly kind: 'catalogue'; readonly query: string; readonly rule: string; readonly aimsAt?: readonly string[] }
  | { readonly kind: 'none'; readonly why: string };

/** A known gap of the as-provisioned layout, and what closes it. */
export interface Weakness {
  readonly name: string;
  readonly fix: string;
}

/**
 * The fences of the layout. A probe `covers` a fence when breaking that fence alone, on the hardened
 * layout, turns the probe red (it is no longer refused for its reason). Prod-side probes are behind two
 * fences on the hardened layout — the database's CONNECT and the object's own privileges — so only a
 * break that opens both (membership, ownership, superuser) reaches them.
 */
export type Fence =
  /** The sandbox login is not a member of erp_role. */
  | 'membership'
  /** erp is owned by erp_role (and through pg_database_owner, so is its schema public). */
  | 'ownership'
  /** The sandbox login is not a superuser. */
  | 'no superuser'
  /** The sandbox login has no CREATEDB. */
  | 'no createdb'
  /** The sandbox login has no CREATEROLE (in PostgreSQL 15 it could grant itself any non-superuser role). */
  | 'no createrole'
  /** The sandbox login holds no predefined role reaching the server: pg_signal_backend, pg_execute_server_program, pg_read/write_server_files, pg_read/write_all_data. */
  | 'predefined roles'
  /** EXECUTE on the provisioner's user_lookup (and USAGE on its schema), lo_import and pg_read_file is not granted to PUBLIC. */
  | 'function privileges'
  /** CONNECT and TEMP on erp are not granted to PUBLIC. */
  | 'database connect';

export const FENCES: readonly Fence[] = [
  'membership',
  'ownership',
  'no superuser',
  'no createdb',
  'no createrole',
  'predefined roles',
  'function privileges',
  'database connect',
];

export interface ProbeControl {
  readonly credential: Credential;
  /** Where the control runs: the probe's places, or the maintenance database `postgres`. */
  readonly database: Place | 'postgres';
  readonly statement: string;
  /** true: run inside BEGIN … ROLLBACK; false: run bare (it must then undo itself or have a teardown). */
  readonly transactional: boolean;
  /** Run first by the provisioner in `postgres`, statement by statement (separated by `;`). */
  readonly setup?: string;
  /** Run last by the provisioner in `postgres`, whatever happened, statement by statement. */
  readonly teardown?: string;
}

export interface Probe {
  /** kebab-case, unique. */
  readonly id: string;
  /** What an auditor reads, e.g. 'drop database erp'. */
  readonly attempt: string;
  readonly database: Place;
  /** null: connecting is the attempt. */
  readonly statement: string | null;
  /** Whether the statement may run in BEGIN … ROLLBACK with nothing of it surviving the rollback. */
  readonly transactional: boolean;
  /** `message` is anchored (^…$) on the server's primary message; `reason` is one plain line. */
  readonly refusal: { readonly sqlstate: string; readonly message: RegExp; readonly reason: string };
  /** The fence it proves, in plain words. */
  readonly fence: string;
  readonly covers: readonly Fence[];
  readonly live: LiveForm;
  readonly control: ProbeControl;
  /** The positive control a target without an entitled credential runs: the attempt on the sandbox's own object. */
  readonly mirror: Mirror;
  /** The runner opens a prod session (as a prod owner member) and puts its pid in place of PROD_SESSION_PID. */
  readonly needsProdSession?: boolean;
  /** Set on probes that are allowed on the as-provisioned layout. */
  readonly weakness?: Weakness;
}

/** Token in a statement replaced with the pid of a prod session the runner opens. */
export const PROD_SESSION_PID = '{prod_session_pid}';

export class ProbeDefinitionError extends Error {
  override readonly name = 'ProbeDefinitionError';
}

/**
 * Constructs that must never run in a rollback-only form: their effect is not undone by ROLLBACK
 * (sequences, signals, files, programs, other connections, notifications), or they cannot run in a
 * transaction block at all. Matched case-insensitively anywhere in the SQL, literals included: a false
 * alarm costs a rewrite, a miss could cost prod.
 */
export const NON_TRANSACTIONAL: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  { name: 'DROP DATABASE', pattern: /\bDROP\s+DATABASE\b/i },
  { name: 'CREATE DATABASE', pattern: /\bCREATE\s+DATABASE\b/i },
  { name: 'ALTER DATABASE … RENAME', pattern: /\bALTER\s+DATABASE\b[\s\S]*\bRENAME\b/i },
  { name: 'ALTER DATABASE … SET TABLESPACE', pattern: /\bALTER\s+DATABASE\b[\s\S]*\bTABLESPACE\b/i },
  { name: 'CREATE/DROP TABLESPACE', pattern: /\b(CREATE|DROP)\s+TABLESPACE\b/i },
  { name: 'ALTER SYSTEM', pattern: /\bALTER\s+SYSTEM\b/i },
  { name: 'VACUUM', pattern: /\bVACUUM\b/i },
  { name: 'CHECKPOINT', pattern: /\bCHECKPOINT\b/i },
  { name: '… CONCURRENTLY', pattern: /\bCONCURRENTLY\b/i },
  { name: 'REINDEX DATABASE/SYSTEM', pattern: /\bREINDEX\s+(DATABASE|SYSTEM)\b/i },
  { name: 'nextval', pattern: /\bnextval\b/i },
  { name: 'setval', pattern: /\bsetval\b/i },
  { name: 'pg_terminate_backend', pattern: /\bpg_terminate_backend\b/i },
  { name: 'pg_cancel_backend', pattern: /\bpg_cancel_backend\b/i },
  { name: 'pg_reload_conf', pattern: /\bpg_reload_conf\b/i },
  { name: 'pg_rotate_logfile', pattern: /\bpg_rotate_logfile\b/i },
  { name: 'pg_switch_wal', pattern: /\bpg_switch_wal\b/i },
  { name: 'replication slots', pattern: /\bpg_(create|drop)_\w*replication_slot\b/i },
  { name: 'COPY … PROGRAM', pattern: /\bCOPY\b[\s\S]*\bPROGRAM\b/i },
  { name: 'COPY … TO/FROM a server file', pattern: /\bCOPY\b[\s\S]*\b(TO|FROM)\s+(E?'|\$)/i },
  { name: 'lo_import', pattern: /\blo_import\b/i },
  { name: 'lo_export', pattern: /\blo_export\b/i },
  { name: 'pg_file_write', pattern: /\bpg_file_(write|rename|unlink|sync)\b/i },
  { name: 'dblink', pattern: /\bdblink/i },
  { name: 'SQL run from text (query_to_xml…)', pattern: /\b(query_to_xml\w*|cursor_to_xml\w*)\b/i },
  { name: 'pg_background', pattern: /\bpg_background/i },
  { name: 'pg_advisory_lock', pattern: /\bpg_(try_)?advisory/i },
  { name: 'pg_notify', pattern: /\bpg_notify\b/i },
  { name: 'NOTIFY', pattern: /\bNOTIFY\b/i },
];

/**
 * A statement or query that could lift the lock and statement timeouts its transaction runs under (SET LOCAL,
 * checked with SHOW before it runs): a live form or a mirror must never wait on another session.
 */
const LIFTS_BOUNDS = /\b(lock_timeout|statement_timeout|set_config|RESET)\b/i;

/** A statement that ends or escapes the transaction the rollback-only form wraps it in. */
const TRANSACTION_CONTROL = /^\s*(BEGIN|START|COMMIT|END|ROLLBACK|ABORT|PREPARE|SAVEPOINT|RELEASE|SET\s+TRANSACTION|SET\s+SESSION\s+CHARACTERISTICS|CALL|DO)\b/i;

/** Words that make a SELECT write (data-modifying CTE, SELECT INTO) or lock rows. */
const WRITES_IN_A_SELECT = /\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|INTO|FOR\s+(NO\s+KEY\s+)?UPDATE|FOR\s+(KEY\s+)?SHARE)\b/i;

/**
 * Statements PostgreSQL 15 runs with a lock on the object they name taken BEFORE it checks the privilege (measured: each
 * gave up on its lock timeout, not with 42501, while another session held a conflicting lock and the privilege was
 * missing — but SECURITY LABEL, which gets that far only with a label provider loaded, and locks as COMMENT ON does in
 * PostgreSQL's source). Sent to a live prod, such a statement queues behind prod's own sessions — CREATE TRIGGER behind any open
 * write of its Dolibarr — and every later session that needs the object queues behind it. A live form asks the
 * catalogue for PostgreSQL's rule instead.
 *
 * Not listed, because they check first (a lookup with a permission callback, or an ACL check before the object is
 * locked): TRUNCATE, ALTER TABLE, DROP TABLE/VIEW/INDEX/SEQUENCE, LOCK, CREATE INDEX, CREATE POLICY, GRANT, CREATE
 * TABLE/FUNCTION/SCHEMA, CREATE OR REPLACE FUNCTION, DROP OWNED, REASSIGN OWNED, SET ROLE, CREATE ROLE, GRANT of a role.
 * Nor the parser's lock of a SELECT (ACCESS SHARE) or of an EXPLAINed write (ROW EXCLUSIVE): those are the modes prod's
 * own reads and writes take, so they never wait on an open write of prod's nor make one wait (they can wait, bounded,
 * behind prod's own DDL, as prod's reads and writes then do). Nor ALTER ROLE and ALTER DATABASE … OWNER, which lock the
 * shared catalog (pg_authid, pg_database) they change, as every role or database change does, and no object of prod's.
 */
export const LOCKS_BEFORE_CHECK: readonly { readonly name: string; readonly pattern: RegExp; readonly lock: string }[] = [
  { name: 'CREATE TRIGGER', pattern: /\bCREATE\s+(OR\s+REPLACE\s+)?(CONSTRAINT\s+)?TRIGGER\b/i, lock: 'SHARE ROW EXCLUSIVE on the table before the TRIGGER privilege is checked' },
  { name: 'CREATE RULE', pattern: /\bCREATE\s+(OR\s+REPLACE\s+)?RULE\b/i, lock: 'ACCESS EXCLUSIVE on the table before its ownership is checked' },
  { name: 'COMMENT ON', pattern: /\bCOMMENT\s+ON\b/i, lock: 'SHARE UPDATE EXCLUSIVE on the object before its ownership is checked' },
  { name: 'SECURITY LABEL', pattern: /\bSECURITY\s+LABEL\b/i, lock: 'SHARE UPDATE EXCLUSIVE on the object before its ownership is checked' },
  { name: 'ALTER DATABASE … SET/RESET', pattern: /\bALTER\s+DATABASE\b[\s\S]*\b(SET|RESET)\b/i, lock: 'ACCESS SHARE on the database before its ownership is checked' },
  {
    name: 'DROP of a function, schema, type, trigger…',
    // ALTER TABLE's DROP COLUMN, CONSTRAINT… are ALTER TABLE, which checks first.
    pattern: /\bDROP\s+(?!(?:TABLE|VIEW|MATERIALIZED|INDEX|SEQUENCE|FOREIGN\s+TABLE|DATABASE|OWNED|ROLE|USER|GROUP|TABLESPACE|COLUMN|CONSTRAINT|DEFAULT|NOT|IDENTITY|EXPRESSION)\b)[A-Z]/i,
    lock: 'ACCESS EXCLUSIVE on the object before its ownership is checked (DROP TABLE, VIEW, INDEX and SEQUENCE check first)',
  },
  { name: 'ANALYZE', pattern: /\bANALY[SZ]E\b/i, lock: 'ACCESS SHARE on the table before its ownership is checked' },
];

/** The statements of LOCKS_BEFORE_CHECK in `sql` (literals emptied), each with the lock it takes first. */
export function locksBeforeCheck(sql: string): { readonly name: string; readonly lock: string }[] {
  const text = withoutLiterals(sql);
  return LOCKS_BEFORE_CHECK.filter(({ pattern }) => pattern.test(text)).map(({ name, lock }) => ({ name, lock }));
}

/** Row locks (SELECT … FOR UPDATE/SHARE): they wait on any open write of the rows. */
const LOCKS_ROWS = /\bFOR\s+(NO\s+KEY\s+)?UPDATE\b|\bFOR\s+(KEY\s+)?SHARE\b/i;

/** A LOCK statement that may queue: with its fence broken it would wait behind prod's sessions unless it says NOWAIT. */
const QUEUEING_LOCK = (text: string) => /^\s*LOCK\b/i.test(text) && !/\bNOWAIT\s*;?\s*$/i.test(text);

/**
 * The writes `sql` would execute (literals emptied): INSERT, UPDATE, DELETE, MERGE, TRUNCATE and COPY run the table's
 * triggers, evaluate its column defaults (a nextval survives ROLLBACK) and go through its rules; EXECUTE runs a prepared
 * statement, which may be one. An EXPLAIN without ANALYZE executes none of them: PostgreSQL plans the statement and makes
 * its privilege check (ExecutorStart), and stops there (measured on PostgreSQL 15: 42501 for a missing privilege; with
 * the privilege, no trigger fired, no default evaluated, no rule action run).
 */
export function executedWrites(sql: string): string[] {
  const text = withoutLiterals(sql);
  const explain = /^\s*EXPLAIN\b\s*(\([^)]*\)|(?:(?:ANALY[SZ]E|VERBOSE)\b\s*)*)/i.exec(text);
  if (explain) return /\bANALY[SZ]E\b/i.test(explain[1] ?? '') ? ['EXPLAIN ANALYZE'] : [];
  const found = [...text.matchAll(/(?:^|[()])\s*(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|COPY|EXECUTE)\b/gi)].map((match) => match[1]!.toUpperCase());
  return [...new Set(found)];
}

/** The rule an EXPLAIN live form goes through, as the probes and fences state it. */
export const EXPLAIN_RULE =
  'EXPLAIN plans the write and makes PostgreSQL\'s own privilege check on it (ExecutorStart), then stops: nothing is executed, so no trigger of prod\'s fires, no default is evaluated and no rule applies, and no row is locked';

/** The live form of a write: its EXPLAIN, rolled back like any live form. */
export function explained(statement: string): { readonly kind: 'rollback'; readonly statement: string; readonly rule: string } {
  return { kind: 'rollback', statement: `EXPLAIN ${statement}`, rule: EXPLAIN_RULE };
}

const KEBAB = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/** Non-transactional constructs in `sql`, by name; empty when none. */
export function nonTransactionalConstructs(sql: string): string[] {
  return NON_TRANSACTIONAL.filter(({ pattern }) => pattern.test(sql)).map(({ name }) => name);
}

/** `sql` with every string literal emptied, for checks that must not trip on privilege names or signatures. */
export function withoutLiterals(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'/g, "''");
}

/** The SQL the mirror sends (null: only connecting to the sandbox, or no mirror). */
export function mirrorSql(probe: Probe): string | null {
  const { mirror } = probe;
  return mirror.kind === 'catalogue' ? mirror.query : mirror.kind === 'rollback' ? mirror.statement : null;
}

/**
 * The probes of `probes` nothing of the sandbox's is entitled to (mirror 'none'), in the catalogue's order: only their
 * positive control, by a credential the sandbox's identity never holds, shows their attempt sound.
 */
export function withoutMirror(probes: readonly Probe[]): Probe[] {
  return probes.filter((probe) => probe.mirror.kind === 'none');
}

/** The sandbox objects the mirrors of `probes` aim at, each once, in the catalogue's order. */
export function mirrorObjects(probes: readonly Probe[]): string[] {
  return [...new Set(probes.flatMap((probe) => (probe.mirror.kind === 'none' ? [] : (probe.mirror.aimsAt ?? []))))];
}

/** The SQL the live form sends: the substitute or the probe's own statement (null: only connecting), or the catalogue query. */
export function liveSql(probe: Probe): string | null {
  return probe.live.kind === 'catalogue' ? probe.live.query : probe.live.statement ?? probe.statement;
}

export function problemsOfRollbackSql(sql: string, what: string): string[] {
  const problems: string[] = [];
  const found = nonTransactionalConstructs(sql);
  if (found.length > 0) problems.push(`${what} contains ${found.join(', ')}: its effect survives ROLLBACK (or it cannot run in a transaction block)`);
  if (TRANSACTION_CONTROL.test(sql)) problems.push(`${what} is transaction control or a procedure/DO block: it could end the transaction that rolls it back`);
  if (sql.trim().replace(/;\s*$/, '').includes(';')) problems.push(`${what} holds more than one statement (a ";")`);
  if (sql.includes(PROD_SESSION_PID)) problems.push(`${what} needs a prod session (${PROD_SESSION_PID}): a live form is fixed at definition time`);
  const lifts = sql.match(LIFTS_BOUNDS);
  if (lifts) problems.push(`${what} touches ${lifts[0]}: it could lift the lock and statement timeouts it runs under`);
  return problems;
}

/**
 * What keeps `sql` from being sent to a live prod, rolled back, as a live form: what keeps it from rolling back
 * (problemsOfRollbackSql), a lock it would take on prod's object before PostgreSQL checks the privilege or a lock it
 * could queue for (a row lock, a LOCK without NOWAIT), and a write it would execute, with prod's triggers, defaults and
 * rules, were its fence broken.
 */
export function problemsOfLiveSql(sql: string, what: string): string[] {
  const problems = problemsOfRollbackSql(sql, what);
  const text = withoutLiterals(sql);
  for (const { name, lock } of locksBeforeCheck(sql)) {
    problems.push(`${what} is ${name}, which takes ${lock}: on a live prod it would queue behind prod's own sessions, and theirs behind it — give a catalogue form of the rule PostgreSQL applies`);
  }
  if (LOCKS_ROWS.test(text)) problems.push(`${what} locks rows (FOR UPDATE/SHARE): it would wait on prod's open writes`);
  if (QUEUEING_LOCK(text)) problems.push(`${what} is a LOCK without NOWAIT: were its fence broken, it would queue behind prod's sessions`);
  const writes = executedWrites(sql);
  if (writes.length > 0) {
    problems.push(
      `${what} executes ${writes.join(', ')}: were its fence broken, prod's triggers would fire, its defaults be evaluated and its rules apply — ` +
        'give EXPLAIN of it (PostgreSQL\'s privilege check, nothing executed) or a catalogue form',
    );
  }
  return problems;
}

/**
 * What keeps `live` from being the form of `statement` (null: connecting) sent to a live prod: a rollback form must be
 * safe as a live statement (problemsOfLiveSql) and, when it is the statement itself, the statement transactional; a
 * substitute or a catalogue query must say the rule that makes it check the same thing. Shared by the three fences.
 */
export function problemsOfLiveForm(live: LiveForm, statement: string | null, transactional: boolean): string[] {
  const problems: string[] = [];
  const blank = (value: string | undefined) => value === undefined || value.trim() === '';
  if (live.kind === 'rollback') {
    if (live.statement === undefined) {
      if (!transactional) {
        problems.push('the live form is the statement itself in BEGIN … ROLLBACK, but the statement is marked non-transactional: give a substitute or a catalogue query');
      }
      if (statement !== null) problems.push(...problemsOfLiveSql(statement, 'the statement (its own live form)'));
    } else {
      if (blank(live.statement)) problems.push('the live substitute statement is empty');
      if (blank(live.rule)) problems.push('a live substitute needs the rule that makes it check the same thing');
      problems.push(...problemsOfLiveSql(live.statement, 'the live substitute'));
    }
  } else if (live.kind === 'catalogue') {
    if (blank(live.rule)) problems.push('a catalogue form needs the rule it reads');
    problems.push(...problemsOfCatalogueQuery(live.query, 'the catalogue query'));
  } else {
    problems.push(`unknown live form ${(live as { kind: string }).kind}`);
  }
  return problems;
}

export function problemsOfCatalogueQuery(query: string, what: string): string[] {
  const problems: string[] = [];
  if (!/^\s*(SELECT|WITH)\b/i.test(query)) problems.push(`${what} is not a SELECT`);
  if (/\b(query_to_xml\w*|cursor_to_xml\w*|dblink\w*)\b/i.test(query)) problems.push(`${what} runs SQL held in text`);
  if (query.includes(';')) problems.push(`${what} holds a ";": it must be a single SELECT`);
  // Privilege names ('USAGE, UPDATE') and signatures ('lo_import(text)') are string literals: look for writing
  // words and side-effecting calls outside them (nothing in a SELECT runs SQL held in a literal, since
  // the functions that would — query_to_xml, dblink — are refused outright).
  const outsideLiterals = withoutLiterals(query);
  const writes = outsideLiterals.match(WRITES_IN_A_SELECT);
  if (writes) problems.push(`${what} contains ${writes[0]!.toUpperCase()}: it must only read`);
  const found = nonTransactionalConstructs(outsideLiterals);
  if (found.length > 0) problems.push(`${what} contains ${found.join(', ')}: it must only read`);
  const lifts = outsideLiterals.match(LIFTS_BOUNDS);
  if (lifts) problems.push(`${what} calls ${lifts[0]}: it could lift the lock and statement timeouts it runs under`);
  if (!/\ballowed\b/.test(query)) problems.push(`${what} must return a column named "allowed"`);
  if (query.includes(PROD_SESSION_PID)) problems.push(`${what} needs a prod session (${PROD_SESSION_PID}): a live form is fixed at definition time`);
  return problems;
}

/**
 * What is wrong with the mirror: it must be as safe as a live form, say why it checks the same thing when it is
 * not the probe's own statement, name the objects it aims at, and (given the context) aim at nothing of prod's.
 */
function problemsOfMirror(probe: Probe, context: ProbeContext | undefined): string[] {
  const { mirror } = probe;
  const blank = (value: string | undefined) => value === undefined || value.trim() === '';
  if (mirror.kind === 'none') return blank(mirror.why) ? ['a probe without a mirror must say why nothing of the sandbox\'s is entitled to the attempt'] : [];
  const problems: string[] = [];
  const sql = mirrorSql(probe);
  if (mirror.kind === 'rollback') {
    if (mirror.statement === null) {
      if (probe.statement !== null) problems.push('the mirror only connects, but the attempt is a statement: give the statement aimed at the sandbox\'s own object');
    } else {
      if (blank(mirror.statement)) problems.push('the mirror statement is empty (null means: connecting to the sandbox is the mirror)');
      problems.push(...problemsOfRollbackSql(mirror.statement, 'the mirror'));
    }
    if (!probe.transactional && blank(mirror.rule)) {
      problems.push('the attempt cannot be rolled back, so the mirror is a counterpart that goes through the same check: give the rule that makes it so');
    }
  } else if (mirror.kind === 'catalogue') {
    if (blank(mirror.rule)) problems.push('a catalogue mirror needs the rule it reads');
    problems.push(...problemsOfCatalogueQuery(mirror.query, 'the mirror\'s catalogue query'));
  } else {
    return [`unknown mirror ${(mirror as { kind: string }).kind}`];
  }
  for (const object of mirror.aimsAt ?? []) {
    // A function is named in a call without its argument types.
    const name = object.replace(/\(.*$/, '').toLowerCase();
    if (!(sql ?? '').toLowerCase().includes(name)) problems.push(`the mirror aims at ${object}, which its SQL does not name`);
  }
  if (context && sql !== null) {
    for (const name of [context.prod.database, context.prod.ownerRole]) {
      if ([ident(name), literal(name)].some((quoted) => sql.includes(quoted))) problems.push(`the mirror names prod's ${name}: it must aim at the sandbox's own objects`);
    }
  }
  return problems;
}

function problemsOf(probe: Probe, context: ProbeContext | undefined): string[] {
  const problems: string[] = [];
  const blank = (value: string | undefined | null) => value === undefined || value === null || value.trim() === '';
  if (!KEBAB.test(probe.id)) problems.push(`id "${probe.id}" is not kebab-case`);
  if (blank(probe.attempt)) problems.push('attempt is empty');
  if (blank(probe.fence)) problems.push('fence is empty');
  if (probe.statement !== null && blank(probe.statement)) problems.push('statement is empty (null means: connecting is the attempt)');
  if (!/^[0-9A-Z]{5}$/.test(probe.refusal.sqlstate)) problems.push(`refusal SQLSTATE "${probe.refusal.sqlstate}" is not five characters`);
  if (!probe.refusal.message.source.startsWith('^') || !probe.refusal.message.source.endsWith('$')) {
    problems.push(`refusal message ${probe.refusal.message} is not anchored (^…$): a loose pattern would take another error for the refusal`);
  }
  if (blank(probe.refusal.reason)) problems.push('refusal reason is empty');
  if (probe.covers.length === 0) problems.push('covers no fence');
  for (const fence of probe.covers) if (!FENCES.includes(fence)) problems.push(`covers unknown fence "${fence}"`);
  if (new Set(probe.covers).size !== probe.covers.length) problems.push('covers a fence twice');
  if (blank(probe.control.statement)) problems.push('the control has no statement');
  if (probe.weakness && (blank(probe.weakness.name) || blank(probe.weakness.fix))) problems.push('the weakness needs a name and a fix');

  const usesSession = [probe.statement ?? '', probe.control.statement].some((sql) => sql.includes(PROD_SESSION_PID));
  if (usesSession && !probe.needsProdSession) problems.push(`a statement uses ${PROD_SESSION_PID} but needsProdSession is not set`);
  if (probe.needsProdSession && !(probe.statement ?? '').includes(PROD_SESSION_PID)) {
    problems.push(`needsProdSession is set but the statement does not use ${PROD_SESSION_PID}`);
  }

  problems.push(...problemsOfLiveForm(probe.live, probe.statement, probe.transactional));
  problems.push(...problemsOfMirror(probe, context));
  return problems;
}

/**
 * The probe, once it is well-formed, has a live form that cannot change prod and a mirror (or says why it has none)
 * as safe as a live form; else ProbeDefinitionError. With `context`, its mirror must also name nothing of prod's.
 */
export function defineProbe(probe: Probe, context?: ProbeContext): Probe {
  const problems = problemsOf(probe, context);
  if (problems.length > 0) {
    throw new ProbeDefinitionError(`probe "${probe.id}" (${probe.attempt}) cannot be defined:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return probe;
}
