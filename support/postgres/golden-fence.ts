import type { Client } from 'pg';
import type { InstanceNames } from '../naming';
import { goldenNames } from '../naming/golden';
import type { Endpoint, Login } from './cluster';
import { sessionIdentity } from './catalog';
import { connect, ident, literal, type SessionOptions } from './connect';
import {
  askCatalogue,
  boundSession,
  databaseRule,
  dropFunctionRule,
  explained,
  OWNS_DATABASE,
  problemsOfLiveForm,
  problemsOfRollbackSql,
  runBounded,
  tableRule,
  type LiveForm,
} from './probes';
import { isServerAnswer, serverError, type ServerError } from './server-error';

/**
 * What prod's read-only golden identity (support/naming/golden.ts) must not be able to do, anywhere, with the exact
 * refusal PostgreSQL 15 gives in either layout. Each attempt is made by a golden login in a plain session, not the
 * read-only session the golden itself opens, so that what refuses it is the reader role's privileges alone; each has a
 * form safe against a live prod even if the fence were broken (docs/ARCHITECTURE.md, rule 2).
 */

export interface GoldenFenceContext {
  readonly prod: InstanceNames;
  readonly sandbox: InstanceNames;
}

export interface GoldenAttempt {
  /** What an auditor reads, e.g. 'update prod table llx_societe'. */
  readonly attempt: string;
  /** The database the session connects to. */
  readonly database: 'prod' | 'sandbox';
  readonly statement: string;
  /** false: its effect survives ROLLBACK or it cannot run in a transaction block (then `live` is a catalogue query). */
  readonly transactional: boolean;
  /** The form a live target runs (support/postgres/probes/probe.ts); absent: the statement itself, rolled back. */
  readonly live?: LiveForm;
  /** Run by the same login after a non-transactional attempt that was allowed, so a broken fence leaves nothing behind. */
  readonly undo?: string;
  /** `message` is anchored (^…$) on the server's primary message. */
  readonly refusal: { readonly sqlstate: string; readonly message: RegExp };
}

export type GoldenForm = 'hermetic' | 'live';

export interface GoldenAttemptOutcome {
  readonly attempt: GoldenAttempt;
  readonly form: GoldenForm;
  /** What ran: the statement, or the catalogue check. */
  readonly sql: string;
  readonly verdict: 'refused' | 'allowed' | 'wrong reason';
  readonly refusedAt?: 'connection' | 'statement' | 'catalogue';
  readonly sqlstate?: string;
  readonly message?: string;
  /** current_user and current_database() of the session, when it was opened. */
  readonly ranAs?: { readonly user: string; readonly database: string };
}

export class GoldenAttemptDefinitionError extends Error {
  override readonly name = 'GoldenAttemptDefinitionError';
}

const DENIED = '42501';

const SESSION: SessionOptions = { applicationName: 'erp-rehearsal golden fence' };

function exactly(...messages: string[]): RegExp {
  const escaped = messages.map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^(?:${escaped.join('|')})$`);
}

/** The form a live target runs: the attempt's own, or its statement rolled back. */
export function liveFormOf(attempt: GoldenAttempt): LiveForm {
  return attempt.live ?? { kind: 'rollback' };
}

/** The attempt, once it is well-formed and each form that may reach a live prod cannot change it. */
export function defineGoldenAttempt(attempt: GoldenAttempt): GoldenAttempt {
  const problems: string[] = [];
  if (!/^[0-9A-Z]{5}$/.test(attempt.refusal.sqlstate)) problems.push(`SQLSTATE "${attempt.refusal.sqlstate}" is not five characters`);
  const { source } = attempt.refusal.message;
  if (!source.startsWith('^') || !source.endsWith('$')) problems.push(`the refusal ${attempt.refusal.message} is not anchored (^…$)`);
  // The hermetic target sends a transactional statement itself, rolled back; a live one, its live form only.
  if (attempt.transactional && attempt.live !== undefined) problems.push(...problemsOfRollbackSql(attempt.statement, 'the statement'));
  if (!attempt.transactional && attempt.live?.kind !== 'catalogue') problems.push('a statement that cannot be rolled back needs a catalogue check for live targets');
  problems.push(...problemsOfLiveForm(liveFormOf(attempt), attempt.statement, attempt.transactional));
  if (problems.length > 0) {
    throw new GoldenAttemptDefinitionError(`golden attempt "${attempt.attempt}" cannot be defined:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return attempt;
}

