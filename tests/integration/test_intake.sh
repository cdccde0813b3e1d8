#!/usr/bin/env bash
# The intake path end to end against a real kprd and PostgreSQL: upload
# checks on the first call (401/403/411/413/415), streaming upload to the
# spool, 202 + Location, idempotent re-uploads, processing into the
# register, replacement (superseded), rejected files changing nothing, dry
# runs, gzip, per-municipality visibility (404), and feedback downloads in
# every format with their counting.
. "$(dirname "$0")/../lib/common.sh"

W=$(mktemp -d)
trap 'rm -rf "$W" "$HTTP_HEADERS"' EXIT
KOMMUNE=3301 # Drammen: no other test uploads for it
TOKEN=$("$BUILD/kprctl" token issue --kommune $KOMMUNE --name test-intake 2>/dev/null)
OTHER=$("$BUILD/kprctl" token issue --kommune 1106 --name test-intake-other 2>/dev/null)
wait_token "$TOKEN"; wait_token "$OTHER"
A=$(auth "$TOKEN")
XML=(-H "Content-Type: application/xml")

# fixed seeds (the file b of seed 2 carries R103 and R301 faults); fresh()
# gives a second run on the same stack files it has not seen
gen 1 --kommune $KOMMUNE --persons 120 --out "$W/a"
gen 2 --kommune $KOMMUNE --persons 80 --out "$W/b" --inject R103=0.05,R301=0.05
gen 3 --kommune $KOMMUNE --persons 30 --out "$W/c" --inject F001=1
gen 4 --kommune $KOMMUNE --persons 40 --out "$W/d" --gzip
FA=$W/a/$KOMMUNE-2025.xml FB=$W/b/$KOMMUNE-2025.xml FC=$W/c/$KOMMUNE-2025.xml FD=$W/d/$KOMMUNE-2025.xml.gz
fresh "$FA" "$FB" "$FC" "$FD"
injected() { # manifest rule -> how many faults of that rule kpr-gen wrote
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["injected"].get(sys.argv[2], 0))' "$1" "$2"
}
B_R103=$(injected "$W/b/manifest.json" R103) B_R301=$(injected "$W/b/manifest.json" R301)
check "seed 2 wrote R103 and R301 faults into the second file ($B_R103, $B_R301)" [ $((B_R103 > 0 && B_R301 > 0)) = 1 ]

sql() { psql -X -qtA "$KPR_REGISTER_ADMIN_DSN" -c "$1"; }

# --- refused on the first call, before the body is read
printf '<Innsending/>' > "$W/tiny.xml"
TINY=$W/tiny.xml
req POST /api/v1/submissions "${XML[@]}" --data-binary @"$TINY"
check "no token: 401" [ "$HTTP_STATUS" = 401 ]
check "401 body code unauthenticated" [ "$(echo "$BODY" | json 'd["code"]')" = unauthenticated ]
req POST /api/v1/submissions -H "$(auth kpr_notarealtokennotarealtokennotarealtoken1234)" "${XML[@]}" --data-binary @"$TINY"
check "unknown token: 401" [ "$HTTP_STATUS" = 401 ]
req POST /api/v1/submissions -H "$(auth "$KPR_STAFF_TOKEN")" "${XML[@]}" --data-binary @"$TINY"
check "staff token may not upload: 403" [ "$HTTP_STATUS" = 403 ]
req POST /api/v1/submissions -H "$A" -H "Content-Type: text/plain" --data-binary @"$TINY"
check "wrong content type: 415" [ "$HTTP_STATUS" = 415 ]
req POST /api/v1/submissions -H "$A" "${XML[@]}" -H "Content-Encoding: br" --data-binary @"$TINY"
check "unknown content encoding: 415" [ "$HTTP_STATUS" = 415 ]
req POST /api/v1/submissions -H "$A" "${XML[@]}" -H "Content-Length: 99999999999999" --data-binary @"$FA"
check "announced size over the limit: 413 before the body" [ "$HTTP_STATUS" = 413 ]
# no Content-Length and no chunked encoding: a raw request
raw=$(printf 'POST /api/v1/submissions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\nContent-Type: application/xml\r\nConnection: close\r\n\r\n' "$TOKEN" |
  timeout 10 openssl s_client -quiet -connect "127.0.0.1:${KPR_URL##*:}" 2>/dev/null | head -1)
