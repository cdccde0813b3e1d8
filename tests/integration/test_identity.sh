#!/usr/bin/env bash
# Identity is not display (SPEC §2, §3, §6), end to end through kprd and the
# register: journal-number refs load, refs are shown verbatim, retraction
# removes exactly the persons the feedback excludes, an orgnr carrying a
# national ID is not stored, identifiers are never masked, staff can
# download and reprocess a submission whose id has 11 digits in a row,
# received/processed times use one clock (Europe/Oslo with the offset), and
# units (enhet) are stored as written per person and service, a refused one
# (R110) recorded as unknown and never stored.
. "$(dirname "$0")/../lib/common.sh"

W=$(mktemp -d)
trap 'rm -rf "$W" "$HTTP_HEADERS"' EXIT
KOMMUNE=1101 # Eigersund
TOKEN=$("$BUILD/kprctl" token issue --kommune $KOMMUNE --name test-identity 2>/dev/null)
wait_token "$TOKEN"
A=$(auth "$TOKEN")
S=$(auth "$KPR_STAFF_TOKEN")
sql() { psql -X -qtA "$KPR_REGISTER_ADMIN_DSN" -c "$1"; }

# valid national IDs made here (control digits computed), never real ones
ids=$(python3 - <<'EOF'
W1 = [3, 7, 6, 1, 8, 9, 4, 5, 2]; W2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
def k(d, w):
    r = 11 - sum(int(a) * b for a, b in zip(d, w)) % 11
    return 0 if r == 11 else r
out = []
for day in range(1, 29):
    for ind in range(100, 200):
        s9 = "%02d0170%03d" % (day, ind)
        k1 = k(s9, W1); k2 = k(s9 + str(k1), W2) if k1 < 10 else 10
        if k1 < 10 and k2 < 10:
            out.append(s9 + str(k1) + str(k2)); break
print(" ".join(out[:6]))
EOF
)
read -r ID_A ID_B ID_C ID_D _ <<<"$ids"

person() { # ref fnr [extra elements]
  printf '<Person ref="%s"><Fnr>%s</Fnr><Kjonn>2</Kjonn>%s</Person>\n' "$1" "$2" "${3:-}"
}
file() { # out forrigeId persons...
  local out=$1 forrige=$2; shift 2
  {
    printf '<?xml version="1.0" encoding="UTF-8"?>\n'
    printf '<Innsending xmlns="urn:no:kpr:innsending:1" versjon="1.0" id="%s" %s opprettet="2026-01-05T09:12:00+01:00" aargang="2025">\n' \
      "$(cat /proc/sys/kernel/random/uuid)" "$forrige"
    printf '<Avsender kommunenummer="%s" fagsystem="Test" fagsystemVersjon="1"/>\n' $KOMMUNE
    printf '%s' "$@"
    printf '</Innsending>\n'
  } >"$out"
}
upload() { # file -> submission id in $SUB, final status in $BODY
  req POST /api/v1/submissions -H "$A" -H "Content-Type: application/xml" --data-binary @"$1"
  SUB=$(echo "$BODY" | json 'd["id"]')
  wait_done "$SUB" "$A"
}

# --- journal numbers: municipality + running number, near-duplicates
TJ='<Tjeneste type="21" soknad="2025-01-20" vedtak="2025-02-01" start="2025-02-03" orgnr="'"$ID_D"'"/><Ernaering risiko="2" dato="2025-05-12"/>'
file "$W/a.xml" "" "$(person 1101-0000000 "$ID_A")" "$(person 1101-0000001 "$ID_B")" \
  "$(person 2024/123457-01 "$ID_C" "$TJ")"
upload "$W/a.xml"
FIRST=$SUB
check "journal-number refs: accepted with warnings only" [ "$(echo "$BODY" | json 'd["status"]')" = accepted ]
check "…all three persons loaded" [ "$(echo "$BODY" | json 'd["counts"]["persons_loaded"]')" = 3 ]
check "…the register holds the refs as written" \
  [ "$(sql "SELECT string_agg(ref, ' ' ORDER BY ref) FROM kpr.person WHERE submission_id = '$SUB'")" = "1101-0000000 1101-0000001 2024/123457-01" ]
