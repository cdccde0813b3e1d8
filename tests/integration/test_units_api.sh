#!/usr/bin/env bash
# One unit's feedback (SPEC §6 ?enhet=NAME): GET .../feedback?format=F&enhet=NAME
# gives the same file limited to that unit, its messages plus those about
# the whole file (checked against the whole file's messages with a filter
# of the test's own, not kprd's); names match exactly as written (UTF-8,
# URL-encoded, an inner double space kept); an unknown unit is 404
# unknown_unit, a malformed name 400 bad_parameter; the download is counted
# with its unit and named by its number, never its text; a staff download
# is audited with its unit (the whole file's without; the hash chain covers
# it); the unit files
# (<id>.<token>.u<n>.<ext>) survive a reconciler pass, a reprocessing
# replaces them and the reconciler removes stale ones; a file without units
# gets no unit files; past FEEDBACK_UNIT_FILES_MAX units the rest answer
# 422 too_many_units.
. "$(dirname "$0")/../lib/common.sh"

W=$(mktemp -d)
trap 'rm -rf "$W" "$HTTP_HEADERS"' EXIT
KOMMUNE=1111 # Sokndal: no other test uploads for it
BIG=1112     # Lund: the file with too many units
TOKEN=$("$BUILD/kprctl" token issue --kommune $KOMMUNE --name test-units-api 2>/dev/null)
wait_token "$TOKEN"
A=$(auth "$TOKEN")
S=$(auth "$KPR_STAFF_TOKEN")
FB=$KPR_VAR/feedback
sql() { psql -X -qtA "$KPR_REGISTER_ADMIN_DSN" -c "$1"; }

# valid national IDs made here (control digits computed), never real ones
fnrs() { # count
  python3 - "$1" <<'EOF'
import sys
W1 = [3, 7, 6, 1, 8, 9, 4, 5, 2]; W2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
def k(d, w):
    r = 11 - sum(int(a) * b for a, b in zip(d, w)) % 11
    return 0 if r == 11 else r
out, n = [], int(sys.argv[1])
for day in range(1, 29):
    for ind in range(100, 500):
        s9 = "%02d0270%03d" % (day, ind)
        k1 = k(s9, W1); k2 = k(s9 + str(k1), W2) if k1 < 10 else 10
        if k1 < 10 and k2 < 10:
            out.append(s9 + str(k1) + str(k2))
        if len(out) == n:
            print(" ".join(out)); sys.exit(0)
EOF
}
file() { # out kommune persons...: forrigeId names no submission (F007: about the whole file)
  local out=$1 k=$2; shift 2
  {
    printf '<?xml version="1.0" encoding="UTF-8"?>\n'
    printf '<Innsending xmlns="urn:no:kpr:innsending:1" versjon="1.0" id="%s" forrigeId="%s" opprettet="2026-01-05T09:12:00+01:00" aargang="2025">\n' \
      "$(cat /proc/sys/kernel/random/uuid)" "$(cat /proc/sys/kernel/random/uuid)"
    printf '<Avsender kommunenummer="%s" fagsystem="Test" fagsystemVersjon="1"/>\n' "$k"
    printf '%s' "$@"
    printf '</Innsending>\n'
  } >"$out"
}
person() { # ref enhet-attribute fnr kjonn [services]
  printf '<Person ref="%s"%s><Fnr>%s</Fnr><Kjonn>%s</Kjonn>%s</Person>\n' "$1" "$2" "$3" "$4" "${5:-}"
}
upload() { # file [auth] -> $SUB, final status in $BODY
  req POST /api/v1/submissions -H "${2:-$A}" -H "Content-Type: application/xml" --data-binary @"$1"
  SUB=$(echo "$BODY" | json 'd["id"]')
  wait_done "$SUB" "${2:-$A}"
}
token_of() { sql "SELECT coalesce(feedback_token, '') FROM kpr.submission WHERE id = '$1'"; }
nfiles() { # glob under the feedback directory
  compgen -G "$FB/$1" | wc -l
}

