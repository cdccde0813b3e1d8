#!/usr/bin/env bash
# What was received (SPEC §6, "Mottatt"), end to end over HTTPS: a
# municipality sends its 2024 file, then its 2025 file with units,
# duplicates (R105/R106: persons retracted after delivery), excluded
# services (R304) and refused units (R110). The feedback's figures are
# checked against an oracle of the test's own: Python reads the register
# rows of both submissions (psql) and counts persons, assessed persons,
# services per type with total and median hours, and diagnoses per code
# system, per unit and for the whole file, with the change and the flag
# (beyond ±20 %, or from 0 to more). Then: XML, HTML and the workbook say
# the same as the JSON; a unit's file holds that unit's figures; a number
# that did not exist the year before (a merger or split), a municipality
# with no earlier submission and a rejected file each say so; and the
# threshold comes from the configuration (reloaded) for the next file.
. "$(dirname "$0")/../lib/common.sh"

W=$(mktemp -d)
CONF_SAVED=$W/kprd.conf.saved
cp "$KPR_CONFIG" "$CONF_SAVED"
trap 'cp "$CONF_SAVED" "$KPR_CONFIG"; kill -HUP "$(kprd_pid)" 2>/dev/null; rm -rf "$W"; rm -f "$HTTP_HEADERS"' EXIT
K=1119 K_NEW=1120 K_NONE=1121 # Hå, Klepp, Time: no other test uploads for them
PY=/usr/bin/python3
sql() { psql -X -qtA "$KPR_REGISTER_ADMIN_DSN" -c "$1"; }

upload() { # kommune file -> id (202 checked)
  local tok; tok=$("$BUILD/kprctl" token issue --kommune "$1" --name "test-received-$1" 2>/dev/null)
  wait_token "$tok"
  req POST /api/v1/submissions -H "$(auth "$tok")" -H "Content-Type: application/xml" --data-binary @"$2"
  [ "$HTTP_STATUS" = 202 ] || { echo "upload $2: $HTTP_STATUS $BODY" >&2; return 1; }
  echo "$BODY" | json 'd["id"]'
}
feedback() { # id format out [query]
  curl -sS --cacert "$KPR_CACERT" -H "$(auth "$KPR_STAFF_TOKEN")" -o "$3" -G \
    --data-urlencode "format=$2" ${4:+--data-urlencode "enhet=$4"} \
    "$KPR_URL/api/v1/submissions/$1/feedback"
}
rows() { # submission id -> the register rows the oracle reads, \x1f-separated
  psql -X -qtA -F $'\x1f' "$KPR_REGISTER_ADMIN_DSN" <<SQL
SELECT 'P', p.ref, coalesce(p.enhet, ''), p.enhet_ukjent,
       EXISTS (SELECT 1 FROM kpr.vurdering v WHERE v.submission_id = p.submission_id AND v.ref = p.ref)
  FROM kpr.person p WHERE p.submission_id = '$1';
SELECT 'T', t.ref, t.type, coalesce(t.timer_per_uke::text, ''), coalesce(t.enhet, ''), t.enhet_ukjent
  FROM kpr.tjeneste t WHERE t.submission_id = '$1';
SELECT 'D', d.ref, d.kodeverk FROM kpr.diagnose d WHERE d.submission_id = '$1';
SQL
}

# --- 2024, then 2025 with units and faults
gen 16001 --aargang 2024 --kommune $K --persons 190 --units 3 --out "$W/y24"
gen 16002 --kommune $K --persons 200 --units 4 --out "$W/y25" \
  --inject R105=0.03,R106=0.03,R304=0.05,R110=0.03,R108=0.02
