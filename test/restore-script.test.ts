/**
 * The atomic reset's schema statements joined into fewer messages: only pg_restore's entry boundaries are read. The
 * reset tests and gates restore the fixture's golden through it and check the golden's hash.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENTRIES_PER_MESSAGE, joinEntries } from '../support/lifecycle/restore-script';

const PREAMBLE = `--
-- PostgreSQL database dump
--

\\restrict k3y

SET statement_timeout = 0;
SET ROLE erp_sandbox_role;

`;

function entry(name: string, type: string, sql: string): string {
  return `--\n-- Name: ${name}; Type: ${type}; Schema: public; Owner: -\n--\n\n${sql}\n\n\n`;
}

const FUNCTION = entry('touch()', 'FUNCTION', 'CREATE FUNCTION public.touch() RETURNS trigger\n    LANGUAGE plpgsql\n    AS $$\nBEGIN\n  NEW.tms := now();\n  RETURN NEW;\nEND;\n$$;');
const TABLE = entry('llx_societe', 'TABLE', 'CREATE TABLE public.llx_societe (\n    rowid integer NOT NULL,\n    nom character varying(128)\n);');
const TWO_STATEMENTS = entry('llx_societe rowid', 'DEFAULT', "ALTER TABLE ONLY public.llx_societe ALTER COLUMN rowid SET DEFAULT 1;\nCOMMENT ON COLUMN public.llx_societe.nom IS 'a; b';");
const DATA = `--\n-- Data for Name: llx_societe; Type: TABLE DATA; Schema: public; Owner: -\n--\n\nCOPY public.llx_societe (rowid, nom) FROM stdin;\n1\tAcme; Ltd\n\\.\n\n\n`;
const TRAILER = '--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict k3y\n\n';
/** The last entry: pg_restore's trailer, with its psql command, ends it, so it is never joined to. */
const LAST = entry('llx_last', 'TABLE', 'CREATE TABLE public.llx_last (x integer);') + TRAILER;

describe("the atomic reset's schema script, joined into fewer messages", () => {
  it("ends each entry but a message's last with psql's \\; instead of its last semicolon, and nothing else", () => {
    const script = PREAMBLE + FUNCTION + TWO_STATEMENTS + TABLE + LAST;
    assert.equal(
      joinEntries(script),
      PREAMBLE + FUNCTION.replace('$$;\n', () => '$$ \\;\n') + TWO_STATEMENTS.replace("';\n", "' \\;\n") + TABLE + LAST,
      "the semicolons inside the body, inside the comment's text and between the two statements stay; the table's goes " +
        'before LAST, which the trailer and its psql command end',
    );
  });

  it('leaves COPY data and psql commands alone, ending the message before them', () => {
    const script = PREAMBLE + TABLE + DATA + FUNCTION + TABLE + LAST;
    assert.equal(joinEntries(script), PREAMBLE + TABLE + DATA + FUNCTION.replace('$$;\n', () => '$$ \\;\n') + TABLE + LAST);
  });

  it(`sends at most ${ENTRIES_PER_MESSAGE} entries a message`, () => {
    const entries = Array.from({ length: 2 * ENTRIES_PER_MESSAGE + 1 }, (_, index) => entry(`t${index}`, 'TABLE', `CREATE TABLE public.t${index} (x integer);`));
    const joined = joinEntries(PREAMBLE + entries.join('') + LAST);
    // A message ends at a semicolon psql sends on: one without a backslash before it.
    const messages = joined.split(/(?<!\\);\n/).filter((message) => message.includes('CREATE TABLE'));
    assert.deepEqual(messages.map((message) => (message.match(/CREATE TABLE/g) ?? []).length), [ENTRIES_PER_MESSAGE, ENTRIES_PER_MESSAGE, 1, 1]);
  });

  it('returns a script without entries as it is', () => {
    assert.equal(joinEntries(PREAMBLE + TRAILER), PREAMBLE + TRAILER);
    assert.equal(joinEntries(PREAMBLE + LAST), PREAMBLE + LAST);
  });
});
