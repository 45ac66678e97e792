@serial
Feature: The operator's lifecycle, from the command line
  The operator makes the golden from prod with the read-only golden identity, looks at the sandbox after an agent's
  session, and puts it back to the golden before the next one. Each step runs the rehearse command as the operator
  runs it: in its own process, configured as the live target. On the hermetic target it reaches this stack the way it
  reaches the real one; on a live run it takes the run's own configuration, and never dumps prod. What the commands
  refuse (unknown flags, a damaged golden, a place that cannot take a golden, a file that is no snapshot) is tested
  without any target: each is one line and exit 2, before anything is reached (test/lifecycle-cli.test.ts).

  Scenario: golden, an agent's write, status, diff, reset, status
    When the operator runs "rehearse golden --out golden"
    Then it exits 0
    And it prints prod's content hash
    And the operator's directory "golden" is readable by its owner only
    Given the operator sets ERP_REHEARSAL_GOLDEN_ARCHIVE to "golden/golden.dump"
    When the operator runs "rehearse reset"
    Then it exits 0
    And it prints "= the golden's"
    Given the sandbox overlay gives the agent its sandbox key and write rights
    When the agent writes a supplier invoice with 2 lines for a new thirdparty through the sandbox's Dolibarr
    And the operator runs "rehearse status"
    Then it exits 1
    And it prints "PROBLEM  the sandbox is not at the golden's content hash"
    When the operator runs "rehearse diff golden sandbox --html diff.html"
    Then it exits 0
    And it shows the thirdparty and the invoice the agent wrote, as added rows
    When the operator runs "rehearse reset"
    Then it exits 0
    And it prints "= the golden's"
    When the operator runs "rehearse status"
    Then it exits 0
    And it prints "status: healthy"

  Scenario: a snapshot kept in a file is diffed with the sandbox later
    Given a login role "sandbox" is minted for instance "erp-sandbox"
    And the sandbox is at the golden, or is reset to it by login "sandbox"
    When the operator runs "rehearse snapshot --out before.json"
    Then it exits 0
    And it prints the golden's content hash
    Given the sandbox overlay gives the agent its sandbox key and write rights
    When the agent writes a supplier invoice with 1 lines for a new thirdparty through the sandbox's Dolibarr
    And the operator runs "rehearse diff before.json sandbox"
    Then it exits 0
    And it shows the thirdparty and the invoice the agent wrote, as added rows
    When the operator runs "rehearse reset"
    Then it exits 0
