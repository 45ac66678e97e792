@serial
Feature: Reset round-trip: the sandbox always comes back to the golden
  ADR-0003 §2 resets the sandbox with DROP OWNED BY erp_sandbox_role CASCADE and a restore of the
  golden — prod dumped read-only and scoped by ownership — in one transaction, run with the sandbox's
  own login role. Whatever a rehearsal wrote, the sandbox's content hash is the golden's again after
  a reset; objects the reset cannot see are named before they can break that promise. The writes are
  the agent's: through the write tooling, to the sandbox's Dolibarr, after the overlay that gives the
  agent its sandbox key and write rights (a reset brings the golden back without it).

  Background:
    Given a login role "sandbox" is minted for instance "erp-sandbox"
    And the sandbox is at the golden, or is reset to it by login "sandbox"

  Scenario: seeding the sandbox from the golden reproduces prod's content hash
    When the sandbox is reset to the golden by login "sandbox"
    Then the sandbox's content hash equals the golden manifest's
    And the sandbox holds no ownership drift

  Scenario: a write moves the hash, the diff names exactly what was written, a reset brings the golden back
    Given the sandbox overlay gives the agent its sandbox key and write rights
    And the sandbox's state is recorded as "seeded"
    And the provisioner's user_lookup in the sandbox is noted
    When the agent writes a supplier invoice with 2 lines for a new thirdparty through the sandbox's Dolibarr
    Then the sandbox's content hash differs from the golden manifest's
    And the diff from "seeded" names exactly the written rows:
      | relation                     | added rows |
      | public.llx_societe           | 1          |
      | public.llx_facture_fourn     | 1          |
      | public.llx_facture_fourn_det | 2          |
    And the diff from "seeded" shows exactly these sequences moved:
      | sequence                                |
      | public.llx_societe_rowid_seq            |
      | public.llx_facture_fourn_rowid_seq      |
      | public.llx_facture_fourn_det_rowid_seq  |
    When the sandbox is reset to the golden by login "sandbox"
    Then the sandbox's content hash equals the golden manifest's
    And the provisioner's user_lookup in the sandbox is untouched

  Scenario: the opt-in parallel reset (pg_restore --jobs, not atomic) brings the golden back too
    Given the sandbox overlay gives the agent its sandbox key and write rights
    And the agent writes a supplier invoice with 2 lines for a new thirdparty through the sandbox's Dolibarr
    When the sandbox is reset to the golden by login "sandbox" with a parallel restore of 2 jobs
    Then the sandbox's content hash equals the golden manifest's
    And the sandbox holds no ownership drift

  Scenario: a parallel reset that fails part-way says the sandbox is partly restored; the next reset repairs it
    Given the sandbox overlay gives the agent its sandbox key and write rights
    And the agent writes a supplier invoice with 2 lines for a new thirdparty through the sandbox's Dolibarr
    When a parallel reset from the golden with a corrupted archive entry is attempted by login "sandbox"
    Then the reset failed and reported "the sandbox is partly restored — reset it again before using it"
    And the sandbox's content hash differs from the golden manifest's
    When the sandbox is reset to the golden by login "sandbox"
    Then the sandbox's content hash equals the golden manifest's

  Scenario: a sequence a rehearsal advanced, and nothing else, moves the hash; a reset puts it back
    Given the sandbox's state is recorded as "seeded"
    When login "sandbox" advances sequence "public.llx_societe_rowid_seq" as the sandbox owner role
    Then the sandbox's content hash differs from the golden manifest's
    And the diff from "seeded" shows exactly these sequences moved:
      | sequence                     |
      | public.llx_societe_rowid_seq |
    When the sandbox is reset to the golden by login "sandbox"
    Then the sandbox's content hash equals the golden manifest's

  Scenario: a column default a rehearsal changed, and nothing else, moves the hash; a reset puts it back
    Given the sandbox's state is recorded as "seeded"
    When login "sandbox" sets the default of column "note_public" of table "public.llx_societe" to "rehearsed" as the sandbox owner role
    Then the sandbox's content hash differs from the golden manifest's
    And the diff from "seeded" shows exactly these definitions changed:
      | relation           |
      | public.llx_societe |
    When the sandbox is reset to the golden by login "sandbox"
    Then the sandbox's content hash equals the golden manifest's

  Scenario: a table made without SET ROLE is ownership drift: named, and the reset refuses
    When login "sandbox" creates table "rehearsal_scratch" without SET ROLE
    Then the sandbox holds ownership drift "table public.rehearsal_scratch" owned by login "sandbox"
    And a reset of the sandbox by login "sandbox" is refused for ownership drift naming "table public.rehearsal_scratch"
    When the sandbox is reset to the golden by login "sandbox", dropping the login's own drift
    Then the sandbox holds no ownership drift
    And the sandbox's content hash equals the golden manifest's

  Scenario: a reset refuses while another session uses the sandbox, and names it
    Given a login role "dolibarr" is minted for instance "erp-sandbox"
    And login "dolibarr" holds a session open on the sandbox
    Then a reset of the sandbox by login "sandbox" is refused because login "dolibarr" is connected
    And the sandbox's content hash equals the golden manifest's

  Scenario Outline: a reset that fails midway leaves the sandbox as it was (<defect>)
    Given the sandbox overlay gives the agent its sandbox key and write rights
    And the agent writes a supplier invoice with 2 lines for a new thirdparty through the sandbox's Dolibarr
    And the sandbox's state is recorded as "written"
    When a reset from the golden with <defect> is attempted by login "sandbox"
    Then the reset failed and reported "<error>"
    And the sandbox's state is still "written"

    Examples:
      | defect                              | error                                                  |
      | its scope by table name             | function public.update_modified_column_tms() does not exist |
      | a corrupted archive entry           | nothing was changed                                    |

  Scenario: two resets at once serialize and both end at the golden
    Given a login role "second" is minted for instance "erp-sandbox"
    And the sandbox overlay gives the agent its sandbox key and write rights
    And the agent writes a supplier invoice with 2 lines for a new thirdparty through the sandbox's Dolibarr
    When logins "sandbox" and "second" reset the sandbox at the same time
    Then both resets succeeded, one after the other
    And the sandbox's content hash equals the golden manifest's
