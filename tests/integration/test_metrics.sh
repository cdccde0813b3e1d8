#!/usr/bin/env bash
# GET /metrics: valid Prometheus text exposition (checked by a small parser
# below, and by promtool check metrics, which also lints the names: a
# missing promtool is a failure), HELP and TYPE for every family, the
# standard process_* gauges agreeing with ps and /proc, and counters that move by exactly
# what a known run does: one clean file accepted, the same file sent with
# another municipality's token (F003, rejected), a dry run with injected
# errors (validated), one feedback download. The database gauges
# (submissions by status, queue depth) move the same way. Deltas only: the
# stack is shared with the other tests.
. "$(dirname "$0")/../lib/common.sh"

WORK=$(mktemp -d)
trap 'rm -f "$HTTP_HEADERS"; rm -rf "$WORK"' EXIT
STAFF=$(auth "$KPR_STAFF_TOKEN")

scrape() { curl -fsS --cacert "$KPR_CACERT" "$KPR_URL/metrics" -o "$1"; }
upload() { # token file [query] -> prints the submission id
  curl -sS --cacert "$KPR_CACERT" -H "$(auth "$1")" -H "Content-Type: application/xml" \
    --data-binary @"$2" "$KPR_URL/api/v1/submissions${3:-}" | json 'd["id"]'
}
wait_queue_empty() {
  for _ in $(seq 1 150); do
    scrape "$WORK/q.prom" || return 1
    grep -qx 'kpr_queue_depth 0' "$WORK/q.prom" && return 0
    sleep 0.2
  done
  return 1
}
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

# The exposition-format parser both scrapes go through (written to a file
# so the checks below can import it).
cat > "$WORK/promparse.py" <<'EOF'
import math, re
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE = re.compile(rf"^({NAME})(?:\{{(.*)\}})? (\S+)(?: (-?\d+))?$")
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\s*(,|$)')
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}

def parse(text):
    """Returns ({(name, frozenset(labels)): value}, {family: type}, [errors])."""
    errs, samples, types, helps, done, current = [], {}, {}, set(), set(), None
    if not text.endswith("\n"):
        errs.append("does not end with a newline")
    def family_of(name):
        for suf in ("_bucket", "_sum", "_count"):
            if name.endswith(suf) and types.get(name[: -len(suf)]) in ("histogram", "summary"):
                return name[: -len(suf)]
        return name
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("#"):
            p = line.split(" ", 3)
            if len(p) >= 3 and p[1] in ("HELP", "TYPE"):
                fam = p[2]
                if not re.fullmatch(NAME, fam): errs.append(f"{n}: bad name {fam}")
                if fam in done: errs.append(f"{n}: {p[1]} for {fam} after its samples ended")
                if p[1] == "TYPE":
                    if fam in types: errs.append(f"{n}: second TYPE for {fam}")
                    if len(p) != 4 or p[3] not in TYPES: errs.append(f"{n}: bad TYPE line")
                    else: types[fam] = p[3]
                else:
                    if fam in helps: errs.append(f"{n}: second HELP for {fam}")
                    helps.add(fam)
                if current and current != fam: done.add(current)
                current = fam
            continue
        if not line.strip():
            errs.append(f"{n}: empty line"); continue
        m = SAMPLE.match(line)
        if not m:
            errs.append(f"{n}: not a sample: {line!r}"); continue
        name, lab, val = m.group(1), m.group(2), m.group(3)
        labels, pos = {}, 0
        while lab is not None and pos < len(lab):
            lm = LABEL.match(lab, pos)
            if not lm:
                errs.append(f"{n}: bad labels {lab!r}"); break
            if lm.group(1) in labels: errs.append(f"{n}: label {lm.group(1)} twice")
            labels[lm.group(1)] = lm.group(2)
            pos = lm.end()
        try:
            v = float(val)
        except ValueError:
            errs.append(f"{n}: bad value {val!r}"); continue
        fam = family_of(name)
        if fam not in types: errs.append(f"{n}: sample of {fam} before its TYPE")
        if fam in done: errs.append(f"{n}: samples of {fam} not together")
        if current and current != fam: done.add(current)
        current = fam
        key = (name, frozenset(labels.items()))
        if key in samples: errs.append(f"{n}: duplicate series {line!r}")
        samples[key] = v
        if types.get(fam) == "counter" and (v < 0 or math.isnan(v)): errs.append(f"{n}: negative counter")
    # histograms: cumulative buckets ending in +Inf == _count
    for fam, t in types.items():
        if t != "histogram": continue
        b = sorted(((float(dict(k[1])["le"]), v) for k, v in samples.items() if k[0] == fam + "_bucket"))
        if not b or b[-1][0] != math.inf: errs.append(f"{fam}: no +Inf bucket"); continue
        if any(x[1] > y[1] for x, y in zip(b, b[1:])): errs.append(f"{fam}: buckets not cumulative")
        if b[-1][1] != samples.get((fam + "_count", frozenset()), -1): errs.append(f"{fam}: +Inf != _count")
    missing_help = set(types) - helps
    if missing_help: errs.append(f"families without HELP: {sorted(missing_help)}")
    return samples, types, errs

