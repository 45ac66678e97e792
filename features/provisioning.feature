Feature: The hermetic cluster is laid out like the factory's postgres/iac
  The gates prove nothing unless the cluster they run on is laid out like the real one. These
  scenarios read the live catalog of the hermetic cluster and compare it with the factory's layout:
  NOLOGIN owner roles owning their databases, credentials_editor minting login roles like Vault,
  the provisioner's pgbouncer lookup function that no application role may touch, and prod's golden
  reader role (the proposed factory change of docs/GOLDEN-IDENTITY.md), which may read prod and nothing else.

  Scenario: each database is owned by its instance's owner role, which cannot log in
    Then database "erp" is owned by "erp_role"
    And database "erp-sandbox" is owned by "erp_sandbox_role"
    And role "erp_role" cannot log in
    And role "erp_sandbox_role" cannot log in

  Scenario: the owner roles hold no power of their own, which their logins could take by SET ROLE
    Then role "erp_role" has none of SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS
    And role "erp_sandbox_role" has none of SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS

  Scenario Outline: only <database>'s owner role may create objects in its schema public
    Then in database "<database>" PUBLIC cannot create objects in schema public

    Examples:
      | database    |
      | erp         |
      | erp-sandbox |

  Scenario: credentials_editor can mint login roles for both instances and holds nothing else
    Then role "credentials_editor" can log in and create roles
    But role "credentials_editor" is not a superuser and cannot create databases
    And role "credentials_editor" holds ADMIN OPTION on exactly "erp_reader_role, erp_role, erp_sandbox_clone_role, erp_sandbox_role"

  Scenario: the golden reader role of erp reads prod only
    Then role "erp_reader_role" cannot log in
    And role "erp_reader_role" has none of SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS
    And role "erp_reader_role" may read everything "erp_role" owns in database "erp", and do nothing more to it
    And role "erp_reader_role" holds nothing in any database but "erp"

  Scenario Outline: the pgbouncer lookup function of <database> belongs to the provisioner
    Then in database "<database>" the provisioner's user_lookup is owned by the provisioner
    And in database "<database>" PUBLIC cannot execute the provisioner's user_lookup
    And in database "<database>" role "pgbouncer_auth" can execute the provisioner's user_lookup
    And in database "<database>" role "<owner role>" cannot execute the provisioner's user_lookup

    Examples:
      | database    | owner role       |
      | erp         | erp_role         |
      | erp-sandbox | erp_sandbox_role |

  Scenario: a minted sandbox login role is a member of erp_sandbox_role only
    When a login role "agent" is minted for instance "erp-sandbox"
    Then login "agent" has a Vault-style username
    And login "agent" can connect to database "erp-sandbox"
    And login "agent" is a member of exactly "erp_sandbox_role"
    And login "agent" is not a superuser and cannot create databases or roles

  Scenario: revoking a minted login role drops it, as Vault's revocation does
    Given a login role "short-lived" is minted for instance "erp-sandbox"
    When login "short-lived" is revoked
    Then login "short-lived" no longer exists

  Scenario: every object in prod is owned by erp_role, except the provisioner's
    Then every object in database "erp" is owned by "erp_role", except the provisioner's

  Scenario: the hermetic prod holds the Dolibarr-shaped fixture, whole
    Then database "erp" holds the fixture's whole catalogue

  Scenario: the cluster's own client tools read prod's schema as the golden identity
    Given a golden login "reader" is minted through Vault for prod's read-only golden identity
    When login "reader" dumps the schema of database "erp" with the cluster's pg_dump
    Then the archive lists "TABLE public llx_societe erp_role"
    And the archive lists "FUNCTION public update_modified_column_tms() erp_role"
    And the archive lists the provisioner's user_lookup, owned by the provisioner
