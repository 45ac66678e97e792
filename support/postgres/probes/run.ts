import type { Client } from 'pg';
import type { Endpoint, Login } from '../cluster';
import { NotApplicable } from '../../not-applicable';
import { connect, type SessionOptions } from '../connect';
import { sessionIdentity } from '../catalog';
import { liveSql, mirrorSql, PROD_SESSION_PID, type Credential, type Place, type Probe, type ProbeContext } from './probe';
import { failureOf, isServerAnswer, serverError, type ServerError } from '../server-error';

/**
 * Running a probe as the sandbox login, in the form its target allows, with its positive control (the attempt by a
 * credential entitled to it) and its mirror (the attempt aimed at the sandbox's own object). The caller, the target,
 * decides the form and which of the control and the mirror runs; nothing here reads tags.
 */

export interface ProbeCredentials {
  /** The login under test: a member of the sandbox owner role only. */
  readonly sandbox: Login;
  /** A login that is a member of the prod owner role (controls, and the session pg_terminate_backend aims at). */
  readonly prodOwner: Login;
  readonly credentialsEditor: Login;
  readonly provisioner: Login;
}

/**
 * `hermetic`: the probe's statement as-is, a transactional one in BEGIN … ROLLBACK (the refusal is seen at the
 * statement; the rollback keeps a broken fence from disturbing what runs next), the others bare. `live`: the probe's
 * live form, whose safety defineProbe checked: the statement or its substitute in a bounded BEGIN … ROLLBACK, or a
 * catalogue query in a READ ONLY transaction.
 */
export type Form = 'hermetic' | 'live';

export interface ProbeOutcome {
  readonly probe: Probe;
  readonly form: Form;
  /** current_user and current_database() of the session, read before the statement; absent when the connection was refused. */
  readonly ranAs?: { readonly user: string; readonly database: string };
  readonly verdict: 'refused' | 'allowed' | 'wrong reason';
  readonly refusedAt?: 'connection' | 'statement' | 'catalogue';
  readonly sqlstate?: string;
  readonly message?: string;
  /** What actually ran (for the report); null when connecting was the whole attempt. */
  readonly sql: string | null;
}

export interface MirrorOutcome {
  readonly probe: Probe;
  readonly succeeded: boolean;
  /** current_user and current_database() of the session, read before the mirror; absent when the connection was refused. */
  readonly ranAs?: { readonly user: string; readonly database: string };
  readonly sqlstate?: string;
  readonly message?: string;
  /** What ran (for the report); null when connecting to the sandbox was the whole mirror. */
  readonly sql: string | null;
}

export interface ControlOutcome {
  readonly probe: Probe;
  readonly succeeded: boolean;
  readonly credential: Credential;
  readonly sqlstate?: string;
  readonly message?: string;
}

/** Probes wait this long for a lock, and run at most this long: a live prod is never held up by one. */
const SESSION: SessionOptions = {
  applicationName: 'erp-rehearsal-probe',
  options: '-c lock_timeout=5s -c statement_timeout=60s -c idle_in_transaction_session_timeout=60s',
};

/**
 * The bounds of every transaction a live form or a mirror runs in, set with SET LOCAL and read back before the attempt:
 * it gives up on a lock held by another session (prod's, or the sandbox's Dolibarr) at once rather than queue behind it
 * and make that session's next queries queue behind it in turn.
 */
export const BOUNDS = { lockTimeout: '50ms', statementTimeout: '5s' } as const;

/** The harness could not make the transaction bounded as it must be, so it sent nothing. */
export class UnboundedTransactionError extends Error {
  override readonly name = 'UnboundedTransactionError';
}


function databaseOf(place: Place | 'postgres', context: ProbeContext): string {
  return place === 'postgres' ? 'postgres' : place === 'prod' ? context.prod.database : context.sandbox.database;
}

function loginOf(credential: Credential, credentials: ProbeCredentials): Login {
  switch (credential) {
    case 'sandbox':
      return credentials.sandbox;
    case 'prod owner':
      return credentials.prodOwner;
    case 'credentials editor':
      return credentials.credentialsEditor;
    case 'provisioner':
      return credentials.provisioner;
  }
}

/** The server's refusal of a connection for want of CONNECT, as PostgreSQL words it. */
function connectRefusal(database: string): string {
  return `permission denied for database "${database}"`;
}

