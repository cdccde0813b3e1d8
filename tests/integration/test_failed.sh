#!/usr/bin/env bash
# Faults on the server's side (issue 11, items 3-5; SPEC §5, §7, §8): a job
# that keeps failing backs off, ends `failed` (never `rejected`), is shown to
# staff as needing attention and counted in the metrics; sending the same
# file again makes a new submission; `kprctl reprocess` queues a failed one
# again, and requeues a current one without taking it out of the register.
# A job past its wall-clock limit counts an attempt and ends failed too. A
# full file system (a real ENOSPC) is a transient fault: retried after its
# backoff, the job goes through once there is space again.
# kprd runs here on a copy of the stack's configuration with two attempts,
# a one-second backoff and processed files kept (for reprocessing).
. "$(dirname "$0")/../lib/common.sh"

W=$(mktemp -d)
CONF=$KPR_VAR/kprd-failed.conf
restore() {
  mountpoint -q "$KPR_VAR/feedback" && umount -l "$KPR_VAR/feedback"
  [ -f "$KPR_VAR/feedback" ] && rm -f "$KPR_VAR/feedback" && mv "$KPR_VAR/feedback.off" "$KPR_VAR/feedback"
  rm -f "$CONF"
  kill9_kprd
  start_kprd
}
trap 'rm -rf "$W" "$HTTP_HEADERS"; restore' EXIT
K1=1832 # Hemnes: has a current submission when its next one fails
K2=1833 # Rana: its only submission fails
declare -A TOKEN
for k in $K1 $K2; do
  TOKEN[$k]=$("$BUILD/kprctl" token issue --kommune "$k" --name test-failed 2>/dev/null)
  wait_token "${TOKEN[$k]}"
done
S=$(auth "$KPR_STAFF_TOKEN")
sql() { psql -X -qtA "$KPR_REGISTER_ADMIN_DSN" -c "$1"; }
status_of() { sql "SELECT status FROM kpr.submission WHERE id = '$1'"; }
upload() { # kommune file -> "code id"
  local code
  code=$(curl -sS -o "$W/resp" -w '%{http_code}' --cacert "$KPR_CACERT" -H "$(auth "${TOKEN[$1]}")" \
    -H "Content-Type: application/xml" --data-binary @"$2" "$KPR_URL/api/v1/submissions")
  echo "$code $(json 'd["id"]' <"$W/resp" 2>/dev/null)"
}
wait_job_done() { # id seconds
  for _ in $(seq 1 $(($2 * 5))); do
    [ "$(sql "SELECT state FROM kpr.job WHERE submission_id = '$1'")" = done ] && return 0
    sleep 0.2
  done
  return 1
}
metric() { # name{labels} -> value (0 when absent)
  curl -s --cacert "$KPR_CACERT" "$KPR_URL/metrics" | awk -v m="$1" '$1 == m {print $2; f=1} END {if (!f) print 0}'
}
kommune_progress() { # kommune -> "state needs_attention"
  req GET "/api/v1/progress?aargang=2025" -H "$S"
  echo "$BODY" | json "[(k['state'], k['needs_attention']) for k in d['kommuner'] if k['kommunenummer'] == '$1'][0]"
}

set_conf "$KPR_CONFIG" "$CONF" intake.job_max_attempts=2 intake.job_retry_backoff_seconds=1 \
  intake.keep_processed_files=true
kill9_kprd
KPR_CONFIG=$CONF start_kprd
check "kprd runs on the test configuration" kill -0 "$(kprd_pid)"

for k in $K1 $K2; do
  gen $((9300 + ${k: -1})) --kommune $k --persons 40 --out "$W/a$k" >/dev/null
  gen $((9310 + ${k: -1})) --kommune $k --persons 40 --out "$W/b$k" >/dev/null
  fresh "$W/a$k/$k-2025.xml" "$W/b$k/$k-2025.xml"
done

# K1's first file goes through and is current
read -r code P1 < <(upload $K1 "$W/a$K1/$K1-2025.xml")
check "$K1: first file 202" [ "$code" = 202 ]
check "$K1: first file processed" wait_job_done "$P1" 30
check "…accepted" [ "$(status_of "$P1")" = accepted ]

# --- a local fault on every attempt: the feedback directory is unusable
failed_before=$(metric 'kpr_submissions_total{status="failed"}')
retries_before=$(metric 'kpr_job_retries_total{fault="local_io"}')
mv "$KPR_VAR/feedback" "$KPR_VAR/feedback.off" && touch "$KPR_VAR/feedback"
read -r code F1 < <(upload $K1 "$W/b$K1/$K1-2025.xml")
read -r code2 F2 < <(upload $K2 "$W/b$K2/$K2-2025.xml")
check "uploads while the fault lasts: 202" [ "$code $code2" = "202 202" ]
check "$K1: the job is given up" wait_job_done "$F1" 60
check "$K2: the job is given up" wait_job_done "$F2" 60
check "$K1: status failed, not rejected" [ "$(status_of "$F1")" = failed ]
check "$K2: status failed, not rejected" [ "$(status_of "$F2")" = failed ]
check "two attempts, the fault recorded as local_io" \
  [ "$(sql "SELECT string_agg(DISTINCT attempts || ':' || last_error, ',') FROM kpr.job WHERE submission_id IN ('$F1', '$F2')")" = "2:local_io" ]