read -r F1 F2 F3 F4 F5 _ <<<"$(fnrs 6)"
# wrong dates on a service of its own unit (R302), a wrong sex on every
# person (R108), a blank unit R110 refuses, a person without a unit
TJ_OWN='<Tjeneste type="21" soknad="2025-03-20" vedtak="2025-02-01" start="2025-02-03" enhet="Frogner helsehus"/>'
TJ='<Tjeneste type="15" soknad="2025-03-01" vedtak="2025-03-05" start="2025-03-06"/>'
file "$W/units.xml" $KOMMUNE \
  "$(person U-1 ' enhet="Bydel Frogner"' "$F1" 9 "$TJ_OWN$TJ")" \
  "$(person U-2 ' enhet="Sone  Øst æøå"' "$F2" 9 "$TJ")" \
  "$(person U-3 ' enhet="   "' "$F3" 9 "$TJ")" \
  "$(person U-4 '' "$F4" 9 "$TJ")" \
  "$(person U-5 ' enhet="Bydel Frogner"' "$F5" 1 "$TJ")"
upload "$W/units.xml"
check "a file with units processed ($SUB_STATUS)" grep -qE '^(accepted|rejected)' <<<"$SUB_STATUS"
UNITS=$SUB
TOK=$(token_of "$UNITS")
check "the register numbers the named units in the report's order" \
  [ "$(sql "SELECT string_agg(n || '=' || enhet, ',' ORDER BY n) FROM kpr.feedback_unit WHERE submission_id = '$UNITS'")" = \
    "1=Bydel Frogner,2=Frogner helsehus,3=Sone  Øst æøå" ]
check "five files per named unit beside the whole file's five" \
  [ "$(nfiles "$UNITS.$TOK.u*.*") $(nfiles "$UNITS.$TOK.*")" = "15 20" ]
N=$(sql "SELECT n FROM kpr.feedback_unit WHERE submission_id = '$UNITS' AND enhet = 'Bydel Frogner'")

# the whole file's messages, and the test's own filter: the unit's, and
# those about the whole file (no unit, no person)
req GET "/api/v1/submissions/$UNITS/feedback?format=json" -H "$A"
echo "$BODY" >"$W/whole.json"
req GET "/api/v1/submissions/$UNITS/feedback?format=csv" -H "$A"
printf '%s' "$BODY" >"$W/whole.csv"
filter_json() { # whole.json unit.json enhet: the unit's messages are exactly the filter's
  python3 - "$@" <<'EOF'
import json, sys
whole, unit, e = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
key = lambda m: json.dumps(m, sort_keys=True)
want = [key(m) for m in whole["messages"] if m.get("enhet") == e or (m.get("enhet") is None and not m.get("ref"))]
got = [key(m) for m in unit["messages"]]
refs = {m.get("ref") for m in unit["messages"]}
ok = want == got and any(m.get("enhet") == e for m in unit["messages"]) and \
     any(m.get("enhet") is None for m in unit["messages"])
print("%d of %d messages, refs %s" % (len(got), len(whole["messages"]), sorted(r for r in refs if r)), file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
}
filter_csv() { # whole.csv unit.csv enhet
  python3 - "$@" <<'EOF'
import csv, io, sys
def rows(p):
    t = open(p, encoding="utf-8-sig", newline="").read()
    r = list(csv.reader(io.StringIO(t, newline=""), delimiter=";"))
    return r[0], r[1:]
(h, whole), (h2, unit), e = rows(sys.argv[1]), rows(sys.argv[2]), sys.argv[3]
assert h == h2 and h[-1] == "enhet" and h[2] == "ref", h
want = [r for r in whole if r[-1] == e or (r[-1] == "" and r[2] == "")]
sys.exit(0 if want == unit and any(r[-1] == e for r in unit) else 1)
EOF
}
for f in csv xlsx xml html json; do
  req GET "/api/v1/submissions/$UNITS/feedback?format=$f&enhet=Bydel%20Frogner" -H "$A"
  check "$f, enhet=Bydel Frogner: 200" [ "$HTTP_STATUS" = 200 ]
  disp=$(header Content-Disposition)
  check "…named by the unit's number ($disp)" \
    [ "$disp" = "attachment; filename=\"kpr-tilbakemelding-$KOMMUNE-2025-${UNITS:0:8}-enhet$N.$f\"" ]
  case $f in
  json)
    printf '%s' "$BODY" >"$W/unit.json"
    check "…JSON: the unit's messages and the whole file's, nothing else" filter_json "$W/whole.json" "$W/unit.json" "Bydel Frogner"
    check "…none of another unit or of no unit" fails grep -q '"U-2"\|"U-3"\|"U-4"' "$W/unit.json" ;;
  csv)
    printf '%s' "$BODY" >"$W/unit.csv"
    check "…CSV: the whole file's rows of the unit and of the whole file" filter_csv "$W/whole.csv" "$W/unit.csv" "Bydel Frogner" ;;
  xml | html)
    check "…the unit's refs only" [ "$(grep -c 'U-1' <<<"$BODY") $(grep -c 'U-2\|U-3\|U-4' <<<"$BODY")" != "0 0" ]
    check "…no other unit's ref" fails grep -q 'U-2\|U-3\|U-4' <<<"$BODY" ;;
  xlsx)
    check "…a workbook of its own" cmp -s <(printf '%s' "$BODY" | head -c 2) <(printf PK)
    check "…the unit's file on disk, served as is (staff: audited, not counted)" \
      [ "$(curl -sS --cacert "$KPR_CACERT" -H "$S" "$KPR_URL/api/v1/submissions/$UNITS/feedback?format=xlsx&enhet=Bydel%20Frogner" | sha256sum)" = \
        "$(sha256sum <"$FB/$UNITS.$TOK.u$N.xlsx")" ] ;;
  esac
