#!/usr/bin/env bash
# GET /api/v1/progress and /api/v1/progress/missing.csv against a dataset
# whose truth this test knows. The stack is shared with the other tests, so
# the four municipalities used are taken from the ones still missing (from
# the end of the list, away from the big ones other tests use), and national
# and county figures are checked as deltas and for consistency with the
# API's own per-municipality rows:
#   A  one clean file, accepted; its feedback downloaded twice (csv, json)
#   B  one file with injected R301 errors: accepted_with_errors
#   C  B's file sent with C's token (F003): only rejected; feedback downloaded once
#   D  two files: the first superseded by the second; the first's feedback
#      downloaded once (it must not count for the current one)
. "$(dirname "$0")/../lib/common.sh"

WORK=$(mktemp -d)
trap 'rm -f "$HTTP_HEADERS"; rm -rf "$WORK"' EXIT
STAFF=$(auth "$KPR_STAFF_TOKEN")

progress() { # file [query]
  curl -fsS --cacert "$KPR_CACERT" -H "$STAFF" "$KPR_URL/api/v1/progress${2:-}" -o "$1"
}
wait_queue_empty() {
  for _ in $(seq 1 150); do
    progress "$WORK/q.json" || return 1
    [ "$(json 'd["queue"]["depth"]' <"$WORK/q.json")" = 0 ] && return 0
    sleep 0.2
  done
  return 1
}
upload() { # token file -> prints the submission id
  curl -sS --cacert "$KPR_CACERT" -H "$(auth "$1")" -H "Content-Type: application/xml" \
    --data-binary @"$2" "$KPR_URL/api/v1/submissions" | json 'd["id"]'
}
wait_done() { # id -> prints the final status
  local st
  for _ in $(seq 1 150); do
    st=$(curl -sS --cacert "$KPR_CACERT" -H "$STAFF" "$KPR_URL/api/v1/submissions/$1" | json 'd["status"]')
    case "$st" in received|processing) sleep 0.2 ;; *) echo "$st"; return 0 ;; esac
  done
  echo "timeout"
}
fetch_feedback() { # token id format
  curl -fsS --cacert "$KPR_CACERT" -H "$(auth "$1")" -o /dev/null \
    "$KPR_URL/api/v1/submissions/$2/feedback?format=$3"
}
# Runs python checks that print "ok|text" / "FAIL|text" lines.
pychecks() {
  local line
  while IFS= read -r line; do
    case "$line" in
      ok\|*) ok "${line#ok|}" ;;
      FAIL\|*) not_ok "${line#FAIL|}" ;;
      *) echo "  $line" ;;
    esac
  done < <(python3 - "$@" 2>&1 || echo "FAIL|python checks crashed")
}

# --- access control -----------------------------------------------------
req GET /api/v1/progress
check "progress without a token: 401" [ "$HTTP_STATUS" = 401 ]
req GET /api/v1/progress -H "$(auth "$KPR_MUNI_TOKEN")"
check "progress with a municipality token: 403" [ "$HTTP_STATUS" = 403 ]
req GET /api/v1/progress/missing.csv -H "$(auth "$KPR_MUNI_TOKEN")"
check "missing.csv with a municipality token: 403" [ "$HTTP_STATUS" = 403 ]
req GET /api/v1/progress/missing.csv
check "missing.csv without a token: 401" [ "$HTTP_STATUS" = 401 ]
req GET "/api/v1/progress?aargang=20x5" -H "$STAFF"
check "malformed aargang: 400 bad_parameter" [ "$HTTP_STATUS" = 400 ]

# --- the "before" picture and the municipalities to use ----------------
check "queue drained before the baseline" wait_queue_empty
progress "$WORK/before.json"
read -r A B C D < <(python3 - "$WORK/before.json" <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1]))
# municipalities other tests name; everything else still missing is fair game
avoid = set(os.environ["KPR_NAMED_KOMMUNER"].split())  # tests/lib/common.sh
missing = [k for k in d["kommuner"] if k["state"] == "missing" and k["kommunenummer"] not in avoid]
pick = [k for k in reversed(missing)][:3]
other = [k for k in reversed(missing) if k["fylkesnummer"] != pick[0]["fylkesnummer"]]
pick.append(other[0])
print(" ".join(k["kommunenummer"] for k in pick))
EOF
)
echo "  using A=$A B=$B C=$C D=$D"
check "four untouched municipalities found" [ -n "$D" ]