def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)

def total(samples, name, **labels):
    return sum(v for (n, l), v in samples.items() if n == name and set(labels.items()) <= set(l))
EOF

# --- before ---------------------------------------------------------------------
wait_queue_empty
scrape "$WORK/m0.prom"
req GET /metrics
check "metrics: 200 without a token" [ "$HTTP_STATUS" = 200 ]
promtool_ok() { # file: promtool check metrics says nothing and exits 0
  local out
  if ! command -v promtool >/dev/null; then
    echo "  promtool not found (tools/install-deps installs the prometheus package)"; return 1
  fi
  out=$(promtool check metrics < "$1" 2>&1) || { echo "$out" | sed 's/^/  /'; return 1; }
  [ -z "$out" ] || { echo "$out" | sed 's/^/  /'; return 1; }
}
check "promtool check metrics: first scrape clean" promtool_ok "$WORK/m0.prom"
check "metrics: content type text/plain version=0.0.4" matches "$(header Content-Type)" '^text/plain; version=0\.0\.4'

# two municipalities nobody has used yet (from the end of the missing list)
curl -fsS --cacert "$KPR_CACERT" -H "$STAFF" "$KPR_URL/api/v1/progress" -o "$WORK/p.json"
read -r M1 M2 < <(python3 -c '
import json, os, sys
d = json.load(open(sys.argv[1]))
avoid = set(os.environ["KPR_NAMED_KOMMUNER"].split())  # tests/lib/common.sh
m = [k["kommunenummer"] for k in d["kommuner"] if k["state"] == "missing" and k["kommunenummer"] not in avoid]
print(m[-6], m[-7])' "$WORK/p.json")
echo "  using $M1 and $M2"
# fixed seeds; seed 22 writes R301 faults (4 or more) into the file of every
# one of the 357 municipalities, so whichever M1 is, the dry run has errors
gen 21 --kommune "$M1" --persons 10 --out "$WORK/ok"
gen 22 --kommune "$M1" --persons 15 --inject R301=0.4 --out "$WORK/bad"
r301() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["injected"].get("R301", 0))' "$1"; }
check "the dry run's file carries R301 faults ($(r301 "$WORK/bad/manifest.json"))" [ "$(r301 "$WORK/bad/manifest.json")" -gt 0 ]
T1=$(tools/kpr-dev token "$M1" 2>/dev/null); T2=$(tools/kpr-dev token "$M2" 2>/dev/null)
check "tokens accepted" wait_token "$T1"
wait_token "$T2"

# --- the run -----------------------------------------------------------------------
S1=$(upload "$T1" "$WORK/ok/$M1-2025.xml")
S2=$(upload "$T2" "$WORK/ok/$M1-2025.xml")
S3=$(upload "$T1" "$WORK/bad/$M1-2025.xml" "?dry_run=true")
wait_done "$S1"
check "clean file accepted" [ "$SUB_STATUS" = accepted ]
wait_done "$S2"
check "another municipality's file rejected" [ "$SUB_STATUS" = rejected ]
wait_done "$S3"
check "dry run validated" [ "$SUB_STATUS" = validated ]
check "feedback downloaded once" curl -fsS --cacert "$KPR_CACERT" -H "$(auth "$T1")" -o /dev/null \
  "$KPR_URL/api/v1/submissions/$S1/feedback?format=csv"
for s in "$S1" "$S2" "$S3"; do
  curl -fsS --cacert "$KPR_CACERT" -H "$STAFF" "$KPR_URL/api/v1/submissions/$s" -o "$WORK/sub-$s.json"
done
wait_queue_empty
scrape "$WORK/m1.prom"
check "promtool check metrics: scrape after the run clean" promtool_ok "$WORK/m1.prom"
# what the kernel says about kprd, for the process_* gauges
KPID=$(kprd_pid)
RSS_KB=$(ps -o rss= -p "$KPID" | tr -d ' ')
NOFILE=$(awk '/^Max open files/ {print $4}' "/proc/$KPID/limits")
NFD=$(ls "/proc/$KPID/fd" | wc -l)
# the pid file is written as kprd is launched (wall clock; ps's elapsed time
# counts from boot and drifts from it on a VM)
STARTED=$(stat -c %Y "$KPR_VAR/kprd.pid")
SPOOL=$(sed -n 's/^spool_dir *= *//p' "$KPR_CONFIG"); case "$SPOOL" in /*) ;; *) SPOOL=$(dirname "$KPR_CONFIG")/$SPOOL ;; esac
AVAIL=$(df -B1 --output=avail "$SPOOL" | tail -1 | tr -d ' ')
# the configured limits, or their defaults (config/kprd.conf.example)
QLIMIT=$(sed -n 's/^queue_limit *= *//p' "$KPR_CONFIG"); QLIMIT=${QLIMIT:-2000}
MINFREE=$(sed -n 's/^spool_min_free_bytes *= *//p' "$KPR_CONFIG"); MINFREE=${MINFREE:-1073741824}
BYTES=$(( $(stat -c %s "$WORK/ok/$M1-2025.xml") * 2 + $(stat -c %s "$WORK/bad/$M1-2025.xml") ))

