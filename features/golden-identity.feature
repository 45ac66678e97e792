Feature: The golden identity reads prod and nothing else, and can change nothing anywhere
  The golden — the checkpoint the sandbox resets to — is a dump of prod. Dumping it with a member of erp_role would
  mean a credential that can write prod, which the live target rightly refuses to hold. So the golden has an identity
  of its own: Vault role erp-golden (creds postgres/creds/erp-golden, Kubernetes role erp-golden bound to the service
  account erp-golden in prod's namespace, and the CI role gitea_cicd_erp_golden for the golden job), whose logins are
  members of erp_reader_role only: NOLOGIN, CONNECT on erp, USAGE on its schema, SELECT on its tables and sequences
  (also those erp_role makes later, by default privileges), and nothing else.

  The fence is proven in a plain session of a golden login, so that what refuses each attempt is the reader role's
  privileges alone; each refusal carries PostgreSQL's exact SQLSTATE and message. A GRANT of a privilege it holds
  without grant option is only a WARNING in PostgreSQL, so the grants tried here are those refused with an error.
  Every attempt is safe against a live prod even if the fence were broken: inside BEGIN … ROLLBACK with a 50 ms lock
  timeout and a statement timeout, a write EXPLAINed there (checked, never executed), or — for what cannot be rolled
  back, fires prod's triggers or locks prod's object before its privilege is checked — sent on a hermetic target only,
  a live target asking the catalogue instead. On top of the privileges, the sessions
  the harness opens for the golden are read-only.

  Background:
    Given a golden login "golden" is minted through Vault for prod's read-only golden identity

  Scenario: the golden credential is its own Vault identity, a member of erp_reader_role only
    Then login "golden" has a Vault-style username
    And login "golden" was issued by Vault at "postgres/creds/erp-golden" to its workload's own Vault role
    And login "golden" is a member of exactly "erp_reader_role"
    And login "golden", and every role it can become, has none of SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS

  Scenario: the golden credential reads everything of prod, and nothing of any other database
    Then login "golden" reads prod table "llx_societe" in a session opened as the golden opens it
    And login "golden" may read everything prod's owner role owns in prod, and do nothing more to it
    And login "golden", and every role it can become, holds nothing in any database but prod

  Scenario Outline: the golden credential cannot <attempt>
    When the golden login "golden" tries to <attempt>
    Then PostgreSQL refuses the golden login's attempt with SQLSTATE 42501, which proves <fence>

    Examples: writing prod
      | attempt                                         | fence                                                                           |
      | insert into prod table llx_societe              | erp_reader_role holds SELECT on prod's tables and nothing more                  |
      | update prod table llx_societe                   | erp_reader_role holds SELECT on prod's tables and nothing more                  |
      | delete from prod table llx_societe              | erp_reader_role holds SELECT on prod's tables and nothing more                  |
      | truncate prod table llx_societe                 | erp_reader_role holds SELECT on prod's tables and nothing more                  |
      | lock prod table llx_societe against its readers | SELECT allows no lock above ACCESS SHARE: it cannot stall prod's sessions      |
      | advance prod sequence llx_societe_rowid_seq     | erp_reader_role holds SELECT on prod's sequences, never USAGE or UPDATE         |

    Examples: altering prod
      | attempt                                    | fence                                                          |
      | alter prod table llx_societe               | ownership of prod's tables by erp_role                         |
      | create a trigger on prod table llx_societe | erp_reader_role holds SELECT on prod's tables and nothing more |
      | change a setting of database erp           | ownership of database erp by erp_role                          |

    Examples: dropping anything
      | attempt                                              | fence                                                 |
      | drop prod table llx_societe                          | ownership of prod's tables by erp_role                |
      | drop the trigger function update_modified_column_tms | ownership of prod's functions by erp_role             |
      | drop database erp                                    | ownership of database erp by erp_role                 |
      | drop database erp-sandbox                            | ownership of database erp-sandbox by erp_sandbox_role |

    Examples: creating anything
      | attempt                                | fence                                                        |
      | create a table in schema public of erp | CREATE on erp's schema public, kept for the database's owner |
      | create a schema in database erp        | CREATE on database erp, never granted to erp_reader_role     |
      | create a role                          | no CREATEROLE on the golden login or erp_reader_role         |
      | create a database                      | no CREATEDB on the golden login or erp_reader_role           |

    Examples: granting, and becoming another role
      | attempt                                  | fence                                                             |
      | give its read access to erp_sandbox_role | ADMIN OPTION on erp_reader_role, held by credentials_editor only  |
      | grant erp_role to itself                 | ADMIN OPTION on erp_role, held by credentials_editor only         |
      | set role erp_role                        | membership of erp_role, never granted to the golden login         |
      | open prod's future tables to every role  | default privileges of erp_role are set by erp_role's members only |

  @serial
  Scenario Outline: the golden credential cannot <attempt>, in a sandbox holding the golden
    Given a login role "sandbox" is minted for instance "erp-sandbox"
    And the sandbox is at the golden, or is reset to it by login "sandbox"
    When the golden login "golden" tries to <attempt>
    Then PostgreSQL refuses the golden login's attempt with SQLSTATE 42501, which proves <fence>

    Examples:
      | attempt                          | fence                                                                                         |
      | read sandbox table llx_societe   | CONNECT on erp-sandbox (hardened), and privileges on its tables, none held by erp_reader_role |
      | update sandbox table llx_societe | CONNECT on erp-sandbox (hardened), and privileges on its tables, none held by erp_reader_role |

  Scenario: the golden credential's attempts leave prod exactly as it was
    Given prod's state is recorded
    When the golden login "golden" makes every attempt of its fence
    Then prod's content hash is unchanged

  Scenario Outline: a session opened as the golden opens it refuses to <write>, before any privilege is asked
    When in a session opened as the golden opens it, the golden login "golden" tries to <write>
    Then the session is read-only, and PostgreSQL refuses the write with SQLSTATE 25006

    Examples:
      | write                                  |
      | update prod table llx_societe          |
      | create a table in schema public of erp |

  Scenario: the golden identity reads its own credentials from Vault, and nothing else
    Given the golden identity's workload is logged in to Vault
    Then it may read "postgres/creds/erp-golden"
    When it reads "postgres/creds/erp"
    Then Vault refuses it with HTTP 403 "permission denied"
    When it reads "postgres/creds/erp-sandbox"
    Then Vault refuses it with HTTP 403 "permission denied"
    When it reads "kvv2/erp/config"
    Then Vault refuses it with HTTP 403 "permission denied"

  Scenario: the golden job logs in to Vault with the golden identity's policy alone
    When the golden job logs in to Vault with a CI token of repository "arcodange-org/erp"
    Then the Vault login's policies are exactly "erp-golden"
    And it may read "postgres/creds/erp-golden"
    When it reads "postgres/creds/erp-sandbox"
    Then Vault refuses it with HTTP 403 "permission denied"

  Scenario: the sandbox's identity cannot read the golden identity's credentials
    Given the sandbox's workload is logged in to Vault
    When it reads "postgres/creds/erp-golden"
    Then Vault refuses it with HTTP 403 "permission denied"
