#!/usr/bin/env bash
# An agent's skill as the ERP's agent writes them: a new supplier, then a supplier invoice of two lines for it, through
# Dolibarr's REST API at DOLIBARR_URL with curl. It holds no key: under `rehearse record` the gateway adds the
# sandbox's. AGENT_ENVIRONMENT_FILE, when set, receives the environment it was given (the gates check it holds no secret).
set -euo pipefail
api="${DOLIBARR_URL:?DOLIBARR_URL is not set: run me under rehearse record}/api/index.php"
[ -z "${AGENT_ENVIRONMENT_FILE:-}" ] || env > "$AGENT_ENVIRONMENT_FILE"

post() {
  curl --silent --show-error --fail-with-body -H 'Content-Type: application/json' -H 'Accept: application/json' -X POST --data "$2" "$api/$1"
}

# Dolibarr 19 answers a new id as a JSON string ("13"), 20 and later as a number.
supplier=$(post thirdparties '{"name":"Rehearsal Supplies SARL","client":0,"fournisseur":1}' | tr -d '"')
echo "created thirdparty $supplier"
invoice=$(post supplierinvoices "{\"socid\":$supplier,\"ref_supplier\":\"RH-0001\",\"label\":\"Rehearsal RH-0001\",\"lines\":[
  {\"description\":\"Rehearsed line 1\",\"qty\":1,\"pu_ht\":12.5,\"subprice\":12.5,\"tva_tx\":20},
  {\"description\":\"Rehearsed line 2\",\"qty\":2,\"pu_ht\":12.5,\"subprice\":12.5,\"tva_tx\":20}]}")
echo "created supplier invoice $invoice"
