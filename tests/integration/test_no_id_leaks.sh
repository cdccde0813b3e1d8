#!/usr/bin/env bash
# National IDs never leave the vault in clear (SPEC §4): known IDs (every
# <Fnr> of a kpr-gen file, kept in a private temporary file, never in an
# artifact) go through the whole pipeline — a valid upload, a file with
# broken and duplicated IDs (so messages are produced) and a dry run — and
# then kprd's log, a pg_dump of both databases, the spool, every feedback
# file (on disk and as served), the status JSON and /metrics are searched
# for them. Only counts are printed, never a match.
. "$(dirname "$0")/../lib/common.sh"

WORK=$(mktemp -d /tmp/kpr-leaks-XXXXXX)
chmod 700 "$WORK"
trap 'rm -rf "$WORK"; rm -f "$HTTP_HEADERS"' EXIT
IDS=$WORK/ids

# fixed seeds: 20002 writes every one of R102-R106 into the bad file, 20003
# R103, R105 and R301 into the dry run's
gen 20001 --kommune 0301 --persons 40 --out "$WORK/valid"
gen 20002 --kommune 0301 --persons 40 --out "$WORK/bad" --inject R102=0.05,R103=0.1,R104=0.1,R105=0.1,R106=0.05
gen 20003 --kommune 0301 --persons 20 --out "$WORK/dry" --inject R103=0.1,R105=0.1,R301=0.1
valid=$WORK/valid/0301-2025.xml bad=$WORK/bad/0301-2025.xml dry=$WORK/dry/0301-2025.xml
check "kpr-gen wrote the three files" test -s "$valid" -a -s "$bad" -a -s "$dry"
fresh "$valid" "$bad" "$dry"
rules_in() { python3 -c 'import json,sys; print(" ".join(sorted(json.load(open(sys.argv[1]))["totals"]["injected"])))' "$1"; }
check "the bad file has broken and repeated IDs: $(rules_in "$WORK/bad/manifest.json")" \
  [ "$(rules_in "$WORK/bad/manifest.json")" = "R102 R103 R104 R105 R106" ]
check "the dry run's file has broken and repeated IDs: $(rules_in "$WORK/dry/manifest.json")" \
  [ "$(rules_in "$WORK/dry/manifest.json")" = "R103 R105 R301" ]

# every 11-digit Fnr value, valid or not (a bad checksum is still someone's ID)
cat "$valid" "$bad" "$dry" | grep -oE '<Fnr>[0-9]{11}</Fnr>' | sed -E 's#</?Fnr>##g' | sort -u > "$IDS"
nids=$(wc -l < "$IDS")
check "known IDs collected ($nids)" [ "$nids" -ge 90 ]

