/**
 * The promote journal and the resume decision, without a cluster: what a journal file says after each kind of end (a
 * torn last line included), and what `rehearse promote` makes of it — the refusal that names what reached prod, what
 * did not and the write in doubt; the resume that rebuilds the id map from prod's answers; the refusals when prod does
 * not match. The end to end, killed and signalled on a real cluster, is test/promote-crash.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RecordedOperation } from '../support/promote/changeset';
import { Journal, journalPath, readJournal, type JournalState, type RelationHashes } from '../support/promote/journal';
import { PromotionRefused } from '../support/promote/refusal';
import { resumeFromJournal } from '../support/promote/resume';
import { registerSecret } from '../support/redaction';

const dir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-promote-journal-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const OPERATIONS: RecordedOperation[] = [
  { method: 'POST', path: '/thirdparties', body: { name: 'ACME' }, status: 200, response: 31 },
  { method: 'POST', path: '/supplierinvoices', body: { socid: 31, ref_supplier: 'F-1' }, status: 200, response: 12 },
];
const BEFORE: RelationHashes = { 'table public.llx_societe': 'h0', 'table public.llx_facture_fourn': 'f0' };
const AFTER_1: RelationHashes = { 'table public.llx_societe': 'h1', 'table public.llx_facture_fourn': 'f0' };
const REQUEST = { resume: false, changesetPath: 'cs.json', journalPath: 'j.ndjson' };

let files = 0;
/** A journal with `lines` appended after `started`, read back. */
function journalWith(lines: ((journal: Journal) => void)[]): JournalState {
  const path = join(dir, `j${++files}.ndjson`);
  const journal = Journal.open(path);
  journal.append({ event: 'started', digest: 'sha256:ab', changeset: 'cs.json', who: 'ops-alice', operations: 2, relations: BEFORE, before: 'b.json' });
  for (const line of lines) line(journal);
  journal.close();
  return readJournal(path)!;
}

const sending = (operation: number) => (journal: Journal) => journal.append({ event: 'sending', operation, of: 2, method: 'POST', path: OPERATIONS[operation - 1]!.path });
const sent = (operation: number, answer: unknown) => (journal: Journal) =>
  journal.append({ event: 'sent', operation, of: 2, method: 'POST', path: OPERATIONS[operation - 1]!.path, answer });
const settled = (operation: number, relations: RelationHashes) => (journal: Journal) => journal.append({ event: 'settled', operation, relations });

function refusal(run: () => unknown): PromotionRefused {
  try {
    run();
  } catch (error) {
    if (error instanceof PromotionRefused) return error;
    throw error;
  }
  assert.fail('expected promote to refuse');
}

describe('the promote journal', () => {
  it('lives beside the audit, one file per digest, the operator\'s alone, each line whole and redacted', () => {
    assert.equal(journalPath('/r/promote-audit.ndjson', 'sha256:ab12'), '/r/promote-journal/ab12.ndjson');
    const path = join(dir, 'mode', 'j.ndjson');
    const journal = Journal.open(path);
    const secret = `pl4nted-${Date.now()}`;
    registerSecret(secret);
    journal.append({ event: 'failed', reason: `prod answered ${secret}` });
    journal.close();
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const text = readFileSync(path, 'utf8');
    assert.ok(!text.includes(secret), text);
    assert.match(text, /\[redacted\]/);
  });

  it('reads the last promotion: what was sent with prod\'s answers, the write in doubt, how it ended', () => {
    const state = journalWith([sending(1), sent(1, 31), settled(1, AFTER_1), sending(2)]);
    assert.deepEqual([...state.sent], [[1, 31]]);
    assert.deepEqual(state.inDoubt, { operation: 2, method: 'POST', path: '/supplierinvoices' });
    assert.equal(state.ended, undefined);
    assert.equal(journalWith([sending(1), sent(1, 31), (j) => j.append({ event: 'stopped', signal: 'SIGTERM', sent: 1 })]).ended, 'stopped');
    const resumedThenFinished = journalWith([sent(1, 31), (j) => j.append({ event: 'stopped', signal: 'SIGINT', sent: 1 }), (j) => j.append({ event: 'resumed', who: 'x', from: 2 }), sent(2, 12), (j) => j.append({ event: 'finished', prodDiffEqual: true })]);
    assert.equal(resumedThenFinished.ended, 'finished');
    assert.deepEqual([...resumedThenFinished.sent.keys()], [1, 2]);
  });

  it('ignores a torn last line, as a crash mid-write leaves it, and refuses a damaged one elsewhere', () => {
    const path = join(dir, 'torn.ndjson');
    const journal = Journal.open(path);
    journal.append({ event: 'started', digest: 'sha256:ab', changeset: 'cs.json', who: 'w', operations: 2, relations: BEFORE, before: 'b.json' });
    journal.append({ event: 'sending', operation: 1, of: 2, method: 'POST', path: '/thirdparties' });
    journal.close();
    appendFileSync(path, '{"event":"sent","operation":1,"answ');
    assert.deepEqual(readJournal(path)!.inDoubt?.operation, 1);
    appendFileSync(path, '\n{"event":"finished"}\n');
    assert.throws(() => readJournal(path), /damaged at line 3/);
    assert.equal(readJournal(join(dir, 'none.ndjson')), undefined);
  });
});

