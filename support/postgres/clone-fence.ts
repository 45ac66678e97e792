import type { Client } from 'pg';
import type { InstanceNames } from '../naming';
import { cloneNames, MAINTENANCE_DATABASE } from '../naming/template-clone';
import type { Endpoint, Login } from './cluster';
import { connect, ident } from './connect';
import {
  boundSession,
  databaseRule,
  explained,
  HAS_CREATEDB,
  inBoundedTransaction,
  OWNS_DATABASE,
  problemsOfCatalogueQuery,
  problemsOfLiveSql,
  problemsOfRollbackSql,
  runBounded,
} from './probes';
import { failureOf, isServerAnswer, serverError, type ServerError } from './server-error';

/**
 * What the template-clone reset's login must not be able to do to prod: each attempt runs as the clone login after
 * `SET ROLE <clone role>` (so its CREATEDB is live), and must be refused. Each attempt has a form safe against a live
 * prod even if the fence were broken (docs/ARCHITECTURE.md, rule 2), checked when it is defined with the probes' own
 * rules (support/postgres/probes/probe.ts).
 */

export interface CloneFenceContext {
  readonly prod: InstanceNames;
  readonly sandbox: InstanceNames;
}

/**
 * The form of an attempt that may reach a live prod. `rollback`: in the probes' bounded BEGIN … ROLLBACK, the attempt
 * or a substitute going through the same check (a write EXPLAINed: checked, never executed, so none of prod's
 * triggers, defaults or rules run). `catalogue`: DROP, RENAME and CREATE DATABASE cannot be rolled back (a rename would
 * also cut prod's sessions off), so a read-only query of PostgreSQL's rule answers instead; asked of the sandbox's
 * database, which the clone role may drop, rename and copy, it must answer true: it reads the rule, it is no constant
 * false.
 */
export type CloneLiveForm =
  /** `statement`: a substitute going through the same check, `rule` saying why (absent: the attempt itself). */
  | { readonly kind: 'rollback'; readonly statement?: string; readonly rule?: string }
  | {
      readonly kind: 'catalogue';
      /** The rule the query reads, in plain words. */
      readonly rule: string;
      /** The query, one row `{ allowed: boolean }`, asked of a database by name. */
      readonly query: (database: string) => string;
    };

export interface CloneAttempt {
  /** What an auditor reads, e.g. 'drop database erp'. */
  readonly attempt: string;
  /** The database the session connects to: prod's, or the server's maintenance database `postgres`. */
  readonly database: 'prod' | 'postgres';
  readonly statement: string;
  /** false: it cannot run in a transaction block, or its effect is not undone by ROLLBACK (its live form is then a catalogue query). */
  readonly transactional: boolean;
  readonly live: CloneLiveForm;
  /** The refusal that proves the fence; either layout (hardened: no CONNECT on prod; as provisioned: no privilege). */
  readonly refusal: { readonly sqlstate: string; readonly message: RegExp };
}

export class CloneAttemptDefinitionError extends Error {
  override readonly name = 'CloneAttemptDefinitionError';
}

const DENIED = '42501';

function exactly(...messages: string[]): RegExp {
  const escaped = messages.map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^(?:${escaped.join('|')})$`);
}

/** What is wrong with the attempt: its refusal must be anchored, and each form that may reach a live prod safe. */
function problemsOf(attempt: CloneAttempt, context: CloneFenceContext): string[] {
  const problems: string[] = [];
  if (!/^[0-9A-Z]{5}$/.test(attempt.refusal.sqlstate)) problems.push(`SQLSTATE "${attempt.refusal.sqlstate}" is not five characters`);
  const { source } = attempt.refusal.message;
  if (!source.startsWith('^') || !source.endsWith('$')) problems.push(`the refusal ${attempt.refusal.message} is not anchored (^…$)`);
  if (attempt.transactional) problems.push(...problemsOfRollbackSql(attempt.statement, 'the statement (marked transactional)'));
  const { live } = attempt;
  if (live.kind === 'rollback') {
    if (live.statement === undefined) {
      if (!attempt.transactional) problems.push('the live form is the statement in BEGIN … ROLLBACK, but the statement is marked non-transactional: give a catalogue query');
      problems.push(...problemsOfLiveSql(attempt.statement, 'the statement (its own live form)'));
    } else {
      if ((live.rule ?? '').trim() === '') problems.push('a live substitute needs the rule that makes it check the same thing');
      problems.push(...problemsOfLiveSql(live.statement, 'the live substitute'));
    }
  } else {
    if (live.rule.trim() === '') problems.push('a catalogue form needs the rule it reads');
    const onProd = live.query(context.prod.database);
    const onSandbox = live.query(context.sandbox.database);
    problems.push(...problemsOfCatalogueQuery(onProd, 'the catalogue query'), ...problemsOfCatalogueQuery(onSandbox, "the catalogue query's counterpart"));
    if (onProd === onSandbox) problems.push('the catalogue query does not depend on the database it is asked of: it cannot have a counterpart on the sandbox');
  }
  return problems;
}

/** The attempt, once it is well-formed and its live form cannot change prod; else CloneAttemptDefinitionError. */
export function defineCloneAttempt(attempt: CloneAttempt, context: CloneFenceContext): CloneAttempt {
  const problems = problemsOf(attempt, context);
  if (problems.length > 0) {
    throw new CloneAttemptDefinitionError(`clone attempt "${attempt.attempt}" cannot be defined:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return attempt;
}

