#!/usr/bin/env bash
# The feedback workbook (format=xlsx, SPEC §6) read back with an independent
# reader: Debian's python3-openpyxl (tests/xlsx/compare.py) compares it with
# the CSV of the same report row by row (values, line numbers as number
# cells), and checks the sheet names, frozen heading rows, filters and the
# per-rule, per-unit and summary counts. The workbook comes from a real kprd
# over HTTPS (with its Content-Type, file name and download count), from the
# file kprd stored, and from kpr-validate --format xlsx (whose private
# temporary directory must be gone afterwards). The continuation onto
# "Meldinger (2)" is checked on check_xlsx's workbooks with the row limit
# lowered (feedback_xlsx_set_sheet_rows): a million messages would take
# minutes here; the real 1,048,576-row split was measured by hand (README).
. "$(dirname "$0")/../lib/common.sh"

W=$(mktemp -d)
trap 'rm -rf "$W"; rm -f "$HTTP_HEADERS"' EXIT
KOMMUNE=1813 # Brønnøy: no other test uploads for it
PY=/usr/bin/python3 # Debian's, with python3-openpyxl (tools/install-deps)
COMPARE=$(dirname "$0")/../xlsx/compare.py
XLSX_TYPE=application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
TOKEN=$("$BUILD/kprctl" token issue --kommune $KOMMUNE --name test-xlsx 2>/dev/null)
wait_token "$TOKEN"
A=$(auth "$TOKEN")

check "openpyxl is there (python3-openpyxl)" "$PY" -c 'import openpyxl' || { finish; exit 1; }

compare() { # workbook csv label [json]: compare.py's lines indented; true when all hold
  "$PY" "$COMPARE" "$1" "$2" ${4:+"$4"} > "$W/compare-$3.out" 2>&1
  local rc=$?
  sed 's/^/      /' "$W/compare-$3.out" | grep -v '^      *ok ' || true
  return $rc
}

download() { # id format out [auth]: HTTP status in $HTTP_STATUS, recorded for the OpenAPI check
  HTTP_STATUS=$(curl -sS --cacert "$KPR_CACERT" -H "${4:-$A}" -D "$HTTP_HEADERS" -o "$3" \
    -w '%{http_code}' "$KPR_URL/api/v1/submissions/$1/feedback?format=$2")
  BODY=""
  [ "$2" = json ] && BODY=$(cat "$3") # the conformance check reads JSON bodies
  record_exchange GET "/api/v1/submissions/$1/feedback?format=$2"
}

# fixed seeds: 15001 carries errors and warnings of several rules, 15002 is
# cut off (F001: rejected). kpr-gen makes one fault per person, so no
# message is merged over lines here: check_xlsx's sample is.
gen 15001 --kommune $KOMMUNE --persons 300 --out "$W/a" --inject R103=0.05,R108=0.05,R304=0.05,R204=0.1,R107=0.05
gen 15002 --kommune $KOMMUNE --persons 20 --out "$W/b" --inject F001=1
FA=$W/a/$KOMMUNE-2025.xml FB=$W/b/$KOMMUNE-2025.xml
fresh "$FA" "$FB"

# --- from kprd over HTTPS
req POST /api/v1/submissions -H "$A" -H "Content-Type: application/xml" --data-binary @"$FA"
check "upload: 202" [ "$HTTP_STATUS" = 202 ]
ID=$(echo "$BODY" | json 'd["id"]')
wait_done "$ID" "$A"
check "processed: accepted_with_errors" [ "$SUB_STATUS" = accepted_with_errors ]
check "the status links the workbook" \
  [ "$(echo "$BODY" | json 'd["links"]["feedback"]["xlsx"]')" = "/api/v1/submissions/$ID/feedback?format=xlsx" ]

download "$ID" xlsx "$W/served.xlsx"
check "xlsx: 200" [ "$HTTP_STATUS" = 200 ]
check "xlsx: Content-Type $XLSX_TYPE" [ "$(header Content-Type)" = "$XLSX_TYPE" ]
check "xlsx: the download's name ends .xlsx" \
  [ "$(header Content-Disposition)" = "attachment; filename=\"kpr-tilbakemelding-$KOMMUNE-2025-${ID:0:8}.xlsx\"" ]