pychecks "$WORK" "$S1" "$S2" "$S3" "$BYTES" "$RSS_KB" "$NOFILE" "$NFD" "$STARTED" "$AVAIL" \
  "$QLIMIT" "$MINFREE" "$T1" "$T2" "$KPR_STAFF_TOKEN" <<'EOF'
import json, re, sys
W, S1, S2, S3, BYTES, RSS_KB, NOFILE, NFD, STARTED, AVAIL, QLIMIT, MINFREE = sys.argv[1:13]
tokens = sys.argv[13:]
sys.path.insert(0, W)
from promparse import parse, value, total
def check(desc, cond):
    print(("ok|" if cond else "FAIL|") + desc)
t0, t1 = open(f"{W}/m0.prom").read(), open(f"{W}/m1.prom").read()
m0, ty0, e0 = parse(t0)
m1, ty1, e1 = parse(t1)
for e in (e0 + e1)[:10]:
    print("  parse error: " + e)
check("first scrape is valid exposition format", not e0)
check("second scrape is valid exposition format", not e1)
need = {"kpr_uploads_total": "counter", "kpr_upload_bytes_total": "counter",
        "kpr_records_processed_total": "counter", "kpr_feedback_downloads_total": "counter",
        "kpr_submissions_total": "counter",
        "kpr_validation_messages_total": "counter", "kpr_http_requests_total": "counter",
        "kpr_db_errors_total": "counter", "kpr_db_reconnects_total": "counter",
        "kpr_job_duration_seconds": "histogram", "kpr_submissions": "gauge",
        "kpr_queue_depth": "gauge", "kpr_queue_jobs": "gauge", "kpr_database_up": "gauge",
        "kpr_queue_oldest_job_seconds": "gauge", "kpr_queue_jobs_retrying": "gauge",
        "kpr_queue_limit": "gauge", "kpr_submissions_without_feedback": "gauge",
        "kpr_spool_free_bytes": "gauge", "kpr_spool_min_free_bytes": "gauge",
        "process_start_time_seconds": "gauge", "process_cpu_seconds_total": "counter",
        "process_resident_memory_bytes": "gauge", "process_virtual_memory_bytes": "gauge",
        "process_open_fds": "gauge", "process_max_fds": "gauge"}
bad = {k: ty1.get(k) for k, v in need.items() if ty1.get(k) != v}
check(f"every family announced with its type {bad or ''}", not bad)
d = lambda name, **l: value(m1, name, **l) - value(m0, name, **l)
sub = {s: json.load(open(f"{W}/sub-{s}.json")) for s in (S1, S2, S3)}
check(f"kpr_uploads_total +3 ({d('kpr_uploads_total'):g})", d("kpr_uploads_total") == 3)
check(f"kpr_upload_bytes_total +{BYTES} ({d('kpr_upload_bytes_total'):g})", d("kpr_upload_bytes_total") == int(BYTES))
regs = sum(sub[s]["counts"]["registrations"] or 0 for s in (S1, S2, S3))
check(f"kpr_records_processed_total +{regs} ({d('kpr_records_processed_total'):g})", d("kpr_records_processed_total") == regs)
check("kpr_submissions_total{status=accepted} +1", d("kpr_submissions_total", status="accepted") == 1)
check("kpr_submissions_total{status=rejected} +1", d("kpr_submissions_total", status="rejected") == 1)
check("kpr_submissions_total{status=validated} +1", d("kpr_submissions_total", status="validated") == 1)
check("kpr_submissions_total +3 over every status",
      total(m1, "kpr_submissions_total") - total(m0, "kpr_submissions_total") == 3)
check("kpr_submissions_total: every final status shown from the start",
      all(("kpr_submissions_total", frozenset({("status", s)})) in m0 for s in
          ("accepted", "accepted_with_errors", "rejected", "validated", "failed")))
check("no per-status counter names left (kpr_submissions_<status>_total)",
      not any(re.fullmatch(r"kpr_submissions_\w+_total", n) for n in ty1))
check("kpr_process_start_time_seconds renamed to process_start_time_seconds",
      "kpr_process_start_time_seconds" not in ty1)