check "the retry waited for its backoff (not_before was set)" \
  [ "$(grep -c "failed (local_io); retrying in 1 s" "$KPR_VAR/kprd.log")" -ge 2 ]
check "metrics: two more failed submissions" [ "$(metric 'kpr_submissions_total{status="failed"}')" = $((failed_before + 2)) ]
check "metrics: the retries counted by fault" [ "$(metric 'kpr_job_retries_total{fault="local_io"}')" -ge $((retries_before + 2)) ]
check "$K1 keeps its current submission" [ "$(sql "SELECT id FROM kpr.current_submission WHERE kommunenummer = '$K1'")" = "$P1" ]
check "progress: $K1 accepted but needs attention" [ "$(kommune_progress $K1)" = "('accepted', True)" ]
check "progress: $K2 needs attention, not rejected" [ "$(kommune_progress $K2)" = "('attention', True)" ]
req GET "/api/v1/submissions/$F2" -H "$(auth "${TOKEN[$K2]}")"
check "the municipality sees status failed" [ "$(echo "$BODY" | json 'd["status"]')" = failed ]
rm -f "$KPR_VAR/feedback" && mv "$KPR_VAR/feedback.off" "$KPR_VAR/feedback"

# --- the same file again is a new submission; reprocessing the old one is refused
read -r code N2 < <(upload $K2 "$W/b$K2/$K2-2025.xml")
check "$K2: the same file again: 202 and a new submission" [ "$code" = 202 ] && [ "$N2" != "$F2" ]
check "…processed" wait_job_done "$N2" 30
check "…accepted and current" [ "$(sql "SELECT id FROM kpr.current_submission WHERE kommunenummer = '$K2'")" = "$N2" ]
out=$("$BUILD/kprctl" reprocess --config "$CONF" "$F2" 2>&1); rc=$?
check "kprctl reprocess of the failed one: refused, the resend counts ($out)" \
  bash -c "[ $rc -ne 0 ] && grep -q 'sent again as submission $N2' <<<'$out'"
check "…and it stays failed" [ "$(status_of "$F2")" = failed ]

# --- kprctl reprocess queues a failed submission again
check "kprctl reprocess of $K1's failed submission" "$BUILD/kprctl" reprocess --config "$CONF" "$F1"
check "…processed" wait_job_done "$F1" 30
check "…accepted, and current (the newest received)" \
  [ "$(sql "SELECT id FROM kpr.current_submission WHERE kommunenummer = '$K1'")" = "$F1" ]
check "…the earlier one superseded" [ "$(status_of "$P1")" = superseded ]
check "progress: $K1 no longer needs attention" [ "$(kommune_progress $K1)" = "('accepted', False)" ]

# --- reprocessing a current submission never takes it out of the register
check "kprctl reprocess of the current submission" "$BUILD/kprctl" reprocess --config "$CONF" "$F1"
check "…it is still accepted and current while queued" \
  [ "$(sql "SELECT s.status || ':' || c.id FROM kpr.submission s JOIN kpr.current_submission c USING (kommunenummer) WHERE s.id = '$F1'")" = "accepted:$F1" ]
check "…processed again" wait_job_done "$F1" 30
check "…still current, its rows replaced, not doubled" \
  [ "$(sql "SELECT count(*) FROM kpr.person WHERE submission_id = '$F1'")" = "$(grep -c '<Person ' "$W/b$K1/$K1-2025.xml")" ]
check "…and accepted" [ "$(status_of "$F1")" = accepted ]

# reload KEY = VALUE | -KEY: the test configuration changed and reloaded (SIGHUP)
reload() {
  local n; n=$(grep -c 'configuration reloaded' "$KPR_VAR/kprd.log")
  case $1 in
    -*) sed -i "/^${1#-} = /d" "$CONF" ;;
    *) set_conf "$CONF" "$CONF" "intake.${1%% = *}=${1#* = }" ;;
  esac
  kill -HUP "$(kprd_pid)"
  for _ in $(seq 1 50); do
    [ "$(grep -c 'configuration reloaded' "$KPR_VAR/kprd.log")" -gt "$n" ] && return 0
    sleep 0.1
  done
  return 1
}
post_status() { # kommune file [query] -> HTTP status; headers in $W/h
  # Expect: 100-continue: kprd refuses (503, 507) before the body is read;
  # the client then never sends it, so the answer cannot be lost to a
  # write into a connection kprd has already closed
  curl -sS -D "$W/h" -o "$W/resp" -w '%{http_code}' --cacert "$KPR_CACERT" -H "$(auth "${TOKEN[$1]}")" \
    -H "Content-Type: application/xml" -H "Expect: 100-continue" --data-binary @"$2" \
    "$KPR_URL/api/v1/submissions${3:-}"
}

