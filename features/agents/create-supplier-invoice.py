#!/usr/bin/python3
"""An agent's skill in Python 3 as Debian ships it (urllib only): a new supplier, then a supplier invoice of two lines
for it, through Dolibarr's REST API at DOLIBARR_URL. It holds no key: under `rehearse record` the gateway adds the
sandbox's."""
import json
import os
import sys
import urllib.error
import urllib.request

if not os.environ.get("DOLIBARR_URL"):
    sys.exit("DOLIBARR_URL is not set: run me under rehearse record")
API = os.environ["DOLIBARR_URL"].rstrip("/") + "/api/index.php"


def post(resource, fields):
    request = urllib.request.Request(
        f"{API}/{resource}",
        data=json.dumps(fields).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as error:
        sys.exit(f"{resource}: HTTP {error.code} {error.read().decode()}")


line = lambda n: {"description": f"Rehearsed line {n}", "qty": n, "pu_ht": 12.5, "subprice": 12.5, "tva_tx": 20}
# Dolibarr 19 answers a new id as a JSON string, 20 and later as a number.
supplier = int(post("thirdparties", {"name": "Rehearsal Supplies SARL", "client": 0, "fournisseur": 1}))
print(f"created thirdparty {supplier}")
invoice = post("supplierinvoices", {"socid": supplier, "ref_supplier": "RH-0001", "label": "Rehearsal RH-0001", "lines": [line(1), line(2)]})
print(f"created supplier invoice {invoice}")