F24=$W/y24/$K-2024.xml F25=$W/y25/$K-2025.xml
fresh "$F24" "$F25"
I24=$(upload $K "$F24")
check "2024: processed" wait_done "$I24"
check "…accepted" [ "$SUB_STATUS" = accepted ]
I25=$(upload $K "$F25")
check "2025: processed" wait_done "$I25"
check "…accepted with errors" [ "$SUB_STATUS" = accepted_with_errors ]
rows "$I24" > "$W/rows24"
rows "$I25" > "$W/rows25"
feedback "$I25" json "$W/f.json"
feedback "$I25" xml "$W/f.xml"
feedback "$I25" html "$W/f.html"
feedback "$I25" csv "$W/f.csv"
feedback "$I25" xlsx "$W/f.xlsx"
check "the file had late duplicates: persons retracted after delivery (R105/R106)" \
  grep -qE '^R10[56];' "$W/f.csv"

cat > "$W/oracle.py" <<'PY'
"""Figures from register rows, the test's own count (not kprd's code)."""
import json, statistics, sys
from decimal import Decimal

def unit(enhet, ukjent):
    if ukjent == "t":
        return ("ukjent", "(ukjent enhet)")
    return ("enhet", enhet) if enhet else ("uten", None)

def figures(path):
    persons, out = {}, {}
    lines = [l.rstrip("\n").split("\x1f") for l in open(path, encoding="utf-8") if l.strip()]
    def add(u, key, v=1):
        out.setdefault(u, {}).setdefault(key, 0)
        out[u][key] += v
    hours, svc_persons, diag_persons = {}, {}, {}
    for f in lines:
        if f[0] == "P":
            u = unit(f[2], f[3]); persons[f[1]] = u
            for w in (("hele", None), u):
                add(w, ("personer", None, None))
                if f[4] == "t":
                    add(w, ("personer_med_vurdering", None, None))
    for f in lines:
        if f[0] == "T":
            u, t = unit(f[4], f[5]), int(f[2])
            for w in (("hele", None), u):
                add(w, ("tjenester", t, None))
                svc_persons.setdefault((w, t), set()).add(f[1])
                if f[3]:
                    hours.setdefault((w, t), []).append(Decimal(f[3]))
        elif f[0] == "D":
            u = persons[f[1]]
            for w in (("hele", None), u):
                add(w, ("diagnoser", None, f[2]))
                diag_persons.setdefault((w, f[2]), set()).add(f[1])
    for (w, t), refs in svc_persons.items():
        add(w, ("personer_med_tjenesten", t, None), len(refs))
    for (w, t), hs in hours.items():
        add(w, ("timer_per_uke_sum", t, None), sum(hs))
        add(w, ("timer_per_uke_median", t, None), statistics.median(hs))
    for (w, k), refs in diag_persons.items():
        add(w, ("personer_med_diagnose", None, k), len(refs))
    return out

cur, prev = figures(sys.argv[1]), figures(sys.argv[2])
got = json.load(open(sys.argv[3]))["received"]
bad, seen = [], set()
for g in got["figures"]:
    u = (g["kind"], g["enhet"] if g["kind"] != "hele" else None)
    if g["kind"] == "ukjent":
        u = ("ukjent", "(ukjent enhet)")
    key = (g["figure"], g["service_type"], g["kodeverk"])
    seen.add((u, key))
    median = g["figure"] == "timer_per_uke_median"
    want_v = cur.get(u, {}).get(key, None if median else 0)
    want_p = prev.get(u, {}).get(key, None if median else 0)
    def same(a, b):
        return (a is None and b is None) or (a is not None and b is not None and abs(Decimal(str(a)) - Decimal(b)) < Decimal("0.001"))
    if not same(g["value"], want_v) or not same(g["previous"], want_p):
        bad.append(f"{u} {key}: {g['value']}/{g['previous']}, oracle {want_v}/{want_p}")
        continue
    if want_v is not None and want_p is not None and want_p > 0:
        ch = float((Decimal(want_v) - Decimal(want_p)) * 100 / Decimal(want_p))
        flag = abs(ch) > got["threshold_percent"]
        if g["change_percent"] is None or abs(g["change_percent"] - ch) > 0.051 or g["flagged"] != flag:
            bad.append(f"{u} {key}: change {g['change_percent']} {g['flagged']}, oracle {ch:.2f} {flag}")
    elif g["flagged"] != bool(want_p == 0 and want_v and want_v > 0) or g["change_percent"] is not None:
        bad.append(f"{u} {key}: flag {g['flagged']} change {g['change_percent']}")