# --- the dataset ---------------------------------------------------------
# fixed seeds; seed 12 writes R301 faults (8 or more) into the file of every
# one of the 357 municipalities, so whichever B is, it has errors
gen 11 --kommune "$A" --persons 12 --out "$WORK/a"
gen 12 --kommune "$B" --persons 20 --inject R301=0.5 --out "$WORK/b"
gen 13 --kommune "$D" --persons 8 --out "$WORK/d1"
gen 14 --kommune "$D" --persons 9 --out "$WORK/d2"
r301() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["injected"].get("R301", 0))' "$1"; }
check "B's file carries R301 faults ($(r301 "$WORK/b/manifest.json"))" [ "$(r301 "$WORK/b/manifest.json")" -gt 0 ]
TA=$(tools/kpr-dev token "$A" 2>/dev/null); TB=$(tools/kpr-dev token "$B" 2>/dev/null)
TC=$(tools/kpr-dev token "$C" 2>/dev/null); TD=$(tools/kpr-dev token "$D" 2>/dev/null)
check "tokens accepted" wait_token "$TD"
wait_token "$TA" && wait_token "$TB" && wait_token "$TC"

SA=$(upload "$TA" "$WORK/a/$A-2025.xml")
SB=$(upload "$TB" "$WORK/b/$B-2025.xml")
SC=$(upload "$TC" "$WORK/b/$B-2025.xml")
SD1=$(upload "$TD" "$WORK/d1/$D-2025.xml")
check "A accepted" [ "$(wait_done "$SA")" = accepted ]
check "B accepted_with_errors" [ "$(wait_done "$SB")" = accepted_with_errors ]
check "C rejected (F003)" [ "$(wait_done "$SC")" = rejected ]
check "D's first file accepted" [ "$(wait_done "$SD1")" = accepted ]
SD2=$(upload "$TD" "$WORK/d2/$D-2025.xml")
check "D's second file accepted" [ "$(wait_done "$SD2")" = accepted ]

check "A downloads its feedback (csv)" fetch_feedback "$TA" "$SA" csv
check "A downloads its feedback again (json)" fetch_feedback "$TA" "$SA" json
check "C downloads its rejection feedback" fetch_feedback "$TC" "$SC" html
check "D downloads the superseded file's feedback" fetch_feedback "$TD" "$SD1" csv
# staff downloads are not counted
curl -fsS --cacert "$KPR_CACERT" -H "$STAFF" -o /dev/null "$KPR_URL/api/v1/submissions/$SB/feedback?format=csv"

for s in "$SA" "$SB" "$SC" "$SD1" "$SD2"; do
  curl -fsS --cacert "$KPR_CACERT" -H "$STAFF" "$KPR_URL/api/v1/submissions/$s" -o "$WORK/sub-$s.json"
done
check "queue drained after the run" wait_queue_empty
progress "$WORK/after.json"
progress "$WORK/y2024.json" "?aargang=2024"

# --- the figures -----------------------------------------------------------
pychecks "$WORK" "$A" "$B" "$C" "$D" "$SA" "$SB" "$SC" "$SD1" "$SD2" <<'EOF'
import json, sys, datetime
from zoneinfo import ZoneInfo
W, A, B, C, D, SA, SB, SC, SD1, SD2 = sys.argv[1:]
before = json.load(open(f"{W}/before.json")); after = json.load(open(f"{W}/after.json"))
y2024 = json.load(open(f"{W}/y2024.json"))
sub = {s: json.load(open(f"{W}/sub-{s}.json")) for s in (SA, SB, SC, SD1, SD2)}
def check(desc, cond):
    print(("ok|" if cond else "FAIL|") + desc)
rows = {k["kommunenummer"]: k for k in after["kommuner"]}
rows0 = {k["kommunenummer"]: k for k in before["kommuner"]}

check("aargang defaults to the newest open one (2025)", after["aargang"] == 2025)
check("357 municipalities expected", after["totals"]["expected"] == 357 and len(after["kommuner"]) == 357)
check("every municipality row once, in kommunenummer order",
      [k["kommunenummer"] for k in after["kommuner"]] == sorted(rows))
t = after["totals"]
check("states add up to the expected count",
      t["accepted"] + t["in_progress"] + t["attention"] + t["rejected"] + t["missing"] == t["expected"])
states = {}
for k in after["kommuner"]:
    states[k["state"]] = states.get(k["state"], 0) + 1