check "no length: 411" grep -q " 411 " <<<"$raw"

# --- accepted upload
req POST /api/v1/submissions -H "$A" "${XML[@]}" --data-binary @"$FA"
check "upload: 202" [ "$HTTP_STATUS" = 202 ]
ID1=$(echo "$BODY" | json 'd["id"]')
check "Location names the submission" [ "$(header Location)" = "/api/v1/submissions/$ID1" ]
check "answer has sha256 of the file" [ "$(echo "$BODY" | json 'd["sha256"]')" = "$(sha256sum "$FA" | cut -d' ' -f1)" ]
check "answer has the byte count" [ "$(echo "$BODY" | json 'd["bytes"]')" = "$(stat -c %s "$FA")" ]
check "status received (or already being processed)" grep -qE "^(received|processing)$" <<<"$(echo "$BODY" | json 'd["status"]')"
req POST /api/v1/submissions -H "$A" "${XML[@]}" --data-binary @"$FA"
check "same file again: 200" [ "$HTTP_STATUS" = 200 ]
check_same_id() { [ "$(echo "$BODY" | json 'd["id"]')" = "$ID1" ]; }
check "same file again: the same submission" check_same_id

wait_done "$ID1" "$A"
check "processed: accepted" [ "$(echo "$BODY" | json 'd["status"]')" = accepted ]
check "processed file left the spool (it holds national IDs)" [ ! -e "$KPR_VAR/spool/$ID1.xml" ]
persons=$(grep -c '<Person ' "$FA")
check "persons counted" [ "$(echo "$BODY" | json 'd["counts"]["persons"]')" = "$persons" ]
check "registrations counted" [ "$(echo "$BODY" | json 'd["counts"]["registrations"]')" = "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["files"][0]["registrations"])' "$W/a/manifest.json")" ]
check "register holds the persons" [ "$(sql "SELECT count(*) FROM kpr.current_person WHERE submission_id = '$ID1'")" = "$persons" ]
check "one row per Vurdering (17 scores together)" [ "$(sql "SELECT count(*) FROM kpr.vurdering WHERE submission_id = '$ID1'")" = "$(grep -c '<Vurdering ' "$FA")" ]
check "every Tjeneste loaded" [ "$(sql "SELECT count(*) FROM kpr.tjeneste WHERE submission_id = '$ID1'")" = "$(grep -c '<Tjeneste ' "$FA")" ]
check "register stores 16-byte pseudonyms" [ "$(sql "SELECT count(*) FROM kpr.person WHERE submission_id = '$ID1' AND length(pseudonym) = 16")" = "$persons" ]
check "feedback links present, one per format" [ "$(echo "$BODY" | json '" ".join(sorted(d["links"]["feedback"]))')" = "csv html json xlsx xml" ]

# --- feedback in every format; municipality downloads are counted
for f in csv xml html json; do
  req GET "/api/v1/submissions/$ID1/feedback?format=$f" -H "$A"
  check "feedback $f: 200" [ "$HTTP_STATUS" = 200 ]
  check "feedback $f: filename" grep -q "kpr-tilbakemelding-$KOMMUNE-2025-.*\.$f" <<<"$(header Content-Disposition)"
done
# the workbook is binary: to a file (test_xlsx.sh reads it back)
code=$(curl -sS --cacert "$KPR_CACERT" -H "$A" -D "$HTTP_HEADERS" -o "$W/fb.xlsx" -w '%{http_code}' \
  "$KPR_URL/api/v1/submissions/$ID1/feedback?format=xlsx")
