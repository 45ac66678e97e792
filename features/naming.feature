@no-target
Feature: Every name of an instance follows ADR-0002's elision rule
  One coordinate (app, env) names an instance everywhere: database, owner role, Vault paths,
  namespace and DNS host. The prod env elides, so an existing app's names do not change; any other
  env takes the "<app>-<env>" suffix, except the PostgreSQL owner role, which stays snake-case.

  Scenario Outline: the names of <app> in env <env>
    When the names of app "<app>" in env "<env>" are derived under domain "arcodange.lab"
    Then the instance is "<instance>"
    And the database is "<database>"
    And the owner role is "<owner role>"
    And the Vault credentials path is "<creds path>"
    And the Vault KV path is "<kv path>"
    And the namespace is "<namespace>"
    And the host is "<host>"

    Examples: ADR-0002's worked example
      | app | env     | instance    | database    | owner role       | creds path                 | kv path                 | namespace   | host                      |
      | erp | prod    | erp         | erp         | erp_role         | postgres/creds/erp         | kvv2/erp/config         | erp         | erp.arcodange.lab         |
      | erp | sandbox | erp-sandbox | erp-sandbox | erp_sandbox_role | postgres/creds/erp-sandbox | kvv2/erp-sandbox/config | erp-sandbox | erp-sandbox.arcodange.lab |

    Examples: a prod-only app is unchanged by the rule
      | app                 | env  | instance            | database            | owner role               | creds path                         | kv path                         | namespace           | host                              |
      | webapp              | prod | webapp              | webapp              | webapp_role              | postgres/creds/webapp              | kvv2/webapp/config              | webapp              | webapp.arcodange.lab              |
      | dance-lessons-coach | prod | dance-lessons-coach | dance-lessons-coach | dance-lessons-coach_role | postgres/creds/dance-lessons-coach | kvv2/dance-lessons-coach/config | dance-lessons-coach | dance-lessons-coach.arcodange.lab |

  Scenario: the CI JWT role is shared by every env of an app
    When the names of app "erp" in env "sandbox" are derived under domain "arcodange.lab"
    Then the CI JWT role is "gitea_cicd_erp"

  Scenario Outline: a bad coordinate is refused with a clear error (<case>)
    When the names of app "<app>" in env "<env>" are derived under domain "arcodange.lab"
    Then naming is refused because "<reason>"

    Examples:
      | case               | app     | env        | reason                                      |
      | empty app          |         | prod       | app is empty                                |
      | empty env          | erp     |            | env is empty                                |
      | uppercase app      | ERP     | prod       | uppercase is not allowed                    |
      | uppercase env      | erp     | Sandbox    | uppercase is not allowed                    |
      | underscore in app  | erp_app | prod       | underscores are not allowed                 |
      | prod with a suffix | erp     | prod-2     | looks like prod with a suffix               |
      | suffixed prod      | erp     | eu-prod    | looks like prod with a suffix               |
      | leading hyphen     | erp     | -sandbox   | is not kebab-case                           |
