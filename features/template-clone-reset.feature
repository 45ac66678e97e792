@serial
Feature: Template-clone reset: a CREATEDB role that owns only the sandbox and golden databases, still unable to hurt prod
  ADR-0003's escape hatch for scale: reset the sandbox by cloning a golden DATABASE (CREATE DATABASE … TEMPLATE)
  instead of restoring the golden into it. It needs CREATEDB, so it runs with its own Vault identity
  (erp-sandbox-clone), whose logins are members of erp_sandbox_clone_role only: NOLOGIN, CREATEDB, and a member of
  erp_sandbox_role, through which it owns exactly the sandbox database, the golden database erp-sandbox-golden and
  their objects. Prod's database is owned by erp_role, so ownership still keeps prod undroppable: with its CREATEDB
  taken (SET ROLE erp_sandbox_clone_role), the clone login can neither drop, rename nor copy prod, nor read or write
  prod's tables, nor become erp_role. Each attempt also has a form safe for a live prod, which every target runs: the
  attempt rolled back (a write EXPLAINed: PostgreSQL's own check, nothing executed), or for DROP, RENAME and CREATE
  DATABASE (never sent to a live prod) a catalogue query of the
  rule PostgreSQL applies, which must answer no for prod's database and yes for the sandbox's; a hermetic target then
  sends the attempt itself too. The interrupted resets touch the sandbox's own databases only, on the sandbox's server.
  Where no clone identity is configured, the whole feature is not applicable.

  Background:
    Given a clone login "clone" is minted through Vault for the sandbox's template-clone reset

  Scenario: the clone credential is its own Vault identity, with CREATEDB and the sandbox owner role, nothing else
    Then login "clone" has a Vault-style username
    And login "clone" was issued by Vault at "postgres/creds/erp-sandbox-clone" to its workload's own Vault role
    And login "clone" is a member of exactly "erp_sandbox_clone_role, erp_sandbox_role"
    And the powers of login "clone", and of every role it can become, are exactly "CREATEDB through erp_sandbox_clone_role"

  Scenario: the sandbox's own login cannot become the clone role
    Given a login role "sandbox" is minted for instance "erp-sandbox"
    Then login "sandbox" is a member of exactly "erp_sandbox_role"
    And login "sandbox", and every role it can become, has none of SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS

  Scenario: a clone reset brings a written sandbox back to the golden's content hash
    Given the sandbox is reset by cloning the golden database with login "clone"
    And the sandbox overlay gives the agent its sandbox key and write rights
    And the provisioner's user_lookup in the sandbox is noted
    When the agent writes a supplier invoice with 2 lines for a new thirdparty through the sandbox's Dolibarr
    Then the sandbox's content hash differs from the golden manifest's
    When the sandbox is reset by cloning the golden database with login "clone"
    Then the sandbox's content hash equals the golden manifest's
    And the sandbox holds no ownership drift
    And the golden database records the golden manifest's content hash
    And database "erp-sandbox" is owned by "erp_sandbox_role"
    And the sandbox database's access is what it was before the reset
    And the provisioner's user_lookup in the sandbox is untouched

  Scenario: a clone reset refuses while another session uses the sandbox, and names it
    Given the sandbox is reset by cloning the golden database with login "clone"
    And a login role "dolibarr" is minted for instance "erp-sandbox"
    And login "dolibarr" holds a session open on the sandbox
    Then a clone reset of the sandbox by login "clone" is refused because login "dolibarr" is connected
    And the sandbox's content hash equals the golden manifest's

  Scenario Outline: a clone reset interrupted <when> is repaired by the next one
    Given the sandbox is reset by cloning the golden database with login "clone"
    And a clone reset by login "clone" was interrupted <when>
    When the sandbox is reset by cloning the golden database with login "clone"
    Then the clone reset reported that it "<repaired>"
    And the sandbox's content hash equals the golden manifest's

    Examples:
      | when                            | repaired                                          |
      | before the drop                 | a leftover erp-sandbox-next of an interrupted clone reset was dropped |
      | between the drop and the rename | was completed by renaming erp-sandbox-next        |

  Scenario Outline: with its CREATEDB taken, the clone credential cannot <attempt>
    Given prod's state is recorded
    When the clone login "clone" tries to <attempt>
    Then PostgreSQL refuses it with SQLSTATE 42501, which proves <fence>
    And prod's content hash is unchanged

    Examples:
      | attempt                         | fence                                                              |
      | drop database erp               | ownership of database erp by erp_role, which CREATEDB does not give |
      | rename database erp             | ownership of database erp by erp_role, which CREATEDB does not give |
      | copy database erp as a template | a template is copied only by its owner, unless marked a template   |
      | read prod table llx_societe     | CONNECT on erp (hardened) and privileges on prod tables, held by erp_role only |
      | write prod table llx_societe    | CONNECT on erp (hardened) and privileges on prod tables, held by erp_role only |
      | set role erp_role               | membership of erp_role, never granted to the clone role            |
