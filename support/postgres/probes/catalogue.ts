import { ident, literal } from '../connect';
import { defineProbe, explained, PROD_SESSION_PID, type Probe, type ProbeContext } from './probe';
import { databaseRule, dropFunctionRule, OWNS_DATABASE, tableRule } from './rules';

/**
 * The probes of the prod-undroppable proof, read as an auditor's table: each attempt the sandbox login
 * (a member of erp_sandbox_role only) must be refused, with the exact message PostgreSQL 15 gives, the
 * fence that refuses it, the control that shows the attempt itself is sound, and the form safe for a
 * live prod. Every refusal is SQLSTATE 42501 (insufficient_privilege); the messages were measured on
 * PostgreSQL 15.
 *
 * `covers` names the fences whose break alone, on the hardened layout, turns the probe red (checked
 * against a real cluster by test/probes-cluster.test.ts).
 */

const DENIED = '42501';

/** An anchored pattern matching exactly one of `messages`. */
function exactly(...messages: string[]): RegExp {
  const escaped = messages.map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.length === 1 ? escaped[0] : `(?:${escaped.join('|')})`}$`);
}

export function probeCatalogue(context: ProbeContext): readonly Probe[] {
  const erp = context.prod.database; // as PostgreSQL prints it in messages
  const db = ident(context.prod.database);
  const owner = ident(context.prod.ownerRole);
  const sandboxOwner = ident(context.sandbox.ownerRole);
  const scratch = ident(`${context.prod.database}-probe-scratch`);
  const renamed = ident(`${context.prod.database}-probe-renamed`);
  const probeDb = ident(`${context.prod.database}-probe`);
  const probeRole = ident(`${context.prod.database}-probe`);
  const pgbouncer = ident('pgbouncer_auth');
  /** Reads its input and does nothing: a program that exits without reading makes COPY fail with a broken pipe. */
  const harmless = 'cat > /dev/null';
  const societe = 'public.llx_societe';
  const sequence = literal('public.llx_societe_rowid_seq');

  const lookup = context.userLookup; // e.g. pgbouncer.user_lookup(text)
  const lookupName = lookup.slice(0, lookup.indexOf('(')); // pgbouncer.user_lookup
  const lookupSchema = lookupName.split('.')[0]!;
  /** Outside public, no USAGE on the provisioner's schema refuses even before the function's own check. */
  const orSchema = lookupSchema === 'public' ? [] : [`permission denied for schema ${lookupSchema}`];
  const lookupBody = `CREATE OR REPLACE FUNCTION ${lookupName}(i_username text, OUT uname text, OUT phash text) RETURNS record LANGUAGE sql SECURITY DEFINER AS $$ SELECT usename, passwd FROM pg_catalog.pg_shadow WHERE usename = i_username $$`;

  const comment = `COMMENT ON DATABASE ${db} IS ${literal('erp-rehearsal: ownership probe')}`;
  const notOwnerOfErp = { sqlstate: DENIED, message: exactly(`must be owner of database ${erp}`), reason: `not the owner of database ${erp}` };
  const noTablePrivilege = { sqlstate: DENIED, message: exactly('permission denied for table llx_societe'), reason: 'no privilege on prod table llx_societe' };
  const notTableOwner = { sqlstate: DENIED, message: exactly('must be owner of table llx_societe'), reason: 'not the owner of prod table llx_societe' };
  const noCreateInPublic = { sqlstate: DENIED, message: exactly('permission denied for schema public'), reason: `no CREATE on schema public of ${erp}` };
  const asProdOwner = (statement: string) => ({ credential: 'prod owner', database: 'prod', statement, transactional: true }) as const;
  const asProvisioner = (database: 'prod' | 'sandbox' | 'postgres', statement: string) =>
    ({ credential: 'provisioner', database, statement, transactional: true }) as const;
  const publicConnect = {
    name: 'PUBLIC keeps CONNECT and TEMP on every database',
    fix: `REVOKE CONNECT, TEMP ON DATABASE ${db} FROM PUBLIC; GRANT CONNECT, TEMP ON DATABASE ${db} TO ${owner}`,
  };
  /**
   * Every statement on prod's database locks it before PostgreSQL checks its ownership (COMMENT, ALTER DATABASE … SET), or
   * cannot be rolled back (DROP, RENAME): a live prod is asked the ownership rule instead, the check that refuses each.
   */
  const ownsErp = (why: string) => ({ kind: 'catalogue', query: databaseRule(context.prod.database, OWNS_DATABASE), rule: `${why}: the privileges of its owner role, or superuser` }) as const;

  // The mirrors' objects: the sandbox's own database, owner role, and the Dolibarr tables, sequence and functions the golden restores.
  const sandboxDb = ident(context.sandbox.database);
  const sandboxComment = `COMMENT ON DATABASE ${sandboxDb} IS ${literal('erp-rehearsal: ownership probe')}`;
  const tableName = 'public.llx_societe';
  const sequenceName = 'public.llx_societe_rowid_seq';
  const stampTms = 'public.update_modified_column_tms()';
  /** A function of Dolibarr's that nothing depends on (it can be dropped without CASCADE), its body free of ";". */
  const unixTimestamp = 'public.unix_timestamp(timestamp without time zone)';
  /** The same statement aimed at the sandbox's own object, run in BEGIN … ROLLBACK as the sandbox login. */
  const onSandbox = (statement: string, ...aimsAt: string[]) => ({ kind: 'rollback', statement, ...(aimsAt.length > 0 ? { aimsAt } : {}) }) as const;
  const sandboxOwnership = (why: string) =>
    ({ kind: 'rollback', statement: sandboxComment, rule: `${why}; COMMENT ON DATABASE makes that ownership check on the sandbox's own database, and rolls back` }) as const;
  const noMirror = (why: string) => ({ kind: 'none', why }) as const;

  const probes: Probe[] = [
    // ── prod's database, guarded by its ownership ──────────────────────────────────────────────
    {
      id: 'drop-prod-database',
      attempt: `drop database ${erp}`,
      database: 'sandbox',
      statement: `DROP DATABASE ${db}`,
      transactional: false,
      refusal: notOwnerOfErp,
      fence: `ownership of database ${erp}`,
      covers: ['membership', 'ownership', 'no superuser'],
      live: ownsErp('DROP DATABASE needs ownership of the database; it cannot be rolled back, so it never runs live'),
      mirror: sandboxOwnership('DROP DATABASE checks ownership of the database; it cannot run in a transaction block'),
      control: {
        credential: 'prod owner', database: 'postgres', statement: `DROP DATABASE ${scratch}`, transactional: false,
        setup: `CREATE DATABASE ${scratch} OWNER ${owner}`, teardown: `DROP DATABASE IF EXISTS ${scratch}`,
      },
    },
    {
      id: 'alter-prod-database-owner',
      attempt: `give database ${erp} to ${context.sandbox.ownerRole}`,
      database: 'sandbox',
      statement: `ALTER DATABASE ${db} OWNER TO ${sandboxOwner}`,
      transactional: true,
      refusal: notOwnerOfErp,
      fence: `ownership of database ${erp}`,
      covers: ['membership', 'ownership', 'no superuser'],
      live: ownsErp('ALTER DATABASE … OWNER TO checks ownership of the database first (the check that refuses it on prod), then CREATEDB'),
      // OWNER TO the sandbox's own owner is a no-op that checks nothing; to another role it needs CREATEDB, which no sandbox login has.
      mirror: sandboxOwnership('ALTER DATABASE … OWNER TO checks ownership of the database first (the check that refuses it on prod), then CREATEDB, which no sandbox login holds'),
      // A prod owner cannot change the owner without CREATEDB; a no-op OWNER TO the same owner checks nothing.
      control: asProvisioner('postgres', `ALTER DATABASE ${db} OWNER TO ${sandboxOwner}`),
    },
    {
      id: 'rename-prod-database',
      attempt: `rename database ${erp}`,
      database: 'sandbox',
      statement: `ALTER DATABASE ${db} RENAME TO ${renamed}`,
      transactional: false, // it is, but a renamed prod is an outage for every open session: never live
      refusal: notOwnerOfErp,
      fence: `ownership of database ${erp}`,
      covers: ['membership', 'ownership', 'no superuser'],
      live: ownsErp('ALTER DATABASE … RENAME checks ownership of the database first (the check that refuses it on prod), then CREATEDB; a renamed prod is an outage, so it never runs live'),
      mirror: sandboxOwnership('ALTER DATABASE … RENAME checks ownership of the database first, then CREATEDB; renaming the database in use is refused, and a rename is never sent'),
      control: {
        credential: 'provisioner', database: 'postgres', statement: `ALTER DATABASE ${scratch} RENAME TO ${renamed}`, transactional: false,
        setup: `CREATE DATABASE ${scratch} OWNER ${owner}`, teardown: `DROP DATABASE IF EXISTS ${renamed}; DROP DATABASE IF EXISTS ${scratch}`,
      },
    },
    {
      id: 'comment-on-prod-database',
      attempt: `comment on database ${erp}`,
      database: 'sandbox',
      statement: comment,
      transactional: true,
      refusal: notOwnerOfErp,
      fence: `ownership of database ${erp}`,
      covers: ['membership', 'ownership', 'no superuser'],
      live: ownsErp('COMMENT ON DATABASE locks the database, then checks its ownership'),
      mirror: onSandbox(sandboxComment),
      control: asProdOwner(comment),
    },
    // ── getting into prod at all ────────────────────────────────────────────────────────────────
    {
      id: 'connect-to-prod',
      attempt: `connect to database ${erp}`,
      database: 'prod',
      statement: null,
      transactional: true,
      refusal: { sqlstate: DENIED, message: exactly(`permission denied for database "${erp}"`), reason: `no CONNECT on database ${erp}` },
      fence: `CONNECT on database ${erp}, kept for its owner role`,
      covers: ['membership', 'ownership', 'no superuser', 'database connect'],
      live: { kind: 'rollback' },
      mirror: { kind: 'rollback', statement: null, rule: 'connecting to its own database, whose CONNECT its owner role holds' },
      control: asProdOwner('SELECT current_database()'),
      weakness: publicConnect,
    },
    {
      id: 'create-temp-table-in-prod',
      attempt: `create a temporary table in database ${erp}`,
      database: 'prod',
      statement: 'CREATE TEMPORARY TABLE erp_rehearsal_probe (x integer)',
      transactional: true,
      refusal: { sqlstate: DENIED, message: exactly(`permission denied to create temporary tables in database "${erp}"`), reason: `no TEMP on database ${erp}` },
      fence: `TEMP on database ${erp}, kept for its owner role`,
      covers: ['membership', 'ownership', 'no superuser', 'database connect'],
      live: { kind: 'rollback' },
      mirror: onSandbox('CREATE TEMPORARY TABLE erp_rehearsal_probe (x integer)'),
      control: asProdOwner('CREATE TEMPORARY TABLE erp_rehearsal_probe (x integer)'),
      weakness: publicConnect,
    },
    // ── prod's rows and tables ──────────────────────────────────────────────────────────────────
    {
      id: 'select-prod-table',
      attempt: 'read prod table llx_societe',
      database: 'prod',
      statement: `SELECT count(*) FROM ${societe}`,
      transactional: true,
      refusal: noTablePrivilege,
      fence: 'privileges on prod tables, held by erp_role only',
      covers: ['membership', 'no superuser'],
      live: { kind: 'rollback' },
      mirror: onSandbox(`SELECT count(*) FROM ${societe}`, tableName),
      control: asProdOwner(`SELECT count(*) FROM ${societe}`),
    },
    {
      id: 'insert-prod-table',
      attempt: 'insert into prod table llx_societe',
      database: 'prod',
      // rowid given: the serial default would call nextval, which ROLLBACK does not undo.
      statement: `INSERT INTO ${societe} (rowid, nom) VALUES (-1, ${literal('erp-rehearsal probe')})`,
      transactional: true,
      refusal: noTablePrivilege,
      fence: 'privileges on prod tables, held by erp_role only',
      covers: ['membership', 'no superuser'],
      live: explained(`INSERT INTO ${societe} (rowid, nom) VALUES (-1, ${literal('erp-rehearsal probe')})`),
      mirror: onSandbox(`INSERT INTO ${societe} (rowid, nom) VALUES (-1, ${literal('erp-rehearsal probe')})`, tableName),
      control: asProdOwner(`INSERT INTO ${societe} (rowid, nom) VALUES (-1, ${literal('erp-rehearsal probe')})`),
    },
    {
      id: 'update-prod-table',
      attempt: 'update prod table llx_societe',
      database: 'prod',
      statement: `UPDATE ${societe} SET nom = nom WHERE rowid = 1`,
      transactional: true,
      refusal: noTablePrivilege,
      fence: 'privileges on prod tables, held by erp_role only',
      covers: ['membership', 'no superuser'],
      live: explained(`UPDATE ${societe} SET nom = nom WHERE rowid = 1`),
      mirror: onSandbox(`UPDATE ${societe} SET nom = nom WHERE rowid = 1`, tableName),
      control: asProdOwner(`UPDATE ${societe} SET nom = nom WHERE rowid = 1`),
    },
    {
      id: 'delete-prod-table',
      attempt: 'delete from prod table llx_societe',
      database: 'prod',
      // No row has rowid -1: the privilege is checked before any row is read, and no foreign key makes the control fail.
      statement: `DELETE FROM ${societe} WHERE rowid = -1`,
      transactional: true,
      refusal: noTablePrivilege,
      fence: 'privileges on prod tables, held by erp_role only',
      covers: ['membership', 'no superuser'],
      live: explained(`DELETE FROM ${societe} WHERE rowid = -1`),
      mirror: onSandbox(`DELETE FROM ${societe} WHERE rowid = -1`, tableName),
      control: asProdOwner(`DELETE FROM ${societe} WHERE rowid = -1`),
    },
    {
      id: 'truncate-prod-table',
      attempt: 'truncate prod table llx_societe',
      database: 'prod',
      statement: `TRUNCATE ${societe} CASCADE`,
      transactional: true,
      refusal: noTablePrivilege,
      fence: 'privileges on prod tables, held by erp_role only',
      covers: ['membership', 'no superuser'],
      // TRUNCATE fires the table's TRUNCATE triggers, and cannot be EXPLAINed.
      live: { kind: 'catalogue', query: tableRule(societe, 'TRUNCATE'), rule: 'TRUNCATE needs the TRUNCATE privilege on the table (and on each table CASCADE reaches); it would fire prod\'s TRUNCATE triggers, so it never runs live' },
      mirror: onSandbox(`TRUNCATE ${societe} CASCADE`, tableName),
      control: asProdOwner(`TRUNCATE ${societe} CASCADE`),
    },
    {
      id: 'alter-prod-table',
      attempt: 'alter prod table llx_societe',
      database: 'prod',
      statement: `ALTER TABLE ${societe} ADD COLUMN erp_rehearsal_probe integer`,
      transactional: true,
      refusal: notTableOwner,
      fence: 'ownership of prod tables by erp_role',
      covers: ['membership', 'no superuser'],
      live: { kind: 'rollback' },
      mirror: onSandbox(`ALTER TABLE ${societe} ADD COLUMN erp_rehearsal_probe integer`, tableName),
      control: asProdOwner(`ALTER TABLE ${societe} ADD COLUMN erp_rehearsal_probe integer`),
    },
    {
      id: 'drop-prod-table',
      attempt: 'drop prod table llx_societe',
      database: 'prod',
      statement: `DROP TABLE ${societe} CASCADE`,
      transactional: true,
      refusal: notTableOwner,
      fence: 'ownership of prod tables by erp_role (and of schema public, through the database)',
      covers: ['membership', 'ownership', 'no superuser'],
      live: { kind: 'rollback' },
      mirror: onSandbox(`DROP TABLE ${societe} CASCADE`, tableName),
      control: asProdOwner(`DROP TABLE ${societe} CASCADE`),
    },
    {
      id: 'nextval-prod-sequence',
      attempt: 'advance prod sequence llx_societe_rowid_seq',
      database: 'prod',
      statement: `SELECT nextval(${sequence})`,
      transactional: false, // a sequence does not roll back
      refusal: { sqlstate: DENIED, message: exactly('permission denied for sequence llx_societe_rowid_seq'), reason: 'no USAGE or UPDATE on prod sequence llx_societe_rowid_seq' },
      fence: 'privileges on prod sequences, held by erp_role only',
      covers: ['membership', 'no superuser'],
      live: {
        kind: 'catalogue',
        query: `SELECT has_sequence_privilege(current_user, ${sequence}, 'USAGE, UPDATE') AS allowed`,
        rule: 'nextval needs USAGE or UPDATE on the sequence; it is not rolled back, so it never runs live',
      },
      mirror: {
        kind: 'catalogue',
        query: `SELECT has_sequence_privilege(current_user, ${literal(sequenceName)}, 'USAGE, UPDATE') AS allowed`,
        rule: 'the live form\'s check, asked of the sandbox\'s own sequence, which its owner role owns',
        aimsAt: [sequenceName],
      },
      // Advances the sequence and puts it back where it was, in one statement.
      control: {
        credential: 'prod owner', database: 'prod', transactional: false,
        statement: `SELECT nextval(${sequence}), setval(${sequence}, last_value, is_called) FROM public.llx_societe_rowid_seq`,
      },
    },
    {
      id: 'setval-prod-sequence',
      attempt: 'set prod sequence llx_societe_rowid_seq',
      database: 'prod',
      statement: `SELECT setval(${sequence}, last_value, is_called) FROM public.llx_societe_rowid_seq`, // to where it is
      transactional: false,
      refusal: { sqlstate: DENIED, message: exactly('permission denied for sequence llx_societe_rowid_seq'), reason: 'no SELECT or UPDATE on prod sequence llx_societe_rowid_seq' },
      fence: 'privileges on prod sequences, held by erp_role only',
      covers: ['membership', 'no superuser'],
      live: {
        kind: 'catalogue',
        query: `SELECT has_sequence_privilege(current_user, ${sequence}, 'UPDATE') AS allowed`,
        rule: 'setval needs UPDATE on the sequence; it is not rolled back, so it never runs live',
      },
      mirror: {
        kind: 'catalogue',
        query: `SELECT has_sequence_privilege(current_user, ${literal(sequenceName)}, 'UPDATE') AS allowed`,
        rule: 'the live form\'s check, asked of the sandbox\'s own sequence, which its owner role owns',
        aimsAt: [sequenceName],
      },
      control: {
        credential: 'prod owner', database: 'prod', transactional: false,
        statement: `SELECT setval(${sequence}, last_value, is_called) FROM public.llx_societe_rowid_seq`,
      },
    },
    // ── new objects in prod ─────────────────────────────────────────────────────────────────────
    {
      id: 'create-table-in-prod',
      attempt: `create a table in schema public of ${erp}`,
      database: 'prod',
      statement: 'CREATE TABLE public.erp_rehearsal_probe (x integer)',
      transactional: true,
      refusal: noCreateInPublic,
      fence: `CREATE on schema public of ${erp}, owned by the database's owner`,
      covers: ['membership', 'ownership', 'no superuser'],
      live: { kind: 'rollback' },
      mirror: onSandbox('CREATE TABLE public.erp_rehearsal_probe (x integer)'),
      control: asProdOwner('CREATE TABLE public.erp_rehearsal_probe (x integer)'),
    },
    {
      id: 'create-function-in-prod',
      attempt: `create a function in schema public of ${erp}`,
      database: 'prod',
      statement: `CREATE FUNCTION public.erp_rehearsal_probe() RETURNS integer LANGUAGE sql AS ${literal('SELECT 1')}`,
      transactional: true,
      refusal: noCreateInPublic,
      fence: `CREATE on schema public of ${erp}, owned by the database's owner`,
      covers: ['membership', 'ownership', 'no superuser'],
      live: { kind: 'rollback' },
      mirror: onSandbox(`CREATE FUNCTION public.erp_rehearsal_probe() RETURNS integer LANGUAGE sql AS ${literal('SELECT 1')}`),
      control: asProdOwner(`CREATE FUNCTION public.erp_rehearsal_probe() RETURNS integer LANGUAGE sql AS ${literal('SELECT 1')}`),
    },
    {
      id: 'create-trigger-in-prod',
      attempt: 'create a trigger on prod table llx_societe',
      database: 'prod',
      statement: `CREATE TRIGGER erp_rehearsal_probe BEFORE UPDATE ON ${societe} FOR EACH ROW EXECUTE FUNCTION public.update_modified_column_tms()`,
      transactional: true,
      refusal: noTablePrivilege,
      fence: 'TRIGGER on prod tables, held by erp_role only',
      covers: ['membership', 'no superuser'],
      live: { kind: 'catalogue', query: tableRule(societe, 'TRIGGER'), rule: 'CREATE TRIGGER needs the TRIGGER privilege on the table, which PostgreSQL checks only once it holds SHARE ROW EXCLUSIVE on it' },
      mirror: onSandbox(`CREATE TRIGGER erp_rehearsal_probe BEFORE UPDATE ON ${societe} FOR EACH ROW EXECUTE FUNCTION ${stampTms}`, tableName, stampTms),
      control: asProdOwner(`CREATE TRIGGER erp_rehearsal_probe BEFORE UPDATE ON ${societe} FOR EACH ROW EXECUTE FUNCTION public.update_modified_column_tms()`),
    },
    // ── becoming the prod owner ─────────────────────────────────────────────────────────────────
    {
      id: 'set-role-prod-owner',
      attempt: `set role ${context.prod.ownerRole}`,
      database: 'sandbox',
      statement: `SET ROLE ${owner}`,
      transactional: true,
      refusal: { sqlstate: DENIED, message: exactly(`permission denied to set role "${context.prod.ownerRole}"`), reason: `not a member of ${context.prod.ownerRole}` },
      fence: `membership of ${context.prod.ownerRole}, never granted to the sandbox login`,
      covers: ['membership', 'no superuser'],
      live: { kind: 'rollback' },
      mirror: onSandbox(`SET ROLE ${sandboxOwner}`),
      control: asProdOwner(`SET ROLE ${owner}`),
    },
    {
      id: 'grant-prod-owner-to-self',
      attempt: `grant ${context.prod.ownerRole} to itself`,
      database: 'sandbox',
      statement: `GRANT ${owner} TO CURRENT_USER`,
      transactional: true,
      refusal: { sqlstate: DENIED, message: exactly(`must have admin option on role "${context.prod.ownerRole}"`), reason: `no ADMIN OPTION on ${context.prod.ownerRole}` },
      fence: `ADMIN OPTION on ${context.prod.ownerRole}, held by credentials_editor only`,
      covers: ['no superuser', 'no createrole'],
      live: { kind: 'rollback' },
      mirror: noMirror(
        `granting a role needs ADMIN OPTION on it (or CREATEROLE), and Vault's creation statement gives the sandbox login plain membership of ${context.sandbox.ownerRole}: nothing of the sandbox's may grant any role`,
      ),
      control: { credential: 'credentials editor', database: 'postgres', statement: `GRANT ${owner} TO ${pgbouncer}`, transactional: true },
    },
    {
      id: 'drop-owned-by-prod-owner',
      attempt: `drop everything ${context.prod.ownerRole} owns`,
      database: 'sandbox',
      statement: `DROP OWNED BY ${owner}`,
      transactional: true,
      refusal: { sqlstate: DENIED, message: exactly('permission denied to drop objects'), reason: `no privileges of ${context.prod.ownerRole}` },
      fence: `membership of ${context.prod.ownerRole}, never granted to the sandbox login`,
      covers: ['membership', 'no superuser'],
      live: { kind: 'rollback' },
      mirror: onSandbox(`DROP OWNED BY ${sandboxOwner}`),
      control: asProdOwner(`DROP OWNED BY ${owner}`),
    },
    {
      id: 'reassign-owned-by-prod-owner',
      attempt: `reassign what ${context.prod.ownerRole} owns to ${context.sandbox.ownerRole}`,
      database: 'sandbox',
      statement: `REASSIGN OWNED BY ${owner} TO ${sandboxOwner}`,
      transactional: true,
      refusal: { sqlstate: DENIED, message: exactly('permission denied to reassign objects'), reason: `no privileges of ${context.prod.ownerRole}` },
      fence: `membership of ${context.prod.ownerRole}, never granted to the sandbox login`,
      covers: ['membership', 'no superuser'],
      live: { kind: 'rollback' },
      // Both roles are checked (the login must have the privileges of each): the sandbox's owner role, to the login itself.
      mirror: onSandbox(`REASSIGN OWNED BY ${sandboxOwner} TO CURRENT_USER`),
      control: asProvisioner('prod', `REASSIGN OWNED BY ${owner} TO ${sandboxOwner}`),
    },
    // ── powers of its own ───────────────────────────────────────────────────────────────────────
    {
      id: 'create-database',
      attempt: 'create a database',
      database: 'sandbox',
      statement: `CREATE DATABASE ${probeDb}`,
      transactional: false,
      refusal: { sqlstate: DENIED, message: exactly('permission denied to create database'), reason: 'no CREATEDB' },
      fence: 'no CREATEDB on the sandbox login',
      covers: ['no superuser', 'no createdb'],
      live: {
        kind: 'catalogue',
        query: 'SELECT rolcreatedb OR rolsuper AS allowed FROM pg_catalog.pg_roles WHERE rolname = current_user',
        rule: 'CREATE DATABASE needs the CREATEDB attribute (not inherited) or superuser',
      },
      mirror: noMirror('CREATE DATABASE needs the CREATEDB attribute, which no sandbox login holds by design: it is the fence itself, and no object of the sandbox\'s grants it'),
      control: {
        credential: 'provisioner', database: 'postgres', statement: `CREATE DATABASE ${probeDb}`, transactional: false,
        teardown: `DROP DATABASE IF EXISTS ${probeDb}`,
      },
    },
    {
      id: 'create-role',
      attempt: 'create a role',
      database: 'sandbox',
      statement: `CREATE ROLE ${probeRole}`,
      transactional: true,
      refusal: { sqlstate: DENIED, message: exactly('permission denied to create role'), reason: 'no CREATEROLE' },
      fence: 'no CREATEROLE on the sandbox login',
      covers: ['no superuser', 'no createrole'],
      live: { kind: 'rollback' },
      mirror: noMirror('CREATE ROLE needs the CREATEROLE attribute, which no sandbox login holds by design: it is the fence itself, and no object of the sandbox\'s grants it'),
      control: asProvisioner('postgres', `CREATE ROLE ${probeRole}`),
    },
    {
      id: 'alter-self-superuser',
      attempt: 'make itself superuser',
      database: 'sandbox',
      statement: 'ALTER ROLE CURRENT_USER SUPERUSER',
      transactional: true,
      refusal: { sqlstate: DENIED, message: exactly('must be superuser to alter superuser roles or change superuser attribute'), reason: 'only a superuser makes superusers' },
      fence: 'no superuser on the sandbox login',
      covers: ['no superuser'],
      live: { kind: 'rollback' },
      mirror: noMirror('only a superuser makes superusers: nothing of the sandbox\'s is entitled to it'),
      control: asProvisioner('postgres', `ALTER ROLE ${pgbouncer} SUPERUSER`),
    },
    {
      id: 'alter-self-createdb',
      attempt: 'give itself CREATEDB',
      database: 'sandbox',
      statement: 'ALTER ROLE CURRENT_USER CREATEDB',
      transactional: true,
      refusal: { sqlstate: DENIED, message: exactly('permission denied'), reason: 'no CREATEROLE to change role attributes' },
      fence: 'no CREATEROLE on the sandbox login',
      covers: ['no superuser', 'no createrole'],
      live: { kind: 'rollback' },
      mirror: noMirror('changing a role\'s attributes needs CREATEROLE (a login may only change its own password without it), which no sandbox login holds'),
      control: asProvisioner('postgres', `ALTER ROLE ${pgbouncer} CREATEDB`),
    },
    {
      id: 'alter-self-bypassrls',
      attempt: 'give itself BYPASSRLS',
      database: 'sandbox',
      statement: 'ALTER ROLE CURRENT_USER BYPASSRLS',
      transactional: true,
      refusal: { sqlstate: DENIED, message: exactly('must be superuser to change bypassrls attribute'), reason: 'only a superuser grants BYPASSRLS' },
      fence: 'no superuser on the sandbox login',
      covers: ['no superuser'],
      live: { kind: 'rollback' },
      mirror: noMirror('only a superuser grants BYPASSRLS: nothing of the sandbox\'s is entitled to it'),
      control: asProvisioner('postgres', `ALTER ROLE ${pgbouncer} BYPASSRLS`),
    },
    // ── the provisioner's pgbouncer function in the sandbox ─────────────────────────────────────
    {
      id: 'execute-user-lookup',
      attempt: "read password hashes through the provisioner's user_lookup",
      database: 'sandbox',
      statement: `SELECT * FROM ${lookupName}(${literal('postgres')})`,
      transactional: true,
      refusal: { sqlstate: DENIED, message: exactly('permission denied for function user_lookup', ...orSchema), reason: 'EXECUTE on user_lookup is granted to pgbouncer_auth only' },
      fence: 'EXECUTE on the provisioner\'s user_lookup, revoked from PUBLIC',
      covers: ['no superuser', 'function privileges'],
      live: {
        kind: 'rollback',
        statement: `SELECT count(*) FROM ${lookupName}(${literal('postgres')})`,
        rule: 'the same EXECUTE check, returning no password hash to the harness',
      },
      mirror: {
        kind: 'rollback',
        statement: 'SELECT count(*) FROM public.unix_timestamp(localtimestamp)',
        rule: 'calling a function needs EXECUTE on it (and USAGE on its schema): asked of one of Dolibarr\'s functions, which the sandbox\'s owner role owns',
        aimsAt: [unixTimestamp],
      },
      control: asProvisioner('sandbox', `SELECT * FROM ${lookupName}(${literal('postgres')})`),
    },
    {
      id: 'drop-user-lookup',
      attempt: "drop the provisioner's user_lookup",
      database: 'sandbox',
      statement: `DROP FUNCTION ${lookup}`,
      transactional: true,
      // DROP names the function as it was written (schema-qualified); CREATE OR REPLACE and EXECUTE do not.
      refusal: { sqlstate: DENIED, message: exactly(`must be owner of function ${lookupName}`, ...orSchema), reason: 'neither the owner of user_lookup nor of its schema' },
      fence: 'ownership of user_lookup and of its schema by the provisioner',
      covers: ['no superuser'],
      live: {
        kind: 'catalogue',
        query: dropFunctionRule(lookup),
        rule: 'DROP FUNCTION needs USAGE on the function\'s schema, then ownership of the function or of its schema, which PostgreSQL checks only once it holds a lock on the function',
      },
      mirror: { ...onSandbox(`DROP FUNCTION ${unixTimestamp}`, unixTimestamp), rule: 'dropping a function needs ownership of it or of its schema: asked of one of Dolibarr\'s, which the sandbox\'s owner role owns and nothing depends on' },
      control: asProvisioner('sandbox', `DROP FUNCTION ${lookup}`),
      ...(lookupSchema === 'public'
        ? {
            weakness: {
              name: 'user_lookup lives in schema public, which the sandbox owner role owns',
              fix: 'move user_lookup into a schema the provisioner owns (e.g. pgbouncer)',
            },
          }
        : {}),
    },
    {
      id: 'replace-user-lookup',
      attempt: "replace the provisioner's user_lookup",
      database: 'sandbox',
      statement: lookupBody,
      transactional: true,
      refusal: { sqlstate: DENIED, message: exactly('must be owner of function user_lookup', ...orSchema), reason: 'not the owner of user_lookup' },
      fence: 'ownership of user_lookup by the provisioner',
      covers: ['no superuser'],
      live: { kind: 'rollback' },
      // Dolibarr's own definition of it: CREATE OR REPLACE checks ownership of the function it replaces.
      mirror: {
        ...onSandbox(`CREATE OR REPLACE FUNCTION ${unixTimestamp} RETURNS bigint LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT EXTRACT(EPOCH FROM $1)::bigint $$`, unixTimestamp),
        rule: 'replacing a function needs ownership of it: asked of one of Dolibarr\'s, which the sandbox\'s owner role owns, replaced by its own definition',
      },
      control: asProvisioner('sandbox', lookupBody),
    },
    // ── the server itself ───────────────────────────────────────────────────────────────────────
    {
      id: 'terminate-prod-session',
      attempt: 'terminate a prod session',
      database: 'sandbox',
      statement: `SELECT pg_terminate_backend(${PROD_SESSION_PID})`,
      transactional: false, // a signal is not rolled back
      refusal: {
        sqlstate: DENIED,
        message: exactly('must be a member of the role whose process is being terminated or member of pg_signal_backend'),
        reason: 'neither the session\'s role nor pg_signal_backend',
      },
      fence: 'pg_signal_backend, never granted to the sandbox login',
      covers: ['no superuser', 'predefined roles'],
      live: {
        kind: 'catalogue',
        query: `SELECT pg_has_role(current_user, 'pg_signal_backend', 'USAGE') AS allowed`,
        rule: 'terminating another role\'s session needs the privileges of pg_signal_backend (a superuser has them)',
      },
      mirror: {
        kind: 'catalogue',
        query: `SELECT pg_has_role(current_user, a.usesysid, 'USAGE') AS allowed FROM pg_catalog.pg_stat_activity a WHERE a.pid = pg_backend_pid()`,
        rule: 'pg_terminate_backend signals a session whose role the caller has the privileges of (or any, with pg_signal_backend): asked of the one sandbox session the login may signal, its own — signalling it would end the mirror',
      },
      control: { credential: 'provisioner', database: 'sandbox', statement: `SELECT pg_terminate_backend(${PROD_SESSION_PID})`, transactional: false },
      needsProdSession: true,
    },
    {
      id: 'copy-to-program',
      attempt: 'run a program on the server',
      database: 'sandbox',
      statement: `COPY (SELECT 1) TO PROGRAM ${literal(harmless)}`,
      transactional: false,
      refusal: {
        sqlstate: DENIED,
        message: exactly('must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an external program'),
        reason: 'not pg_execute_server_program',
      },
      fence: 'pg_execute_server_program, never granted to the sandbox login',
      covers: ['no superuser', 'predefined roles'],
      live: {
        kind: 'catalogue',
        query: `SELECT pg_has_role(current_user, 'pg_execute_server_program', 'USAGE') AS allowed`,
        rule: 'COPY … PROGRAM needs the privileges of pg_execute_server_program (a superuser has them)',
      },
      mirror: noMirror('running a program on the server needs pg_execute_server_program (or superuser): nothing of the sandbox\'s is entitled to it, and a program\'s effects are never rolled back'),
      control: { credential: 'provisioner', database: 'sandbox', statement: `COPY (SELECT 1) TO PROGRAM ${literal(harmless)}`, transactional: false },
    },
    {
      id: 'read-server-file',
      attempt: 'read a file of the server',
      database: 'sandbox',
      statement: `SELECT pg_read_file(${literal('PG_VERSION')})`,
      transactional: true,
      refusal: { sqlstate: DENIED, message: exactly('permission denied for function pg_read_file'), reason: 'EXECUTE on pg_read_file is revoked from PUBLIC' },
      fence: 'EXECUTE on the server-file functions, revoked from PUBLIC',
      covers: ['no superuser', 'function privileges'],
      live: { kind: 'rollback' }, // reads, changes nothing
      mirror: noMirror('reading a server file needs EXECUTE on pg_read_file, granted to no role of the sandbox\'s, and no file of the server belongs to the sandbox'),
      control: asProvisioner('sandbox', `SELECT pg_read_file(${literal('PG_VERSION')})`),
    },
    {
      id: 'lo-import-server-file',
      attempt: 'import a server file as a large object',
      database: 'sandbox',
      statement: `SELECT lo_import(${literal('PG_VERSION')})`,
      transactional: true,
      refusal: { sqlstate: DENIED, message: exactly('permission denied for function lo_import'), reason: 'EXECUTE on server-side lo_import is revoked from PUBLIC' },
      fence: 'EXECUTE on the server-file functions, revoked from PUBLIC',
      covers: ['no superuser', 'function privileges'],
      live: {
        kind: 'catalogue',
        query: `SELECT has_function_privilege(current_user, 'pg_catalog.lo_import(text)', 'EXECUTE') AS allowed`,
        rule: 'server-side lo_import needs EXECUTE on lo_import(text); it reads a server file, so it never runs live',
      },
      mirror: noMirror('server-side lo_import needs EXECUTE on lo_import(text), granted to no role of the sandbox\'s, and no file of the server belongs to the sandbox'),
      control: asProvisioner('sandbox', `SELECT lo_import(${literal('PG_VERSION')})`),
    },
  ];
  return probes.map((probe) => defineProbe(probe, context));
}
