import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entriesOwnedBy, isPrivilegeEntry, restorableEntries } from '../support/postgres/archive';

describe('entriesOwnedBy', () => {
  const toc = [
    '219; 1255 16462 FUNCTION public update_modified_column_tms() erp_role',
    '218; 1255 16389 FUNCTION public user_lookup(text) postgres',
    '3341; 0 0 ACL public FUNCTION user_lookup(i_username text, OUT uname text, OUT phash text) postgres',
    '5; 2615 2200 SCHEMA - public pg_database_owner',
    '230; 1259 16500 TABLE public llx_societe erp_role',
    '4012; 0 16500 TABLE DATA public llx_societe erp_role',
    '3900; 2606 16600 FK CONSTRAINT public llx_facture fk_facture_fk_soc erp_role',
    '231; 1259 16501 TABLE public llx_erp_role_notes erp_sandbox_role',
  ];

  it('keeps exactly the entries whose owner is the role, whatever the entry kind', () => {
    assert.deepEqual(entriesOwnedBy(toc, 'erp_role'), [toc[0], toc[4], toc[5], toc[6]]);
  });

  it('leaves the provisioner\'s function, its ACL and the schema out', () => {
    assert.ok(!entriesOwnedBy(toc, 'erp_role').some((line) => /user_lookup|SCHEMA/.test(line)));
  });

  it('matches the owner as the last word, not as a part of a name', () => {
    assert.deepEqual(entriesOwnedBy(toc, 'erp_sandbox_role'), [toc[7]]);
  });
});

describe('restorableEntries (what a golden restores)', () => {
  // As pg_restore -l prints a prod whose reader role holds SELECT and default privileges (PostgreSQL 15).
  const toc = [
    '217; 1255 16402 FUNCTION public update_modified_column_tms() erp_role',
    '215; 1259 16394 TABLE public llx_societe erp_role',
    '3360; 0 0 ACL public TABLE llx_societe erp_role',
    '214; 1259 16393 SEQUENCE public llx_societe_rowid_seq erp_role',
    '3362; 0 0 ACL public SEQUENCE llx_societe_rowid_seq erp_role',
    '3351; 0 16394 TABLE DATA public llx_societe erp_role',
    '3364; 0 0 SEQUENCE SET public llx_societe_rowid_seq erp_role',
    '2040; 826 16391 DEFAULT ACL public DEFAULT PRIVILEGES FOR TABLES erp_role',
    '2041; 826 16392 DEFAULT ACL public DEFAULT PRIVILEGES FOR SEQUENCES erp_role',
    '3359; 0 0 ACL - SCHEMA public pg_database_owner',
    '216; 1259 16403 TABLE public llx_acl_notes erp_role',
  ];

  it("keeps the owner's objects and their data, and leaves every grant and default privilege out", () => {
    assert.deepEqual(restorableEntries(toc, 'erp_role'), [toc[0], toc[1], toc[3], toc[5], toc[6], toc[10]]);
  });

  it('tells a privilege entry by its kind, not by a name that happens to hold ACL', () => {
    assert.deepEqual(toc.filter(isPrivilegeEntry), [toc[2], toc[4], toc[7], toc[8], toc[9]]);
    assert.equal(isPrivilegeEntry('216; 1259 16403 TABLE public ACL erp_role'), false);
  });
});