/** Runs `work` with a prod session open (as the prod owner), its pid put in place of the token. */
async function withProdSession<T>(
  endpoint: Endpoint,
  probe: Probe,
  credentials: ProbeCredentials,
  context: ProbeContext,
  work: (substitute: (sql: string) => string) => Promise<T>,
): Promise<T> {
  if (!probe.needsProdSession) return work((sql) => sql);
  // Only the hermetic statement and the control aim at a session; a live form is fixed SQL (defineProbe).
  const target = await connect(endpoint, credentials.prodOwner, context.prod.database, { applicationName: 'erp-rehearsal-probe-target' });
  try {
    const { rows } = await target.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pid = String(rows[0]!.pid);
    return await work((sql) => sql.split(PROD_SESSION_PID).join(pid));
  } finally {
    // The probe (or its control) may have terminated it: ending a dead session is fine.
    await target.end().catch(() => undefined);
  }
}

/**
 * How a bounded transaction begins: `read write` (BEGIN), `read only` (BEGIN READ ONLY, a catalogue query), or
 * `read only by its session` (BEGIN, in a session opened read-only, which must read transaction_read_only = on: a write
 * sent there is refused before PostgreSQL checks its privileges or executes anything).
 */
export type BoundedAccess = 'read write' | 'read only' | 'read only by its session';

/** The session was to be read-only and its transaction is not, so the write was not sent. */
export class NotReadOnlyError extends Error {
  override readonly name = 'NotReadOnlyError';
}

/**
 * Runs `work` in BEGIN … ROLLBACK under BOUNDS, begun as `access` says: the timeouts are set with SET LOCAL and checked
 * with SHOW in the same transaction first (and, for `read only by its session`, transaction_read_only); if they do not
 * read back as set, `work` never runs.
 */
export async function inBoundedTransaction<T>(client: Client, access: BoundedAccess, work: () => Promise<T>): Promise<T> {
  await client.query(access === 'read only' ? 'BEGIN READ ONLY' : 'BEGIN');
  try {
    await setBounds(client, 'LOCAL');
    if (access === 'read only by its session') {
      const readOnly = (await client.query<{ transaction_read_only: string }>('SHOW transaction_read_only')).rows[0]?.transaction_read_only;
      if (readOnly !== 'on') {
        throw new NotReadOnlyError(`the transaction reads transaction_read_only = ${readOnly} in a session opened read-only, so nothing was sent: connect to the server directly, not through a pooler that drops startup options`);
      }
    }
    return await work();
  } finally {
    await client.query('ROLLBACK');
  }
}

/**
 * Sets BOUNDS on the transaction (`LOCAL`) or the session (`SESSION`) and reads them back with SHOW: throws
 * UnboundedTransactionError, before anything else is sent, when they do not read back as set.
 */
async function setBounds(client: Client, scope: 'LOCAL' | 'SESSION'): Promise<void> {
  await client.query(`SET ${scope} lock_timeout = '${BOUNDS.lockTimeout}'`);
  await client.query(`SET ${scope} statement_timeout = '${BOUNDS.statementTimeout}'`);
  const lock = (await client.query<{ lock_timeout: string }>('SHOW lock_timeout')).rows[0]?.lock_timeout;
  const statement = (await client.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]?.statement_timeout;
  if (lock !== BOUNDS.lockTimeout || statement !== BOUNDS.statementTimeout) {
    const where = scope === 'LOCAL' ? 'the transaction' : 'the session';
    throw new UnboundedTransactionError(
      `${where} reads lock_timeout = ${lock}, statement_timeout = ${statement} after SET ${scope} to ${BOUNDS.lockTimeout} and ${BOUNDS.statementTimeout}, ` +
        'so nothing was sent: check that no connection pooler or server setting overrides them',
    );
  }
}

/**
 * Bounds the whole session by BOUNDS, checked with SHOW, for a statement that cannot run in a transaction block (DROP
 * DATABASE, on a hermetic target only): it gives up on a lock as a live form does.
 */
export function boundSession(client: Client): Promise<void> {
  return setBounds(client, 'SESSION');
}

/** How `runStatement` wraps a statement: bare, in BEGIN … ROLLBACK, or in a bounded BEGIN … ROLLBACK (live forms, mirrors). */
type Wrapping = 'bare' | 'rolled back' | 'bounded';

