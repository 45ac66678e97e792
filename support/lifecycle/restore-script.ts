/**
 * pg_restore's SQL for a schema, its statements sent in fewer messages. psql sends each statement as a message of its
 * own and waits for the answer: for a schema's thousands of small statements (the fixture's golden: 1,900) the round
 * trips were a third of an atomic reset. psql's `\;` ends a statement without sending it, so that the next ones go in
 * the same message — psql's documented way to send several commands at once.
 *
 * Only the entries' boundaries are read, never their SQL: pg_restore heads each entry with a `-- Name: …; Type: …`
 * comment block, and the entry's SQL ends with the semicolon that ends its last statement. An entry that holds a line
 * starting with a backslash (COPY data's `\.`, a psql command such as `\unrestrict`) is left as it is, and the message
 * before it ends. A header that a function's body happened to contain would at worst put `\;` into that body: the
 * restore would then fail, or give another hash than the golden's, which every reset is checked against. psql drops
 * the comments before a message's first statement, so the server (and a reset's progress, restore-progress.ts) sees the
 * message start with it.
 */

/** At most this many entries a message: a long schema's restore still shows its progress (restore-progress.ts). */
export const ENTRIES_PER_MESSAGE = 100;

/** pg_restore's heading of an entry: `--`, `-- Name: x; Type: TABLE; Schema: public; Owner: -`, `--`. */
const ENTRY_HEADER = /^--\n-- (?:Data for )?Name: [^\n]*; Type: [^\n]*\n--\n/gm;

/** The last semicolon of an entry's SQL, where its last statement ends: only blank space after it. */
const LAST_SEMICOLON = /;(\s*)$/;

/** Whether an entry's statements can share a message with the next entry's. */
function joinable(entry: string): boolean {
  const sql = entry.replace(ENTRY_HEADER, '');
  return LAST_SEMICOLON.test(sql) && !/^\\/m.test(sql);
}

/** `script` (pg_restore's output) with consecutive entries' statements joined into messages of ENTRIES_PER_MESSAGE at most. */
export function joinEntries(script: string): string {
  const starts = [...script.matchAll(ENTRY_HEADER)].map((match) => match.index!);
  if (starts.length === 0) return script;
  const entries = starts.map((start, index) => script.slice(start, starts[index + 1] ?? script.length));
  const canJoin = entries.map(joinable);
  let inMessage = 0;
  const joined = entries.map((entry, index) => {
    inMessage += 1;
    if (!canJoin[index] || !canJoin[index + 1] || inMessage === ENTRIES_PER_MESSAGE) {
      inMessage = 0;
      return entry;
    }
    return entry.replace(LAST_SEMICOLON, ' \\;$1');
  });
  return script.slice(0, starts[0]) + joined.join('');
}