check "orgnr carrying an ID: not stored" [ "$(sql "SELECT count(*) FROM kpr.tjeneste WHERE submission_id = '$SUB' AND orgnr IS NULL")" = 1 ]
req GET "/api/v1/submissions/$SUB/feedback?format=json" -H "$A"
check "…and R307 says so, masked" python3 -c '
import json, sys
d = json.loads(sys.argv[1]); m = [x for x in d["messages"] if x["rule"] == "R307"]
sys.exit(0 if m and "lagres ikke" in m[0]["text"] and m[0]["value"].endswith("*****") else 1)' "$BODY"
check "…no ID digits in the feedback" fails grep -q "${ID_D:6}" <<<"$BODY"

# --- SPEC's case: 1st and 3rd share an ID; the register equals the feedback
file "$W/b.xml" "forrigeId=\"$FIRST\"" "$(person 2024/123456-01 "$ID_A")" \
  "$(person 2024/223456-02 "$ID_B")" "$(person 2024/323456-03 "$ID_A")"
upload "$W/b.xml"
check "duplicate ID: persons_loaded 1, excluded 2" \
  [ "$(echo "$BODY" | json '(d["counts"]["persons_loaded"], d["counts"]["persons_excluded"])')" = "(1, 2)" ]
check "…the register holds exactly the loaded person" \
  [ "$(sql "SELECT string_agg(ref, ' ') FROM kpr.person WHERE submission_id = '$SUB'")" = "2024/223456-02" ]
req GET "/api/v1/submissions/$SUB/feedback?format=csv" -H "$A"
check "…both refs shown verbatim in the CSV" python3 -c '
import csv, io, sys
rows = list(csv.reader(io.StringIO(sys.argv[1].lstrip("\ufeff")), delimiter=";"))
refs = {r[2] for r in rows[1:] if r[0] == "R105"}
sys.exit(0 if refs == {"2024/123456-01", "2024/323456-03"} else 1)' "$BODY"

# --- identifiers are shown in full: a forrigeId whose last group is digits
FORRIGE="00000000-0000-4000-8000-0${ID_A}"
file "$W/c.xml" "forrigeId=\"$FORRIGE\"" "$(person J-1 "$ID_B")"
upload "$W/c.xml"
req GET "/api/v1/submissions/$SUB/feedback?format=json" -H "$A"
check "F007 shows the previous submission's id unmasked" python3 -c '
import json, sys
d = json.loads(sys.argv[1]); m = [x for x in d["messages"] if x["rule"] == "F007"]
sys.exit(0 if m and m[0]["value"] == sys.argv[2] else 1)' "$BODY" "$FORRIGE"

# --- one clock: Oslo time with the offset, received before processed
req GET "/api/v1/submissions/$SUB" -H "$A"
STATUS=$BODY
req GET "/api/v1/submissions/$SUB/feedback?format=json" -H "$A"
check "status and feedback: Oslo times with offsets, one clock" python3 -c '
import json, sys
from datetime import datetime
from zoneinfo import ZoneInfo
st = json.loads(sys.argv[1])["times"]; fb = json.loads(sys.argv[2])["submission"]
oslo = ZoneInfo("Europe/Oslo")
def parse(s):
    t = datetime.fromisoformat(s)
    assert t.utcoffset() == t.astimezone(oslo).utcoffset(), s  # the Oslo offset, not UTC
    return t
r1, p1, r2, p2 = (parse(x) for x in (st["received_at"], st["processed_at"], fb["received_at"], fb["processed_at"]))
assert r1 <= p1 and r2 <= p2, (r1, p1)
assert abs((r1 - r2).total_seconds()) < 1 and abs((p1 - p2).total_seconds()) < 1, (r1, r2, p1, p2)
' "$STATUS" "$BODY"
req GET "/api/v1/submissions/$SUB/feedback?format=html" -H "$A"
check "HTML: Mottatt and Behandlet in the same zone" python3 -c '
import re, sys
z = re.findall(r"\d\d:\d\d:\d\d(?:\.\d+)? ([+-]\d\d:\d\d)", sys.argv[1])
sys.exit(0 if len(z) >= 2 and len(set(z[:2])) == 1 else 1)' "$BODY"

