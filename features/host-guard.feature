@serial @dolibarr
Feature: Host-guard: the write tooling talks to the sandbox host and to nothing else
  ADR-0003: the write tooling refuses any target host that is not erp-sandbox.<domain>. The guard sits in
  the tooling's network dispatcher: it checks the URL the connection would actually use, before any name
  is resolved or any socket opened, and checks every redirect too. Both real host names resolve to their
  Dolibarr, both served on the same port, so a request that slipped past the guard would really reach
  prod: a refusal proves something only if neither Dolibarr saw a connection. What left is seen from this
  process itself, beneath the guard (every socket it opens, every host and request its HTTP client
  connects and sends), on every target; and, where the target runs stand-ins, from the servers' side too.
  URLs may use {domain}, {prod}, {sandbox}, {port}, {other port}, {prod address} and {sandbox address}.

  Scenario Outline: the write tooling refuses <target>, before any connection
    Given the write tooling is configured with Dolibarr URL "<url>"
    When it tries to create a thirdparty
    Then the host-guard refuses it, naming host "<refused host>" and reason "<reason>"
    And no Dolibarr saw a connection

    Examples: prod
      | target                               | url                          | refused host   | reason |
      | prod's host                          | https://{prod}:{port}        | {prod}         | host   |
      | prod's host on 443                   | https://{prod}               | {prod}         | host   |
      | prod's host with a trailing dot      | https://{prod}.:{port}       | {prod}.        | host   |
      | prod's host in capitals              | https://ERP.{domain}:{port}  | erp.{domain}   | host   |
      | prod's host under the sandbox's name | https://{prod}.{sandbox}     | {prod}.{sandbox} | host |

    Examples: look-alikes of the sandbox host
      | target                            | url                                   | refused host                  | reason |
      | a longer name ending like it      | https://evil-{sandbox}:{port}         | evil-{sandbox}                | host   |
      | a name starting with it           | https://{sandbox}.{domain}:{port}     | {sandbox}.{domain}            | host   |
      | two trailing dots                 | https://{sandbox}..:{port}            | {sandbox}..                   | host   |
      | a Cyrillic е for the e            | https://еrp-sandbox.{domain}:{port}   | xn--rp-sandbox-jsi.{domain}   | host   |
      | a full-width dot                  | https://erp-sandbox．{domain}:{port}  | erp-sandbox．{domain}         | host   |
      | a percent-encoded hyphen          | https://erp%2Dsandbox.{domain}:{port} | erp%2Dsandbox.{domain}        | host   |

    Examples: userinfo, backslashes and control characters
      | target                                | url                                           | refused host | reason    |
      | the sandbox as userinfo before prod   | https://{sandbox}@{prod}:{port}               | {prod}       | userinfo  |
      | prod as userinfo before the sandbox   | https://{prod}:{port}@{sandbox}:{port}        | {sandbox}    | userinfo  |
      | a backslash before prod               | https://{sandbox}:{port}\\@{prod}:{port}      | {sandbox}    | malformed |
      | a line break smuggling a Host header  | https://{sandbox}:{port}/\nHost: {prod}       | {sandbox}    | malformed |

    Examples: IP literals, schemes and ports
      | target                                | url                            | refused host      | reason     |
      | the address prod's name resolves to   | https://{prod address}:{port}  | {prod address}    | ip literal |
      | the sandbox's own address             | https://{sandbox address}:{port} | {sandbox address} | ip literal |
      | an address written as one number      | https://2130706434:{port}      | 127.0.0.2         | ip literal |
      | an IPv6 loopback                      | https://[::1]:{port}           | [::1]             | ip literal |
      | plain http to the sandbox             | http://{sandbox}:{port}        | {sandbox}         | scheme     |
      | a scheme-relative URL to prod         | //{prod}:{port}                | {prod}            | scheme     |
      | the sandbox on another port           | https://{sandbox}:{other port} | {sandbox}         | port       |

    Examples: an allowed port, spelled otherwise than literally (WHATWG reads each as the sandbox's port or 443)
      | target                                    | url                        | refused host | reason |
      | the sandbox's port with a leading zero    | https://{sandbox}:0{port}  | {sandbox}    | port   |
      | the sandbox's port with two leading zeros | https://{sandbox}:00{port} | {sandbox}    | port   |
      | the sandbox on 443 with a leading zero    | https://{sandbox}:0443     | {sandbox}    | port   |
      | the sandbox with a colon and no port      | https://{sandbox}:         | {sandbox}    | port   |
      | a trailing dot, a colon and no port       | https://{sandbox}.:/       | {sandbox}.   | port   |

  Scenario: a redirect from the sandbox to prod is refused, never followed
    Given the sandbox's Dolibarr redirects every request to prod's
    And the write tooling is configured with the sandbox's Dolibarr URL
    When it tries to create a thirdparty
    Then the host-guard refuses it, naming host "{prod}" and reason "redirect"
    And the sandbox's Dolibarr saw 1 request
    And prod's Dolibarr saw no connection

  Scenario: prod's Dolibarr counts the connections of a request that skips the guard
    When a request is sent to prod's Dolibarr without the host-guard
    Then prod's Dolibarr saw 1 connection
    And the sandbox's Dolibarr saw no connection

  Scenario: the write tooling reaches the sandbox host, however the rule allows it to be written
    Given a login role "sandbox" is minted for instance "erp-sandbox"
    And the sandbox is at the golden, or is reset to it by login "sandbox"
    And the sandbox overlay gives the agent its sandbox key and write rights
    Then the write tooling reaches the sandbox's Dolibarr through each of these URLs:
      | url                                  |
      | https://{sandbox}:{port}             |
      | https://{sandbox}:{port}/            |
      | https://ERP-SANDBOX.{domain}:{port}  |
      | https://{sandbox}.:{port}            |
      | HTTPS://{sandbox}:{port}             |
    When the write tooling creates a thirdparty named "Rehearsed supplier SARL"
    Then the sandbox holds that thirdparty, named "Rehearsed supplier SARL"
    And the sandbox's Dolibarr saw 6 requests
    And prod's Dolibarr saw no connection