# --- the feedback file system full (ENOSPC, a real one: a 256 KiB tmpfs
# over the feedback directory, filled): the attempt fails as disk_full, is
# retried after its backoff, and goes through once space is back
check "job_retry_backoff_seconds = 5 reloaded" reload "job_retry_backoff_seconds = 5"
if check "a full file system mounted over the feedback directory" mount -t tmpfs -o size=256k,mode=0755 kpr-full "$KPR_VAR/feedback"; then
  dd if=/dev/zero of="$KPR_VAR/feedback/fill" bs=4k >/dev/null 2>&1
  full_before=$(metric 'kpr_job_retries_total{fault="disk_full"}')
  gen 9340 --kommune $K2 --persons 40 --out "$W/d" >/dev/null
  fresh "$W/d/$K2-2025.xml"
  read -r code D < <(upload $K2 "$W/d/$K2-2025.xml")
  check "an upload while it is full: 202" [ "$code" = 202 ]
  retried() { for _ in $(seq 1 150); do [ "$(sql "SELECT state || ':' || last_error FROM kpr.job WHERE submission_id = '$D'")" = queued:disk_full ] && return 0; sleep 0.2; done; return 1; }
  check "…its attempt failed as disk_full and waits for its backoff" retried
  check "…counted in kpr_job_retries_total{fault=\"disk_full\"}" [ "$(metric 'kpr_job_retries_total{fault="disk_full"}')" -gt "$full_before" ]
  umount -l "$KPR_VAR/feedback"
  check "space back: processed" wait_job_done "$D" 60
  check "…accepted, on its second attempt" [ "$(sql "SELECT s.status || ':' || j.attempts FROM kpr.submission s JOIN kpr.job j ON j.submission_id = s.id WHERE s.id = '$D'")" = accepted:2 ]
  check "…its feedback served" [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$KPR_CACERT" -H "$(auth "${TOKEN[$K2]}")" "$KPR_URL/api/v1/submissions/$D/feedback?format=csv")" = 200 ]
  N2=$D # K2's current submission from here on
fi
check "job_retry_backoff_seconds back to 1" reload "job_retry_backoff_seconds = 1"

# --- 503 queue_full with Retry-After: a job that waits (its backoff a day
# ahead) keeps the queue depth at one or more, over a limit of one
QID=$(python3 -c 'import uuid; print(uuid.uuid4())')
sql "INSERT INTO kpr.submission (id, kommunenummer, spool_name, sha256, bytes)
     VALUES ('$QID', '$K2', '$QID.xml', '$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)', 1);
     INSERT INTO kpr.job (submission_id, not_before) VALUES ('$QID', now() + interval '1 day')" >/dev/null
check "queue_limit = 1 reloaded" reload "queue_limit = 1"
# (the depth is refreshed every second: probe with dry runs, which never
# change the register if one gets in before the refresh)
full() { for _ in $(seq 1 50); do [ "$(post_status $K2 "$W/a$K2/$K2-2025.xml" '?dry_run=true')" = 503 ] && return 0; sleep 0.2; done; return 1; }
check "an upload over the queue limit: 503" full
check "…queue_full" [ "$(json 'd["code"]' <"$W/resp")" = queue_full ]
check "…with Retry-After 120" grep -qi '^retry-after: 120' "$W/h"
sql "DELETE FROM kpr.job WHERE submission_id = '$QID'; DELETE FROM kpr.submission WHERE id = '$QID'" >/dev/null
check "queue_limit back to its default" reload "-queue_limit"

# --- 507 when the spool's file system has less free space than required
check "spool_min_free_bytes = 1 TiB reloaded" reload "spool_min_free_bytes = 1099511627776"
check "an upload while the spool is short of space: 507" [ "$(post_status $K2 "$W/a$K2/$K2-2025.xml" '?dry_run=true')" = 507 ]
check "…insufficient_storage" [ "$(json 'd["code"]' <"$W/resp")" = insufficient_storage ]
check "spool_min_free_bytes back to its default" reload "-spool_min_free_bytes"

