import type { Client } from 'pg';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ident, literal } from '../postgres/connect';
import { writeRedacted } from '../redacted-files';
import { digestOf, type Changeset } from './changeset';
import type { Promotion } from './promote';

/**
 * What the promotion gate does to a rehearsal or to prod to see promote refuse: a changeset edited after review (its
 * recorded digest kept) or rewritten as if recorded elsewhere (re-digested), prod changed under the rehearsal, and
 * what takes a promotion's rows back. The target's side (who may write prod, its Vault KV) is
 * support/targets/promotion-faults.ts.
 */

function rewrite(path: string, edit: (changeset: Changeset) => Changeset): void {
  writeRedacted(path, `${JSON.stringify(edit(JSON.parse(readFileSync(path, 'utf8')) as Changeset), null, 2)}\n`);
}

/** A reviewer's nightmare: an amount changed in the file after review, its digest left as it was. */
export function editInvoiceAmount(path: string): void {
  rewrite(path, (changeset) => ({
    ...changeset,
    operations: changeset.operations.map((operation) =>
      Array.isArray(operation.body?.['lines'])
        ? { ...operation, body: { ...operation.body, lines: (operation.body['lines'] as Record<string, unknown>[]).map((line) => ({ ...line, subprice: 1250 })) } }
        : operation,
    ),
  }));
}

/** The changeset as if it had been recorded against prod's host, with a digest of its own. */
export function rehearsedOnProdHost(path: string, prodHost: string): void {
  rewrite(path, (changeset) => {
    const content = { ...changeset, rehearsal: { ...changeset.rehearsal, host: prodHost } };
    return { ...content, digest: digestOf(content) };
  });
}

/** The content of a changeset with `edit` applied, its digest recomputed: what a reviewer approves is then this. */
function redigested(changeset: Changeset, edit: (content: Changeset) => Changeset): Changeset {
  const content = edit(changeset);
  return { ...content, digest: digestOf(content) };
}

/** The diff shown for review, without the invoice's lines (its digest kept, or recomputed): the operations still write them. */
export function hideInvoiceLines(path: string, options: { readonly redigest: boolean }): void {
  const hide = (changeset: Changeset) => ({ ...changeset, changes: changeset.changes.filter((change) => change.name !== 'public.llx_facture_fourn_det') });
  rewrite(path, (changeset) => (options.redigest ? redigested(changeset, hide) : hide(changeset)));
}

/** The changeset as if rehearsed on a sandbox whose thirdparties were not the golden's, re-digested. */
export function beforeStateNotGolden(path: string): void {
  rewrite(path, (changeset) =>
    redigested(changeset, (content) => ({
      ...content,
      before: { ...content.before, relations: { ...content.before.relations, 'table public.llx_societe': createHash('sha256').update('not the golden').digest('hex') } },
    })),
  );
}

/**
 * The changeset replaced by one written by hand, as someone who copied a real one's header and before-state would
 * write it: it names the sandbox's host, its digest is valid, and its diff shows one new thirdparty, while its
 * operations create that thirdparty and rename an existing one.
 */
export function writtenByHand(path: string): void {
  rewrite(path, (recorded) =>
    redigested(recorded, (content) => ({
      ...content,
      title: 'a new thirdparty, written by hand',
      operations: [
        { method: 'POST', path: '/thirdparties', body: { name: 'Written by hand', client: 1 }, status: 200, response: 9001 },
        { method: 'PUT', path: '/thirdparties/1', body: { name: 'Renamed by hand' }, status: 200, response: 1 },
      ],
      changes: [
        {
          key: 'table public.llx_societe',
          kind: 'table',
          name: 'public.llx_societe',
          change: 'content changed',
          rows: { added: [{ key: { rowid: '9001' }, after: { rowid: '9001', nom: 'Written by hand', client: '1' } }], removed: [], changed: [] },
        },
      ],
    })),
  );
}

/**
 * Deletes from prod the rows a promotion added, in the caller's transaction as prod's owner role. Rows referencing
 * others go first: tables are tried in passes until every one is empty of the promotion's rows. Sequences stay where
 * the promotion left them, as after any insert.
 */
export async function deletePromotedRows(client: Client, promotion: Promotion): Promise<void> {
  let left = promotion.prodChanges.filter((change) => change.kind === 'table' && (change.rows?.added.length ?? 0) > 0);
  while (left.length > 0) {
    const failed: typeof left = [];
    for (const change of left) {
      const keys = change.rows!.added.map((row) => row.key);
      const where = keys.map((key) => `(${Object.entries(key).map(([column, value]) => `${ident(column)} = ${literal(String(value))}`).join(' AND ')})`).join(' OR ');
      await client.query('SAVEPOINT withdraw');
      try {
        await client.query(`DELETE FROM ${change.name} WHERE ${where}`);
        await client.query('RELEASE SAVEPOINT withdraw');
      } catch (error) {
        if ((error as { code?: string }).code !== '23503') throw error; // still referenced: next pass
        await client.query('ROLLBACK TO SAVEPOINT withdraw');
        failed.push(change);
      }
    }
    if (failed.length === left.length) throw new Error(`cannot withdraw the promotion's rows from ${failed.map((change) => change.name).join(', ')}`);
    left = failed;
  }
}

/** A thirdparty added on prod, as a user of prod would (run as prod's owner role). */
const CHANGED_ON_PROD = 'Changed on prod since the rehearsal';

export async function insertProdThirdparty(client: Client): Promise<void> {
  await client.query('INSERT INTO public.llx_societe (nom, entity, datec) VALUES ($1, 1, now())', [CHANGED_ON_PROD]);
}

/** Takes insertProdThirdparty's row back out of prod (run as prod's owner role). */
export async function deleteInsertedProdThirdparty(client: Client): Promise<void> {
  await client.query('DELETE FROM public.llx_societe WHERE nom = $1', [CHANGED_ON_PROD]);
}

/** Prod's thirdparty ids moved on without a row, as an insert rolled back leaves them (run as prod's owner role). */
export async function advanceThirdpartyIds(client: Client): Promise<void> {
  await client.query("SELECT nextval('public.llx_societe_rowid_seq')");
}