/** Every attempt of the golden identity's fence, aimed at the context's prod and sandbox. */
export function goldenAttempts(context: GoldenFenceContext): readonly GoldenAttempt[] {
  const { prod, sandbox } = context;
  const erp = prod.database;
  const owner = ident(prod.ownerRole);
  const reader = goldenNames(prod).readerRole;
  const societe = 'public.llx_societe';
  const sequence = literal('public.llx_societe_rowid_seq');
  const probeName = `${prod.instance}-golden-probe`;
  const noTablePrivilege = { sqlstate: DENIED, message: exactly('permission denied for table llx_societe') };
  const notTableOwner = { sqlstate: DENIED, message: exactly('must be owner of table llx_societe') };
  /** The sandbox's door (hardened: no CONNECT) or, past it (as provisioned), the table's own privileges. */
  const sandboxRefusal = { sqlstate: DENIED, message: exactly(`permission denied for database "${sandbox.database}"`, 'permission denied for table llx_societe') };
  const write = (statement: string) => ({ statement, live: explained(statement) });

  const attempts: GoldenAttempt[] = [
    // ── writing prod ────────────────────────────────────────────────────────────────────────────
    // rowid given: the serial default would call nextval, which ROLLBACK does not undo.
    { attempt: 'insert into prod table llx_societe', database: 'prod', transactional: true, refusal: noTablePrivilege,
      ...write(`INSERT INTO ${societe} (rowid, nom) VALUES (-1, ${literal('erp-rehearsal golden fence')})`) },
    { attempt: 'update prod table llx_societe', database: 'prod', transactional: true, refusal: noTablePrivilege,
      ...write(`UPDATE ${societe} SET nom = nom WHERE rowid = 1`) },
    { attempt: 'delete from prod table llx_societe', database: 'prod', transactional: true, refusal: noTablePrivilege,
      ...write(`DELETE FROM ${societe} WHERE rowid = -1`) },
    { attempt: 'truncate prod table llx_societe', database: 'prod', transactional: true, refusal: noTablePrivilege,
      statement: `TRUNCATE ${societe} CASCADE`,
      live: { kind: 'catalogue', query: tableRule(societe, 'TRUNCATE'), rule: 'TRUNCATE needs the TRUNCATE privilege on the table; it would fire prod\'s TRUNCATE triggers, so it never runs live' } },
    // Any mode above ACCESS SHARE needs UPDATE, DELETE or TRUNCATE; checked before the lock is queued for.
    { attempt: 'lock prod table llx_societe against its readers', database: 'prod', transactional: true, refusal: noTablePrivilege,
      statement: `LOCK TABLE ${societe} IN ACCESS EXCLUSIVE MODE`,
      live: {
        kind: 'rollback', statement: `LOCK TABLE ${societe} IN ACCESS EXCLUSIVE MODE NOWAIT`,
        rule: 'the same privilege check, made before the lock; NOWAIT: were the fence broken, it would give up at once rather than queue behind prod\'s sessions',
      } },
    { attempt: 'advance prod sequence llx_societe_rowid_seq', database: 'prod', transactional: false,
      refusal: { sqlstate: DENIED, message: exactly('permission denied for sequence llx_societe_rowid_seq') },
      statement: `SELECT nextval(${sequence})`,
      live: {
        kind: 'catalogue',
        query: `SELECT has_sequence_privilege(current_user, ${sequence}, 'USAGE, UPDATE') AS allowed`,
        rule: 'nextval needs USAGE or UPDATE on the sequence (SELECT only reads it); it is not rolled back, so it never runs live',
      } },
    // ── altering prod ───────────────────────────────────────────────────────────────────────────
    { attempt: 'alter prod table llx_societe', database: 'prod', transactional: true, refusal: notTableOwner,
      statement: `ALTER TABLE ${societe} ADD COLUMN erp_rehearsal_probe integer` },
    { attempt: 'create a trigger on prod table llx_societe', database: 'prod', transactional: true, refusal: noTablePrivilege,
      statement: `CREATE TRIGGER erp_rehearsal_probe BEFORE UPDATE ON ${societe} FOR EACH ROW EXECUTE FUNCTION public.update_modified_column_tms()`,
      live: {
        kind: 'catalogue', query: tableRule(societe, 'TRIGGER'),
        rule: 'CREATE TRIGGER needs the TRIGGER privilege on the table, which PostgreSQL checks only once it holds SHARE ROW EXCLUSIVE on it',
      } },
    { attempt: `change a setting of database ${erp}`, database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly(`must be owner of database ${erp}`) },
      statement: `ALTER DATABASE ${ident(erp)} SET work_mem = ${literal('64MB')}`,
      live: { kind: 'catalogue', query: databaseRule(erp, OWNS_DATABASE), rule: 'ALTER DATABASE … SET needs ownership of the database, which PostgreSQL checks only once it holds a lock on it' } },
    // ── dropping ────────────────────────────────────────────────────────────────────────────────
    { attempt: 'drop prod table llx_societe', database: 'prod', transactional: true, refusal: notTableOwner,
      statement: `DROP TABLE ${societe} CASCADE` },
    { attempt: 'drop the trigger function update_modified_column_tms', database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly('must be owner of function public.update_modified_column_tms') },
      statement: 'DROP FUNCTION public.update_modified_column_tms() CASCADE',
      live: {
        kind: 'catalogue', query: dropFunctionRule('public.update_modified_column_tms()'),
        rule: 'DROP FUNCTION needs ownership of the function or of its schema, which PostgreSQL checks only once it holds a lock on the function',
      } },
    // The ownership check comes before "cannot drop the currently open database": prod's own session will do.
    ...[prod, sandbox].map((instance): GoldenAttempt => ({
      attempt: `drop database ${instance.database}`, database: 'prod', transactional: false,
      refusal: { sqlstate: DENIED, message: exactly(`must be owner of database ${instance.database}`) },
      statement: `DROP DATABASE ${ident(instance.database)}`,
      live: { kind: 'catalogue', query: databaseRule(instance.database, OWNS_DATABASE), rule: 'DROP DATABASE needs the privileges of its owner (or superuser); it cannot be rolled back, so it never runs live' },
    })),
    // ── creating ────────────────────────────────────────────────────────────────────────────────
    { attempt: `create a table in schema public of ${erp}`, database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly('permission denied for schema public') },
      statement: 'CREATE TABLE public.erp_rehearsal_probe (x integer)' },
    { attempt: `create a schema in database ${erp}`, database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly(`permission denied for database ${erp}`) },
      statement: 'CREATE SCHEMA erp_rehearsal_probe' },
    { attempt: 'create a role', database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly('permission denied to create role') },
      statement: `CREATE ROLE ${ident(probeName)}` },
    { attempt: 'create a database', database: 'prod', transactional: false,
      refusal: { sqlstate: DENIED, message: exactly('permission denied to create database') },
      statement: `CREATE DATABASE ${ident(probeName)}`,
      live: {
        kind: 'catalogue',
        query: 'SELECT rolcreatedb OR rolsuper AS allowed FROM pg_catalog.pg_roles WHERE rolname = current_user',
        rule: 'CREATE DATABASE needs the CREATEDB attribute (not inherited) or superuser; it cannot be rolled back, so it never runs live',
      },
      undo: `DROP DATABASE IF EXISTS ${ident(probeName)}` },
    // ── granting, and becoming another role ─────────────────────────────────────────────────────
    // A GRANT on an object the grantor holds a privilege on, without grant option, is only a WARNING: these are errors.
    { attempt: `give its read access to ${sandbox.ownerRole}`, database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly(`must have admin option on role "${reader}"`) },
      statement: `GRANT ${ident(reader)} TO ${ident(sandbox.ownerRole)}` },
    { attempt: `grant ${prod.ownerRole} to itself`, database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly(`must have admin option on role "${prod.ownerRole}"`) },
      statement: `GRANT ${owner} TO CURRENT_USER` },
    { attempt: `set role ${prod.ownerRole}`, database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly(`permission denied to set role "${prod.ownerRole}"`) },
      statement: `SET ROLE ${owner}` },
    { attempt: "open prod's future tables to every role", database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly(`must be member of role "${prod.ownerRole}"`) },
      statement: `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA public GRANT SELECT ON TABLES TO PUBLIC` },
    // ── the sandbox ─────────────────────────────────────────────────────────────────────────────
    { attempt: 'read sandbox table llx_societe', database: 'sandbox', transactional: true, refusal: sandboxRefusal,
      statement: `SELECT count(*) FROM ${societe}` },
    { attempt: 'update sandbox table llx_societe', database: 'sandbox', transactional: true, refusal: sandboxRefusal,
      ...write(`UPDATE ${societe} SET nom = nom WHERE rowid = 1`) },
  ];
  return attempts.map(defineGoldenAttempt);
}

