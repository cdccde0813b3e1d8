#!/usr/bin/env bash
# Leases and the reconciler's re-queueing (issue 11; SPEC §9).
#
# 1. A worker paused past its lease. Node A (the stack's kprd, restarted
#    with KPR_FAILPOINT=job.after_validate:stop) stops itself, every thread,
#    right after validating a file, as a paused VM or a long swap would.
#    Node B, a second kprd on the same databases and spool, takes the job
#    over when the lease runs out and commits. Then A resumes: it writes its
#    own feedback and tries its fenced final transaction. Checked against
#    the file and the database, not kprd's own figures:
#      - exactly one commit: attempt 2, by B; the file's persons once;
#      - the feedback served (from either node) is B's, the committed one:
#        the same bytes before and after A resumed, and its processed time
#        is the stored one (A's attempt took its own time, 10 s later);
#      - A says it lost the lease, removes its own feedback files, does not
#        give up or release B's job, and keeps serving.
# 2. Submissions that wait without a live job (a job row lost, or marked
#    done while the submission still waits) are queued again by the
#    reconciler's start-up pass and processed.
# 3. The reconciler killed mid-pass (reconcile.after_unlink): the next
#    start removes the rest of what a crash left, and nothing too young.
. "$(dirname "$0")/../lib/common.sh"

W=$(mktemp -d /tmp/kpr-lease-XXXXXX)
A="" B=""
CONF_B=$KPR_VAR/lease-node-b.conf
cleanup() {
  [ -n "$B" ] && stop_pid "$B"
  [ -n "$A" ] && stop_pid "$A"
  kill -0 "$(kprd_pid)" 2>/dev/null || start_kprd || echo "  could not restart the stack's kprd"
  rm -rf "$W" "$CONF_B" "$HTTP_HEADERS"
}
trap cleanup EXIT
sql() { psql -X -qtA "$KPR_REGISTER_ADMIN_DSN" -c "$1"; }
stopped() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ]; }
status_is() { [ "$(sql "SELECT status FROM kpr.submission WHERE id = '$1'")" = "$2" ]; }
start_node() { # log config [env...]: starts a kprd in the background, prints its pid
  local log=$1 conf=$2; shift 2
  env "$@" "$BUILD/kprd" -c "$conf" >>"$log" 2>&1 &
  local pid=$!
  disown "$pid"
  echo "$pid"
}
upload() { # token file [port]: prints "code id"
  curl -sS -o "$W/resp" -w '%{http_code}' --max-time 60 --cacert "$KPR_CACERT" \
    -H "$(auth "$1")" -H "Content-Type: application/xml" --data-binary @"$2" \
    "https://localhost:${3:-${KPR_URL##*:}}/api/v1/submissions" 2>/dev/null || true
  echo " $(json 'd["id"]' <"$W/resp" 2>/dev/null)"
}
feedback() { # port id format out: HTTP status
  curl -sS -o "$4" -w '%{http_code}' --cacert "$KPR_CACERT" -H "$(auth "$TOKEN")" \
    "https://localhost:$1/api/v1/submissions/$2/feedback?format=$3"
}

