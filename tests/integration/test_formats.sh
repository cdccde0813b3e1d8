#!/usr/bin/env bash
# Five consistent formats (SPEC §6; issue 15, "Done when"): an Oslo file
# with 15 units and a mix of faults of many rules (about 5 % of persons,
# and F007: a message about the whole file) goes to kprd over HTTPS after
# a 2024 file (so what was received is compared and flagged), and its
# feedback in CSV, XLSX, XML, HTML and JSON is read back with independent
# readers (tests/formats/compare.py: csv, json, xml.etree, html.parser,
# openpyxl) and compared: the same messages in the same order (the HTML's
# details grouped by unit), the same summary, per-rule and per-unit counts,
# and the same figures of what was received. Then one unit's file
# (?enhet=Bydel Frogner) in all five: the same consistency, and exactly the
# whole file's messages of that unit plus those about the whole file.
# Masked values are shown alike everywhere, and no national ID of the file
# is in any of the ten files (the workbook unzipped). The same comparison
# holds for kpr-validate's five formats of the file.
. "$(dirname "$0")/../lib/common.sh"

W=$(mktemp -d)
trap '[ "${KPR_KEEP_TEST_VAR:-0}" = 1 ] && echo "  (kept $W)" || rm -rf "$W"; rm -f "$HTTP_HEADERS"' EXIT
K=0301 # Oslo: 15 bydeler; other tests upload for it too, under other seeds
UNIT="Bydel Frogner" # a unit of the file; "Bydel Frogner avd. 2" is another
PY=/usr/bin/python3  # Debian's, with python3-openpyxl (tools/install-deps)
COMPARE=$(dirname "$0")/../formats/compare.py
XLSX_COMPARE=$(dirname "$0")/../xlsx/compare.py
TOKEN=$("$BUILD/kprctl" token issue --kommune $K --name test-formats 2>/dev/null)
wait_token "$TOKEN"
A=$(auth "$TOKEN")

check "openpyxl is there (python3-openpyxl)" "$PY" -c 'import openpyxl' || { finish; exit 1; }

run_compare() { # label compare.py-arguments...: its failing lines indented; true when all hold
  local label=$1; shift
  "$PY" "$COMPARE" "$@" > "$W/compare-$label.out" 2>&1
  local rc=$?
  grep -v '^  ok ' "$W/compare-$label.out" | sed 's/^/      /'
  return $rc
}
xsd_valid() { # files...: valid against the feedback XSD; xmllint's complaints shown
  xmllint --noout --schema config/xsd/tilbakemelding.xsd "$@" 2>&1 | grep -v ' validates$' | sed 's/^/      /'
  return "${PIPESTATUS[0]}"
}
xlsx_compare() { # prefix: tests/xlsx/compare.py, the workbook against the CSV and the JSON
  "$PY" "$XLSX_COMPARE" "$1.xlsx" "$1.csv" "$1.json" > "$1.xlsx-compare.out" 2>&1
  local rc=$?
  grep -v '^  ok ' "$1.xlsx-compare.out" | sed 's/^/      /'
  return $rc
}
download() { # id format out [unit]: the feedback file; HTTP status in $HTTP_STATUS
  HTTP_STATUS=$(curl -sS --cacert "$KPR_CACERT" -H "$A" -D "$HTTP_HEADERS" -o "$3" -w '%{http_code}' \
    -G --data-urlencode "format=$2" ${4:+--data-urlencode "enhet=$4"} \
    "$KPR_URL/api/v1/submissions/$1/feedback")
  BODY=""
  [ "$2" = xlsx ] || BODY=$(cat "$3") # the OpenAPI check reads a text body
  record_exchange GET "/api/v1/submissions/$1/feedback?format=$2${4:+&enhet=$4}"
}

# fixed seed: 17001 gives ~5 % of the 4,000 persons one fault each (errors
# of identity, sex, hours and codes; warnings of units, scores, orgnr and
# birth year), R110 units holding an ID (masked) and values with masked
# national IDs (R103), F007 about the whole file
gen 17001 --kommune $K --persons 4000 --units 15 --out "$W/g" \
  --inject R101=0.002,R103=0.007,R106=0.004,R107=0.004,R108=0.008,R110=0.006,R204=0.005,R304=0.006,R307=0.005,R401=0.004,R405=0.003,F007=1
# and a 2024 file of fewer persons: the 2025 figures beside it, some flagged
gen 17002 --aargang 2024 --kommune $K --persons 3000 --units 15 --out "$W/p"
F=$W/g/$K-2025.xml F24=$W/p/$K-2024.xml
fresh "$F" "$F24"

req POST /api/v1/submissions -H "$A" -H "Content-Type: application/xml" --data-binary @"$F24"
check "2024: upload: 202" [ "$HTTP_STATUS" = 202 ] || { finish; exit 1; }
wait_done "$(echo "$BODY" | json 'd["id"]')" "$A"
check "2024: accepted" [ "$SUB_STATUS" = accepted ] || { finish; exit 1; }
req POST /api/v1/submissions -H "$A" -H "Content-Type: application/xml" --data-binary @"$F"
check "upload: 202" [ "$HTTP_STATUS" = 202 ] || { finish; exit 1; }
ID=$(echo "$BODY" | json 'd["id"]')
wait_done "$ID" "$A"
check "processed: accepted_with_errors" [ "$SUB_STATUS" = accepted_with_errors ] || { finish; exit 1; }