# --- an id with 11 digits in a row: staff download, reprocess, audit intact
ODD="00000000-0000-4000-8$(printf %03x "$RUN")-0${ID_C}" # a fresh id per run on one stack
# (a submission row and a done job as kprd would have left them; the worker
# processes it again for real after the reprocess)
file "$W/odd.xml" "" "$(person J-2 "$ID_B")"
cp "$W/odd.xml" "$KPR_VAR/spool/$ODD.xml"
sql "INSERT INTO kpr.submission (id, kommunenummer, spool_name, sha256, bytes, status, processed_at)
     VALUES ('$ODD', '$KOMMUNE', '$ODD.xml', '$(sha256sum "$W/odd.xml" | cut -d' ' -f1)',
             $(stat -c %s "$W/odd.xml"), 'rejected', now());
     INSERT INTO kpr.job (submission_id, state) VALUES ('$ODD', 'done')" >/dev/null
check "audit takes a staff download of an id with 11 digits in a row" \
  sql "SELECT kpr.audit_staff_download('$ODD', 'csv', 1)"
check "…in its own column" [ "$(sql "SELECT count(*) FROM kpr.audit WHERE submission_id = '$ODD'")" = 1 ]
check "kprctl reprocess of that id is audited" "$BUILD/kprctl" reprocess --config "$KPR_CONFIG" "$ODD"
check "…with the id in the audit's uuid column" \
  [ "$(sql "SELECT count(*) FROM kpr.audit WHERE submission_id = '$ODD' AND action = 'reprocess'")" = 1 ]
check "audit chains intact" "$BUILD/kprctl" audit verify
# a reprocessed submission keeps its status until the new result replaces
# it: wait for its job, then read the status
job_done() { for _ in $(seq 1 150); do [ "$(sql "SELECT state FROM kpr.job WHERE submission_id = '$1'")" = done ] && return 0; sleep 0.2; done; return 1; }
check "…its job runs again and finishes" job_done "$ODD"
wait_done "$ODD" "$A"
check "…and it is processed again" grep -qE '^accepted' <<<"$(echo "$BODY" | json 'd["status"]')"
req GET "/api/v1/submissions/$ODD/feedback?format=csv" -H "$S"
check "staff download of that submission's feedback: 200" [ "$HTTP_STATUS" = 200 ]
check "…audited under its id" [ "$(sql "SELECT count(*) FROM kpr.audit WHERE submission_id = '$ODD' AND action = 'staff_download'")" = 2 ]

# --- kprctl verify: recounts the register against status and feedback
check "kprctl verify: this municipality's submissions agree" \
  "$BUILD/kprctl" verify --config "$KPR_CONFIG" "$ODD"
check "kprctl verify --all: the whole register agrees" "$BUILD/kprctl" verify --config "$KPR_CONFIG" --all
# a person the status never counted, whose ref carries an ID and whose
# pseudonym the vault lacks (as after restoring the two databases apart)
sql "INSERT INTO kpr.person (submission_id, ref, pseudonym, key_version, kjonn, fodselsaar, line)
     VALUES ('$ODD', 'X-$ID_A', '\\x00112233445566778899aabbccddeeff', 1, 2, 1970, 1)" >/dev/null