check "xlsx: its Content-Length is the file's" [ "$(header Content-Length)" = "$(stat -c %s "$W/served.xlsx")" ]
download "$ID" csv "$W/served.csv"
check "csv: 200" [ "$HTTP_STATUS" = 200 ]
download "$ID" json "$W/served.json"
check "the served workbook equals the served CSV, row by row, and its Mottatt sheet the JSON's figures (openpyxl)" \
  compare "$W/served.xlsx" "$W/served.csv" served "$W/served.json"
check "…which has figures" grep -q "Mottatt: every figure equals the JSON's" "$W/compare-served.out"
check "…and a value the CSV guards against formulas" grep -q ";'-" "$W/served.csv"
sql() { psql -X -qtA "$KPR_REGISTER_ADMIN_DSN" -c "$1"; }
TOK=$(sql "SELECT feedback_token FROM kpr.submission WHERE id = '$ID'")
check "kprd stored it as <id>.<token>.xlsx, the bytes served" cmp -s "$KPR_VAR/feedback/$ID.$TOK.xlsx" "$W/served.xlsx"
check "the download counted with its format" \
  [ "$(sql "SELECT count(*) FROM kpr.feedback_download WHERE submission_id = '$ID' AND format = 'xlsx'")" = 1 ]
download "$ID" xlsx "$W/staff.xlsx" "$(auth "$KPR_STAFF_TOKEN")"
check "staff may download the workbook" [ "$HTTP_STATUS" = 200 ]
download "$ID" XLSX "$W/upper.xlsx"
check "the format name is case-insensitive" [ "$HTTP_STATUS" = 200 ]
req GET "/api/v1/submissions/$ID/feedback?format=xls" -H "$A"
check "format=xls: 400 naming the formats" \
  [ "$HTTP_STATUS/$(echo "$BODY" | json 'd["detail"]')" = "400/format must be csv, xlsx, xml, html or json" ]

# a rejected file gets its workbook too
req POST /api/v1/submissions -H "$A" -H "Content-Type: application/xml" --data-binary @"$FB"
IDB=$(echo "$BODY" | json 'd["id"]')
wait_done "$IDB" "$A"
check "cut-off file: rejected" [ "$SUB_STATUS" = rejected ]
download "$IDB" xlsx "$W/rejected.xlsx"
download "$IDB" csv "$W/rejected.csv"
check "the rejected file's workbook equals its CSV" compare "$W/rejected.xlsx" "$W/rejected.csv" rejected

# --- from kpr-validate, with a temporary directory of its own
mkdir "$W/tmp"
TMPDIR=$W/tmp "$BUILD/kpr-validate" --test-mode --format xlsx "$FA" > "$W/offline.xlsx"
rc=$?
check "kpr-validate --format xlsx: exit 2 (errors)" [ "$rc" = 2 ]
"$BUILD/kpr-validate" --test-mode --format csv "$FA" > "$W/offline.csv"
"$BUILD/kpr-validate" --test-mode --format json "$FA" > "$W/offline.json"
check "kpr-validate's workbook equals its CSV and JSON (openpyxl)" \
  compare "$W/offline.xlsx" "$W/offline.csv" offline "$W/offline.json"
check "…and its temporary directory is gone" [ -z "$(ls -A "$W/tmp")" ]
check "kpr-validate offers the format" grep -q xlsx <<<"$("$BUILD/kpr-validate" --help 2>&1)"

# --- past the row limit: "Meldinger (2)", ... (check_xlsx's workbooks, the
# limit lowered by its test hook), and hostile strings
mkdir "$W/dump"
check "check_xlsx wrote its workbooks" env KPR_XLSX_DUMP="$W/dump" "$BUILD/tests/check_xlsx"
for n in sample hostile split; do
  check "$n: the workbook equals its CSV" compare "$W/dump/$n.xlsx" "$W/dump/$n.csv" "$n"
done
check "sample: a message merged over lines 12, 40, 77 (text in both)" grep -q ';12, 40, 77;' "$W/dump/sample.csv"
check "split: 25 messages on Meldinger, Meldinger (2), Meldinger (3)" \
  grep -q "25 messages on 3 sheet(s)" "$W/compare-split.out"

finish