/** Runs `sql` in the bounded BEGIN … ROLLBACK (see inBoundedTransaction), begun as `access`: the server's error if it failed. */
export function runBounded(client: Client, sql: string, access: BoundedAccess = 'read write'): Promise<ServerError | undefined> {
  return inBoundedTransaction(client, access, () => failureOf(() => client.query(sql)));
}

/** Runs `sql` wrapped as asked, returning the server error if it failed. */
async function runStatement(client: Client, sql: string, wrapping: Wrapping): Promise<ServerError | undefined> {
  const run = () => failureOf(() => client.query(sql));
  if (wrapping === 'bounded') return runBounded(client, sql);
  if (wrapping === 'bare') return run();
  await client.query('BEGIN');
  try {
    return await run();
  } finally {
    await client.query('ROLLBACK');
  }
}

/** A catalogue query's answer, asked in a bounded READ ONLY transaction: `allowed` as returned, or the server error. */
export async function askCatalogue(client: Client, query: string): Promise<{ readonly allowed?: unknown; readonly error?: ServerError }> {
  return inBoundedTransaction(client, 'read only', async () => {
    try {
      const { rows } = await client.query<{ allowed: unknown }>(query);
      return { allowed: rows.length === 1 ? rows[0]!.allowed : undefined };
    } catch (error) {
      return { error: serverError(error) };
    }
  });
}

/** Why a catalogue answer is not a boolean, for a report. */
function notBoolean(allowed: unknown): string {
  return `the catalogue query did not return one row with a boolean "allowed" (got ${JSON.stringify(allowed)})`;
}

function verdictOf(probe: Probe, error: ServerError): 'refused' | 'wrong reason' {
  return error.code === probe.refusal.sqlstate && probe.refusal.message.test(error.message) ? 'refused' : 'wrong reason';
}

/**
 * Runs the probe as the sandbox login in `form`. Never throws for what the server answers; throws if the harness cannot run it.
 *
 * A hermetic statement that cannot be rolled back (DROP DATABASE, a rename, a sequence step, a signal) runs only once its
 * live form has been refused: when that form is not refused, the fence is already shown broken, and the bare statement
 * would change the cluster under every scenario that runs after it (prod dropped, renamed or advanced) — one broken
 * fence must fail its own probe, not the rest of the run.
 */
export async function runProbe(endpoint: Endpoint, probe: Probe, form: Form, credentials: ProbeCredentials, context: ProbeContext): Promise<ProbeOutcome> {
  if (form === 'hermetic' && !probe.transactional && probe.statement !== null) {
    const safe = await attempt(endpoint, probe, 'live', credentials, context);
    if (safe.verdict !== 'refused') {
      const note = 'its form safe for a live prod was not refused, so the statement itself, which cannot be rolled back, was not run';
      return { ...safe, form, message: safe.message ? `${safe.message}; ${note}` : note };
    }
  }
  return attempt(endpoint, probe, form, credentials, context);
}

async function attempt(endpoint: Endpoint, probe: Probe, form: Form, credentials: ProbeCredentials, context: ProbeContext): Promise<ProbeOutcome> {
  const database = databaseOf(probe.database, context);
  const aimed = form === 'hermetic' ? probe : { ...probe, needsProdSession: false };
  return withProdSession(endpoint, aimed, credentials, context, async (substitute) => {
    const sql = form === 'hermetic' ? (probe.statement === null ? null : substitute(probe.statement)) : liveSql(probe);
    let client: Client;
    try {
      client = await connect(endpoint, credentials.sandbox, database, SESSION);
    } catch (error) {
      const { code, message } = serverError(error);
      if (!isServerAnswer({ code, message })) throw error; // not the server's answer: the harness could not reach it
      // The door locked: a stronger fence than the statement's, valid for any probe aimed at prod.
      const locked = probe.database === 'prod' && code === '42501' && message === connectRefusal(database);
      const own = probe.statement === null && code === probe.refusal.sqlstate && probe.refusal.message.test(message);
      const verdict = locked || own ? 'refused' : 'wrong reason';
      return { probe, form, verdict, refusedAt: 'connection', sqlstate: code, message, sql };
    }
    try {
      const ranAs = await sessionIdentity(client);
      if (sql === null) return { probe, form, ranAs, verdict: 'allowed', sql };
      if (form === 'live' && probe.live.kind === 'catalogue') {
        const { allowed, error } = await askCatalogue(client, sql);
        if (error) return { probe, form, ranAs, verdict: 'wrong reason', refusedAt: 'catalogue', sqlstate: error.code, message: error.message, sql };
        if (typeof allowed !== 'boolean') return { probe, form, ranAs, verdict: 'wrong reason', message: notBoolean(allowed), sql };
        return allowed
          ? { probe, form, ranAs, verdict: 'allowed', message: 'catalogue: allowed = true', sql }
          : { probe, form, ranAs, verdict: 'refused', refusedAt: 'catalogue', message: 'catalogue: allowed = false', sql };
      }
      const error = await runStatement(client, sql, form === 'live' ? 'bounded' : probe.transactional ? 'rolled back' : 'bare');
      if (!error) return { probe, form, ranAs, verdict: 'allowed', sql };
      return { probe, form, ranAs, verdict: verdictOf(probe, error), refusedAt: 'statement', sqlstate: error.code, message: error.message, sql };
    } finally {
      await client.end().catch(() => undefined);
    }
  });
}

