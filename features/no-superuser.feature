@serial
Feature: No-superuser proof: the reset needs nothing but the sandbox's own login role
  ADR-0003: the reset path runs end to end with postgres/creds/erp-sandbox only — a short-lived login
  that is a member of erp_sandbox_role, obtained from Vault by the sandbox's own workload identity —
  and must succeed with no CREATEDB and no superuser. If it needed either, the object-level mechanism
  would not be confined as claimed.

  Background:
    Given a login role "reset" is minted for instance "erp-sandbox"

  Scenario: the reset credential holds no power, of its own or through the role it can become
    Then login "reset", and every role it can become, has none of SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS
    And login "reset" is a member of exactly "erp_sandbox_role"

  Scenario: the full reset succeeds with that credential alone
    When the sandbox is reset to the golden by login "reset"
    Then the sandbox's content hash equals the golden manifest's

  Scenario Outline: what the reset does not need is denied to it: <action>
    When login "reset" tries to <action>
    Then the attempt ran as login "reset" in database "erp-sandbox"
    And the attempt was refused with SQLSTATE 42501

    Examples:
      | action            |
      | create a database |
      | create a role     |

  Scenario: the reset's credential is the sandbox's own Vault lease, and it is gone once revoked
    Then login "reset" was issued by Vault at "postgres/creds/erp-sandbox" to its workload's own Vault role
    When the sandbox is reset to the golden by login "reset"
    And login "reset" is revoked
    Then Vault no longer holds the lease of login "reset"
    And login "reset" no longer exists
