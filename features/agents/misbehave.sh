#!/usr/bin/env bash
# An agent that strays, one way per run, each a request the rehearsal must not let through; it prints what it got back
# ("HTTP <status> <body>") and carries on, as an agent would:
#   own-key    creates a thirdparty sending a key of its own (DOLAPIKEY header)
#   follow     creates a thirdparty following any redirect it is answered (curl -L)
#   validate   validates supplier invoice 1, a write promote cannot replay
#   prod URL   reads prod's thirdparties straight from URL, around the gateway (a read: it holds no key to write with);
#              the names and CA the operator's configuration gives (ERP_REHEARSAL_RESOLVE, ERP_REHEARSAL_DOLIBARR_CA)
set -uo pipefail
api="${DOLIBARR_URL:?DOLIBARR_URL is not set: run me under rehearse record}/api/index.php"
call() {
  curl --silent --show-error -o /tmp/.agent-answer.$$ -w '%{http_code}' -H 'Accept: application/json' "$@"
  printf ' %s\n' "$(cat /tmp/.agent-answer.$$ 2>/dev/null)"
  rm -f /tmp/.agent-answer.$$
}
case "${1:?own-key, follow, validate or prod URL}" in
  own-key) printf 'HTTP '; call -X POST -H 'Content-Type: application/json' -H 'DOLAPIKEY: a-key-of-the-agents-own' --data '{"name":"Stray SARL"}' "$api/thirdparties" ;;
  follow) printf 'HTTP '; call -L -X POST -H 'Content-Type: application/json' --data '{"name":"Stray SARL"}' "$api/thirdparties" ;;
  validate) printf 'HTTP '; call -X POST -H 'Content-Type: application/json' --data '{}' "$api/supplierinvoices/1/validate" ;;
  prod)
    url="${2:?prod needs the URL of prod Dolibarr}"
    echo "keys in my environment: $(env | grep -ciE '^(DOLAPIKEY|DOLIBARR_API_KEY)=') (none expected)"
    hostport="${url#https://}"; hostport="${hostport%%/*}"; port="${hostport##*:}"; [ "$port" = "$hostport" ] && port=443
    options=()
    [ -z "${ERP_REHEARSAL_DOLIBARR_CA:-}" ] || options+=(--cacert "$ERP_REHEARSAL_DOLIBARR_CA")
    for pair in ${ERP_REHEARSAL_RESOLVE//,/ }; do options+=(--resolve "${pair%%=*}:$port:${pair#*=}"); done
    printf 'prod answered HTTP '; call "${options[@]}" "$url/api/index.php/thirdparties?limit=1" ;;
  *) echo "unknown way to stray: $1" >&2; exit 2 ;;
esac