/** Splits a setup/teardown of the provisioner into its statements (they hold no literal semicolons). */
function statementsOf(sql: string | undefined): string[] {
  return (sql ?? '').split(';').map((s) => s.trim()).filter(Boolean);
}

async function asProvisioner(endpoint: Endpoint, credentials: ProbeCredentials, sql: string | undefined): Promise<void> {
  const statements = statementsOf(sql);
  if (statements.length === 0) return;
  const client = await connect(endpoint, credentials.provisioner, 'postgres', SESSION);
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The positive control: the same attempt by a credential entitled to it, rolled back where it can be.
 * It must succeed; if it does not, the probe is broken (a typo, a missing object) and proves nothing.
 */
export async function runControl(endpoint: Endpoint, probe: Probe, credentials: ProbeCredentials, context: ProbeContext): Promise<ControlOutcome> {
  const { control } = probe;
  const failed = (error: unknown): ControlOutcome => {
    // A credential the target does not hold makes the control not applicable, not failed.
    if (error instanceof NotApplicable) throw error;
    const { code, message } = serverError(error);
    return { probe, succeeded: false, credential: control.credential, sqlstate: code, message };
  };
  try {
    await asProvisioner(endpoint, credentials, control.setup);
  } catch (error) {
    await asProvisioner(endpoint, credentials, control.teardown).catch(() => undefined);
    return failed(error);
  }
  try {
    return await withProdSession(endpoint, probe, credentials, context, async (substitute) => {
      let client: Client;
      try {
        client = await connect(endpoint, loginOf(control.credential, credentials), databaseOf(control.database, context), SESSION);
      } catch (error) {
        return failed(error);
      }
      try {
        const error = await runStatement(client, substitute(control.statement), control.transactional ? 'rolled back' : 'bare');
        return error
          ? { probe, succeeded: false, credential: control.credential, sqlstate: error.code, message: error.message }
          : { probe, succeeded: true, credential: control.credential };
      } finally {
        await client.end().catch(() => undefined);
      }
    });
  } finally {
    await asProvisioner(endpoint, credentials, control.teardown);
  }
}

/** A lock the mirror would have had to wait for: the sandbox was busy, the mirror is not wrong. */
const LOCK_NOT_AVAILABLE = '55P03';

/** The relations and functions (by signature) of `names` that the sandbox database does not hold. */
export async function missingFromSandbox(endpoint: Endpoint, login: Login, context: ProbeContext, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const client = await connect(endpoint, login, context.sandbox.database, SESSION);
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT name FROM unnest($1::text[]) AS name
       WHERE CASE WHEN name LIKE '%(%' THEN to_regprocedure(name)::oid ELSE to_regclass(name)::oid END IS NULL`,
      [names],
    );
    return rows.map((row) => row.name);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The mirror: the attempt aimed at the sandbox's own object, as the sandbox login in the sandbox database, in a bounded
 * BEGIN … ROLLBACK (a catalogue query: READ ONLY), which must succeed — a catalogue query by answering allowed = true.
 * It also fails when its session is not the sandbox login's in the sandbox database. Throws for a probe without a
 * mirror (the target decides what then stands in), and when the harness cannot run it.
 */
export async function runMirror(endpoint: Endpoint, probe: Probe, credentials: ProbeCredentials, context: ProbeContext): Promise<MirrorOutcome> {
  const { mirror } = probe;
  if (mirror.kind === 'none') throw new Error(`probe ${probe.id} has no mirror (${mirror.why}): ask the target what stands in for it`);
  const sql = mirrorSql(probe);
  const database = context.sandbox.database;
  const failed = (error: ServerError, ranAs?: MirrorOutcome['ranAs']): MirrorOutcome => {
    const busy = error.code === LOCK_NOT_AVAILABLE
      ? `; it would have waited more than ${BOUNDS.lockTimeout} for a lock another session of the sandbox holds (its Dolibarr?), and a mirror never waits: run it again when the sandbox is idle`
      : '';
    return { probe, succeeded: false, ...(ranAs ? { ranAs } : {}), sqlstate: error.code, message: `${error.message}${busy}`, sql };
  };
  let client: Client;
  try {
    client = await connect(endpoint, credentials.sandbox, database, SESSION);
  } catch (error) {
    const refused = serverError(error);
    if (!isServerAnswer(refused)) throw error; // not the server's answer: the harness could not reach it
    return failed(refused);
  }
  try {
    const ranAs = await sessionIdentity(client);
    if (ranAs.user !== credentials.sandbox.user || ranAs.database !== database) {
      return { probe, succeeded: false, ranAs, message: `the mirror's session is ${ranAs.user} in ${ranAs.database}, not the sandbox login in ${database}`, sql };
    }
    if (sql === null) return { probe, succeeded: true, ranAs, sql };
    if (mirror.kind === 'catalogue') {
      const { allowed, error } = await askCatalogue(client, sql);
      if (error) return failed(error, ranAs);
      if (allowed !== true) return { probe, succeeded: false, ranAs, message: allowed === false ? 'catalogue: allowed = false' : notBoolean(allowed), sql };
      return { probe, succeeded: true, ranAs, message: 'catalogue: allowed = true', sql };
    }
    const error = await runStatement(client, sql, 'bounded');
    return error ? failed(error, ranAs) : { probe, succeeded: true, ranAs, sql };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** One line for a report or an assertion: what the mirror ran, as whom, and how it ended. */
export function describeMirror(outcome: MirrorOutcome): string {
  const { probe } = outcome;
  const where = outcome.ranAs ? ` as ${outcome.ranAs.user} in ${outcome.ranAs.database}` : '';
  const ran = outcome.sql === null ? 'connecting' : outcome.sql;
  const answer = outcome.sqlstate ? `${outcome.sqlstate} ${outcome.message ?? ''}`.trim() : (outcome.message ?? '');
  return outcome.succeeded
    ? `${probe.id} mirror${where}: succeeded — ${ran}${outcome.message ? ` (${outcome.message})` : ''}`
    : `${probe.id} mirror${where}: FAILED — ${ran} → ${answer || 'nothing'}; the probe's refusal on prod is not shown to be its fence`;
}

/** One line for a report or an assertion; an allowed probe with a known weakness names it and its fix. */
export function describeOutcome(outcome: ProbeOutcome): string {
  const { probe, form } = outcome;
  const head = `${probe.id} (${probe.attempt}) [${form}]`;
  const who = outcome.ranAs ? ` as ${outcome.ranAs.user} in ${outcome.ranAs.database}` : '';
  const answer = outcome.sqlstate ? `${outcome.sqlstate} ${outcome.message ?? ''}`.trim() : (outcome.message ?? '');
  switch (outcome.verdict) {
    case 'refused':
      if (outcome.refusedAt === 'connection' && probe.statement !== null) {
        return `${head}: refused at the connection — ${answer} (the door is locked before the statement could meet its own fence: ${probe.fence})`;
      }
      return `${head}: refused at the ${outcome.refusedAt}${who} — ${answer} (${probe.refusal.reason}), which proves ${probe.fence}`;
    case 'allowed': {
      const ran = outcome.sql === null ? 'the connection was accepted' : `it ran: ${outcome.sql}`;
      const gap = probe.weakness ? ` — known weakness: ${probe.weakness.name}; fix: ${probe.weakness.fix}` : ` — the fence "${probe.fence}" did not hold`;
      return `${head}: ALLOWED${who}, ${ran}${outcome.message ? ` (${outcome.message})` : ''}${gap}`;
    }
    case 'wrong reason':
      return `${head}: refused for the WRONG REASON${who}${outcome.refusedAt ? ` at the ${outcome.refusedAt}` : ''} — expected ${probe.refusal.sqlstate} ${probe.refusal.message}, got ${answer || 'nothing'}`;
  }
}
