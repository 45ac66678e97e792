@serial @example @dolibarr
Feature: Rehearse a supplier invoice: the books agree, the diff is exact, a reset forgets it
  The walkthrough of docs/AUTHORING.md. The agent rehearses a write on the sandbox through its Dolibarr: a new
  supplier and a supplier invoice of two lines (line n: n × 12.50 € at 20 %), dated today. The ERP's own books must
  agree with it — the VAT summary of the invoice's quarter grows by exactly the invoice, other periods do not move,
  the invoice balances and is unpaid, the supplier is complete — the diff must name exactly the rows written, and a
  reset must bring the golden back.

  Background:
    Given a login role "sandbox" is minted for instance "erp-sandbox"
    And the sandbox is at the golden, or is reset to it by login "sandbox"

  Scenario: a supplier invoice for a new supplier, rehearsed, checked against the books, and reset
    Given the sandbox overlay gives the agent its sandbox key and write rights
    And the sandbox's state is recorded as "before the rehearsal"
    And the VAT summary for the rehearsed invoice's period is noted
    And the VAT summary for "2025" is noted
    When the agent writes a supplier invoice with 2 lines for a new thirdparty through the sandbox's Dolibarr
    And the agent completes the rehearsed thirdparty with country "FR" and supplier code "SU-RH-0001" through the sandbox's Dolibarr
    Then the VAT summary for the rehearsed invoice's period grew by exactly the rehearsed invoice
    And the VAT summary for "2025" is unchanged
    And the rehearsed supplier invoice balances
    And the rehearsed supplier invoice totals 45.00 € including VAT
    And the rehearsed supplier invoice is unpaid
    And every supplier invoice of thirdparty "Rehearsal Supplies SARL" balances
    And the rehearsed thirdparty is complete
    And the diff from "before the rehearsal" names exactly the written rows:
      | relation                     | added rows |
      | public.llx_societe           | 1          |
      | public.llx_facture_fourn     | 1          |
      | public.llx_facture_fourn_det | 2          |
    And the diff from "before the rehearsal" shows exactly these sequences moved:
      | sequence                               |
      | public.llx_societe_rowid_seq           |
      | public.llx_facture_fourn_rowid_seq     |
      | public.llx_facture_fourn_det_rowid_seq |
    When the sandbox is reset to the golden by login "sandbox"
    Then the sandbox's content hash equals the golden manifest's
    And the VAT summary for the rehearsed invoice's period is unchanged