export function goldenAttempt(context: GoldenFenceContext, name: string): GoldenAttempt {
  const attempts = goldenAttempts(context);
  const found = attempts.find((candidate) => candidate.attempt === name);
  if (!found) throw new Error(`no golden attempt "${name}"; known: ${attempts.map((known) => known.attempt).join('; ')}`);
  return found;
}


/** The catalogue check's answer (asked in a bounded READ ONLY transaction), or the error that kept it from giving one. */
async function catalogueCheck(client: Client, query: string): Promise<boolean | ServerError> {
  const { allowed, error } = await askCatalogue(client, query);
  if (error) return error;
  return typeof allowed === 'boolean' ? allowed : { message: `the catalogue check did not return one row with a boolean "allowed" (got ${JSON.stringify(allowed)})` };
}

function verdictOf(attempt: GoldenAttempt, error: ServerError): 'refused' | 'wrong reason' {
  return error.code === attempt.refusal.sqlstate && attempt.refusal.message.test(error.message) ? 'refused' : 'wrong reason';
}

/** What an attempt's form met, before the outcome names the attempt and its form. */
type Met = Omit<GoldenAttemptOutcome, 'attempt' | 'form' | 'ranAs'>;

/**
 * The live form (liveFormOf): its statement in the probes' bounded BEGIN … ROLLBACK (its timeouts read back first, so
 * a lock prod's sessions hold makes it give up at once), or its catalogue check.
 */
