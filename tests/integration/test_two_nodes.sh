#!/usr/bin/env bash
# Two kprd nodes behind a real HAProxy (deploy/haproxy/haproxy.cfg: TCP
# pass-through, PROXY protocol v2, health checks on /readyz), sharing the
# stack's databases and spool. Shows:
#  - the PROXY header is believed only from the balancer's address, and is
#    required from it; a client cannot claim another address;
#  - limits and logs see the real client: an address locked out for wrong
#    tokens, or at its connection limit, does not lock out another client
#    behind the same balancer;
#  - kill -9 of one node part-way through a national sample: every upload
#    that got a 202 is processed exactly once, the survivor takes over the
#    dead node's running job when its lease runs out, and a client that
#    retries only what got no answer loses nothing (no duplicates either).
# Node 1 is the stack's kprd restarted on a copy of its configuration with
# the PROXY settings; node 2 a second process on another port. At the end
# the stack's own kprd is back as it was.
. "$(dirname "$0")/../lib/common.sh"
LB_PY="python3 $(cd "$(dirname "$0")/../twonodes" && pwd)/lb.py"
DEPLOY_CFG=$(cd "$(dirname "$0")/../.." && pwd)/deploy/haproxy/haproxy.cfg
T_START=$SECONDS

W=$(mktemp -d /tmp/kpr-twonodes-XXXXXX)
LB_SRC=127.0.0.9 # the balancer's address towards the nodes: the one they trust
P1=${KPR_URL##*:}
P2=$(free_port)
PLB=$(free_port)
LB=https://localhost:$PLB
CONF1=$KPR_VAR/twonodes-node1.conf
CONF2=$KPR_VAR/twonodes-node2.conf
N1="" N2="" HAP="" BG=()
section() { echo "-- $* (at $((SECONDS - T_START)) s)"; }
cleanup() {
  for p in "${BG[@]+"${BG[@]}"}"; do kill "$p" 2>/dev/null; done
  exec 7>&- 2>/dev/null
  [ -n "$HAP" ] && stop_pid "$HAP"
  [ -n "$N2" ] && stop_pid "$N2"
  # the stack's own kprd back, as later tests expect it
  if [ -n "$N1" ]; then stop_pid "$N1"; fi
  if ! kill -0 "$(kprd_pid 2>/dev/null)" 2>/dev/null; then
    start_kprd || echo "  could not restart the stack's kprd (log: $KPR_VAR/kprd.log)"
  fi
  rm -f "$HTTP_HEADERS" "$CONF1" "$CONF2"
  if [ "${KPR_KEEP_TWONODES:-0}" = 1 ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
sql() { psql -X -qtA "$KPR_REGISTER_ADMIN_DSN" -c "$1"; }
wait_healthy() { # port pid
  for _ in $(seq 1 100); do port_healthy "$1" && return 0; kill -0 "$2" 2>/dev/null || return 1; sleep 0.1; done
  return 1
}

# --- two nodes ----------------------------------------------------------
section "two nodes"
# low per-address limits (connections; failed tokens), so the tests of them are quick
LIMIT=5
NODE_SETTINGS=(server.proxy_trusted_addresses=$LB_SRC server.per_ip_connection_limit=8
  server.auth_failure_limit=$LIMIT server.auth_failure_window=300)
set_conf "$KPR_CONFIG" "$CONF1" "${NODE_SETTINGS[@]}"
set_conf "$KPR_CONFIG" "$CONF2" "${NODE_SETTINGS[@]}" server.port=$P2
stop_pid "$(kprd_pid)"
"$BUILD/kprd" -c "$CONF1" >>"$KPR_VAR/kprd.log" 2>&1 &
N1=$!
echo "$N1" > "$KPR_VAR/kprd.pid" # kpr-dev down stops it if this test dies
disown "$N1"
"$BUILD/kprd" -c "$CONF2" >>"$KPR_VAR/kprd-node2.log" 2>&1 & # kprd*.log: read for sanitizer reports
N2=$!
disown "$N2"
LOG1=$KPR_VAR/kprd.log LOG2=$KPR_VAR/kprd-node2.log
check "node 1 (port $P1) serving" wait_healthy "$P1" "$N1" || { tail -5 "$LOG1"; finish; exit 1; }
check "node 2 (port $P2) serving" wait_healthy "$P2" "$N2" || { tail -5 "$LOG2"; finish; exit 1; }
check "node 2 says it takes PROXY headers from $LB_SRC only" grep -q "PROXY protocol v2 accepted from $LB_SRC" "$LOG2"
# worker ids are host:random:index, random per process start; each node logs
# its own (the last such line in its log is this start's)
N1_WORKER=$(worker_prefix "$LOG1") N2_WORKER=$(worker_prefix "$LOG2")
two_ids() { [ -n "$N1_WORKER" ] && [ -n "$N2_WORKER" ] && [ "$N1_WORKER" != "$N2_WORKER" ]; }
check "each node logs its own worker id ($N1_WORKER, $N2_WORKER)" two_ids

# --- HAProxy with the deploy/ configuration -----------------------------
section "HAProxy"
check "deploy/haproxy/haproxy.cfg is valid as shipped" haproxy -c -q -f "$DEPLOY_CFG"
# the shipped defaults, frontend and backend; a global section for an
# unprivileged process; only addresses replaced
{
  printf 'global\n\tlog stderr format raw local0 info\n\tstats socket %s mode 600 level admin\n\tmaxconn 2000\n\n' "$W/haproxy.sock"
  sed -n '/^defaults/,$p' "$DEPLOY_CFG" |
    sed -e "s/^\tbind :8443\$/\tbind 127.0.0.1:$PLB/" \
        -e "s/^\tserver kprd1 .*/\tserver kprd1 127.0.0.1:$P1/" \
        -e "s/^\tserver kprd2 .*/\tserver kprd2 127.0.0.1:$P2/" \
        -e "s/^backend kprd\$/&\n\tsource $LB_SRC/"
} > "$W/haproxy.cfg"
subst_ok() {
  grep -q "^	bind 127.0.0.1:$PLB\$" "$W/haproxy.cfg" && grep -q "^	server kprd1 127.0.0.1:$P1\$" "$W/haproxy.cfg" &&
    grep -q "^	server kprd2 127.0.0.1:$P2\$" "$W/haproxy.cfg" && grep -q "^	source $LB_SRC\$" "$W/haproxy.cfg" &&
    grep -q "send-proxy-v2 check check-ssl" "$W/haproxy.cfg" && grep -q "uri /readyz" "$W/haproxy.cfg"
}
check "test configuration made from the shipped one (addresses only)" subst_ok || { cat "$W/haproxy.cfg"; finish; exit 1; }
haproxy -db -f "$W/haproxy.cfg" >"$W/haproxy.log" 2>&1 &
HAP=$!
hap() { $LB_PY hap "$W/haproxy.sock" "$@"; }
srv() { $LB_PY stat "$W/haproxy.sock" kprd "$1" "$2" 2>/dev/null; } # server field
wait_status() { # server STATUS...: polls haproxy's view, 20 s at most
  local s=$1; shift
  for _ in $(seq 1 200); do
    local st; st=$(srv "$s" status)
    for want in "$@"; do [ "$st" = "$want" ] && return 0; done
    sleep 0.1
  done
  echo "  $s: status $(srv "$s" status), last check: $(srv "$s" last_chk)"; return 1
}
check "HAProxy's health check (PROXY v2 LOCAL, TLS, GET /readyz) finds node 1 up" wait_status kprd1 UP
check "…and node 2" wait_status kprd2 UP || { cat "$W/haproxy.log"; finish; exit 1; }
lb_req() { # source address, then req arguments: through the balancer from that address
  local src=$1; shift
  KPR_URL=$LB req "$@" --interface "$src" --resolve "localhost:$PLB:127.0.0.1"
}
lb_req 127.0.0.2 GET /healthz
check "a request through the balancer: 200" [ "$HTTP_STATUS" = 200 ]

# --- whom kprd believes --------------------------------------------------
section "PROXY header: trusted peer only"
BAD="kpr_$(printf 'x%.0s' $(seq 1 43))"
probe() { $LB_PY probe "$P2" "$@" --token "$BAD"; }
line_of() { grep -h "\[$1\]" "$LOG1" "$LOG2" | tail -1; } # the completion line of a request id
r=$(probe --src 127.0.0.1)
check "a direct client (not the balancer) is served as itself: $r" matches "$r" '^401 [0-9a-f]{32}$'
check "…and logged with its own address" matches "$(line_of "${r#* }")" ' 401 .* from 127\.0\.0\.1$'
r=$(probe --src 127.0.0.1 --claim 192.0.2.66)
check "a direct client sending a PROXY header cannot claim another address: $r" matches "$r" '^refused'
check "…and that address appears nowhere in the log" fails grep -q '192\.0\.2\.66' "$LOG2"
r=$(probe --src $LB_SRC)
check "the balancer's address without a PROXY header: refused ($r)" matches "$r" '^refused'
r=$(probe --src $LB_SRC --claim 192.0.2.77)
check "the balancer's address with a PROXY header: served ($r)" matches "$r" '^401 [0-9a-f]{32}$'
check "…as the client the header names" matches "$(line_of "${r#* }")" ' 401 .* from 192\.0\.2\.77$'

# --- failed-token lockout per real address --------------------------------
GOOD=$(auth "$KPR_MUNI_TOKEN")
A=127.0.0.2 B=127.0.0.3
for node in kprd1 kprd2; do
  other=kprd2; [ $node = kprd2 ] && other=kprd1
  section "lockout on $node (the other in maintenance)"
  hap "set server kprd/$other state maint" >/dev/null
  check "$other in maintenance" wait_status "$other" MAINT
  codes=""
  for _ in $(seq 1 "$LIMIT"); do lb_req $A GET /api/v1/submissions -H "$(auth "$BAD")"; codes+="$HTTP_STATUS "; done
  check "$LIMIT wrong tokens from $A: 401 each" [ "$codes" = "$(printf '401 %.0s' $(seq 1 "$LIMIT"))" ]
  lb_req $A GET /api/v1/submissions -H "$(auth "$BAD")"
  check "one more from $A: 429 too_many_auth_failures" [ "$HTTP_STATUS:$(header Retry-After | grep -c '^[0-9]')" = 429:1 ]
  locked_id=$(header X-Request-Id)
  check "…logged with $A, the client's address, not the balancer's" matches "$(line_of "$locked_id")" " 429 .* from $A\$"
  lb_req $B GET /api/v1/submissions -H "$(auth "$BAD")"
  check "a wrong token from $B behind the same balancer: 401, not locked out" [ "$HTTP_STATUS" = 401 ]
  check "…logged with $B" matches "$(line_of "$(header X-Request-Id)")" " 401 .* from $B\$"
  lb_req $B GET /api/v1/submissions -H "$GOOD"
  check "a valid token from $B: 200" [ "$HTTP_STATUS" = 200 ]
  lb_req $A GET /api/v1/submissions -H "$GOOD"
  check "a valid token from the locked-out $A still passes (a shared NAT)" [ "$HTTP_STATUS" = 200 ]
  hap "set server kprd/$other state ready" >/dev/null
  check "$other back" wait_status "$other" UP
done

# --- the per-address connection limit per real address ---------------------
section "connection limit per real address"
hap "set server kprd/kprd2 state maint" >/dev/null
wait_status kprd2 MAINT >/dev/null
mkfifo "$W/hold"
$LB_PY hold "$PLB" --src 127.0.0.6 --count 10 --ready "$W/held" < "$W/hold" &
BG+=($!)
exec 7>"$W/hold"
for _ in $(seq 1 300); do [ -f "$W/held" ] && break; sleep 0.1; done
check "10 connections from one client through the balancer: 8 (per_ip_connection_limit) kept" [ "$(cat "$W/held" 2>/dev/null)" = 8 ]
lb_req 127.0.0.7 GET /healthz
check "another client meanwhile: 200" [ "$HTTP_STATUS" = 200 ]
exec 7>&-
wait "${BG[-1]}" 2>/dev/null
hap "set server kprd/kprd2 state ready" >/dev/null
check "kprd2 back" wait_status kprd2 UP

# --- kill -9 of node 2 part-way through a national sample -----------------
section "national sample, node 2 killed part-way"
KOMMUNER=1114,1134,1514,1535,1576,1816,1832,1841,1865,3103,3122,3220,3238,3318,3336,3415,3424,3433,3442,3453,4003,4024,4203,4215,4224,4615,4624,4633,4642,4651,5027,5037,5049,5060,5522,5540,5612
gen 7101 --kommune "$KOMMUNER" --scale 0.1 --out "$W/files"
fresh "$W"/files/*.xml
FILES=("$W"/files/*.xml)
check "37 files" [ ${#FILES[@]} = 37 ]
mkdir "$W/tok" # one token per municipality, in a file named like its upload
printf '%s\n' "${FILES[@]##*/}" | xargs -P 4 -I{} sh -c \
  '"$BUILD/kprctl" token issue --kommune "$(echo {} | cut -c1-4)" --name test-two-nodes >"$0/tok/{}" 2>/dev/null' "$W"
wait_token "$(cat "$W/tok/${FILES[-1]##*/}")"
section "uploads"
SLOW=("$W/files/4003-2025.xml" "$W/files/4203-2025.xml") # ~0.45 MB each: long uploads
FILLER=$W/files/5612-2025.xml # see the kill below
STREAM=()
for f in "${FILES[@]}"; do
  case " ${SLOW[*]} $FILLER " in *" $f "*) ;; *) STREAM+=("$f") ;; esac
done
upload() { # file src url [curl args]: one line "file code id" (code 000: no answer)
  local f=$1 src=$2 url=$3 out token id=-; shift 3
  read -r token < "$W/tok/${f##*/}"
  out=$(curl -sS --max-time 120 --cacert "$KPR_CACERT" -H "Authorization: Bearer $token" \
    -H "Content-Type: application/xml" --data-binary @"$f" -w '\n%{http_code}' "$@" \
    --interface "$src" --resolve "localhost:$PLB:127.0.0.1" "$url/api/v1/submissions" 2>/dev/null)
  [[ $out =~ \"id\":\"([0-9a-f-]{36})\" ]] && id=${BASH_REMATCH[1]}
  echo "$f ${out##*$'\n'} $id"
}
export -f upload
export KPR_CACERT LB PLB W
find "$KPR_VAR/spool/incoming" -name '*.part' 2>/dev/null | sort > "$W/parts-before"
# two slow uploads pinned to node 2 (node 1 drained for new connections while
# they connect): certain to be in flight when node 2 dies
hap "set server kprd/kprd1 state drain" >/dev/null
for f in "${SLOW[@]}"; do upload "$f" 127.0.0.4 "$LB" --limit-rate 2K >>"$W/slow" & BG+=($!); done
for _ in $(seq 1 100); do [ "$(srv kprd2 scur)" = 2 ] && break; sleep 0.05; done
check "two slow uploads in flight on node 2" [ "$(srv kprd2 scur)" = 2 ]
hap "set server kprd/kprd1 state ready" >/dev/null
wait_status kprd1 UP >/dev/null
# the others, 4 at a time, through the balancer
printf '%s\n' "${STREAM[@]}" | xargs -P 4 -I{} bash -c 'upload {} 127.0.0.5 "$LB"' >>"$W/stream" 2>/dev/null &
STREAM_PID=$!
BG+=($STREAM_PID)
N=12
for _ in $(seq 1 600); do [ "$(grep -c ' 202 ' "$W/stream" 2>/dev/null)" -ge $N ] && break; sleep 0.05; done
check "$N uploads answered 202 before the kill" [ "$(grep -c ' 202 ' "$W/stream")" -ge $N ]
# Kill node 2 while it holds a job, so the takeover is shown every time:
# node 1 is paused (its workers cannot empty the queue), a file goes to
# node 2 directly, and node 2 is paused and looked at until the register
# says it has claimed a job; then kill -9 while paused, and node 1 resumes.
section "the kill"
kill -STOP "$N1"
upload "$FILLER" 127.0.0.1 "https://localhost:$P2" >>"$W/direct"
check "a file straight to node 2 while node 1 is paused: 202" grep -q ' 202 ' "$W/direct"
HELD=""
for _ in $(seq 1 300); do
  kill -STOP "$N2"
  HELD=$(sql "SELECT submission_id FROM kpr.job WHERE state = 'running' AND worker LIKE '$N2_WORKER%'")
  # a statement node 2 sent before it stopped (its final COMMIT, say) still
  # runs in PostgreSQL: held means still running a moment later
  if [ -n "$HELD" ]; then
    sleep 0.5
    HELD=$(sql "SELECT submission_id FROM kpr.job WHERE state = 'running' AND worker LIKE '$N2_WORKER%'")
  fi
  [ -n "$HELD" ] && break
  kill -CONT "$N2"
  sleep 0.05
done
kill -KILL "$N2"
while kill -0 "$N2" 2>/dev/null; do sleep 0.05; done
N2=""
kill -CONT "$N1"
check "node 2 killed (kill -9) while holding $(echo $HELD | wc -w) job(s)" [ -n "$HELD" ]
section "node 2 dead"
wait "$STREAM_PID"
for p in "${BG[@]}"; do wait "$p" 2>/dev/null; done
BG=()
cat "$W/slow" "$W/stream" "$W/direct" > "$W/first"
NOANSWER=$(awk '$2 == "000"' "$W/first" | wc -l)
check "the slow uploads on node 2 got no answer" [ "$(awk '$2 == "000"' "$W/slow" | wc -l)" = 2 ]
check "every other answer was a 202 ($(awk '{print $2}' "$W/first" | sort | uniq -c | awk '{printf "%s x %s, ", $1, $2}'))" \
  [ "$(awk '$2 != "202" && $2 != "000"' "$W/first" | wc -l)" = 0 ]
check "node 2 marked down by the health check" wait_status kprd2 DOWN
# the client retries exactly what got no answer, through the balancer
awk '$2 == "000" {print $1}' "$W/first" | while read -r f; do upload "$f" 127.0.0.5 "$LB"; done > "$W/retry"
check "each of the $NOANSWER retries answered 202 or 200 (200: recorded before the answer was lost)" \
  [ "$(awk '$2 == "202" || $2 == "200"' "$W/retry" | wc -l)" = "$NOANSWER" ]

# --- what the register says --------------------------------------------
section "the register"
awk '$2 == "202" || $2 == "200" {print $1, $3}' "$W/first" "$W/retry" | sort -u > "$W/answered"
IDS=$(awk '{printf "%s'\''%s'\''", (NR > 1 ? "," : ""), $2}' "$W/answered")
SHAS=$(sha256sum "${FILES[@]}" | awk '{printf "%s'\''%s'\''", (NR > 1 ? "," : ""), $1}')
check "every file has an id from a 202 or 200" [ "$(cut -d' ' -f1 "$W/answered" | sort -u | wc -l)" = 37 ]
check "one id per file" [ "$(cut -d' ' -f2 "$W/answered" | sort -u | wc -l)" = 37 ]
final() { [ "$(sql "SELECT count(*) FROM kpr.submission WHERE id IN ($IDS) AND status NOT IN ('received', 'processing')")" = 37 ]; }
for _ in $(seq 1 240); do final && break; sleep 0.5; done # 120 s at most; a lease is 10 s
check "all 37 processed" final
check "all 37 accepted" [ "$(sql "SELECT count(*) FROM kpr.submission WHERE id IN ($IDS) AND status IN ('accepted', 'accepted_with_errors')")" = 37 ]
check "no duplicate submission of any file" [ "$(sql "SELECT count(*) FROM kpr.submission WHERE sha256 IN ($SHAS)")" = 37 ]
check "each job done, none left" [ "$(sql "SELECT count(*) FROM kpr.job WHERE submission_id IN ($IDS) AND state = 'done'")" = 37 ]
VALUES=$(while read -r f id; do printf "%s('%s'::uuid, %d)" "${sep:-}" "$id" "$(grep -c '<Person ' "$f")"; sep=,; done < "$W/answered")
check "every person of every file in the register exactly once" \
  [ "$(sql "SELECT count(*) FROM (VALUES $VALUES) v(id, n) WHERE n <> (SELECT count(*) FROM kpr.person p WHERE p.submission_id = v.id)")" = 0 ]
EXPECTED=$(cat "${FILES[@]}" | grep -c '<Person ')
check "…$EXPECTED persons in all" [ "$(sql "SELECT count(*) FROM kpr.person WHERE submission_id IN ($IDS)")" = "$EXPECTED" ]
check "each municipality's current submission is its file" [ "$(sql "SELECT count(DISTINCT kommunenummer) FROM kpr.current_submission WHERE id IN ($IDS)")" = 37 ]
HELD_SQL=$(printf "'%s'," $HELD); HELD_SQL=${HELD_SQL%,}
check "the dead node's job(s) taken over by node 1 after the lease, done on attempt 2" \
  [ "$(sql "SELECT count(*) FROM kpr.job WHERE submission_id IN ($HELD_SQL) AND state = 'done' AND attempts = 2 AND worker LIKE '$N1_WORKER%'")" = "$(echo $HELD | wc -w)" ]
for id in $HELD; do
  check "…node 1's log: $id claimed on attempt 2" grep -q "\[$id\] claimed by $N1_WORKER[0-9]* (attempt 2)" "$LOG1"
done
BY1=$(sql "SELECT count(*) FROM kpr.job WHERE submission_id IN ($IDS) AND worker LIKE '$N1_WORKER%'")
BY2=$(sql "SELECT count(*) FROM kpr.job WHERE submission_id IN ($IDS) AND worker LIKE '$N2_WORKER%'")
check "every job finished by one of the two nodes (node 1: $BY1, node 2 before it died: $BY2)" [ $((BY1 + BY2)) = 37 ]
# node 2's cut uploads leave their .part files (a later kprd start sweeps
# those older than a day); none of them was recorded
find "$KPR_VAR/spool/incoming" -name '*.part' 2>/dev/null | sort | comm -13 "$W/parts-before" - > "$W/parts-after"
check "at most one partial file per upload without an answer ($(wc -l < "$W/parts-after") of $NOANSWER)" \
  [ "$(wc -l < "$W/parts-after")" -le "$NOANSWER" ]
xargs -r rm -f < "$W/parts-after"
left=0
while read -r _ id; do [ -e "$KPR_VAR/spool/$id.xml" ] && left=$((left + 1)); done < "$W/answered"
check "no processed file left in the spool" [ "$left" = 0 ]
lb_req 127.0.0.2 GET /readyz
check "the balancer still serves (node 1): /readyz 200" [ "$HTTP_STATUS" = 200 ]
SUBS=$(sql "SELECT count(*) FROM kpr.submission WHERE sha256 IN ($SHAS)")
DONE=$(sql "SELECT count(*) FROM kpr.submission WHERE sha256 IN ($SHAS) AND status IN ('accepted', 'accepted_with_errors')")
echo "  figures: 37 files; first round $(grep -c ' 202 ' "$W/first") x 202 and $NOANSWER without answer;" \
  "retries $(grep -c ' 202 ' "$W/retry") x 202 + $(grep -c ' 200 ' "$W/retry") x 200; 1 node killed" \
  "holding $(echo $HELD | wc -w) job(s); processed $DONE (node 1 $BY1, node 2 $BY2);" \
  "duplicates $((SUBS - 37)); lost $((37 - DONE)); $((SECONDS - T_START)) s"

# --- the stack as it was: its own kprd on its own configuration -------------
section "restoring the stack"
stop_pid "$HAP"; HAP=""
stop_pid "$N1"; N1=""
check "the stack's kprd back on its own configuration" start_kprd
ready() { for _ in $(seq 1 100); do req GET /readyz; [ "$HTTP_STATUS" = 200 ] && return 0; sleep 0.1; done; return 1; }
check "…and ready" ready

finish