# --- 1. a worker paused past its lease ------------------------------------
K=1836 # Rødøy: no other test uploads for it
TOKEN=$("$BUILD/kprctl" token issue --kommune $K --name test-lease 2>/dev/null)
wait_token "$TOKEN"
gen 9400 --kommune $K --persons 80 --out "$W/a"
fresh "$W"/a/*.xml
F=$(ls "$W"/a/*.xml)
PA=${KPR_URL##*:} PB=$(free_port)
set_conf "$KPR_CONFIG" "$CONF_B" server.port=$PB
LOG_A=$KPR_VAR/kprd.log LOG_B=$KPR_VAR/kprd-lease-b.log # kprd*.log: read for sanitizer reports
kill -TERM "$(kprd_pid)"
poll 15 fails kill -0 "$(kprd_pid)"
A=$(start_node "$LOG_A" "$KPR_CONFIG" KPR_FAILPOINT=job.after_validate:stop)
echo "$A" > "$KPR_VAR/kprd.pid" # kpr-dev down stops it if this test dies
check "node A serving, armed to stop after validation" poll 20 port_healthy "$PA"
A_ID=$(worker_prefix "$LOG_A")
read -r code ID <<<"$(upload "$TOKEN" "$F")"
check "upload to A: 202" [ "$code" = 202 ]
check "A stopped itself after validating (every thread, heartbeat too)" poll 60 stopped "$A"
check "…holding the job: attempt 1, running, A's worker" \
  [ "$(sql "SELECT state || '/' || attempts FROM kpr.job WHERE submission_id = '$ID' AND worker LIKE '$A_ID%'")" = running/1 ]
B=$(start_node "$LOG_B" "$CONF_B")
check "node B serving" poll 20 port_healthy "$PB"
B_ID=$(worker_prefix "$LOG_B")
# A's lease (10 s in the test stack) runs out; B claims and commits
check "B took the job over after the lease and committed it" poll 90 status_is "$ID" accepted
check "…on attempt 2, as B's worker" \
  [ "$(sql "SELECT state || '/' || attempts FROM kpr.job WHERE submission_id = '$ID' AND worker LIKE '$B_ID%'")" = done/2 ]
TOK=$(sql "SELECT feedback_token FROM kpr.submission WHERE id = '$ID'")
check "the committed attempt's token is recorded ($TOK)" matches "$TOK" '^[0-9a-f]{32}$'
for fmt in csv xml html json xlsx; do feedback "$PB" "$ID" $fmt "$W/before.$fmt" >/dev/null; done
check "B's feedback served: JSON 200" [ "$(feedback "$PB" "$ID" json "$W/b.json")" = 200 ]

kill -CONT "$A"
check "A resumed and says it lost the lease" \
  poll 60 grep -q "\[$ID\] lease lost: another worker took the job over" "$LOG_A"
check "…and did not give up or release the job" fails grep -q "\[$ID\] \(giving up\|attempt 1 of\)" "$LOG_A"
check "the job is still B's: done on attempt 2" \
  [ "$(sql "SELECT state || '/' || attempts FROM kpr.job WHERE submission_id = '$ID' AND worker LIKE '$B_ID%'")" = done/2 ]
check "still accepted, with B's token" [ "$(sql "SELECT status || '/' || feedback_token FROM kpr.submission WHERE id = '$ID'")" = "accepted/$TOK" ]
check "the file's persons in the register exactly once" \
  [ "$(sql "SELECT count(*) FROM kpr.person WHERE submission_id = '$ID'")" = "$(grep -c '<Person ' "$F")" ]
same=0
for port in "$PA" "$PB"; do
  for fmt in csv xml html json xlsx; do
    [ "$(feedback "$port" "$ID" $fmt "$W/after.$fmt")" = 200 ] && cmp -s "$W/before.$fmt" "$W/after.$fmt" && same=$((same + 1))
  done
done
check "the feedback served by A and by B, all five formats, is what B committed ($same of 10 the same)" [ "$same" = 10 ]
# the processed time in the JSON is the one stored; A's attempt took its own
stored=$(sql "SELECT extract(epoch FROM processed_at) FROM kpr.submission WHERE id = '$ID'")
served=$(python3 -c 'import json,sys,datetime; print(datetime.datetime.fromisoformat(json.load(open(sys.argv[1]))["submission"]["processed_at"]).timestamp())' "$W/after.json")
check "…its processed time is the stored one ($served vs $stored)" \
  python3 -c 'import sys; sys.exit(abs(float(sys.argv[1]) - float(sys.argv[2])) >= 1)' "$served" "$stored"
files=$(cd "$KPR_VAR/feedback" && ls "$ID".* 2>/dev/null | sort | tr '\n' ' ')
check "only the committed attempt's five files are left (A removed its own): $files" \
  [ "$files" = "$ID.$TOK.csv $ID.$TOK.html $ID.$TOK.json $ID.$TOK.xlsx $ID.$TOK.xml " ]
check "A still serving" port_healthy "$PA"
stop_pid "$B"
B=""

# --- 2. waiting submissions without a live job ---------------------------
# An upload is recorded by a node that stops there (upload.after_insert:
# stop, before its workers can claim it) and is killed; then its job is
# lost behind its back: the row deleted (K2), or marked done while the
# submission still waits (K3). kprd's start-up reconciler queues it again.
stop_pid "$A"
A=""
requeue_round() { # kommune seed how: "delete" | "done"
  local k=$1 how=$3 tok f id l0
  tok=$("$BUILD/kprctl" token issue --kommune "$k" --name test-lease 2>/dev/null)
  gen "$2" --kommune "$k" --persons 30 --out "$W/r$k"
  fresh "$W"/r$k/*.xml
  f=$(ls "$W"/r$k/*.xml)
  A=$(start_node "$LOG_A" "$KPR_CONFIG" KPR_FAILPOINT=upload.after_insert:stop)
  echo "$A" > "$KPR_VAR/kprd.pid"
  check "$k: a node serving, armed to stop after recording an upload" poll 20 port_healthy "$PA"
  wait_token "$tok"
  upload "$tok" "$f" >/dev/null &
  check "$k: the node stopped with the upload recorded" poll 60 stopped "$A"
  kill -KILL "$A"
  poll 10 fails kill -0 "$A"
  A=""
  wait
  id=$(sql "SELECT id FROM kpr.submission WHERE sha256 = '$(sha256sum "$f" | cut -d' ' -f1)' AND status = 'received'")
  check "$k: recorded, waiting" matches "$id" '^[0-9a-f-]{36}$'
  if [ "$how" = delete ]; then
    sql "DELETE FROM kpr.job WHERE submission_id = '$id'" >/dev/null
  else
    sql "UPDATE kpr.job SET state = 'done', worker = NULL, lease_until = NULL WHERE submission_id = '$id'" >/dev/null
  fi
  check "$k: its job $how: no live job" [ "$(sql "SELECT count(*) FROM kpr.job WHERE submission_id = '$id' AND state <> 'done'")" = 0 ]
  l0=$(wc -l < "$KPR_VAR/kprd.log")
  check "$k: kprd started (no failpoint)" start_kprd
  requeued() { tail -n +$((l0 + 1)) "$KPR_VAR/kprd.log" | grep -q "reconcile: .*re-queued 1 submissions"; }
  check "$k: the reconciler's start-up pass re-queued it" poll 30 requeued
  check "$k: …and it was processed: accepted" poll 90 status_is "$id" accepted
  check "$k: its persons in the register exactly once" \
    [ "$(sql "SELECT count(*) FROM kpr.person WHERE submission_id = '$id'")" = "$(grep -c '<Person ' "$f")" ]
  kill -TERM "$(kprd_pid)"
  poll 15 fails kill -0 "$(kprd_pid)"
}
requeue_round 1837 9417 delete # Meløy
requeue_round 1838 9418 done   # Gildeskål

# --- 3. the reconciler killed mid-pass -------------------------------------
# Files a crash left (spool files without a row, feedback files of no
# submission), aged past reconcile_safe_age_minutes, and one just made,
# which must stay: on a shared spool another node may be between its rename
# and its INSERT. kprd is killed right after the reconciler's first unlink
# (reconcile.after_unlink); the next start finishes the job.
uuid() { python3 -c 'import uuid; print(uuid.uuid4())'; }
OLD=()
for _ in 1 2 3; do f=$KPR_VAR/spool/$(uuid).xml; echo '<x/>' > "$f"; OLD+=("$f"); done
for _ in 1 2; do f=$KPR_VAR/feedback/$(uuid).0123456789abcdef0123456789abcdef.csv; echo 'x' > "$f"; OLD+=("$f"); done
touch -d '-2 hours' "${OLD[@]}"
YOUNG=$KPR_VAR/spool/$(uuid).xml
echo '<x/>' > "$YOUNG"
left() { local n=0 f; for f in "${OLD[@]}"; do [ -e "$f" ] && n=$((n + 1)); done; echo $n; }
A=$(start_node "$LOG_A" "$KPR_CONFIG" KPR_FAILPOINT=reconcile.after_unlink)
echo "$A" > "$KPR_VAR/kprd.pid"
check "kprd killed itself after the reconciler's first unlink" poll 30 fails kill -0 "$A"
A=""
check "…one of the 5 left files removed, 4 still there" [ "$(left)" = 4 ]
check "kprd started again (no failpoint)" start_kprd
none_left() { [ "$(left)" = 0 ]; }
check "the next start-up pass removed the other 4" poll 30 none_left
check "the file too young to judge is kept" [ -e "$YOUNG" ]
rm -f "$YOUNG"
finish