done
# an inner double space and UTF-8, %-encoded; and as curl encodes it
req GET "/api/v1/submissions/$UNITS/feedback?format=json&enhet=Sone%20%20%C3%98st%20%C3%A6%C3%B8%C3%A5" -H "$A"
printf '%s' "$BODY" >"$W/sone.json"
check "enhet=Sone  Øst æøå (%-encoded): 200" [ "$HTTP_STATUS" = 200 ]
check "…its messages and the whole file's" filter_json "$W/whole.json" "$W/sone.json" "Sone  Øst æøå"
req GET "/api/v1/submissions/$UNITS/feedback" -G --data-urlencode "format=csv" --data-urlencode "enhet=Sone  Øst æøå" -H "$A"
printf '%s' "$BODY" >"$W/sone.csv"
check "…with curl --data-urlencode too" filter_csv "$W/whole.csv" "$W/sone.csv" "Sone  Øst æøå"
# exactly as written: no trimming, no case folding, no space folding
for e in "Sone Øst æøå" "bydel frogner" "Bydel Frogner " "Finnes ikke" "(ukjent enhet)"; do
  req GET "/api/v1/submissions/$UNITS/feedback" -G --data-urlencode "format=json" --data-urlencode "enhet=$e" -H "$A"
  check "enhet=\"$e\": 404 unknown_unit" [ "$HTTP_STATUS $(echo "$BODY" | json 'd["code"]')" = "404 unknown_unit" ]
done
check "…as JSON" grep -q '^application/json' <<<"$(header Content-Type)"
for q in "enhet=" "enhet=%FF" "enhet=a%01b" "enhet=$(printf 'x%.0s' $(seq 65))" "enhet=%C3"; do
  req GET "/api/v1/submissions/$UNITS/feedback?format=csv&$q" -H "$A"
  check "${q:0:20}: 400 bad_parameter" [ "$HTTP_STATUS $(echo "$BODY" | json 'd["code"]')" = "400 bad_parameter" ]
done
check "64 characters are a name (unknown here)" [ "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$KPR_CACERT" -H "$A" \
  "$KPR_URL/api/v1/submissions/$UNITS/feedback?format=csv&enhet=$(printf 'x%.0s' $(seq 64))")" = 404 ]

# counted with the unit; the whole file's without
check "the five unit downloads counted with their unit" \
  [ "$(sql "SELECT count(*) FROM kpr.feedback_download WHERE submission_id = '$UNITS' AND enhet = 'Bydel Frogner'")" = 5 ]