async function runLiveForm(client: Client, attempt: GoldenAttempt): Promise<Met> {
  const live = liveFormOf(attempt);
  if (live.kind === 'rollback') {
    const sql = live.statement ?? attempt.statement;
    const error = await runBounded(client, sql);
    if (!error) return { sql, verdict: 'allowed' };
    return { sql, verdict: verdictOf(attempt, error), refusedAt: 'statement', sqlstate: error.code, message: error.message };
  }
  const checked = await catalogueCheck(client, live.query);
  if (typeof checked !== 'boolean') return { sql: live.query, verdict: 'wrong reason', refusedAt: 'catalogue', sqlstate: checked.code, message: checked.message };
  return checked
    ? { sql: live.query, verdict: 'allowed', message: 'catalogue: allowed = true' }
    : { sql: live.query, verdict: 'refused', refusedAt: 'catalogue', message: 'catalogue: allowed = false' };
}

/** The attempt itself (hermetic only): rolled back in the bounded transaction, or bare in a bounded session with its undo. */
async function runStatementItself(client: Client, attempt: GoldenAttempt): Promise<Met> {
  const sql = attempt.statement;
  if (attempt.transactional) {
    const error = await runBounded(client, sql);
    if (!error) return { sql, verdict: 'allowed' };
    return { sql, verdict: verdictOf(attempt, error), refusedAt: 'statement', sqlstate: error.code, message: error.message };
  }
  await boundSession(client);
  try {
    await client.query(sql);
  } catch (caught) {
    const error = serverError(caught);
    return { sql, verdict: verdictOf(attempt, error), refusedAt: 'statement', sqlstate: error.code, message: error.message };
  }
  if (attempt.undo) await client.query(attempt.undo).catch(() => undefined);
  return { sql, verdict: 'allowed' };
}