/** Every attempt of the clone credential's fence, aimed at the context's prod. */
export function cloneAttempts(context: CloneFenceContext): readonly CloneAttempt[] {
  const { prod } = context;
  const erp = prod.database;
  const db = ident(erp);
  const societe = 'public.llx_societe';
  const notOwner = { sqlstate: DENIED, message: exactly(`must be owner of database ${erp}`) };
  /** Hardened: the door (no CONNECT on prod); as provisioned: the table's own privileges. */
  const noTablePrivilege = { sqlstate: DENIED, message: exactly(`permission denied for database "${erp}"`, 'permission denied for table llx_societe') };
  /** The rule asked of a database, for the role the session acts as (the clone role, after SET ROLE). */
  const asked = databaseRule;
  const owns = OWNS_DATABASE;
  const createdb = HAS_CREATEDB;

  const attempts: CloneAttempt[] = [
    {
      attempt: `drop database ${erp}`, database: 'postgres', transactional: false, refusal: notOwner,
      statement: `DROP DATABASE ${db}`,
      live: { kind: 'catalogue', rule: 'DROP DATABASE needs ownership of the database (the privileges of its owner role) or superuser', query: (database) => asked(database, owns) },
    },
    {
      attempt: `rename database ${erp}`, database: 'postgres', transactional: false, refusal: notOwner,
      statement: `ALTER DATABASE ${db} RENAME TO ${ident(`${erp}-renamed`)}`,
      live: {
        kind: 'catalogue', rule: 'ALTER DATABASE … RENAME needs ownership of the database and CREATEDB (or superuser)',
        query: (database) => asked(database, `${owns} AND ${createdb}`),
      },
    },
    {
      attempt: `copy database ${erp} as a template`, database: 'postgres', transactional: false,
      refusal: { sqlstate: DENIED, message: exactly(`permission denied to copy database "${erp}"`) },
      statement: `CREATE DATABASE ${ident(`${erp}-copied`)} TEMPLATE ${db}`,
      live: {
        kind: 'catalogue', rule: 'CREATE DATABASE … TEMPLATE needs CREATEDB, and a source marked a template (datistemplate) or owned by the caller',
        query: (database) => asked(database, `${createdb} AND (d.datistemplate OR ${owns})`),
      },
    },
    {
      attempt: 'read prod table llx_societe', database: 'prod', transactional: true, refusal: noTablePrivilege,
      statement: `SELECT count(*) FROM ${societe}`, live: { kind: 'rollback' },
    },
    {
      // One row at most: a broken fence would lock no more of prod than that, and only until the rollback.
      attempt: 'write prod table llx_societe', database: 'prod', transactional: true, refusal: noTablePrivilege,
      statement: `UPDATE ${societe} SET nom = nom WHERE rowid = 1`, live: explained(`UPDATE ${societe} SET nom = nom WHERE rowid = 1`),
    },
    {
      attempt: `set role ${prod.ownerRole}`, database: 'postgres', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly(`permission denied to set role "${prod.ownerRole}"`) },
      statement: `SET ROLE ${ident(prod.ownerRole)}`, live: { kind: 'rollback' },
    },
  ];
  return attempts.map((attempt) => defineCloneAttempt(attempt, context));
}

export function cloneAttempt(context: CloneFenceContext, name: string): CloneAttempt {
  const attempts = cloneAttempts(context);
  const found = attempts.find((candidate) => candidate.attempt === name);
  if (!found) throw new Error(`no clone attempt "${name}"; known: ${attempts.map((known) => known.attempt).join('; ')}`);
  return found;
}