check "…the other unit's with its own, written as is" \
  [ "$(sql "SELECT count(*) FROM kpr.feedback_download WHERE submission_id = '$UNITS' AND enhet = 'Sone  Øst æøå'")" = 2 ]
check "…the whole file's without a unit; refused ones not at all" \
  [ "$(sql "SELECT count(*) FROM kpr.feedback_download WHERE submission_id = '$UNITS' AND enhet IS NULL")" = 2 ]
# staff may ask too; another municipality may not
req GET "/api/v1/submissions/$UNITS/feedback?format=json&enhet=Frogner%20helsehus" -H "$S"
check "staff, enhet=Frogner helsehus: 200" [ "$HTTP_STATUS" = 200 ]
req GET "/api/v1/submissions/$UNITS/feedback?format=csv" -H "$S"
check "staff, the whole file: 200" [ "$HTTP_STATUS" = 200 ]
# staff downloads are audited (migration 0013), each with its unit as
# written; the whole file's without one; the hash chain covers the unit
staff_audit() { sql "SELECT string_agg(coalesce(enhet, '-') || ':' || split_part(detail, ' ', 1), ',' ORDER BY id)
  FROM kpr.audit WHERE action = 'staff_download' AND submission_id = '$UNITS'"; }
check "staff downloads audited with their unit, the whole file's without ($(staff_audit))" \
  [ "$(staff_audit)" = "Bydel Frogner:format=xlsx,Frogner helsehus:format=json,-:format=csv" ]
check "…the audit chain verifies" "$BUILD/kprctl" audit verify --register-only
check "…kprctl audit list shows the unit" grep -q "| Frogner helsehus |" <<<"$("$BUILD/kprctl" audit list --register --limit 5)"
AUD=$(sql "SELECT id FROM kpr.audit WHERE submission_id = '$UNITS' AND enhet = 'Frogner helsehus'")
set_audit_unit() { # unit: the audit row's unit changed behind the chain's back
  psql -X -q -v ON_ERROR_STOP=1 --single-transaction "$KPR_REGISTER_ADMIN_DSN" \
    -c "ALTER TABLE kpr.audit DISABLE TRIGGER audit_append_only" \
    -c "UPDATE kpr.audit SET enhet = '$1' WHERE id = $AUD" \
    -c "ALTER TABLE kpr.audit ENABLE TRIGGER audit_append_only"
}
set_audit_unit "Bydel Frogner"
check "…a unit changed afterwards breaks the chain at that row" \
  grep -q "kpr.audit .*BROKEN at row id $AUD " <<<"$("$BUILD/kprctl" audit verify --register-only)"
set_audit_unit "Frogner helsehus"
check "…which verifies again once restored" "$BUILD/kprctl" audit verify --register-only
check "…a unit the submission's feedback does not name is refused" \
  fails sql "SELECT kpr.audit_staff_download('$UNITS', 'csv', 1, 'Finnes ikke')" 2>/dev/null
OTHER=$("$BUILD/kprctl" token issue --kommune $BIG --name test-units-api-other 2>/dev/null)
wait_token "$OTHER"
req GET "/api/v1/submissions/$UNITS/feedback?format=json&enhet=Bydel%20Frogner" -H "$(auth "$OTHER")"
check "another municipality: 404 not_found" [ "$HTTP_STATUS $(echo "$BODY" | json 'd["code"]')" = "404 not_found" ]

# --- the reconciler keeps the committed token's unit files, removes others
STALE=0123456789abcdef0123456789abcdef
for x in u1.csv u2.json u12.xml; do echo x >"$FB/$UNITS.$STALE.$x"; done
touch -d '-2 hours' "$FB/$UNITS".*
stop_pid "$(kprd_pid)"
check "kprd restarted (the reconciler's start-up pass)" start_kprd
stale_gone() { [ "$(nfiles "$UNITS.$STALE.*")" = 0 ]; }
check "…removed the stale unit files of a token not committed" poll 30 stale_gone
check "…kept the committed token's, aged too" [ "$(nfiles "$UNITS.$TOK.u*.*") $(nfiles "$UNITS.$TOK.*")" = "15 20" ]
req GET "/api/v1/submissions/$UNITS/feedback?format=csv&enhet=Bydel%20Frogner" -H "$A"
check "…and serves them" [ "$HTTP_STATUS" = 200 ]

# --- reprocessing: a new token's files and numbers replace the old ones
cp "$W/units.xml" "$KPR_VAR/spool/$(sql "SELECT spool_name FROM kpr.submission WHERE id = '$UNITS'")"
check "kprctl reprocess queues it again" "$BUILD/kprctl" reprocess --config "$KPR_CONFIG" "$UNITS"
new_token() { local t; t=$(token_of "$UNITS"); [ -n "$t" ] && [ "$t" != "$TOK" ] &&
  [ "$(sql "SELECT state FROM kpr.job WHERE submission_id = '$UNITS'")" = done ]; }
check "…processed again under a new token" poll 30 new_token
TOK2=$(token_of "$UNITS")
old_gone() { [ "$(nfiles "$UNITS.$TOK.*")" = 0 ]; }
check "…the old token's files, the units' too, removed" poll 10 old_gone
check "…the new token's 20 in place" [ "$(nfiles "$UNITS.$TOK2.*")" = 20 ]
check "…the units numbered once" [ "$(sql "SELECT count(*) FROM kpr.feedback_unit WHERE submission_id = '$UNITS'")" = 3 ]
req GET "/api/v1/submissions/$UNITS/feedback?format=json&enhet=Bydel%20Frogner" -H "$A"
printf '%s' "$BODY" >"$W/unit2.json"
check "…served from the new files" filter_json "$W/whole.json" "$W/unit2.json" "Bydel Frogner"

# --- a file without units: no unit files, every name unknown
file "$W/plain.xml" $KOMMUNE "$(person P-1 '' "$F1" 1 "$TJ")"
upload "$W/plain.xml"
PT=$(token_of "$SUB")
check "a file without units: the whole file's five only" [ "$(nfiles "$SUB.$PT.*") $(nfiles "$SUB.$PT.u*")" = "5 0" ]
check "…no unit numbered" [ "$(sql "SELECT count(*) FROM kpr.feedback_unit WHERE submission_id = '$SUB'")" = 0 ]
req GET "/api/v1/submissions/$SUB/feedback?format=csv&enhet=Bydel%20Frogner" -H "$A"
check "…enhet=Bydel Frogner: 404 unknown_unit" [ "$HTTP_STATUS $(echo "$BODY" | json 'd["code"]')" = "404 unknown_unit" ]

# --- more units than get files (FEEDBACK_UNIT_FILES_MAX = 500)
persons=()
i=0
for f in $(fnrs 501); do
  i=$((i + 1))
  persons+=("$(person B-$i " enhet=\"Sone $i\"" "$f" 2)")
done
file "$W/big.xml" $BIG "${persons[@]}"
upload "$W/big.xml" "$(auth "$OTHER")"
BT=$(token_of "$SUB")
check "501 units: files for 500 of them" [ "$(nfiles "$SUB.$BT.u*.*") $(nfiles "$SUB.$BT.u500.*") $(nfiles "$SUB.$BT.u501.*")" = "2500 5 0" ]
LAST=$(sql "SELECT enhet FROM kpr.feedback_unit WHERE submission_id = '$SUB' AND n IS NULL")
check "…the 501st recorded without a number ($LAST)" [ -n "$LAST" ]
req GET "/api/v1/submissions/$SUB/feedback" -G --data-urlencode "format=csv" --data-urlencode "enhet=$LAST" -H "$(auth "$OTHER")"
check "…asking for it: 422 too_many_units" [ "$HTTP_STATUS $(echo "$BODY" | json 'd["code"]')" = "422 too_many_units" ]
FIRST=$(sql "SELECT enhet FROM kpr.feedback_unit WHERE submission_id = '$SUB' AND n = 1")
req GET "/api/v1/submissions/$SUB/feedback" -G --data-urlencode "format=csv" --data-urlencode "enhet=$FIRST" -H "$(auth "$OTHER")"
check "…one with files: 200" [ "$HTTP_STATUS" = 200 ]
finish
