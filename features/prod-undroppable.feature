@serial
Feature: Prod-undroppable proof: the sandbox credentials can neither drop nor write prod
  ADR-0003: attempting DROP DATABASE erp, or any object write on prod, with the sandbox runtime
  credential must be rejected by PostgreSQL on ownership grounds. A refusal proves something only if it
  came from the sandbox login's own session with the exact SQLSTATE and reason, and if the same attempt
  succeeds for a credential entitled to it (the positive control). Where no such credential is held (a live
  target holds only the sandbox's identity), the control is the attempt's mirror: the same attempt aimed at the
  sandbox's own object, as the sandbox login, rolled back, which must succeed; a hermetic target runs both. Each
  row also runs the form that is safe against a live prod (rolled back, or a catalogue check) and expects the
  same refusal. An attempt nothing of the sandbox's is entitled to has no mirror: its positive control is proven
  apart, wherever the entitled credential is held.

  The Dolibarr layer: a write sent to prod's host with a key that must not write there is refused by
  Dolibarr itself. The request deliberately skips the host-guard (a test-only sender, not the write
  tooling, which cannot reach prod at all). A key prod has never seen is refused by authentication (401);
  prod's own read-only agent key is refused by Dolibarr's permission model, as the version prod reports
  words it (403 since Dolibarr 20; 401 on 19, where only the message tells the two refusals apart). The
  form safe for a live prod is invalid in a way Dolibarr checks only after the rights, so a broken fence
  would show as 400 or 404 and still write nothing.

  Background:
    Given a login role "sandbox" is minted for instance "erp-sandbox"

  Scenario: the credential under test is who the Vault role says it is
    Then login "sandbox" has a Vault-style username
    And login "sandbox" can connect to database "erp-sandbox"
    And login "sandbox" is a member of exactly "erp_sandbox_role"

  Scenario Outline: the sandbox credential cannot <attempt>
    Given the sandbox holds what the probes' mirrors aim at, or is reset to the golden by login "sandbox"
    When login "sandbox" tries to <attempt>
    Then it is refused with SQLSTATE 42501 because <refused because>, which proves <fence>
    And the same attempt succeeds for a credential entitled to it
    And the form safe for a live prod is refused too

    Examples: prod's database, guarded by its ownership
      | attempt                               | refused because               | fence                     |
      | drop database erp                     | not the owner of database erp | ownership of database erp |
      | give database erp to erp_sandbox_role | not the owner of database erp | ownership of database erp |
      | rename database erp                   | not the owner of database erp | ownership of database erp |
      | comment on database erp               | not the owner of database erp | ownership of database erp |

    Examples: prod's door: CONNECT and TEMP
      | attempt                                  | refused because            | fence                                            |
      | connect to database erp                  | no CONNECT on database erp | CONNECT on database erp, kept for its owner role |
      | create a temporary table in database erp | no TEMP on database erp    | TEMP on database erp, kept for its owner role    |

    Examples: prod's tables, sequences and schema, guarded by erp_role's privileges
      | attempt                                     | refused because                                            | fence                                                                             |
      | read prod table llx_societe                 | no privilege on prod table llx_societe                     | privileges on prod tables, held by erp_role only                                  |
      | insert into prod table llx_societe          | no privilege on prod table llx_societe                     | privileges on prod tables, held by erp_role only                                  |
      | update prod table llx_societe               | no privilege on prod table llx_societe                     | privileges on prod tables, held by erp_role only                                  |
      | delete from prod table llx_societe          | no privilege on prod table llx_societe                     | privileges on prod tables, held by erp_role only                                  |
      | truncate prod table llx_societe             | no privilege on prod table llx_societe                     | privileges on prod tables, held by erp_role only                                  |
      | alter prod table llx_societe                | not the owner of prod table llx_societe                    | ownership of prod tables by erp_role                                              |
      | drop prod table llx_societe                 | not the owner of prod table llx_societe                    | ownership of prod tables by erp_role (and of schema public, through the database) |
      | advance prod sequence llx_societe_rowid_seq | no USAGE or UPDATE on prod sequence llx_societe_rowid_seq  | privileges on prod sequences, held by erp_role only                               |
      | set prod sequence llx_societe_rowid_seq     | no SELECT or UPDATE on prod sequence llx_societe_rowid_seq | privileges on prod sequences, held by erp_role only                               |
      | create a table in schema public of erp      | no CREATE on schema public of erp                          | CREATE on schema public of erp, owned by the database's owner                     |
      | create a function in schema public of erp   | no CREATE on schema public of erp                          | CREATE on schema public of erp, owned by the database's owner                     |
      | create a trigger on prod table llx_societe  | no privilege on prod table llx_societe                     | TRIGGER on prod tables, held by erp_role only                                     |

    Examples: the prod owner role itself
      | attempt                                         | refused because           | fence                                                      |
      | set role erp_role                               | not a member of erp_role  | membership of erp_role, never granted to the sandbox login |
      | drop everything erp_role owns                   | no privileges of erp_role | membership of erp_role, never granted to the sandbox login |
      | reassign what erp_role owns to erp_sandbox_role | no privileges of erp_role | membership of erp_role, never granted to the sandbox login |

    Examples: the provisioner's user_lookup in the sandbox database
      | attempt                                                    | refused because                                          | fence                                                         |
      | read password hashes through the provisioner's user_lookup | EXECUTE on user_lookup is granted to pgbouncer_auth only | EXECUTE on the provisioner's user_lookup, revoked from PUBLIC |
      | drop the provisioner's user_lookup                         | neither the owner of user_lookup nor of its schema       | ownership of user_lookup and of its schema by the provisioner |
      | replace the provisioner's user_lookup                      | not the owner of user_lookup                             | ownership of user_lookup by the provisioner                   |

    Examples: the server itself
      | attempt                  | refused because                                  | fence                                                 |
      | terminate a prod session | neither the session's role nor pg_signal_backend | pg_signal_backend, never granted to the sandbox login |

  Scenario Outline: the sandbox credential cannot <attempt>
    Nothing of the sandbox's is entitled to these attempts, so no mirror on its own objects can show them sound:
    only a credential the sandbox's identity never holds can, and their positive controls are proven together in the
    scenario below, wherever those credentials are held. The attempt, its exact refusal (the SQLSTATE and message
    tell a missing privilege from a malformed statement) and its form safe for a live prod run on every target.

    When login "sandbox" tries to <attempt>
    Then it is refused with SQLSTATE 42501 because <refused because>, which proves <fence>
    And the form safe for a live prod is refused too

    Examples: the prod owner role itself
      | attempt                  | refused because             | fence                                                     |
      | grant erp_role to itself | no ADMIN OPTION on erp_role | ADMIN OPTION on erp_role, held by credentials_editor only |

    Examples: the sandbox login's own powers
      | attempt               | refused because                         | fence                              |
      | create a database     | no CREATEDB                             | no CREATEDB on the sandbox login   |
      | create a role         | no CREATEROLE                           | no CREATEROLE on the sandbox login |
      | make itself superuser | only a superuser makes superusers       | no superuser on the sandbox login  |
      | give itself CREATEDB  | no CREATEROLE to change role attributes | no CREATEROLE on the sandbox login |
      | give itself BYPASSRLS | only a superuser grants BYPASSRLS       | no superuser on the sandbox login  |

    Examples: the server itself
      | attempt                                | refused because                                         | fence                                                         |
      | run a program on the server            | not pg_execute_server_program                           | pg_execute_server_program, never granted to the sandbox login |
      | read a file of the server              | EXECUTE on pg_read_file is revoked from PUBLIC          | EXECUTE on the server-file functions, revoked from PUBLIC     |
      | import a server file as a large object | EXECUTE on server-side lo_import is revoked from PUBLIC | EXECUTE on the server-file functions, revoked from PUBLIC     |

  Scenario: every attempt nothing of the sandbox's is entitled to succeeds for the credential entitled to it
    The positive controls of the attempts above, taken from the probe catalogue itself (every probe without a
    mirror), each run by the credential entitled to it (Vault's database engine, the provisioner). A target holding
    only the sandbox's identity (live) cannot run them: there, and only there, this scenario is not applicable.

    Then every attempt nothing of the sandbox's is entitled to succeeds for the credential entitled to it

  Scenario: the sandbox credential's attempts leave prod exactly as it was
    Given prod's state is recorded
    When login "sandbox" makes every attempt of the matrix
    Then prod's content hash is unchanged

  Scenario: no attempt of the matrix waits on a lock held by prod's own session, and prod never waits on the harness
    What the harness sends a live prod must not queue behind prod's own work, and so hold prod's later work back behind
    it. PostgreSQL takes some locks before it checks the privilege: CREATE TRIGGER locks the table against writes before
    it finds the TRIGGER privilege missing, so behind an open Dolibarr write it would wait, and every later write to the
    table behind it. Such attempts ask the catalogue for PostgreSQL's rule on a live prod, writes are EXPLAINed (checked,
    never executed), and everything else gives up after 50 ms. Every attempt of the three fences runs here in its form
    safe for a live prod while the cluster's lock queue is watched; a hermetic target holds a write of prod's own open
    meanwhile, as its Dolibarr does mid-request, and a live run, which holds no credential that may write prod, watches
    prod's real sessions.

    Given prod's own session holds a write open on prod table llx_societe
    When login "sandbox" and the golden and clone identities make every attempt of their fences in the form safe for a live prod, the lock queue watched
    Then no attempt waited on a lock held by prod's own sessions, and none of prod's sessions waited on an attempt

  @dolibarr
  Scenario Outline: a key prod has never seen cannot <write> through prod's Dolibarr
    Given the sandbox is at the golden, or is reset to it by login "sandbox"
    And the sandbox overlay gives the agent its sandbox key and write rights
    And prod's state is recorded
    When the sandbox agent's key is sent to prod's Dolibarr to <write>, bypassing the host-guard
    Then prod's Dolibarr refuses it with HTTP 401 "Unauthorized: Error user not valid (not found with api key or bad status or bad validity dates) (conf->entity=1)"
    And its message tells a refusal by authentication, not by the permission model
    And the form safe for a live prod is refused the same way
    And the same request with the same key succeeds on the sandbox's Dolibarr
    And prod's content hash is unchanged

    Examples:
      | write                     |
      | create a thirdparty       |
      | create a supplier invoice |

  @dolibarr
  Scenario Outline: prod's own read-only agent key cannot <write> through prod's Dolibarr
    Given prod's state is recorded
    When prod's agent key is sent to prod's Dolibarr to <write>, bypassing the host-guard
    Then prod's Dolibarr refuses it as its version refuses a key without the right
    And its message tells a refusal by the permission model, not by authentication
    And the form safe for a live prod is refused the same way
    And the same key reads prod's thirdparties
    And prod's content hash is unchanged

    Examples:
      | write                     |
      | create a thirdparty       |
      | create a supplier invoice |
      | update a thirdparty       |
      | delete a thirdparty       |