check("totals equal the per-municipality states",
      all(t[s] == states.get(s, 0) for s in ("accepted", "in_progress", "attention", "rejected", "missing")))
check("accepted_with_errors equals the rows with such a current submission",
      t["accepted_with_errors"] == sum(1 for k in after["kommuner"] if k["current"] and k["current"]["status"] == "accepted_with_errors"))
check("15 counties", len(after["fylker"]) == 15)
ok_f = True
for f in after["fylker"]:
    mine = [k for k in after["kommuner"] if k["fylkesnummer"] == f["fylkesnummer"]]
    for s in ("accepted", "in_progress", "attention", "rejected", "missing"):
        ok_f &= f[s] == sum(1 for k in mine if k["state"] == s)
    ok_f &= f["expected"] == len(mine)
check("every county's figures equal its municipalities' rows", ok_f)
check("county figures add up to the national ones",
      all(sum(f[s] for f in after["fylker"]) == t[s] for s in ("expected", "accepted", "in_progress", "attention", "rejected", "missing", "accepted_with_errors")))

# deltas caused by this test
t0 = before["totals"]
delta = {s: t[s] - t0[s] for s in t}
check(f"national deltas: +3 accepted, +1 with errors, +1 rejected, -4 missing ({delta})",
      delta == {"expected": 0, "accepted": 3, "accepted_with_errors": 1, "in_progress": 0, "attention": 0, "rejected": 1, "missing": -4})
exp = {}
for k, st in ((A, "accepted"), (B, "accepted"), (C, "rejected"), (D, "accepted")):
    f = rows[k]["fylkesnummer"]
    e = exp.setdefault(f, {"accepted": 0, "rejected": 0, "missing": 0, "accepted_with_errors": 0})
    e[st] += 1; e["missing"] -= 1
    if k == B: e["accepted_with_errors"] += 1
f0 = {f["fylkesnummer"]: f for f in before["fylker"]}
for f in after["fylker"]:
    if f["fylkesnummer"] in exp:
        got = {s: f[s] - f0[f["fylkesnummer"]][s] for s in exp[f["fylkesnummer"]]}
        check(f"county {f['fylkesnummer']} {f['navn']}: deltas {got}", got == exp[f["fylkesnummer"]])

# A: clean, accepted, downloaded twice
a = rows[A]; sa = sub[SA]
check("A: state accepted, 1 submission", a["state"] == "accepted" and a["submissions"] == 1)
check("A: latest and current are its submission",
      a["latest"]["id"] == SA and a["current"]["id"] == SA and a["latest"]["status"] == "accepted")
check("A: persons and registrations from the submission",
      a["current"]["persons"] == 12 and a["current"]["registrations"] == sa["counts"]["registrations"])
check("A: error rate 0", a["current"]["error_rate"] == 0)
check("A: feedback downloaded 2 times", a["feedback"]["downloads"] == 2 and a["feedback"]["submission_id"] == SA)
check("A: first download not after the last",
      a["feedback"]["first_download"] is not None and a["feedback"]["first_download"] <= a["feedback"]["last_download"])
check("A: name and county from the reference data", a["navn"] == rows0[A]["navn"] and a["fylke"])

# B: accepted with errors; error rate = registrations_excluded / registrations
b = rows[B]; sb = sub[SB]["counts"]
rate = sb["registrations_excluded"] / sb["registrations"]
check("B: state accepted, current accepted_with_errors",
      b["state"] == "accepted" and b["current"]["status"] == "accepted_with_errors")
check("B: error count from the submission", b["current"]["errors"] == sb["messages"]["error"] and b["current"]["errors"] > 0)
check(f"B: error rate = registrations_excluded / registrations ({rate:.4f})",
      abs(b["current"]["error_rate"] - rate) < 1e-9 and 0 < rate < 1)
check("B: persons_excluded from the submission", b["current"]["persons_excluded"] == sb["persons_excluded"])
check("B: feedback not downloaded (staff downloads are not counted)",
      b["feedback"]["downloads"] == 0 and b["feedback"]["first_download"] is None)

# C: only rejected
c = rows[C]
check("C: state rejected, no current", c["state"] == "rejected" and c["current"] is None)
check("C: latest is the rejected one", c["latest"]["id"] == SC and c["latest"]["status"] == "rejected")
check("C: feedback of the rejected file downloaded once",
      c["feedback"]["submission_id"] == SC and c["feedback"]["submission_status"] == "rejected" and c["feedback"]["downloads"] == 1)