out=$("$BUILD/kprctl" verify --config "$KPR_CONFIG" "$ODD")
rc=$?
check "…a tampered register: exit 1" [ "$rc" = 1 ]
check "…the count difference is reported" grep -q "the status says 1 persons" <<<"$out"
check "…the candidate is reported, masked" grep -qF "kpr.person.ref holds a national-ID candidate (X-${ID_A:0:6}*****)" <<<"$out"
check "…no ID digits printed" fails grep -q "$ID_A" <<<"$out"
check "…the missing vault entry is reported" grep -q "1 pseudonym(s) of the current register have no vault entry" <<<"$out"
sql "DELETE FROM kpr.person WHERE submission_id = '$ODD' AND ref = 'X-$ID_A'" >/dev/null
check "…and agrees again once repaired" "$BUILD/kprctl" verify --config "$KPR_CONFIG" "$ODD"
# --- units (SPEC §2 enhet): stored as written per person and service, a
# service without its own under its person's; a refused unit (R110) loads
# its element with the unit recorded as unknown, and never reaches the
# register or the feedback in clear
ID_E=$(echo $ids | cut -d' ' -f5) # one not used above
TJ_OWN='<Tjeneste type="21" soknad="2025-01-20" vedtak="2025-02-01" start="2025-02-03" enhet="Frogner helsehus"/>'
TJ_NONE='<Tjeneste type="15" soknad="2025-03-01" vedtak="2025-03-05" start="2025-03-06"/>'
unit_person() { # ref enhet-attribute fnr services
  printf '<Person ref="%s"%s><Fnr>%s</Fnr><Kjonn>1</Kjonn>%s</Person>\n' "$1" "$2" "$3" "$4"
}
file "$W/units.xml" "" \
  "$(unit_person U-1 ' enhet="Bydel Frogner"' "$ID_A" "$TJ_OWN$TJ_NONE")" \
  "$(unit_person U-2 ' enhet="Sone  Øst æøå"' "$ID_B" "$TJ_NONE")" \
  "$(unit_person U-3 " enhet=\"Sone $ID_D\"" "$ID_C" "$TJ_NONE")" \
  "$(unit_person U-4 '' "$ID_E" "")"
upload "$W/units.xml"
UNITS=$SUB
check "a file with units: accepted with warnings at most" grep -qE '^accepted' <<<"$(echo "$BODY" | json 'd["status"]')"
check "persons' units as written, NULL when none is given, the refused one unknown" \
  [ "$(sql "SELECT string_agg(ref || '=' || coalesce(enhet, '-') || '/' || enhet_ukjent, ',' ORDER BY ref) FROM kpr.person WHERE submission_id = '$UNITS'")" = \
    "U-1=Bydel Frogner/false,U-2=Sone  Øst æøå/false,U-3=-/true,U-4=-/false" ]
check "services: their own unit, else their person's (unknown too)" \
  [ "$(sql "SELECT string_agg(ref || ':' || type || '=' || coalesce(enhet, '-') || '/' || enhet_ukjent, ',' ORDER BY ref, type) FROM kpr.tjeneste WHERE submission_id = '$UNITS'")" = \
    "U-1:15=Bydel Frogner/false,U-1:21=Frogner helsehus/false,U-2:15=Sone  Øst æøå/false,U-3:15=-/true" ]
check "no unit column holds the ID given as a unit" \
  [ "$(sql "SELECT count(*) FROM kpr.person WHERE enhet LIKE '%$ID_D%'") $(sql "SELECT count(*) FROM kpr.tjeneste WHERE enhet LIKE '%$ID_D%'")" = "0 0" ]
req GET "/api/v1/submissions/$UNITS/feedback?format=json" -H "$A"
R110=$(echo "$BODY" | json '[(m["ref"], m["value"], m.get("enhet")) for m in d["messages"] if m["rule"] == "R110"]')
check "R110 for U-3 only, its value masked ($R110)" [ "$R110" = "[('U-3', 'Sone ${ID_D:0:6}*****', '(ukjent enhet)')]" ]
check "…the ID appears nowhere in the feedback" fails grep -q "$ID_D" <<<"$BODY"
req GET "/api/v1/submissions/$UNITS/feedback?format=csv" -H "$A"
check "the CSV's last column names the unit" grep -q ';Bydel Frogner\|;(ukjent enhet)' <<<"$BODY"

check "kprctl verify: the units hold no candidate, the counts agree" "$BUILD/kprctl" verify --config "$KPR_CONFIG" "$UNITS"
finish