want_keys = {(u, k) for side in (cur, prev) for u, ks in side.items() for k in ks}
missing = want_keys - seen
print(f"{len(got['figures'])} figures, {sum(g['flagged'] for g in got['figures'])} flagged, "
      f"{len(bad)} wrong, {len(missing)} missing")
for b in bad[:8]:
    print("  wrong:", b)
for m in list(missing)[:8]:
    print("  missing:", m)
sys.exit(1 if bad or missing or not got["figures"] else 0)
PY
check "JSON: compared with 2024, its current submission, threshold 20" \
  [ "$(json 'd["received"]["comparison"], d["received"]["previous_aargang"], d["received"]["previous_submission"], d["received"]["threshold_percent"]' < "$W/f.json")" = "('sammenlignet', 2024, '$I24', 20)" ]
check "every figure and its previous one, change and flag equal the oracle's count of the register rows ($("$PY" "$W/oracle.py" "$W/rows25" "$W/rows24" "$W/f.json" | head -1))" \
  "$PY" "$W/oracle.py" "$W/rows25" "$W/rows24" "$W/f.json"
"$PY" "$W/oracle.py" "$W/rows25" "$W/rows24" "$W/f.json" | sed -n '2,20p'
check "the 2025 file's fourth unit is new: flagged from 0" \
  "$PY" -c 'import json,sys; f=json.load(open(sys.argv[1]))["received"]["figures"]; sys.exit(0 if any(g["kind"]=="enhet" and g["figure"]=="personer" and g["previous"]==0 and g["value"]>0 and g["flagged"] for g in f) else 1)' "$W/f.json"

# --- the other formats say the same
check "XML: valid against tilbakemelding.xsd" xmllint --noout --schema config/xsd/tilbakemelding.xsd "$W/f.xml"
check "XML: its Tall elements are the JSON's figures, in order" "$PY" - "$W/f.xml" "$W/f.json" <<'PY'
import json, sys, xml.etree.ElementTree as ET
ns = {"t": "urn:no:kpr:tilbakemelding:1"}
m = ET.parse(sys.argv[1]).getroot().find("t:Mottatt", ns)
figs = json.load(open(sys.argv[2]))["received"]["figures"]
tall = m.findall("t:Tall", ns)
num = lambda v: None if v is None else float(v)
ok = m.get("sammenligning") == "sammenlignet" and len(tall) == len(figs) and all(
    t.get("type") == g["kind"] and t.get("tall") == g["figure"] and
    (t.get("enhet") or None) == (g["enhet"] if g["kind"] != "uten" else None) and
    num(t.get("verdi")) == num(g["value"]) and num(t.get("forrige")) == num(g["previous"]) and
    (t.get("avvik") == "true") == g["flagged"] for t, g in zip(tall, figs))
sys.exit(0 if ok else 1)
PY
flagged=$(json 'sum(g["flagged"] for g in d["received"]["figures"])' < "$W/f.json")
check "HTML: a Mottatt section before the per-rule table, $flagged figures marked Avvik" "$PY" - "$W/f.html" "$flagged" <<'PY'
import sys
h = open(sys.argv[1], encoding="utf-8").read()
m, r = h.find("<h2>Mottatt</h2>"), h.find("<h2>Meldinger per regel</h2>")
sys.exit(0 if 0 < m < r and h.count('<span class="flag">Avvik</span>') == int(sys.argv[2]) else 1)
PY
xlsx_compare() {
  "$PY" "$(dirname "$0")/../xlsx/compare.py" "$W/f.xlsx" "$W/f.csv" "$W/f.json" > "$W/compare.out" 2>&1
  local rc=$?
  grep -v '^  ok ' "$W/compare.out" | sed 's/^/      /'
  return $rc
}
check "XLSX: the workbook's Mottatt sheet equals the JSON's figures (openpyxl)" xlsx_compare