/** One form of the attempt as it ran: `live` the safe form, `real` the attempt itself (with itselfToo only). */
export interface CloneFormResult {
  readonly form: 'live' | 'real';
  /** What ran: the statement, or the catalogue query asked of prod's database. */
  readonly sql: string;
  readonly verdict: 'refused' | 'allowed' | 'wrong reason';
  /** Where it was refused: at the connection (no CONNECT), at the statement, or by the catalogue. */
  readonly refusedAt?: 'connection' | 'statement' | 'catalogue';
  readonly sqlstate?: string;
  readonly message?: string;
}

/**
 * Which forms of an attempt run: the safe form always, and with `itselfToo` the attempt itself after it. The target
 * (support/targets/template-clone.ts) sets itselfToo only where prod may take the attempt, so every run that sends it
 * proves the safe form too.
 */
export interface CloneAttemptForms {
  readonly itselfToo: boolean;
}

export interface CloneAttemptOutcome extends CloneAttemptForms {
  readonly attempt: CloneAttempt;
  /** The role the attempt ran as (current_user after SET ROLE), when the session was opened. */
  readonly ranAs?: string;
  /** The safe form first; with itselfToo, the attempt itself after it, once the safe form was refused. */
  readonly results: readonly CloneFormResult[];
}


function judged(attempt: CloneAttempt, form: CloneFormResult['form'], sql: string, error: ServerError | undefined, at: 'connection' | 'statement'): CloneFormResult {
  if (!error) return { form, sql, verdict: 'allowed' };
  const verdict = error.code === attempt.refusal.sqlstate && attempt.refusal.message.test(error.message) ? 'refused' : 'wrong reason';
  return { form, sql, verdict, refusedAt: at, ...(error.code ? { sqlstate: error.code } : {}), message: error.message };
}

/**
 * The safe form, in the probes' bounded transaction: the statement rolled back, or the catalogue query (READ ONLY)
 * asked of prod's database, refused when it answers allowed = false — and only when the same query asked of the
 * sandbox's database answers allowed = true.
 */
async function runLiveForm(client: Client, attempt: CloneAttempt, context: CloneFenceContext): Promise<CloneFormResult> {
  const { live } = attempt;
  if (live.kind === 'rollback') {
    const sql = live.statement ?? attempt.statement;
    return judged(attempt, 'live', sql, await runBounded(client, sql), 'statement');
  }
  const sql = live.query(context.prod.database);
  return inBoundedTransaction(client, 'read only', async (): Promise<CloneFormResult> => {
    const ask = async (query: string): Promise<unknown> => {
      const { rows } = await client.query<{ allowed: unknown }>(query);
      return rows.length === 1 ? rows[0]!.allowed : undefined;
    };
    let onProd: unknown;
    let onSandbox: unknown;
    try {
      onProd = await ask(sql);
      onSandbox = await ask(live.query(context.sandbox.database));
    } catch (error) {
      const { code, message } = serverError(error);
      return { form: 'live', sql, verdict: 'wrong reason', refusedAt: 'catalogue', ...(code ? { sqlstate: code } : {}), message };
    }
    if (onProd === true) return { form: 'live', sql, verdict: 'allowed', message: `allowed = true for ${context.prod.database}` };
    if (onProd !== false || onSandbox !== true) {
      const message =
        `the catalogue query answered ${JSON.stringify(onProd)} for ${context.prod.database} and ${JSON.stringify(onSandbox)} for ${context.sandbox.database}, ` +
        `not false and true: it does not read the rule (${live.rule}) as the clone role meets it`;
      return { form: 'live', sql, verdict: 'wrong reason', refusedAt: 'catalogue', message };
    }
    return { form: 'live', sql, verdict: 'refused', refusedAt: 'catalogue', message: `allowed = false for ${context.prod.database}, true for ${context.sandbox.database}: ${live.rule}` };
  });
}

/** The attempt itself (with itselfToo only): rolled back in the bounded transaction, or bare in a bounded session. */
async function runItself(client: Client, attempt: CloneAttempt): Promise<ServerError | undefined> {
  if (attempt.transactional) return runBounded(client, attempt.statement);
  await boundSession(client);
  return failureOf(() => client.query(attempt.statement));
}

/**
 * Makes the attempt as the clone login, after SET ROLE to the clone role: the safe form, and with `forms.itselfToo`,
 * once it was refused, the statement itself (rolled back when it can be, bounded either way). `endpointFor` says where
 * each database is reached. Never throws for what the server answers; throws if the harness cannot reach the server.
 */