check("kpr_feedback_downloads_total +1", d("kpr_feedback_downloads_total") == 1)
check("kpr_job_duration_seconds_count +3", d("kpr_job_duration_seconds_count") == 3)
check("kpr_job_duration_seconds_sum grew", d("kpr_job_duration_seconds_sum") > 0)
check("F003 FATAL counted once", d("kpr_validation_messages_total", rule="F003", severity="FATAL") == 1)
msgs = sum((sub[s]["counts"]["messages"][k] or 0) for s in (S1, S2, S3) for k in ("fatal", "error", "warning", "info"))
dm = total(m1, "kpr_validation_messages_total") - total(m0, "kpr_validation_messages_total")
check(f"validation messages +{msgs} over all rules ({dm:g})", dm == msgs)
derr = total(m1, "kpr_validation_messages_total", severity="ERROR") - total(m0, "kpr_validation_messages_total", severity="ERROR")
check(f"ERROR messages equal the dry run's errors ({derr:g})", derr == sub[S3]["counts"]["messages"]["error"] > 0)
check("R301 counted with severity ERROR", d("kpr_validation_messages_total", rule="R301", severity="ERROR") > 0)
check("HTTP: submissions_post 202 +3", d("kpr_http_requests_total", route="submissions_post", status="202") == 3)
check("HTTP: feedback_get 200 +1", d("kpr_http_requests_total", route="feedback_get", status="200") == 1)
check("HTTP: metrics route counted", value(m1, "kpr_http_requests_total", route="metrics", status="200") >= 1)
check("DB gauge: accepted +1", d("kpr_submissions", status="accepted") == 1)
check("DB gauge: rejected +1", d("kpr_submissions", status="rejected") == 1)
check("DB gauge: validated +1", d("kpr_submissions", status="validated") == 1)
check("DB gauge: every status shown", all(("kpr_submissions", frozenset({("status", s)})) in m1 for s in
      ("received", "processing", "accepted", "accepted_with_errors", "rejected", "superseded", "validated",
       "failed")))
check("queue depth 0 after the run", value(m1, "kpr_queue_depth") == 0 and
      value(m1, "kpr_queue_jobs", state="queued") == 0)
check("database up", value(m1, "kpr_database_up") == 1)
check("no job retrying after the run", value(m1, "kpr_queue_jobs_retrying") == 0)
check("the run's submissions all have feedback", d("kpr_submissions_without_feedback") == 0)
check(f"kpr_queue_limit is intake.queue_limit ({QLIMIT})", value(m1, "kpr_queue_limit") == int(QLIMIT))
check(f"kpr_spool_min_free_bytes is intake.spool_min_free_bytes ({MINFREE})",
      value(m1, "kpr_spool_min_free_bytes") == int(MINFREE))
fb = value(m1, "kpr_spool_free_bytes")
check(f"kpr_spool_free_bytes {fb:.0f} near df's {AVAIL} (the file system is shared)",
      fb > 0 and abs(fb - int(AVAIL)) <= max(0.05 * int(AVAIL), 512 << 20))
rss = value(m1, "process_resident_memory_bytes")
check(f"process_resident_memory_bytes {rss:.0f} within 25% of ps ({int(RSS_KB) * 1024})",
      abs(rss - int(RSS_KB) * 1024) <= 0.25 * int(RSS_KB) * 1024)
check("process_virtual_memory_bytes >= resident", value(m1, "process_virtual_memory_bytes") >= rss > 0)
check(f"process_max_fds = the soft limit ({NOFILE})",
      value(m1, "process_max_fds") == (float("inf") if NOFILE == "unlimited" else float(NOFILE)))
fds = value(m1, "process_open_fds")
check(f"process_open_fds {fds:g} near /proc's count ({NFD})", 0 < fds and abs(fds - int(NFD)) <= 8)
st = value(m1, "process_start_time_seconds")
check(f"process_start_time_seconds {st:.0f} is when kprd was launched (pid file {STARTED})",
      abs(st - int(STARTED)) <= 30)
check("process_cpu_seconds_total positive and never going back",
      value(m1, "process_cpu_seconds_total") >= value(m0, "process_cpu_seconds_total") > 0)
check("no token in the metrics", not any(t and t in t1 for t in tokens))
# sizes in bytes may have 11 digits (84 GB free); every other value and every label is searched
noid = "\n".join(re.sub(r"^(\w+_bytes(?:_total)?(?:\{.*\})?) \S+$", r"\1", l) for l in t1.split("\n"))
check("no 11-digit number (national ID) in the metrics", not re.search(r"(?<!\d)\d{11}(?!\d)", noid.replace(".", " ")))
check("label values only from fixed sets (no ref, no id)",
      not re.search(r'[0-9a-f]{8}-[0-9a-f]{4}-', t1))
EOF

finish
