@serial @dolibarr
Feature: The agent's rehearsal: recorded through a gateway, reviewed, promoted, and held to the sandbox
  ADR-0003's fifth gate: no AI-authored write reaches prod unless it was rehearsed in the sandbox, reviewed as a
  before/after diff and replayed by promote. The ERP's agent writes its skills as shell and Python calling Dolibarr's
  REST API; `rehearse record` runs such a command with DOLIBARR_URL pointing at a recording gateway on loopback, and no
  key. The gateway adds the agent's sandbox key itself, forwards to the sandbox's Dolibarr alone through the host-guard,
  records every write, and refuses what the rehearsal must not let through: a key of the agent's own, a write promote
  could not replay, a redirect out of the sandbox. A command that goes around the gateway holds no key to write with.

  Each step runs rehearse as the operator runs it, in its own process: on the hermetic target configured as the live
  target and pointed at this stack, on a live run with the run's own configuration. A recording to promote resets the
  sandbox to the golden first; one whose every request must be refused runs on the sandbox as it is. On a live target the promotion is not applicable (a live run never writes prod), nor is a redirect
  (only a stand-in can be made to answer one); prod's content hash is then settled at the end of the run.

  Background:
    Given prod's state is recorded

  Scenario Outline: an agent's <language> script creates a supplier and an invoice through the gateway; reviewed and promoted, prod's diff is the rehearsed one
    Given the operator sets AGENT_ENVIRONMENT_FILE to "agent-environment.txt"
    When the operator records the agent's command "<command>"
    Then it exits 0
    And it prints "digest sha256:"
    And the changeset it wrote holds the writes "POST /thirdparties → 200, POST /supplierinvoices → 200"
    When the operator runs "rehearse review changeset.json"
    Then it exits 0
    And it prints "public.llx_facture_fourn_det"
    Given prod's thirdparty ids moved on since the rehearsal, as a rolled-back insert leaves them
    When the changeset it wrote is promoted with --approve and its digest
    Then promote replayed 2 operations on prod, the invoice's thirdparty remapped to prod's new id
    And prod's diff equals the rehearsed diff, modulo generated ids and timestamps

    Examples:
      | language        | command                    |
      | shell with curl | create-supplier-invoice.sh |
      | Python 3        | create-supplier-invoice.py |

  Scenario: the agent's command holds no key, nor any other secret, and the changeset and the output hold none
    Given the operator sets AGENT_ENVIRONMENT_FILE to "agent-environment.txt"
    When the operator records the agent's command "create-supplier-invoice.sh"
    Then it exits 0
    And no secret is in the agent's environment as dumped to "agent-environment.txt", the changeset or the output

  Scenario: a command that aims at prod around the gateway holds no key: prod refuses it 401, and nothing is recorded
    When the operator records the agent's command "misbehave.sh prod https://{prod}:{port}" on the sandbox as it is
    Then it exits 0
    And it prints "keys in my environment: 0"
    And it prints "prod answered HTTP 401"
    And the changeset it wrote holds no write
    And prod's content hash is unchanged

  Scenario Outline: the gateway refuses <case>, Dolibarr-style, and nothing is recorded
    When the operator records the agent's command "misbehave.sh <way>" on the sandbox as it is
    Then it exits 0
    And it prints '<answer>'
    And it prints "The gateway refused 1 request(s)"
    And the changeset it wrote holds no write
    And prod's content hash is unchanged

    Examples:
      | case                                   | way      | answer                                                                   |
      | a request sending a key of its own     | own-key  | HTTP 403 {"error":{"code":403,"message":"the request carries its own DOLAPIKEY header |
      | a write promote could not replay       | validate | HTTP 403 {"error":{"code":403,"message":"the rehearsal gateway refuses POST /supplierinvoices/1/validate |

  Scenario: a redirect to prod, followed by the agent, is refused by the gateway and never relayed
    Given the sandbox's Dolibarr redirects every request to prod's
    When the operator records the agent's command "misbehave.sh follow" on the sandbox as it is
    Then it exits 0
    And it prints 'HTTP 403 {"error":{"code":403,"message":"the rehearsal gateway refused to leave the sandbox'
    And the changeset it wrote holds no write
    And prod's Dolibarr saw no connection
    And prod's content hash is unchanged
