/** Reading a running restore's progress: the golden list's entries and the statements pg_restore sends. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listEntryKey, RestoreProgress, statementEntryKeys } from '../support/lifecycle/restore-progress';

const LIST = [
  '219; 1255 16462 FUNCTION public update_modified_column_tms() erp_role',
  '230; 1259 16500 TABLE public llx_societe erp_role',
  '231; 1259 16510 SEQUENCE public llx_societe_rowid_seq erp_role',
  '232; 0 0 SEQUENCE OWNED BY public llx_societe_rowid_seq erp_role',
  '3456; 0 16500 TABLE DATA public llx_societe erp_role',
  '3457; 0 0 SEQUENCE SET public llx_societe_rowid_seq erp_role',
  '3500; 1259 17000 INDEX public idx_societe_nom erp_role',
  '3600; 2606 17100 FK CONSTRAINT public llx_facture fk_facture_fk_soc erp_role',
];

describe('golden list entries', () => {
  it('are keyed by type and schema-qualified name, multi-word types included', () => {
    assert.deepEqual(LIST.map(listEntryKey), [
      'FUNCTION public.update_modified_column_tms()',
      'TABLE public.llx_societe',
      'SEQUENCE public.llx_societe_rowid_seq',
      'SEQUENCE OWNED BY public.llx_societe_rowid_seq',
      'TABLE DATA public.llx_societe',
      'SEQUENCE SET public.llx_societe_rowid_seq',
      'INDEX public.idx_societe_nom',
      'FK CONSTRAINT public.llx_facture fk_facture_fk_soc',
    ]);
    assert.equal(listEntryKey(';; Archive created at 2026-11-26'), undefined);
  });

  it('match the statements that restore them', () => {
    assert.deepEqual(statementEntryKeys('COPY public.llx_societe (rowid, nom) FROM stdin;'), ['TABLE DATA public.llx_societe']);
    assert.deepEqual(statementEntryKeys('COPY "public"."llx_societe" (rowid) FROM stdin;'), ['TABLE DATA public.llx_societe']);
    assert.deepEqual(statementEntryKeys('CREATE INDEX idx_societe_nom ON public.llx_societe USING btree (nom);'), ['INDEX public.idx_societe_nom']);
    assert.deepEqual(statementEntryKeys('CREATE TABLE public.llx_societe (\n rowid integer'), ['TABLE public.llx_societe']);
    assert.deepEqual(statementEntryKeys('CREATE SEQUENCE public.llx_societe_rowid_seq\n AS integer'), ['SEQUENCE public.llx_societe_rowid_seq']);
    assert.deepEqual(statementEntryKeys('ALTER TABLE ONLY public.llx_facture\n    ADD CONSTRAINT fk_facture_fk_soc FOREIGN KEY'), [
      'CONSTRAINT public.llx_facture fk_facture_fk_soc',
      'FK CONSTRAINT public.llx_facture fk_facture_fk_soc',
    ]);
    assert.deepEqual(statementEntryKeys('SELECT pg_catalog.setval(1)'), []);
  });
});

describe('a restore progress line', () => {
  it('names the furthest entry reached, each session\'s statement and its rows, and never goes back', () => {
    const progress = new RestoreProgress(LIST, 0);
    assert.equal(
      progress.line([{ query: 'COPY public.llx_societe (rowid, nom) FROM stdin;', rows: 12345 }], 3000),
      'reset: 3 s, entry 5 of 8: TABLE DATA public.llx_societe (12,345 rows)',
    );
    assert.equal(
      progress.line([{ query: 'CREATE TABLE public.llx_societe (rowid integer)' }, { query: 'ALTER TABLE ONLY public.llx_facture\n  ADD CONSTRAINT fk_facture_fk_soc' }], 4000),
      'reset: 4 s, entry 8 of 8: TABLE public.llx_societe; FK CONSTRAINT public.llx_facture fk_facture_fk_soc',
    );
    assert.equal(progress.line([{ query: 'SELECT pg_catalog.setval(1)' }], 5000), 'reset: 5 s, entry 8 of 8: SELECT pg_catalog.setval(1)');
  });
});