/** Makes the attempt of the fence named `name` as the golden login, in `form` (see runGoldenAttempt). */
export function attemptAsGolden(
  endpoint: (database: string) => Endpoint,
  login: Login,
  context: GoldenFenceContext,
  name: string,
  form: GoldenForm,
): Promise<GoldenAttemptOutcome> {
  return runGoldenAttempt(endpoint, login, context, goldenAttempt(context, name), form);
}

/**
 * Makes `attempt` as the golden login, in the form `form` allows: `live` its live form alone; `hermetic` the live form
 * first and then, once it was refused, the statement itself (a live form that is the statement itself runs once). Never
 * throws for what the server answers; throws if the harness cannot reach the server at all.
 */
export async function runGoldenAttempt(
  endpoint: (database: string) => Endpoint,
  login: Login,
  context: GoldenFenceContext,
  attempt: GoldenAttempt,
  form: GoldenForm,
): Promise<GoldenAttemptOutcome> {
  const database = attempt.database === 'prod' ? context.prod.database : context.sandbox.database;
  let client: Client;
  try {
    client = await connect(endpoint(database), login, database, SESSION);
  } catch (error) {
    const { code, message } = serverError(error);
    if (!isServerAnswer({ code, message })) throw error; // not the server's answer: the harness could not reach it
    return { attempt, form, sql: attempt.statement, verdict: verdictOf(attempt, { code, message }), refusedAt: 'connection', sqlstate: code, message };
  }
  try {
    const ranAs = await sessionIdentity(client);
    const live = await runLiveForm(client, attempt);
    const itself = attempt.live === undefined;
    if (form === 'live' || itself) return { attempt, form, ranAs, ...live };
    if (live.verdict !== 'refused') {
      const note = 'its form safe for a live prod was not refused, so the statement itself was not sent';
      return { attempt, form, ranAs, ...live, message: live.message ? `${live.message}; ${note}` : note };
    }
    return { attempt, form, ranAs, ...(await runStatementItself(client, attempt)) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** One line for a report or an assertion. */
export function describeGoldenOutcome(outcome: GoldenAttemptOutcome): string {
  const head = `${outcome.attempt.attempt} [${outcome.form}]`;
  const who = outcome.ranAs ? ` as ${outcome.ranAs.user} in ${outcome.ranAs.database}` : '';
  const answer = outcome.sqlstate ? `${outcome.sqlstate} ${outcome.message ?? ''}`.trim() : (outcome.message ?? '');
  switch (outcome.verdict) {
    case 'refused':
      return `${head}: refused at the ${outcome.refusedAt} — ${answer}${who}`;
    case 'allowed':
      return `${head}: ALLOWED${who}: ${outcome.sql}${outcome.message ? ` (${outcome.message})` : ''} — the golden identity's fence did not hold`;
    case 'wrong reason':
      return `${head}: refused for the WRONG REASON${who}${outcome.refusedAt ? ` at the ${outcome.refusedAt}` : ''} — expected ${outcome.attempt.refusal.sqlstate} ${outcome.attempt.refusal.message}, got ${answer || 'nothing'}`;
  }
}