# --- a job past its wall-clock limit (1 s from here on) counts an attempt
# and ends failed.
check "job_time_limit_seconds = 1 reloaded" reload "job_time_limit_seconds = 1"
# 2.5 GB of whitespace between the XML declaration and the root element,
# as concatenated gzip members (2.6 MB sent): far more than a second's work.
python3 - "$W/slow.xml.gz" "$W/a$K2/$K2-2025.xml" <<'EOF'
import gzip, sys, zlib
out, src = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
decl, rest = data.split(b"\n", 1)
spaces = gzip.compress(b" " * (64 << 20), compresslevel=1)
with open(out, "wb") as f:
    f.write(gzip.compress(decl + b"\n"))
    for _ in range(40):
        f.write(spaces)
    f.write(gzip.compress(rest))
EOF
code=$(curl -sS -o "$W/resp" -w '%{http_code}' --cacert "$KPR_CACERT" -H "$(auth "${TOKEN[$K2]}")" \
  -H "Content-Type: application/xml" -H "Content-Encoding: gzip" --data-binary @"$W/slow.xml.gz" \
  "$KPR_URL/api/v1/submissions")
T=$(json 'd["id"]' <"$W/resp")
check "the slow file: 202" [ "$code" = 202 ]
check "…its job is given up" wait_job_done "$T" 60
check "…failed after two attempts past the time limit" \
  [ "$(sql "SELECT s.status || ':' || j.attempts || ':' || j.last_error FROM kpr.submission s JOIN kpr.job j ON j.submission_id = s.id WHERE s.id = '$T'")" = "failed:2:time_limit" ]
check "$K2 keeps its current submission" [ "$(sql "SELECT id FROM kpr.current_submission WHERE kommunenummer = '$K2'")" = "$N2" ]
check "job_time_limit_seconds back to its default" reload "-job_time_limit_seconds"

# --- the vault refuses the file's IDs: its batches go beside the COPY and
# are joined before the commit, so the register commits nothing; the job is
# retried after its backoff and goes through once the vault takes them
check "job_max_attempts 5 for this part" reload "job_max_attempts = 5"
VF="vault.put_batch(integer, text, text, bytea, bytea[], bigint[], bytea[])"
vsql() { psql -X -qtA "$KPR_VAULT_ADMIN_DSN" -c "$1"; }
gen 9350 --kommune $K2 --persons 40 --out "$W/v" >/dev/null
fresh "$W/v/$K2-2025.xml"
vsql "REVOKE EXECUTE ON FUNCTION $VF FROM kpr_ingest" >/dev/null
read -r code TV < <(upload $K2 "$W/v/$K2-2025.xml")
check "the vault refusing: the upload still 202" [ "$code" = 202 ]
vault_refused() { grep -q "$TV.*vault unavailable; will retry" "$KPR_VAR/kprd.log"; }
check "…its attempt fails at the vault" poll 30 vault_refused
check "…and the register holds none of its rows" \
  [ "$(sql "SELECT count(*) FROM kpr.person WHERE submission_id = '$TV'"):$(status_of "$TV")" = "0:processing" ]
vsql "GRANT EXECUTE ON FUNCTION $VF TO kpr_ingest" >/dev/null
check "…retried once the vault takes them" wait_job_done "$TV" 60
check "…accepted with all its persons, on a later attempt" \
  [ "$(status_of "$TV"):$(sql "SELECT count(*) FROM kpr.person WHERE submission_id = '$TV'"):$(sql "SELECT attempts > 1 FROM kpr.job WHERE submission_id = '$TV'")" = "accepted:$(grep -c '<Person ' "$W/v/$K2-2025.xml"):t" ]
check "job_max_attempts back to 2" reload "job_max_attempts = 2"

# --- SIGTERM while a job runs: kprd finishes or releases it, then exits
gen 9330 --kommune $K1 --persons 30000 --out "$W/t" >/dev/null
fresh "$W/t/$K1-2025.xml"
read -r code TT < <(upload $K1 "$W/t/$K1-2025.xml")
running() { for _ in $(seq 1 150); do [ "$(sql "SELECT state FROM kpr.job WHERE submission_id = '$TT'")" = running ] && return 0; sleep 0.1; done; return 1; }
check "a job is running" running
pid=$(kprd_pid)
kill -TERM "$pid"
gone() { for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done; return 1; }
check "kprd exits on SIGTERM" gone
check "…its job finished or released, not left under a lease" \
  matches "$(sql "SELECT state || ':' || coalesce(worker, '-') FROM kpr.job WHERE submission_id = '$TT'")" '^(done:.*|queued:-)$'
KPR_CONFIG=$CONF start_kprd
check "…processed once" wait_job_done "$TT" 60
check "…accepted with all its persons" [ "$(status_of "$TT"):$(sql "SELECT count(*) FROM kpr.person WHERE submission_id = '$TT'")" = "accepted:$(grep -c '<Person ' "$W/t/$K1-2025.xml")" ]
finish