check "feedback xlsx: 200" [ "$code" = 200 ]
check "feedback xlsx: content type" [ "$(header Content-Type)" = application/vnd.openxmlformats-officedocument.spreadsheetml.sheet ]
check "feedback xlsx: filename" grep -q "kpr-tilbakemelding-$KOMMUNE-2025-.*\.xlsx\"" <<<"$(header Content-Disposition)"
check "feedback xlsx: a zip" [ "$(head -c 4 "$W/fb.xlsx" | od -An -c | tr -d ' \n')" = "PK003004" ]
req GET "/api/v1/submissions/$ID1/feedback?format=csv" -H "$A"
check "csv starts with BOM and the header" [ "$(printf '%s' "$BODY" | head -c 60 | od -An -c | tr -d ' \n' | cut -c1-12)" = "357273277reg" ]
req GET "/api/v1/submissions/$ID1/feedback?format=pdf" -H "$A"
check "unknown format: 400" [ "$HTTP_STATUS" = 400 ]
check "municipality downloads counted (5 formats + csv again)" [ "$(sql "SELECT count(*) FROM kpr.feedback_download WHERE submission_id = '$ID1'")" = 6 ]
check "…the workbook's with its format" [ "$(sql "SELECT count(*) FROM kpr.feedback_download WHERE submission_id = '$ID1' AND format = 'xlsx'")" = 1 ]
req GET "/api/v1/submissions/$ID1/feedback?format=json" -H "$(auth "$KPR_STAFF_TOKEN")"
check "staff may download" [ "$HTTP_STATUS" = 200 ]
check "staff downloads not counted as municipality downloads" [ "$(sql "SELECT count(*) FROM kpr.feedback_download WHERE submission_id = '$ID1'")" = 6 ]

# --- visibility: another municipality sees nothing, not even that it exists
req GET "/api/v1/submissions/$ID1" -H "$(auth "$OTHER")"
check "other municipality: 404" [ "$HTTP_STATUS" = 404 ]
req GET "/api/v1/submissions/$ID1/feedback?format=csv" -H "$(auth "$OTHER")"
check "other municipality's feedback: 404" [ "$HTTP_STATUS" = 404 ]
req GET "/api/v1/submissions?kommune=$KOMMUNE" -H "$(auth "$OTHER")"
check "other municipality's list: 404" [ "$HTTP_STATUS" = 404 ]
req GET "/api/v1/submissions" -H "$(auth "$OTHER")"
check "own list holds none of ours" [ "$(echo "$BODY" | json 'len([s for s in d["submissions"] if s["kommunenummer"] != "1106"])')" = 0 ]
req GET "/api/v1/submissions/not-a-uuid" -H "$A"
check "malformed id: 404" [ "$HTTP_STATUS" = 404 ]

# --- a new file replaces the current one, in one transaction
req POST /api/v1/submissions -H "$A" "${XML[@]}" --data-binary @"$FB"
check "second file: 202" [ "$HTTP_STATUS" = 202 ]
ID2=$(echo "$BODY" | json 'd["id"]')
wait_done "$ID2" "$A"
check "errors excluded: accepted_with_errors" [ "$(echo "$BODY" | json 'd["status"]')" = accepted_with_errors ]
check "the R103 persons excluded ($B_R103)" [ "$(echo "$BODY" | json 'd["counts"]["persons_excluded"]')" = "$B_R103" ]
req GET "/api/v1/submissions/$ID2/feedback?format=json" -H "$A"
check "feedback counts the injected faults (R103 $B_R103, R301 $B_R301)" \
  [ "$(echo "$BODY" | json '" ".join(sorted("%s=%s" % (r["rule"], r["count"]) for r in d["rules"] if r["rule"] in ("R103", "R301")))')" = "R103=$B_R103 R301=$B_R301" ]