export async function attemptAsClone(
  endpointFor: (database: string) => Endpoint,
  login: Login,
  context: CloneFenceContext,
  name: string,
  forms: CloneAttemptForms,
): Promise<CloneAttemptOutcome> {
  const { itselfToo } = forms;
  const attempt = cloneAttempt(context, name);
  const database = attempt.database === 'prod' ? context.prod.database : MAINTENANCE_DATABASE;
  let client: Client;
  try {
    client = await connect(endpointFor(database), login, database, { applicationName: 'erp-rehearsal clone probe' });
  } catch (error) {
    const refused = serverError(error);
    if (!isServerAnswer(refused)) throw error; // not the server's answer: the harness could not reach it
    // The door refused the session, so no form of the attempt was sent.
    const sent: CloneFormResult['form'][] = itselfToo ? ['live', 'real'] : ['live'];
    return { attempt, itselfToo, results: sent.map((which) => judged(attempt, which, attempt.statement, refused, 'connection')) };
  }
  try {
    await client.query(`SET ROLE ${ident(cloneNames(context.sandbox).role)}`);
    const { rows } = await client.query<{ user: string }>('SELECT current_user AS user');
    const ranAs = rows[0]!.user;
    const live = await runLiveForm(client, attempt, context);
    if (!itselfToo) return { attempt, itselfToo, ranAs, results: [live] };
    if (live.verdict !== 'refused') {
      const note = 'its form safe for a live prod was not refused, so the statement itself was not sent';
      return { attempt, itselfToo, ranAs, results: [{ ...live, message: live.message ? `${live.message}; ${note}` : note }] };
    }
    const real = judged(attempt, 'real', attempt.statement, await runItself(client, attempt), 'statement');
    return { attempt, itselfToo, ranAs, results: [live, real] };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * What keeps the outcome from proving the fence with `sqlstate`, one line each (none: it proves it): every form the
 * outcome calls for ran (the safe form; with itselfToo the attempt itself too) and was refused for the
 * attempt's reason, with `sqlstate` where a statement was sent (a catalogue check sends none, so has no SQLSTATE).
 */
export function notRefusedAsExpected(outcome: CloneAttemptOutcome, sqlstate: string): string[] {
  const problems: string[] = [];
  if (outcome.attempt.refusal.sqlstate !== sqlstate) problems.push(`the attempt is refused with SQLSTATE ${outcome.attempt.refusal.sqlstate}, not ${sqlstate}`);
  const expected = outcome.itselfToo ? ['live', 'real'] : ['live'];
  const ran = outcome.results.map((result) => result.form);
  if (ran.join() !== expected.join()) problems.push(`the forms that ran are ${ran.join(', ') || 'none'}, not ${expected.join(', ')}`);
  for (const result of outcome.results) {
    if (result.verdict !== 'refused') problems.push(`the ${result.form} form was ${result.verdict === 'allowed' ? 'allowed' : 'refused for the wrong reason'}`);
    else if (result.refusedAt !== 'catalogue' && result.sqlstate !== sqlstate) problems.push(`the ${result.form} form was refused with SQLSTATE ${result.sqlstate ?? 'none'}`);
  }
  return problems;
}

/** One line per form for a report or an assertion. */
export function describeCloneOutcome(outcome: CloneAttemptOutcome): string {
  const who = outcome.ranAs ? ` as ${outcome.ranAs}` : '';
  return outcome.results
    .map((result) => {
      const head = `${outcome.attempt.attempt} [${result.form === 'live' ? 'form safe for a live prod' : 'the attempt itself'}]${who}: ${result.sql}`;
      const answer = result.sqlstate ? `${result.sqlstate} ${result.message ?? ''}`.trim() : (result.message ?? '');
      switch (result.verdict) {
        case 'refused':
          return `${head} → refused at the ${result.refusedAt}: ${answer}${result.refusedAt === 'catalogue' ? ' (no statement sent, so no SQLSTATE)' : ''}`;
        case 'allowed':
          return `${head} → ALLOWED${result.message ? ` (${result.message})` : ''}: the fence did not hold`;
        case 'wrong reason':
          return `${head} → refused for the WRONG REASON${result.refusedAt ? ` at the ${result.refusedAt}` : ''}: expected ${outcome.attempt.refusal.sqlstate} ${outcome.attempt.refusal.message}, got ${answer || 'nothing'}`;
      }
    })
    .join('; ');
}
