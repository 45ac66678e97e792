import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entriesOwnedBy } from '../support/postgres/archive';

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
