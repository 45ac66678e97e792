@serial @dolibarr
Feature: Promotion gate: nothing reaches prod unless rehearsed, reviewed, approved and replayed by promote
  ADR-0003 §4: no AI-authored write reaches prod until it has been rehearsed in erp-sandbox, captured as a
  reviewed before/after diff, and explicitly replayed against prod under the separate promote-time credential
  with human confirmation. A rehearsal is recorded as a changeset: the API operations the agent's write tooling
  sent to the sandbox, the sandbox's state before and after, their row-level diff, and a digest over all of it.
  The human approves the digest they reviewed; promote then dress-rehearses the changeset: the sandbox reset to the
  golden, the changeset's before-state checked to be the golden's, its operations replayed there through the agent's
  write tooling, and the sandbox's diff compared with the reviewed one, so that a changeset written by hand or whose
  diff was altered never reaches prod. Only then does it read its prod-write credential from its own Vault identity,
  check that prod still holds what the rehearsal started from, replay the operations on prod, and compare prod's diff
  with the rehearsed one. Every attempt is audited; every refusal leaves prod exactly as it was, without a single
  request to prod's Dolibarr.

  The rehearsal is recorded once per run, by the agent's write tooling on a sandbox reset to the golden with the
  agent's overlay; each scenario promotes its own copy of the changeset, and a promotion's rows are taken back from
  prod after its scenario.

  On a live target the refusals that come before the prod-write credential run too: a live run holds no promote
  identity, so promote could not obtain the credential even if the refusal under test failed, and the rehearsal writes
  only the sandbox. Prod's content hash is then settled at the end of the run. What replays on prod, writes prod as its
  owner or changes the operator's Vault is not applicable there, and so is every scenario of a run that holds
  promote's identity.

  Background:
    Given the agent's rehearsal of a supplier invoice with 2 lines for a new thirdparty, recorded once from the golden as a changeset
    And prod's state is recorded

  Scenario: reviewed, approved by its digest, replayed on prod: prod's diff is the rehearsed diff
    Given prod's thirdparty ids moved on since the rehearsal, as a rolled-back insert leaves them
    When the changeset is reviewed
    Then the review names the digest and the rows added to:
      | relation                     | added rows |
      | public.llx_societe           | 1          |
      | public.llx_facture_fourn     | 1          |
      | public.llx_facture_fourn_det | 2          |
    When the changeset is promoted with --approve and its digest
    Then promote replayed 2 operations on prod, the invoice's thirdparty remapped to prod's new id
    And prod's diff equals the rehearsed diff, modulo generated ids and timestamps
    And the promote audit records the changeset's digest as "promoted"

  Scenario: the digest typed at the prompt approves it too
    Given prod's thirdparty ids moved on since the rehearsal, as a rolled-back insert leaves them
    When the changeset is promoted with its digest typed at the prompt
    Then promote replayed 2 operations on prod, the invoice's thirdparty remapped to prod's new id

  Scenario Outline: promote refuses <case>, and prod is untouched
    When the changeset is promoted <approval>
    Then promote refuses it for "<reason>"
    And prod's content hash is unchanged
    And prod's Dolibarr saw no connection
    And the promote audit records the attempt as "refused" for "<reason>"

    Examples:
      | case                                 | approval                                        | reason            |
      | a digest that is not the changeset's | with --approve and another changeset's digest   | approval mismatch |
      | without --approve off a terminal     | without --approve, not on a terminal            | no approval       |
      | a wrong digest typed at the prompt   | with another digest typed at the prompt         | not confirmed     |

  Scenario Outline: promote refuses <case>, and prod is untouched
    Given <change>
    When the changeset is promoted with --approve and its digest
    Then promote refuses it for "<reason>"
    And prod's content hash is unchanged
    And prod's Dolibarr saw no connection
    And the promote audit records the attempt as "refused" for "<reason>"

    Examples:
      | case                                        | change                                                              | reason                       |
      | a changeset edited after review             | the changeset's invoice amount is edited after review               | edited after review          |
      | a changeset whose diff was edited           | the diff the changeset shows hides the invoice's lines after review | edited after review          |
      | a changeset not rehearsed on the sandbox    | the changeset says it was rehearsed on prod's host, re-digested     | not rehearsed on the sandbox |
      | without a prod-write credential in Vault    | promote's prod-write credential is missing from Vault               | no prod-write credential     |
      | a prod-write credential that is the agent's | promote's prod-write credential is the agent's sandbox key          | the agent's key              |
      | a credential read as the agent's identity   | promote logs in to Vault as the agent's identity                    | the agent's identity         |

  Scenario Outline: promote dress-rehearses <case> on the sandbox and refuses it, and prod is untouched
    Given <change>
    When the changeset is promoted with --approve and its digest
    Then promote refuses it for "<reason>", naming "<named>"
    And prod's content hash is unchanged
    And prod's Dolibarr saw no connection
    And the promote audit records the attempt as "refused" for "<reason>"

    Examples:
      | case                                             | change                                                                                       | reason                        | named                                                                            |
      | a changeset written by hand                      | the changeset is replaced by one written by hand for the sandbox's host, with a valid digest | not what its operations do    | public.llx_societe: 0 rows changed in the changeset, 1 in the dress rehearsal    |
      | a changeset whose diff its operations don't make | the diff the changeset shows hides the invoice's lines, re-digested                          | not what its operations do    | public.llx_facture_fourn_det: content changed in the dress rehearsal             |
      | a changeset not rehearsed from the golden        | the changeset's before-state is not the golden's, re-digested                                | not rehearsed from the golden | table public.llx_societe                                                         |

  Scenario: prod changed since the rehearsal: a conflict, shown, and nothing replayed
    Given prod's thirdparties changed since the rehearsal started
    And prod's state is recorded
    When the changeset is promoted with --approve and its digest
    Then promote refuses it for "conflict", naming "public.llx_societe"
    And prod's content hash is unchanged
    And the promote audit records the attempt as "refused" for "conflict"

  Scenario: the agent's tooling cannot send the same write to prod itself: the only path to prod is promote
    Given the write tooling is configured with Dolibarr URL "https://{prod}:{port}"
    When it tries to create a thirdparty
    Then the host-guard refuses it, naming host "{prod}" and reason "host"
    And prod's Dolibarr saw no connection
    And prod's content hash is unchanged