# --- one unit's file: that unit's figures only
U=$(json '[g["enhet"] for g in d["received"]["figures"] if g["kind"] == "enhet"][0]' < "$W/f.json")
feedback "$I25" json "$W/u.json" "$U"
check "?enhet=$U: only that unit's figures, equal to the whole file's" "$PY" - "$W/u.json" "$W/f.json" "$U" <<'PY'
import json, sys
u = json.load(open(sys.argv[1]))["received"]["figures"]
w = [g for g in json.load(open(sys.argv[2]))["received"]["figures"] if g["enhet"] == sys.argv[3]]
sys.exit(0 if u and u == w else 1)
PY

# --- a number that did not exist the year before; no earlier submission
sql "UPDATE kpr.kommune SET gyldig_fra = '2025-01-01' WHERE kommunenummer = '$K_NEW'" >/dev/null
gen 16003 --kommune $K_NEW,$K_NONE --persons 40 --units 2 --out "$W/o"
gen 16004 --kommune $K_NONE --persons 20 --out "$W/r" --inject F001=1
fresh "$W/o/$K_NEW-2025.xml" "$W/o/$K_NONE-2025.xml" "$W/r/$K_NONE-2025.xml"
IN=$(upload $K_NEW "$W/o/$K_NEW-2025.xml")
wait_done "$IN"
feedback "$IN" json "$W/new.json"
sql "UPDATE kpr.kommune SET gyldig_fra = '2020-01-01' WHERE kommunenummer = '$K_NEW'" >/dev/null
check "$K_NEW valid from 2025: not compared, and the note says why" \
  [ "$(json 'd["received"]["comparison"], d["received"]["previous_submission"], "fantes ikke i 2024" in d["received"]["note"], all(g["previous"] is None for g in d["received"]["figures"]), len(d["received"]["figures"]) > 0' < "$W/new.json")" = "('nytt_kommunenummer', None, True, True, True)" ]
IO=$(upload $K_NONE "$W/o/$K_NONE-2025.xml")
wait_done "$IO"
feedback "$IO" json "$W/none.json"
check "$K_NONE without a 2024 submission: says so" \
  [ "$(json 'd["received"]["comparison"], "ingen godkjent innsending for 2024" in d["received"]["note"]' < "$W/none.json")" = "('ingen_innsending', True)" ]
IR=$(upload $K_NONE "$W/r/$K_NONE-2025.xml")
wait_done "$IR"
check "a rejected file" [ "$SUB_STATUS" = rejected ]
feedback "$IR" json "$W/rej.json"
check "…loaded nothing: no figures, and the note says why" \
  [ "$(json 'd["received"]["loaded"], d["received"]["figures"], "avvist" in d["received"]["note"]' < "$W/rej.json")" = "(False, [], True)" ]

# --- the threshold from the configuration, after a reload
n=$(grep -c 'configuration reloaded' "$KPR_VAR/kprd.log")
set_conf "$KPR_CONFIG" "$KPR_CONFIG" feedback.received_change_threshold_percent=1000
kill -HUP "$(kprd_pid)"
check "configuration reloaded" poll 5 bash -c "[ \$(grep -c 'configuration reloaded' '$KPR_VAR/kprd.log') -gt $n ]"
gen 16005 --kommune $K --persons 200 --units 4 --out "$W/y25b" --inject R304=0.05
fresh "$W/y25b/$K-2025.xml"
I25B=$(upload $K "$W/y25b/$K-2025.xml")
check "a new 2025 file: processed" wait_done "$I25B"
rows "$I25B" > "$W/rows25b"
feedback "$I25B" json "$W/t.json"
check "threshold 1000 % from the configuration" [ "$(json 'd["received"]["threshold_percent"]' < "$W/t.json")" = 1000 ]
check "…only figures from 0 flagged" \
  [ "$(json 'all(g["previous"] == 0 for g in d["received"]["figures"] if g["flagged"])' < "$W/t.json")" = True ]
check "…and every figure still the oracle's" "$PY" "$W/oracle.py" "$W/rows25b" "$W/rows24" "$W/t.json"

finish