req GET "/api/v1/submissions/$ID2" -H "$A"
req GET "/api/v1/submissions/$ID1" -H "$A"
check "previous one superseded" [ "$(echo "$BODY" | json 'd["status"]')" = superseded ]
check "superseded_by points at the new one" [ "$(echo "$BODY" | json 'd["superseded_by"]')" = "$ID2" ]
check "only the new rows are current" [ "$(sql "SELECT count(DISTINCT submission_id) FROM kpr.current_person WHERE kommunenummer = '$KOMMUNE'")" = 1 ]
loaded2=$(sql "SELECT persons_loaded FROM kpr.submission WHERE id = '$ID2'")
check "current register = the new file's loaded persons" [ "$(sql "SELECT count(*) FROM kpr.current_person WHERE kommunenummer = '$KOMMUNE'")" = "$loaded2" ]

# --- a rejected file changes nothing
req POST /api/v1/submissions -H "$A" "${XML[@]}" --data-binary @"$FC"
ID3=$(echo "$BODY" | json 'd["id"]')
wait_done "$ID3" "$A"
check "truncated file: rejected" [ "$(echo "$BODY" | json 'd["status"]')" = rejected ]
check "rejected file has fatal messages" [ "$(echo "$BODY" | json 'd["counts"]["messages"]["fatal"] > 0')" = True ]
check "rejected file loaded nothing" [ "$(sql "SELECT count(*) FROM kpr.person WHERE submission_id = '$ID3'")" = 0 ]
req GET "/api/v1/submissions/$ID2" -H "$A"
check "current submission unchanged" [ "$(echo "$BODY" | json 'd["status"]')" = accepted_with_errors ]
req GET "/api/v1/submissions/$ID3/feedback?format=csv" -H "$A"
check "rejected file gets feedback naming F001" grep -q "F001" <<<"$BODY"

# --- dry run: validated and fed back, never loaded
req POST "/api/v1/submissions?dry_run=true" -H "$A" "${XML[@]}" --data-binary @"$FA"
check "dry run: 202 (a dry run is its own submission)" [ "$HTTP_STATUS" = 202 ]
ID4=$(echo "$BODY" | json 'd["id"]')
wait_done "$ID4" "$A"
check "dry run: validated" [ "$(echo "$BODY" | json 'd["status"]')" = validated ]
check "dry run loaded nothing" [ "$(sql "SELECT count(*) FROM kpr.person WHERE submission_id = '$ID4'")" = 0 ]
req GET "/api/v1/submissions/$ID2" -H "$A"
check "dry run did not replace the current one" [ "$(echo "$BODY" | json 'd["status"]')" = accepted_with_errors ]
req POST "/api/v1/submissions?dry_run=perhaps" -H "$A" "${XML[@]}" --data-binary @"$TINY"
check "bad dry_run value: 400" [ "$HTTP_STATUS" = 400 ]

# --- gzip, and a chunked upload without Content-Length
req POST /api/v1/submissions -H "$A" "${XML[@]}" -H "Content-Encoding: gzip" -H "Transfer-Encoding: chunked" --data-binary @"$FD"
check "gzip chunked upload: 202" [ "$HTTP_STATUS" = 202 ]
ID5=$(echo "$BODY" | json 'd["id"]')
wait_done "$ID5" "$A"
check "gzip file processed: accepted" [ "$(echo "$BODY" | json 'd["status"]')" = accepted ]
check "gzip file loaded" [ "$(sql "SELECT count(*) FROM kpr.person WHERE submission_id = '$ID5'")" = "$(zcat "$FD" | grep -c '<Person ')" ]

# --- the same Innsending/@id in a different file is the same submission
sed 's/J-0000/J-9999/' "$FA" > "$W/a-same-id.xml"
req POST /api/v1/submissions -H "$A" "${XML[@]}" --data-binary @"$W/a-same-id.xml"
check "same Innsending id, other bytes: 200" [ "$HTTP_STATUS" = 200 ]
check "same Innsending id, other bytes: the existing submission" check_same_id