# count of ID occurrences in files/dirs given; prints only the number
count_ids() { { grep -rFaoh -f "$IDS" "$@" 2>/dev/null || true; } | wc -l; }
# a workbook's parts, uncompressed, on stdout (its deflated bytes hide text
# from grep)
unzipped() { python3 -c 'import sys, zipfile
for f in sys.argv[1:]:
    z = zipfile.ZipFile(f)
    for n in z.namelist(): sys.stdout.buffer.write(z.read(n) + b"\n")' "$@"; }
count_ids_stdin() { { grep -Fao -f "$IDS" || true; } | wc -l; }
check "the search finds the IDs where they are (the uploaded files)" \
  [ "$(count_ids "$valid" "$bad" "$dry")" -ge "$nids" ]

upload() { # file [query] -> sets SUB_ID
  req POST "/api/v1/submissions${2:-}" -H "$(auth "$KPR_MUNI_TOKEN")" \
    -H "Content-Type: application/xml" --data-binary @"$1"
  SUB_ID=$(echo "$BODY" | json 'd["id"]' 2>/dev/null)
}

upload "$valid"; id_valid=$SUB_ID
check "valid file taken (202)" [ "$HTTP_STATUS" = 202 ]
wait_done "$id_valid"
check "valid file accepted" [ "$SUB_STATUS" = accepted ]

upload "$bad"; id_bad=$SUB_ID
check "file with broken IDs taken" [ "$HTTP_STATUS" = 202 ]
wait_done "$id_bad"
check "file with broken IDs processed with errors ($SUB_STATUS)" \
  matches "$SUB_STATUS" '^(accepted_with_errors|rejected)$'
req GET "/api/v1/submissions/$id_bad" -H "$(auth "$KPR_STAFF_TOKEN")"
n_err=$(echo "$BODY" | json 'd["counts"]["messages"]["error"]' 2>/dev/null)
check "the broken IDs produced error messages ($n_err)" [ "${n_err:-0}" -gt 0 ]

upload "$dry" "?dry_run=true"; id_dry=$SUB_ID
check "dry run taken" [ "$HTTP_STATUS" = 202 ]
wait_done "$id_dry"
check "dry run validated" [ "$SUB_STATUS" = validated ]

# what the API serves: status JSON, feedback in every format, /metrics
served=$WORK/served
: > "$served"
codes=""
for id in "$id_valid" "$id_bad" "$id_dry"; do
  req GET "/api/v1/submissions/$id" -H "$(auth "$KPR_STAFF_TOKEN")"; echo "$BODY" >> "$served"
  codes+=" $HTTP_STATUS"
  [ "$id" = "$id_dry" ] && echo "$BODY" > "$WORK/dry-status.json"
  for f in csv xml html json; do
    req GET "/api/v1/submissions/$id/feedback?format=$f" -H "$(auth "$KPR_MUNI_TOKEN")"
    echo "$BODY" >> "$served"
    codes+=" $HTTP_STATUS"
    [ "$id" = "$id_dry" ] && printf '%s' "$BODY" > "$WORK/dry-feedback.$f"
  done
  codes+=" $(curl -sS --cacert "$KPR_CACERT" -H "$(auth "$KPR_MUNI_TOKEN")" -o "$WORK/served.xlsx" \
    -w '%{http_code}' "$KPR_URL/api/v1/submissions/$id/feedback?format=xlsx")"
  unzipped "$WORK/served.xlsx" >> "$served"
done
check "status and feedback served: 200 for each (${codes# })" [ "$codes" = "$(printf ' 200%.0s' $(seq 1 18))" ]

# the dry run's feedback: what was injected, where, counted the same everywhere
dry_feedback_right() {
  python3 - "$WORK/dry/manifest.json" "$WORK/dry-status.json" "$WORK/dry-feedback.json" "$WORK/dry-feedback.csv" <<'PY'
import csv, json, re, sys
man = json.load(open(sys.argv[1]))["files"][0]
st, fb = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
rows = list(csv.reader(open(sys.argv[4], encoding="utf-8-sig"), delimiter=";"))[1:]
bad = []
def want(cond, what):
    if not cond: bad.append(what)
want(st["status"] == "validated" and st["dry_run"] is True, f"status {st['status']}, dry_run {st['dry_run']}")
want(fb["submission"]["status"] == "validated" and fb["submission"]["dry_run"] is True, "feedback: not a validated dry run")
want(fb["summary"]["persons"] == man["persons"] == st["counts"]["persons"], f"persons {fb['summary']['persons']}/{st['counts']['persons']}, file {man['persons']}")
want(fb["summary"]["registrations"] == man["registrations"] == st["counts"]["registrations"], "registrations differ")
errors = [m for m in fb["messages"] if m["severity"] == "ERROR"]
want(len(errors) == fb["summary"]["by_severity"]["ERROR"] == st["counts"]["messages"]["error"],
     f"ERROR messages: {len(errors)} listed, {fb['summary']['by_severity']['ERROR']} in the summary, {st['counts']['messages']['error']} in the status")
want(len(rows) == len(fb["messages"]), f"csv {len(rows)} rows, json {len(fb['messages'])} messages")
got = {}
for m in errors:
    got.setdefault(m["rule"], set()).add(m["ref"])
want(set(got) == set(man["injected"]), f"rules {sorted(got)}, injected {sorted(man['injected'])}")
for rule, inj in man["injected"].items():
    refs, have = set(inj["refs"]), got.get(rule, set())
    # R105: the validator names both persons, the manifest the later one
    want(refs == have or (rule == "R105" and refs <= have), f"{rule}: refs injected {sorted(refs)}, reported {sorted(have)}")
for m in errors:
    if m["rule"] in ("R103", "R105"):
        want(re.fullmatch(r"[0-9]{6}\*{5}", m["value"] or ""), f"{m['rule']} at {m['ref']}: the ID is not shown masked")
for b in bad:
    print("    " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}
check "dry run feedback: validated, the injected rules at the injected refs, counts agree" dry_feedback_right
req GET "/api/v1/submissions?kommune=0301" -H "$(auth "$KPR_STAFF_TOKEN")"; echo "$BODY" >> "$served"
check "feedback was served" grep -q 'regel;alvorlighet;ref;linje;element;melding;verdi' "$served"
check "feedback masks IDs (NNNNNN*****)" grep -qE '[0-9]{6}\*{5}' "$served"
check "no ID in status JSON or served feedback" [ "$(count_ids "$served")" -eq 0 ]
check "no ID in /metrics" [ "$(curl -sS --cacert "$KPR_CACERT" "$KPR_URL/metrics" | count_ids_stdin)" -eq 0 ]

check "no ID in kprd's log" [ "$(count_ids "$KPR_VAR/kprd.log")" -eq 0 ]
check "no ID in the feedback files on disk" [ "$(count_ids "$KPR_VAR/feedback")" -eq 0 ]
check "no ID in the workbooks on disk, uncompressed" \
  [ "$(unzipped "$KPR_VAR"/feedback/*.xlsx | count_ids_stdin)" -eq 0 ]
masked_in_workbooks() { unzipped "$KPR_VAR"/feedback/*.xlsx | grep -aE '[0-9]{6}\*{5}' >/dev/null; } # not -q: it would close the pipe early
check "…which do show the masked IDs" masked_in_workbooks

pg_dump "$KPR_REGISTER_ADMIN_DSN" > "$WORK/register.sql" 2>"$WORK/dump.err"
check "pg_dump of the register" test -s "$WORK/register.sql"
pg_dump "$KPR_VAULT_ADMIN_DSN" > "$WORK/vault.sql" 2>>"$WORK/dump.err"
check "pg_dump of the vault" test -s "$WORK/vault.sql"
check "the vault holds rows for these persons" grep -q 'COPY vault.entry' "$WORK/vault.sql"
check "no ID in the register database" [ "$(count_ids "$WORK/register.sql")" -eq 0 ]
check "no ID in the vault database (encrypted only)" [ "$(count_ids "$WORK/vault.sql")" -eq 0 ]

# PostgreSQL's own log (reid_fetch logs pseudonyms there, never IDs);
# tools/kpr-dev starts the cluster with -l $KPR_VAR/pg/postgresql.log
pglog=$KPR_VAR/pg/postgresql.log
check "PostgreSQL's log found ($pglog)" [ -s "$pglog" -a -r "$pglog" ]
check "no ID in PostgreSQL's log" [ "$(count_ids "$pglog")" -eq 0 ]

# No core dump can hold IDs: kprd sets RLIMIT_CORE to 0 and makes itself
# non-dumpable (prctl PR_SET_DUMPABLE 0) first thing (server/src/main.c).
limits_core() { awk '/^Max core file size/ {print $5 "/" $6}' "/proc/$1/limits"; }
check "the running kprd may write no core file (limit $(limits_core "$(kprd_pid)"))" \
  [ "$(limits_core "$(kprd_pid)")" = 0/0 ]
# Whether a process is dumpable shows from outside in its /proc files: the
# kernel gives them to root when it is not (proc(5)). Run as root, kprd's own
# files are root's either way, so a second kprd runs as another user (nobody)
# where allowed core files of any size, and is looked at while it waits to
# read its configuration from a FIFO, before it has done anything else.
core_probe() {
  local dir pid owner uid lim rc=0
  dir=$(mktemp -d /tmp/kpr-core-probe-XXXXXX)
  chmod 755 "$dir"
  mkfifo -m 644 "$dir/kprd.conf"
  install -m 755 "$BUILD/kprd" "$dir/kprd"
  if [ "$(id -u)" = 0 ]; then
    ( ulimit -S -c "$(ulimit -H -c)"; exec setpriv --reuid=65534 --regid=65534 --clear-groups "$dir/kprd" -c "$dir/kprd.conf" ) &
  else
    ( ulimit -S -c "$(ulimit -H -c)"; exec "$dir/kprd" -c "$dir/kprd.conf" ) &
  fi
  pid=$!
  for _ in $(seq 1 50); do [ "$(cat "/proc/$pid/wchan" 2>/dev/null)" = wait_for_partner ] && break; sleep 0.1; done
  uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
  owner=$(stat -c %u "/proc/$pid/status")
  lim=$(limits_core "$pid")
  echo "    probe kprd (pid $pid, uid $uid, started with core limit $(ulimit -H -c)): /proc/$pid owned by uid $owner, core limit $lim"
  [ "$(ulimit -H -c)" != 0 ] || { echo "    this shell allows no core files at all: cannot tell kprd's own limit" >&2; rc=1; }
  [ "$uid" != 0 ] || rc=1
  [ "$owner" = 0 ] || rc=1 # dumpable: the files would be $uid's
  [ "$lim" = 0/0 ] || rc=1
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  rm -rf "$dir"
  return $rc
}
check "kprd is not dumpable and allows no core file, from its first instruction on" core_probe

# The spool: it holds a received file until it is processed (the durability
# promise of the 202), but the spool *after processing* must hold no ID:
# kprd removes a file once its submission is processed (server/src/intake/ingest.c;
# [intake] keep_processed_files = true would keep them, and fail this).
spool_ids=0
for _ in $(seq 1 25); do
  spool_ids=$(count_ids "$KPR_VAR/spool")
  [ "$spool_ids" -eq 0 ] && break
  sleep 0.2
done
check "no ID in the spool after processing ($spool_ids found)" \
  [ "$spool_ids" -eq 0 ]

finish