got=""
for f in csv json xml html xlsx; do
  download "$ID" $f "$W/w.$f"
  got+=" $f:$HTTP_STATUS"
  download "$ID" $f "$W/u.$f" "$UNIT"
  got+=" $f/enhet:$HTTP_STATUS"
done
check "all five formats, whole and for $UNIT: 200 ($got)" \
  [ "$got" = " csv:200 csv/enhet:200 json:200 json/enhet:200 xml:200 xml/enhet:200 html:200 html/enhet:200 xlsx:200 xlsx/enhet:200" ] ||
  { finish; exit 1; }
check "XML, whole and for $UNIT: valid against tilbakemelding.xsd" xsd_valid "$W/w.xml" "$W/u.xml"

check "whole file: CSV, JSON, XML, XLSX the same messages in order, the HTML the same set; summary, per rule, per unit, status and what was received agree" \
  run_compare whole "$W/w"
msgs=$(json 'len(d["messages"]), len({m["rule"] for m in d["messages"]}), len(d["units"]), len(d["received"]["figures"])' < "$W/w.json")
check "…over enough to compare: (messages, rules, units, figures) = $msgs" \
  "$PY" -c 'import sys; m, r, u, f = eval(sys.argv[1]); sys.exit(0 if m > 150 and r >= 10 and u >= 16 and f > 500 else 1)' "$msgs"
check "…compared with 2024, some figures flagged" [ "$(json 'd["received"]["comparison"], any(g["flagged"] for g in d["received"]["figures"])' < "$W/w.json")" = "('sammenlignet', True)" ]
check "…with messages about the whole file (F007) and in units holding an ID (R110, masked)" \
  "$PY" -c 'import json, re, sys
d = json.load(open(sys.argv[1]))["messages"]
sys.exit(0 if any(m["rule"] == "F007" and m["ref"] == "" and m["enhet"] is None for m in d) and
         any(m["rule"] == "R110" and re.search(r"\d{6}[ .-]?\*{5}", m["value"] or "") for m in d) else 1)' "$W/w.json"

check "$UNIT's file: the same consistency, and exactly the whole file's messages of the unit plus those about the whole file" \
  run_compare unit "$W/u" "$W/w" "$UNIT"

# no national ID of the file in any of the ten files: every Fnr written in
# it, as 11 digits or 6 and 5 joined by a space, '-' or '.'
check "no national ID of the file in any format (the workbook unzipped)" "$PY" - "$F" "$W"/[wu].* <<'PY'
import re, sys, zipfile
src = open(sys.argv[1], encoding="utf-8", errors="replace").read()
ids = set(re.findall(r"<Fnr>(\d{11})</Fnr>", src))
bad = []
for path in sys.argv[2:]:
    if path.endswith(".xlsx"):
        z = zipfile.ZipFile(path)
        text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    else:
        text = open(path, encoding="utf-8", errors="replace").read()
    text = re.sub(r"(\d{6})[ .-](\d{5})", r"\1\2", text)
    for run in re.findall(r"\d{11,}", text):
        bad += [(path, run[i:i + 11]) for i in range(len(run) - 10) if run[i:i + 11] in ids]
print(f"      {len(ids)} national IDs in the file, {len(bad)} found in the feedback {bad[:3]}")
sys.exit(0 if ids and not bad else 1)
PY

# --- the offline validator's five formats of the same file
for f in csv json xml html xlsx; do
  "$BUILD/kpr-validate" --test-mode --format $f "$F" > "$W/o.$f"
  "$BUILD/kpr-validate" --test-mode --format $f --enhet "$UNIT" "$F" > "$W/ou.$f"
done
check "kpr-validate: its five formats agree the same way" run_compare offline "$W/o"
# tests/xlsx/compare.py's workbook checks (headings, frozen rows, filters,
# widths, number cells) on kpr-validate's workbook: on kprd's, F007's text
# names the previous submission, whose id a second run of this test on the
# same stack ends in 12 digits (fresh), which compare.py takes for an ID
check "kpr-validate: the workbook equals the CSV row by row, and its Mottatt sheet the JSON (tests/xlsx/compare.py)" \
  xlsx_compare "$W/o"
check "kpr-validate --enhet: so do those of the unit" run_compare offline-unit "$W/ou" "$W/o" "$UNIT"
check "kpr-validate: the server's messages, but for F007 (it needs the register)" \
  "$PY" -c 'import json, sys
strip = lambda p: [m for m in json.load(open(p))["messages"] if m["rule"] != "F007"]
sys.exit(0 if strip(sys.argv[1]) == strip(sys.argv[2]) else 1)' "$W/w.json" "$W/o.json"

finish