# D: two files, the newer one current
dd = rows[D]
check("D: 2 submissions, state accepted", dd["submissions"] == 2 and dd["state"] == "accepted")
check("D: current and latest are the second file", dd["current"]["id"] == SD2 and dd["latest"]["id"] == SD2)
check("D: first file superseded by the second", sub[SD1]["status"] == "superseded" and sub[SD1]["superseded_by"] == SD2)
check("D: downloads of the superseded file do not count for the current one",
      dd["feedback"]["submission_id"] == SD2 and dd["feedback"]["downloads"] == 0)
check("D: persons of the current file", dd["current"]["persons"] == 9)

# per day (Oslo dates)
today = datetime.datetime.now(ZoneInfo("Europe/Oslo")).date().isoformat()
def day(d, key):
    return {p["date"]: p["count"] for p in d[key]}
s1, s0 = day(after, "submissions_per_day"), day(before, "submissions_per_day")
d1, d0 = day(after, "downloads_per_day"), day(before, "downloads_per_day")
check(f"submissions today +5 ({s1.get(today, 0) - s0.get(today, 0)})", s1.get(today, 0) - s0.get(today, 0) == 5)
check(f"feedback downloads today +4 ({d1.get(today, 0) - d0.get(today, 0)})", d1.get(today, 0) - d0.get(today, 0) == 4)
dates = [p["date"] for p in after["submissions_per_day"]]
check("per-day series is continuous and ordered",
      dates == [p["date"] for p in after["downloads_per_day"]] and all(
          datetime.date.fromisoformat(y) - datetime.date.fromisoformat(x) == datetime.timedelta(days=1)
          for x, y in zip(dates, dates[1:])))
check("per-day submissions add up to all submissions of the årgang",
      sum(s1.values()) == sum(k["submissions"] for k in after["kommuner"]))
ftotal = sum(k["feedback"]["downloads"] for k in after["kommuner"] if k["feedback"])
check("downloads per day cover at least the counted current/rejected ones", sum(d1.values()) >= ftotal)

# queue and throughput
check("queue empty after the run", after["queue"]["depth"] == 0 and after["queue"]["queued"] == 0)
regs = sum(sub[s]["counts"]["registrations"] for s in sub)
tp = after["throughput"]
check(f"throughput last hour covers this run's {regs} registrations",
      tp["registrations_last_hour"] >= regs and tp["submissions_last_hour"] >= 5)
check("per-second rates derived from the counts",
      abs(tp["registrations_per_second_last_hour"] - tp["registrations_last_hour"] / 3600) < 1e-6)

# another årgang: the same 357, none of ours
r24 = {k["kommunenummer"]: k for k in y2024["kommuner"]}
check("aargang=2024: 357 expected, our municipalities missing there",
      y2024["aargang"] == 2024 and y2024["totals"]["expected"] == 357 and all(r24[k]["state"] == "missing" for k in (A, B, C, D)))
EOF

# --- the reminder list ----------------------------------------------------------
req GET /api/v1/progress/missing.csv -H "$STAFF"
check "missing.csv: 200" [ "$HTTP_STATUS" = 200 ]
check "missing.csv: text/csv; charset=utf-8" [ "$(header Content-Type)" = "text/csv; charset=utf-8" ]
check "missing.csv: a download filename" matches "$(header Content-Disposition)" 'attachment; filename="kpr-purreliste-2025\.csv"'
curl -fsS --cacert "$KPR_CACERT" -H "$STAFF" "$KPR_URL/api/v1/progress/missing.csv" -o "$WORK/missing.csv"
curl -fsS --cacert "$KPR_CACERT" -H "$STAFF" "$KPR_URL/api/v1/progress/missing.csv?include=rejected" -o "$WORK/missing-rej.csv"
pychecks "$WORK" "$A" "$B" "$C" "$D" <<'EOF'
import json, sys
W, A, B, C, D = sys.argv[1:]
raw = open(f"{W}/missing.csv", "rb").read()
def check(desc, cond):
    print(("ok|" if cond else "FAIL|") + desc)