describe('resuming from the journal', () => {
  it('without --resume: refuses, naming what reached prod, what did not, and the write in doubt checked against prod', () => {
    const state = journalWith([sending(1), sent(1, 31), settled(1, AFTER_1), sending(2)]);
    const unchanged = refusal(() => resumeFromJournal(state, OPERATIONS, AFTER_1, REQUEST));
    assert.equal(unchanged.reason, 'unfinished promotion');
    assert.match(unchanged.message, /did not finish \(the process died during it\): 1 of 2 operation\(s\) reached prod \(journal j\.ndjson\)/);
    assert.match(unchanged.message, /reached prod: operation 1\/2 POST \/thirdparties → 31/);
    assert.match(unchanged.message, /in doubt: operation 2\/2 POST \/supplierinvoices was being sent when the promotion ended; prod's relations are as the journal recorded them after operation 1, so it did not reach prod/);
    assert.doesNotMatch(unchanged.message, /not sent: operation 2/);
    assert.match(unchanged.message, /run rehearse promote cs\.json --resume/);
    const moved = refusal(() => resumeFromJournal(state, OPERATIONS, { ...AFTER_1, 'table public.llx_facture_fourn': 'f1' }, REQUEST));
    assert.match(moved.message, /in doubt: .* not as the journal recorded them after operation 1 \(table public\.llx_facture_fourn\): it may have reached prod — check prod for it/);
  });

  it('with --resume: continues at the first operation not sent, with the id map rebuilt from prod\'s answers', () => {
    const state = journalWith([sending(1), sent(1, 77), settled(1, AFTER_1)]);
    const plan = resumeFromJournal(state, OPERATIONS, AFTER_1, { ...REQUEST, resume: true });
    assert.equal(plan.from, 1);
    assert.deepEqual(plan.sent, [{ method: 'POST', path: '/thirdparties', body: { name: 'ACME' }, answer: 77 }]);
    assert.equal(plan.ids.lookup('thirdparties', 31), 77, "the sandbox's thirdparty is prod's 77");
    // Nothing sent yet, prod as before: resumed from the first operation.
    assert.equal(resumeFromJournal(journalWith([sending(1)]), OPERATIONS, BEFORE, { ...REQUEST, resume: true }).from, 0);
  });

  it('with --resume: refuses when prod is not as the journal left it, or when nothing recorded prod after the last write', () => {
    const state = journalWith([sending(1), sent(1, 77), settled(1, AFTER_1)]);
    const moved = refusal(() => resumeFromJournal(state, OPERATIONS, { ...AFTER_1, 'table public.llx_societe': 'h2' }, { ...REQUEST, resume: true }));
    assert.equal(moved.reason, 'prod moved since the journal');
    assert.match(moved.message, /not as the journal recorded them after operation 1: table public\.llx_societe; nothing was sent/);
    const unsettled = refusal(() => resumeFromJournal(journalWith([sending(1), sent(1, 77)]), OPERATIONS, AFTER_1, { ...REQUEST, resume: true }));
    assert.equal(unsettled.reason, 'prod moved since the journal');
    assert.match(unsettled.message, /prod's answer to operation 1 but not prod's state after it/);
  });
});

describe('kill points', () => {
  it('a process SIGKILLs itself at the point ERP_REHEARSAL_KILL_AT names, and only there', () => {
    const script = "require('./support/process/kill-point').killPoint('here'); process.stdout.write('went on\\n')";
    const run = (point: string) => spawnSync(process.execPath, ['--require', './bin/register.js', '-e', script], { cwd: join(__dirname, '..'), env: { ...process.env, ERP_REHEARSAL_KILL_AT: point }, encoding: 'utf8' });
    const killed = run('here');
    assert.equal(killed.signal, 'SIGKILL');
    assert.match(killed.stderr, /kill point here reached: SIGKILL/);
    assert.doesNotMatch(killed.stdout, /went on/);
    const elsewhere = run('promote:after-write:1');
    assert.equal(elsewhere.status, 0, elsewhere.stderr);
    assert.match(elsewhere.stdout, /went on/);
  });
});