# --- list, newest first, filtered
req GET "/api/v1/submissions?aargang=2025" -H "$A"
check "list: 200" [ "$HTTP_STATUS" = 200 ]
check "list newest first" [ "$(echo "$BODY" | json 'd["submissions"][0]["id"]')" = "$ID5" ]
req GET "/api/v1/submissions?kommune=$KOMMUNE" -H "$(auth "$KPR_STAFF_TOKEN")"
check "staff list by kommune" [ "$(echo "$BODY" | json 'len([s for s in d["submissions"] if s["id"] in ("'$ID1'", "'$ID5'")])')" = 2 ]
req GET "/api/v1/submissions?aargang=20x5" -H "$A"
check "bad parameter: 400" [ "$HTTP_STATUS" = 400 ]

# --- the file received last is current, whichever worker finishes first
gen 5 --kommune $KOMMUNE --persons 15000 --out "$W/slow"
gen 6 --kommune $KOMMUNE --persons 20 --out "$W/fast"
fresh "$W/slow/$KOMMUNE-2025.xml" "$W/fast/$KOMMUNE-2025.xml"
req POST /api/v1/submissions -H "$A" "${XML[@]}" --data-binary @"$W/slow/$KOMMUNE-2025.xml"
IDS=$(echo "$BODY" | json 'd["id"]')
req POST /api/v1/submissions -H "$A" "${XML[@]}" --data-binary @"$W/fast/$KOMMUNE-2025.xml"
IDF=$(echo "$BODY" | json 'd["id"]')
wait_done "$IDS" "$A"; wait_done "$IDF" "$A"
check "the later file is current" [ "$(sql "SELECT id FROM kpr.current_submission WHERE kommunenummer = '$KOMMUNE'")" = "$IDF" ]
check "the earlier file is superseded by it" [ "$(sql "SELECT status || ' ' || superseded_by FROM kpr.submission WHERE id = '$IDS'")" = "superseded $IDF" ]
req GET "/api/v1/submissions/$ID5" -H "$A"
check "the file before them is superseded too" [ "$(echo "$BODY" | json 'd["status"]')" = superseded ]
ID5=$IDF FD=$W/fast/$KOMMUNE-2025.xml

# --- reprocessing: refused once the file has left the spool; with the file
# back (as when processed files are kept) it runs again without duplicates
out=$("$BUILD/kprctl" reprocess --config "$KPR_CONFIG" "$ID5" 2>&1); rc=$?
check "reprocess refused when the file is gone" [ "$rc" = 1 ]
check "…saying the municipality must send it again" grep -q "must send it again" <<<"$out"
check "reprocess of a superseded submission refused" fails "$BUILD/kprctl" reprocess --config "$KPR_CONFIG" "$ID1"
rows_before=$(sql "SELECT count(*) FROM kpr.person WHERE submission_id = '$ID5'")
cp "$FD" "$KPR_VAR/spool/$ID5.xml"
check "reprocess queues it again" "$BUILD/kprctl" reprocess --config "$KPR_CONFIG" "$ID5"
wait_done "$ID5" "$A"
check "reprocessed: accepted again" [ "$(echo "$BODY" | json 'd["status"]')" = accepted ]
check "reprocessing added no duplicate rows" [ "$(sql "SELECT count(*) FROM kpr.person WHERE submission_id = '$ID5'")" = "$rows_before" ]
check "reprocess is audited" [ "$(sql "SELECT count(*) FROM kpr.audit WHERE action = 'reprocess' AND submission_id = '$ID5'")" = 1 ]
check "token issue is audited" [ "$(sql "SELECT count(*) FROM kpr.audit WHERE action = 'token_issue' AND detail LIKE '% kommune=$KOMMUNE %'")" -ge 1 ]
check "staff downloads are audited" [ "$(sql "SELECT count(*) FROM kpr.audit WHERE action = 'staff_download' AND submission_id = '$ID1'")" = 1 ]
check "the audit chain still verifies" "$BUILD/kprctl" audit verify --register-only

finish