after = json.load(open(f"{W}/after.json"))
check("CSV starts with the UTF-8 BOM", raw.startswith(b"\xef\xbb\xbf"))
check("CSV lines end in CRLF", raw.endswith(b"\r\n") and raw.count(b"\r\n") == raw.count(b"\n"))
lines = raw[3:].decode("utf-8").split("\r\n")[:-1]
check("CSV header kommunenummer;kommunenavn;fylke", lines[0] == "kommunenummer;kommunenavn;fylke")
body = [l.split(";") for l in lines[1:]]
missing = [k for k in after["kommuner"] if k["state"] == "missing"]
check(f"CSV has one row per missing municipality ({len(body)} = {len(missing)})", len(body) == len(missing))
check("CSV rows equal the API's missing rows (number, name, county)",
      body == [[k["kommunenummer"], k["navn"], k["fylke"]] for k in missing])
check("none of this test's municipalities is in the list", not {A, B, C, D} & {r[0] for r in body})
raw2 = open(f"{W}/missing-rej.csv", "rb").read()[3:].decode("utf-8").split("\r\n")
check("include=rejected adds a status column", raw2[0] == "kommunenummer;kommunenavn;fylke;status")
rej = {r.split(";")[0]: r.split(";")[-1] for r in raw2[1:] if r}
check("include=rejected lists C as avvist, A/B/D not at all",
      rej.get(C) == "avvist" and not {A, B, D} & set(rej))
check("include=rejected: missing plus rejected-only rows",
      len(rej) == len(missing) + sum(1 for k in after["kommuner"] if k["state"] == "rejected"))
EOF
req GET "/api/v1/progress/missing.csv?include=everything" -H "$STAFF"
check "missing.csv: unknown include is 400" [ "$HTTP_STATUS" = 400 ]

# --- the reminder list shows a formula-looking name as text ---------------------
# Two municipalities still missing get names Excel would run as formulas; the
# one CSV field writer (csv.h) must quote and guard them, as the feedback CSV
# does. Their real names come back afterwards (also when the test dies).
sql() { psql -X -qtA "$KPR_REGISTER_ADMIN_DSN" -c "$1"; }
read -r K1 K2 < <(tail -n 3 "$WORK/missing.csv" | head -n 2 | cut -d';' -f1 | tr -d '\r' | tr '\n' ' ')
N1=$(sql "SELECT navn FROM kpr.kommune WHERE kommunenummer = '$K1'")
N2=$(sql "SELECT navn FROM kpr.kommune WHERE kommunenummer = '$K2'")
restore_names() {
  sql "UPDATE kpr.kommune SET navn = \$n\$$N1\$n\$ WHERE kommunenummer = '$K1';
       UPDATE kpr.kommune SET navn = \$n\$$N2\$n\$ WHERE kommunenummer = '$K2'" >/dev/null
}
trap 'restore_names; rm -f "$HTTP_HEADERS"; rm -rf "$WORK"' EXIT
sql "UPDATE kpr.kommune SET navn = '=HYPERLINK(\"https://x.invalid\";\"klikk\")' WHERE kommunenummer = '$K1';
     UPDATE kpr.kommune SET navn = '-2+3' WHERE kommunenummer = '$K2'" >/dev/null
curl -fsS --cacert "$KPR_CACERT" -H "$STAFF" "$KPR_URL/api/v1/progress/missing.csv" -o "$WORK/missing-formula.csv"
restore_names
check "the real names are back" [ "$(sql "SELECT navn FROM kpr.kommune WHERE kommunenummer IN ('$K1', '$K2') ORDER BY kommunenummer" | tr '\n' '|')" = "$N1|$N2|" ]
pychecks "$WORK" "$K1" "$K2" <<'EOF'
import csv, io, sys
W, K1, K2 = sys.argv[1:]
def check(desc, cond):
    print(("ok|" if cond else "FAIL|") + desc)
rows = open(f"{W}/missing-formula.csv", "rb").read()[3:].decode("utf-8").split("\r\n")
line = {r.split(";")[0]: r for r in rows if r}
check(f"a formula name is quoted and guarded ({line.get(K1)!r})",
      line.get(K1, "").startswith(K1 + ';"\'=HYPERLINK(""https://x.invalid"";""klikk"")";'))
check(f"a name starting with '-' is guarded ({line.get(K2)!r})",
      line.get(K2, "").startswith(K2 + ";'-2+3;"))
cells = [c for r in csv.reader(io.StringIO("\n".join(rows[1:])), delimiter=";") for c in r]
check("no cell of the list starts with = + - @ TAB or CR",
      len(cells) > 0 and not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in cells))
EOF

finish
