@serial
Feature: Vault fence: the sandbox's identity reaches the sandbox's secrets and nothing else
  ADR-0002 gives each instance its own Vault role: dynamic credentials at postgres/creds/<instance>,
  configuration at kvv2/<instance>/config, and a Kubernetes auth role bound to the instance's own
  service account. The sandbox's workload must be refused prod's credentials and configuration, and
  Vault must refuse a login that is not what it claims to be. Every refusal carries Vault's own status
  and message, and has a positive control: the same request succeeds for the identity entitled to it.
  Where a read must not be sent (a live Vault: under a broken policy it would mint a login that can
  write prod), Vault is asked instead what the identity may do there (sys/capabilities-self), and the
  positive control is its mirror: the sandbox's identity may read its own counterpart.

  Scenario Outline: the sandbox's identity cannot read <what>
    Given the sandbox's workload is logged in to Vault
    When it reads "<path>"
    Then Vault refuses it with HTTP 403 "permission denied"
    And prod's workload may read "<path>"

    Examples:
      | what                        | path               |
      | prod's database credentials | postgres/creds/erp |
      | prod's configuration        | kvv2/erp/config    |

  Scenario: promote's prod-write credential is refused to the sandbox's identity
    Given the sandbox's workload is logged in to Vault
    When it reads "kvv2/erp/promote"
    Then Vault refuses it with HTTP 403 "permission denied"

  Scenario: promote's prod-write credential is refused to prod's workload too
    When prod's workload reads "kvv2/erp/promote"
    Then Vault refuses it with HTTP 403 "permission denied"

  Scenario: the sandbox's identity reads its own credentials and configuration
    Given the sandbox's workload is logged in to Vault
    Then it may read "postgres/creds/erp-sandbox"
    And it may read "kvv2/erp-sandbox/config"

  Scenario Outline: Vault refuses a login with <credential>
    When a Vault login is attempted with <credential>
    Then Vault refuses the login with HTTP <status>, saying "<message>"

    Examples:
      | credential                                                        | status | message                                                                  |
      | prod's service-account token, as role erp-sandbox                 | 403    | service account name not authorized                                      |
      | an expired CI token, as role gitea_cicd_erp                       | 400    | invalid expiration time (exp) claim: token is expired                    |
      | a CI token for another audience, as role gitea_cicd_erp           | 400    | invalid audience (aud) claim                                             |
      | a CI token signed by an unknown issuer, as role gitea_cicd_erp    | 400    | no known key successfully validated the token signature                  |
      | a CI token of another repository, as role gitea_cicd_erp          | 400    | claim "repository" does not match any associated bound claim values      |

  Scenario: a valid CI token logs in as the application's CI role
    When a Vault login is attempted with a valid CI token, as role gitea_cicd_erp
    Then the login succeeds with the policies of "erp-sandbox"

  Scenario: a login role that made an object without SET ROLE cannot be revoked, and the harness names the drift
    Vault's revocation drops the login role and never reassigns what it owns: a role that owns an
    object cannot be dropped, and Vault would leave its lease irrevocable.

    Given a login role "sandbox" is minted for instance "erp-sandbox"
    And the sandbox is at the golden, or is reset to it by login "sandbox"
    When login "sandbox" creates table "rehearsal_scratch" without SET ROLE
    Then revoking login "sandbox" fails, naming ownership drift "table public.rehearsal_scratch"
    And login "sandbox" still exists
    When the sandbox is reset to the golden by login "sandbox", dropping the login's own drift
    And login "sandbox" is revoked
    Then login "sandbox" no longer exists
    And Vault no longer holds the lease of login "sandbox"
