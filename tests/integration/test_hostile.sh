#!/usr/bin/env bash
# Hostile input against a real kprd (SPEC §9): XML entity expansion and
# external entities, deep nesting, a 100 MB attribute, a gzip bomb,
# truncated, lying, slow and oversized uploads (413 and 408 answered while
# the client is still sending), wrong content types, thousands of idle and
# slowloris connections (the silent ones closed by the timeout), malformed
# and oversized
# URLs and headers; the rate limits (failed tokens per address, uploads per
# municipality) and token expiry. For every attack: the expected refusal,
# kprd still serving a legitimate upload, its memory bounded, and nothing of
# the hostile submissions in the register.
#
# It starts its own kprd (same databases and spool as the stack, another
# port, a copy of $KPR_CONFIG with short timeouts and small limits so the
# attacks are quick), so the stack's own kprd is never locked out or slowed;
# the stack's kprd is stopped meanwhile, so only the private one's workers
# judge the hostile files.
# Helpers: tests/hostile/gen.py (hostile files, streamed), conn.py (raw,
# slow, cut and idle connections). Results: docs/security.md.
. "$(dirname "$0")/../lib/common.sh"
HOSTILE=$(cd "$(dirname "$0")/../hostile" && pwd)
GEN="python3 $HOSTILE/gen.py"
export HOSTILE_RUN=$RUN # gen.py's Innsending ids: new on each run on the stack, the same on a fresh one
CONN="python3 $HOSTILE/conn.py"
T_START=$SECONDS

W=$(mktemp -d /tmp/kpr-hostile-XXXXXX)
CONF=$KPR_VAR/hostile-kprd.conf
PID2=""
BG=()
cleanup() {
  for p in "${BG[@]+"${BG[@]}"}"; do kill "$p" 2>/dev/null; done
  if [ -n "$PID2" ] && kill -0 "$PID2" 2>/dev/null; then
    kill -TERM "$PID2"
    for _ in $(seq 1 100); do kill -0 "$PID2" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID2" 2>/dev/null
  fi
  for p in "${BG[@]+"${BG[@]}"}"; do wait "$p" 2>/dev/null; done
  rm -rf "$HTTP_HEADERS" "$CONF"
  # the stack's own kprd back, as later tests expect it
  kill -0 "$(kprd_pid)" 2>/dev/null || start_kprd || echo "  could not restart the stack's kprd"
  if [ "${KPR_KEEP_HOSTILE:-0}" = 1 ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

# --- a private kprd: short timeouts, small limits -------------------------
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
P2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
U2=https://localhost:$P2
TIMEOUT=3
RATE_WINDOW=4 # min_upload_rate 1 KiB/s averaged over this many seconds
MAX_UPLOAD=$((128 << 20))
MAX_XML=$((16 << 20))
RSS_BOUND_KB=$((256 << 10)) # 256 MiB for the whole process, 2,000 connections included
# AddressSanitizer's shadow memory and quarantine (make asan) cost several times that
[ "${KPR_SANITIZED:-0}" = 1 ] && RSS_BOUND_KB=$((1024 << 10))
set_conf "$KPR_CONFIG" "$CONF" server.port=$P2 server.connection_timeout=$TIMEOUT \
  server.max_upload_bytes=$MAX_UPLOAD server.max_xml_bytes=$MAX_XML \
  server.auth_failure_limit=5 server.auth_failure_window=30 \
  server.per_ip_connection_limit=64 server.connection_limit=4000 \
  server.min_upload_rate=1024 server.min_upload_rate_window=$RATE_WINDOW \
  intake.upload_rate_limit=1000 intake.upload_rate_window=3600 intake.workers=2
"$BUILD/kprd" -c "$CONF" >"$W/kprd.log" 2>&1 &
PID2=$!
healthy() { curl -fsS --max-time 5 --cacert "$KPR_CACERT" -o /dev/null "$U2/healthz" 2>/dev/null; }
section() { echo "-- $* (at $((SECONDS - T_START)) s)"; }
for _ in $(seq 1 100); do healthy && break; sleep 0.1; done
check "private kprd started on port $P2" healthy || { tail -20 "$W/kprd.log"; finish; exit 1; }
# the stack's kprd shares the queue: with its larger limits its workers
# would judge some hostile files (a 1 GiB bomb is within its 4 GiB
# max_xml_bytes) whenever they claimed first. Stopped for this test, so
# the limits under test are the ones that judge; started again at the end.
stop_pid "$(kprd_pid)"

alive() { kill -0 "$PID2" 2>/dev/null && healthy; }
rss() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$PID2/status"; } # VmRSS | VmHWM, kB
r2() { KPR_URL=$U2 req "$@"; }
sql() { psql -X -qtA "$KPR_REGISTER_ADMIN_DSN" -c "$1"; }
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
field() { echo "$BODY" | json "$1" 2>/dev/null; }
# partial uploads this test made (another test's kill -9 may have left its own)
PARTS_BEFORE=$W/parts-before
find "$KPR_VAR/spool/incoming" -name '*.part' 2>/dev/null | sort > "$PARTS_BEFORE"
parts() { find "$KPR_VAR/spool/incoming" -name '*.part' 2>/dev/null | sort | comm -13 "$PARTS_BEFORE" - | wc -l; }
no_parts() { for _ in $(seq 1 50); do [ "$(parts)" -eq 0 ] && return 0; sleep 0.1; done; return 1; }

HK=1804 # Bodø: every hostile upload (no other test uses it)
LK=1806 # Narvik: the legitimate uploads made meanwhile
tok() { "$BUILD/kprctl" token issue --kommune "$1" --name "test-hostile-$1" "${@:2}" 2>/dev/null; }
TH=$(tok $HK); TL=$(tok $LK); TC=$(tok 1505); TD=$(tok 1506)
all_set() { for v in "$@"; do [ -n "$v" ] || return 1; done; }
check "tokens issued" all_set "$TH" "$TL" "$TC" "$TD" || { finish; exit 1; }
wait_token2() { # polls from its own address: the misses count as failed tokens
  local c=""
  for _ in $(seq 1 50); do
    c=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$KPR_CACERT" --interface 127.0.0.3 -H "$(auth "$1")" "$U2/api/v1/submissions?limit=1")
    [ "$c" = 200 ] && return 0
    sleep 0.2
  done
  echo "    token not accepted within 10 s (last answer $c)" >&2
  return 1
}
check "tokens accepted by the private kprd" wait_token2 "$TD"
AH=$(auth "$TH"); AL=$(auth "$TL")
XML=(-H "Content-Type: application/xml")
S=100 # kpr-gen seeds S+1, S+2, ... (legitimate files are valid for any seed)
HOSTILE_IDS=()
LEGIT_IDS=()

# A legitimate upload (a fresh valid file from Narvik): 202 and an id.
legit() {
  S=$((S + 1))
  gen $S --kommune $LK --persons 20 --out "$W/legit-$S" >&2
  fresh "$W/legit-$S/$LK-2025.xml"
  local out code
  out=$(curl -sS --max-time 30 --cacert "$KPR_CACERT" -H "$AL" "${XML[@]}" \
    --data-binary @"$W/legit-$S/$LK-2025.xml" -w '\n%{http_code}' "$U2/api/v1/submissions")
  code=${out##*$'\n'}
  [ "$code" = 202 ] || { echo "    legit upload answered $code" >&2; return 1; }
  LEGIT_IDS+=("$(echo "${out%$'\n'*}" | json 'd["id"]')")
}
# Posts a hostile file (path or - for stdin, streamed chunked) as Bodø.
post_hostile() { # file [curl args...]
  local f=$1; shift
  if [ "$f" = - ]; then r2 POST /api/v1/submissions -H "$AH" "${XML[@]}" -T - "$@"
  else r2 POST /api/v1/submissions -H "$AH" "${XML[@]}" --data-binary @"$f" "$@"; fi
  LAST_ID=""
  if [ "$HTTP_STATUS" = 202 ]; then LAST_ID=$(field 'd["id"]'); HOSTILE_IDS+=("$LAST_ID"); fi
}
final_status() { # id [auth header] -> status once processed (30 s at most)
  local s
  [ -n "$1" ] || { echo none; return 0; }
  for _ in $(seq 1 150); do
    s=$(curl -s --cacert "$KPR_CACERT" -H "${2:-$AH}" "$U2/api/v1/submissions/$1" | json 'd["status"]' 2>/dev/null)
    case "$s" in received|processing|"") sleep 0.2 ;; *) echo "$s"; return 0 ;; esac
  done
  echo "${s:-unknown}"
}
rules_of() { # id -> the rule ids of its feedback, sorted and unique
  curl -s --cacert "$KPR_CACERT" -H "$AH" "$U2/api/v1/submissions/$1/feedback?format=csv" |
    tail -n +2 | cut -d';' -f1 | sort -u | tr '\n' ' '
}
persons_of() { sql "SELECT count(*) FROM kpr.person WHERE submission_id = '$1'"; }
rejected_with() { # id rule-regex label
  local st rules
  st=$(final_status "$1"); rules=$(rules_of "$1")
  echo "    $3: status $st, rules [$rules], persons $(persons_of "$1")"
  [ "$st" = rejected ] && [[ $rules =~ $2 ]] && [ "$(persons_of "$1")" = 0 ]
}
submissions_of_hk() { sql "SELECT count(*) FROM kpr.submission WHERE kommunenummer = '$HK'"; }

# --- XML attacks: each is received (202), then rejected, nothing loaded ----
# a listener that would see any fetch of an external entity or DTD
section "XML attacks"
LISTEN_LOG=$W/listener.log
python3 - "$W/listener.port" "$LISTEN_LOG" <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16); s.settimeout(0.5)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
end = time.monotonic() + 110
while time.monotonic() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    open(sys.argv[2], "a").write("connection\n"); c.close()
PY
BG+=($!)
for _ in $(seq 1 50); do [ -s "$W/listener.port" ] && break; sleep 0.1; done
LPORT=$(cat "$W/listener.port")

$GEN laughs $HK >"$W/laughs.xml"
post_hostile "$W/laughs.xml"; ID_LAUGHS=$LAST_ID
check "billion laughs: received (202)" [ "$HTTP_STATUS" = 202 ]
$GEN xxe $HK "http://127.0.0.1:$LPORT" >"$W/xxe.xml"
post_hostile "$W/xxe.xml"; ID_XXE=$LAST_ID
check "external entities: received (202)" [ "$HTTP_STATUS" = 202 ]
$GEN deep $HK 100000 >"$W/deep.xml"
post_hostile "$W/deep.xml"; ID_DEEP=$LAST_ID
check "100,000-deep nesting: received (202)" [ "$HTTP_STATUS" = 202 ]
$GEN gzbomb $HK 1 >"$W/bomb.xml.gz" # ~1 MiB expanding to 1 GiB
post_hostile "$W/bomb.xml.gz" -H "Content-Encoding: gzip"; ID_BOMB=$LAST_ID
check "gzip bomb ($(stat -c %s "$W/bomb.xml.gz") bytes -> 1 GiB): received (202)" [ "$HTTP_STATUS" = 202 ]

# the 100 MB attribute, streamed (chunked) while a legitimate upload runs
( $GEN bigattr $HK 100 | curl -sS --max-time 60 --cacert "$KPR_CACERT" -H "$AH" "${XML[@]}" \
    -X POST -T - -o "$W/bigattr.out" -w '%{http_code}' "$U2/api/v1/submissions" >"$W/bigattr.code" ) &
BIG=$!; BG+=($BIG)
sleep 0.3
check "legitimate upload while 100 MB stream in" legit
wait $BIG
check "100 MB attribute: received (202)" [ "$(cat "$W/bigattr.code")" = 202 ]
ID_BIG=$(json 'd["id"]' <"$W/bigattr.out" 2>/dev/null); HOSTILE_IDS+=("$ID_BIG")

check "billion laughs: rejected F001, nothing loaded" rejected_with "$ID_LAUGHS" F001 laughs
check "external entities: rejected F001, nothing loaded" rejected_with "$ID_XXE" F001 xxe
check "deep nesting: rejected F001/F002, nothing loaded" rejected_with "$ID_DEEP" 'F00[12]' deep
check "100 MB attribute: rejected F001/F002/F006, nothing loaded" rejected_with "$ID_BIG" 'F00[126]' bigattr
check "gzip bomb: rejected F006, nothing loaded" rejected_with "$ID_BOMB" F006 bomb
check "no external entity or DTD was fetched" [ ! -s "$LISTEN_LOG" ]
check "feedback never echoes /etc/passwd" fails grep -q 'root:' <<<"$(curl -s --cacert "$KPR_CACERT" -H "$AH" "$U2/api/v1/submissions/$ID_XXE/feedback?format=json")"
echo "    memory after the XML attacks: VmHWM $(rss VmHWM) kB"

# --- wrong content types (415), oversized bodies (413) ---------------------
section "content types and sizes"
for ct in "text/plain" "application/json" "multipart/form-data; boundary=x" "application/xml-dtd" "application/xmlx"; do
  r2 POST /api/v1/submissions -H "$AH" -H "Content-Type: $ct" --data-binary @"$W/laughs.xml"
  check "Content-Type $ct: 415" [ "$HTTP_STATUS" = 415 ]
done
r2 POST /api/v1/submissions -H "$AH" -H "Content-Type:" --data-binary @"$W/laughs.xml"
check "no Content-Type: 415" [ "$HTTP_STATUS" = 415 ]
check "415 carries the JSON error code" [ "$(field 'd["code"]')" = unsupported_media_type ]

before=$(submissions_of_hk)
announce=$(printf 'POST /api/v1/submissions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\nContent-Type: application/xml\r\nContent-Length: 10737418240\r\n\r\n' "$TH" |
  $CONN raw "$P2" --max 5)
check "announced 10 GiB: 413 before any body is sent (got $announce)" [ "$announce" = 413 ]
t0=$SECONDS
code=$($GEN zeros 140 | curl -sS --max-time 60 --cacert "$KPR_CACERT" -H "$AH" "${XML[@]}" -H 'Expect:' -X POST -T - \
  -o "$W/big.out" -w '%{http_code}' "$U2/api/v1/submissions" 2>/dev/null)
# the 413 is written the moment the limit is crossed, while curl is still
# sending; curl reads it and stops
check "140 MiB chunked body over the 128 MiB limit: 413 while sending, in $((SECONDS - t0)) s (got $code)" [ "$code" = 413 ]
check "413 names payload_too_large" [ "$(json 'd["code"]' <"$W/big.out" 2>/dev/null)" = payload_too_large ]
# a chunked body that never ends: only an answer made mid-body can reach
# this client (before, kprd drained 1 MiB more and closed without one)
chunked_hdr() {
  printf 'POST /api/v1/submissions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n' "$TH"
}
r=$(chunked_hdr | $CONN feed "$P2" --chunked --bytes $((MAX_UPLOAD + (8 << 20))) --max 60)
check "endless chunked body past the limit: JSON 413 payload_too_large before the body ends ($r)" matches "$r" '^413 payload_too_large '
check "oversized bodies recorded nothing" [ "$(submissions_of_hk)" = "$before" ]
check "oversized bodies left no .part file" no_parts

# --- truncated, lying and slow uploads -------------------------------------
section "truncated, lying and slow uploads"
hdr() { # content-length
  printf 'POST /api/v1/submissions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\nContent-Type: application/xml\r\nContent-Length: %s\r\n\r\n' "$TH" "$1"
}
before=$(submissions_of_hk)
{ hdr 52428800; head -c 5000000 "$W/deep.xml"; } | $CONN cut "$P2" --after 5000000 >/dev/null
check "client cut mid-body (5 MB of 50 MB): no .part file once the request ended" no_parts
# lying Content-Length, body shorter than announced: kprd waits, then times out
r=$( { hdr 1000000; head -c 100000 "$W/deep.xml"; } | $CONN stall "$P2" --after 200000 --max 20)
check "body shorter than Content-Length: closed after the ${TIMEOUT}s timeout ($r)" \
  python3 -c "import sys; w, t = sys.argv[1].split(); sys.exit(not (w == 'closed' and float(t) <= $TIMEOUT + 3))" "$r"
# slow headers, then nothing: closed after the timeout
r=$(printf 'POST /api/v1/submissions HTTP/1.1\r\nHost: localhost\r\nAuthoriz' | $CONN stall "$P2" --after 100 --max 20)
check "stalled headers: closed after the ${TIMEOUT}s timeout ($r)" \
  python3 -c "import sys; w, t = sys.argv[1].split(); sys.exit(not (w == 'closed' and float(t) <= $TIMEOUT + 3))" "$r"
# slow body, then nothing
r=$( { hdr 2000000; head -c 3000 "$W/deep.xml"; } | $CONN stall "$P2" --after 100000 --max 20)
check "stalled body: closed after the ${TIMEOUT}s timeout ($r)" \
  python3 -c "import sys; w, t = sys.argv[1].split(); sys.exit(not (w == 'closed' and float(t) <= $TIMEOUT + 3))" "$r"
# a body trickling under min_upload_rate (200 B/s against 1 KiB/s): never
# idle long enough for connection_timeout, so only the rate floor ends it
hdr_cl() { printf 'POST /api/v1/submissions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\nContent-Type: application/xml\r\nContent-Length: %s\r\n\r\n' "$TH" "$1"; }
r=$(hdr_cl 1000000 | $CONN feed "$P2" --bytes 1000000 --rate 200 --max 40)
check "upload at 200 B/s (minimum 1 KiB/s over ${RATE_WINDOW}s): JSON 408 upload_too_slow ($r)" matches "$r" '^408 upload_too_slow '
check "…after one window, not before ($r)" python3 -c "import sys; t = float(sys.argv[1].split()[2]); sys.exit(not $RATE_WINDOW <= t)" "$r"
r=$(chunked_hdr | $CONN feed "$P2" --chunked --bytes 1000000 --rate 200 --max 40)
check "chunked upload at 200 B/s: JSON 408 upload_too_slow ($r)" matches "$r" '^408 upload_too_slow '
check "truncated, stalled and slow uploads recorded nothing" [ "$(submissions_of_hk)" = "$before" ]
check "truncated, stalled and slow uploads left no .part file" no_parts
# lying Content-Length, body longer than announced: the announced bytes are
# the upload (a cut file, rejected F001), the rest is a malformed request
gen 999 --kommune $HK --persons 5 --out "$W/lie"
fresh "$W/lie/$HK-2025.xml"
half=$(( $(stat -c %s "$W/lie/$HK-2025.xml") / 2 ))
r=$( { hdr $half; cat "$W/lie/$HK-2025.xml"; } | $CONN raw "$P2" --max 8)
check "body longer than Content-Length: first the upload (202), then 400 for the rest ($r)" matches "$r" '^202(,400)?$'
ID_LIE=$(sql "SELECT id FROM kpr.submission WHERE kommunenummer = '$HK' ORDER BY received_at DESC LIMIT 1")
HOSTILE_IDS+=("$ID_LIE")
check "the announced half was rejected F001, nothing loaded" rejected_with "$ID_LIE" F001 lying-length
check "kprd alive after the upload attacks" alive

# --- 2,000 idle and slowloris connections, a legitimate upload meanwhile ----
# 1,000 finish TLS and trickle a header byte every 2 s (slowloris: the
# inactivity timeout never fires), from 20 addresses x 50; 1,000 open TCP
# and stay silent, from 20 more addresses (per_ip_connection_limit is 64):
# each of those must be closed by the timeout (polled for, 60 s at most);
# then 100 from a single address show the per-address cap.
section "connection flood"
$CONN idle "$P2" --count 1000 --srcs 127.0.0.2-127.0.0.21 --tls-share 1 --interval 2 --hold 10 \
  --max 60 --ready "$W/slow.ready" >"$W/slow.out" 2>&1 &
SLOW=$!; BG+=($SLOW)
$CONN idle "$P2" --count 1000 --srcs 127.0.0.22-127.0.0.41 --tls-share 0 --until-closed \
  --max 60 --ready "$W/silent.ready" >"$W/silent.out" 2>&1 &
SILENT=$!; BG+=($SILENT)
for _ in $(seq 1 400); do [ -s "$W/slow.ready" ] && [ -s "$W/silent.ready" ] && break; sleep 0.1; done
held=$(( $(cat "$W/slow.ready" 2>/dev/null || echo 0) + $(cat "$W/silent.ready" 2>/dev/null || echo 0) ))
check "2,000 connections held open ($held)" [ "$held" -ge 1900 ]
check "legitimate upload during the flood" legit
check "healthz during the flood" healthy
rss_idle=$(rss VmRSS)
$CONN idle "$P2" --count 100 --srcs 127.0.0.60-127.0.0.60 --tls-share 1 --interval 2 --hold 4 \
  --max 40 >"$W/perip.out" 2>&1
wait $SLOW; wait $SILENT
echo "    slowloris (TLS, trickling): $(cat "$W/slow.out")"
echo "    silent TCP: $(cat "$W/silent.out")"
echo "    one address: $(cat "$W/perip.out"); RSS with 2,000 open: $rss_idle kB"
# A silent connection gets a TLS alert and is closed at the timeout; this
# test once read the alert's first byte as a sign of life and reported all
# 1,000 "alive" (conn.py peer_closed). KNOWN GAP (docs/security.md): a
# trickling connection is never idle, so only per_ip_connection_limit and
# connection_limit bound it.
all_silent_closed() { # "closed-by-server N of M": all M, and M near 1,000
  local closed total
  read -r _ closed _ total < <(grep -oE 'closed-by-server [0-9]+ of [0-9]+' "$W/silent.out")
  [ -n "$total" ] && [ "$closed" = "$total" ] && [ "$total" -ge 950 ]
}
check "every silent connection closed by the ${TIMEOUT}s timeout ($(grep -oE 'closed-by-server.*' "$W/silent.out"))" all_silent_closed
perip_alive=$(grep -oE 'alive-after-hold [0-9]+' "$W/perip.out" | awk '{print $2}')
check "one address gets at most 64 connections (kept ${perip_alive:-?} of 100)" [ "${perip_alive:-100}" -le 64 ]
check "kprd alive after the connection flood" alive

# --- malformed and oversized request lines and headers: 4xx, never a crash --
section "malformed requests"
raw() { $CONN raw "$P2" --max 4; }
long=$(head -c 200000 /dev/zero | tr '\0' a)
r=$(printf 'GET /%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$long" | raw)
check "200 KB URL: 414 ($r)" [ "$r" = 414 ]
r=$(printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: %s\r\n\r\n' "$long" | raw)
check "200 KB header: 431 ($r)" [ "$r" = 431 ]
r=$( { printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n'; for i in $(seq 1 6000); do printf 'X-H%d: v\r\n' "$i"; done; printf '\r\n'; } | raw)
check "6,000 headers: 431 ($r)" [ "$r" = 431 ]
r=$(printf 'GARBAGE\r\n\r\n' | raw)
check "request line without method/version: 400 or closed ($r)" matches "$r" '^(400|closed)$'
r=$(python3 -c 'import random, sys; sys.stdout.buffer.write(random.Random(4096).randbytes(4096))' | raw)
check "4 KB of random bytes (Python random, seed 4096): 400 or closed ($r)" matches "$r" '^(400|closed)$'
r=$(printf 'GET /healthz HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n' | raw)
check "unknown HTTP version: 505 or 400 ($r)" matches "$r" '^(505|400)$'
r=$(printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nNoColonHere\r\n\r\n' | raw)
check "header line without a colon: 400 ($r)" [ "$r" = 400 ]
r=$(printf 'GET /healthz HTTP/1.1\r\n\r\n' | raw)
# libmicrohttpd 0.9.75 does not insist on Host; kprd does no virtual hosting
check "HTTP/1.1 without Host: answered normally or 400 ($r)" matches "$r" '^(200|400)$'
# libmicrohttpd 0.9.75 frames by the first Content-Length; a proxy taking
# the last would not agree (RFC 9112 §6.3: 400)
r=$( { printf 'POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer %s\r\nContent-Type: application/xml\r\nContent-Length: 10\r\nContent-Length: 99999\r\n\r\n' "$TH"; printf '%010d' "$RUN"; } | $CONN raw "$P2" --max 4 --json-code)
check "two different Content-Length headers: 400 bad_request ($r)" [ "$r" = "400 bad_request" ]
r=$( { printf 'POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer %s\r\nContent-Type: application/xml\r\nContent-Length: 10\r\nContent-Length: 10\r\n\r\n' "$TH"; printf '%010d' "$RUN"; } | $CONN raw "$P2" --max 4 --json-code)
check "two equal Content-Length headers: 400 bad_request too ($r)" [ "$r" = "400 bad_request" ]
r=$( { printf 'POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer %s\r\nContent-Type: application/xml\r\nContent-Length: -1\r\n\r\n' "$TH"; } | raw)
# libmicrohttpd answers these itself (HTML, and its 0.9.75 sends the status
# line twice); the request never reaches kprd's handlers
check "negative Content-Length: 400 ($r)" matches "$r" '^400(,400)?$'
r=$( { printf 'POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer %s\r\nContent-Type: application/xml\r\nContent-Length: 999999999999999999999999\r\n\r\n' "$TH"; } | raw)
check "overflowing Content-Length: 400 or 413 ($r)" matches "$r" '^(400|413)(,400|,413)?$'
r=$( { printf 'POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer %s\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n' "$TH"; } | raw)
check "malformed chunk size: 400 or closed ($r)" matches "$r" '^(400|closed)$'
r=$( { printf 'POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer %s\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n%x\r\n<a/>%d\r\n0\r\n\r\n' "$TH" $((4 + ${#RUN})) "$RUN"; } | raw)
check "Content-Length with chunked: one reading, never two requests ($r)" matches "$r" '^(202|400|closed)$'
[ "$r" = 202 ] && HOSTILE_IDS+=("$(sql "SELECT id FROM kpr.submission WHERE kommunenummer = '$HK' ORDER BY received_at DESC LIMIT 1")")
for path in '/static/../../../../etc/passwd' '/static/..%2f..%2f..%2fetc%2fpasswd' '/static/%00' \
            '/api/v1/submissions/%00' '/api/v1/submissions/..' '//api//v1' '/api/v1/submissions/x/../../..'; do
  r=$(printf 'GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n' "$path" "$TH" | raw)
  check "path $path: 4xx ($r)" matches "$r" '^(400|404)$'
done
r=$(printf 'GET https://evil.example/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | raw)
check "absolute-form URL: 404 or 400, never proxied ($r)" matches "$r" '^(400|404)$'
r=$(printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | $CONN raw "$P2" --plain --max 5)
check "plain HTTP to the TLS port: no HTTP answer ($r)" [ "$r" = closed ]
check "kprd alive after malformed requests" alive
check "legitimate upload after malformed requests" legit

# --- failed tokens per address: 5 per 30 s here (20 per 5 min by default); the
# window leaves room for a slow machine between the first failure and the last check
section "auth failure limit"
A9=(--interface 127.0.0.9)
c9() { curl -s -o "$W/c9.out" -D "$W/c9.hdr" -w '%{http_code}' --cacert "$KPR_CACERT" "${A9[@]}" "$@" "$U2/api/v1/submissions?limit=1"; }
codes=""
for i in 1 2 3 4 5; do codes+="$(c9 -H "Authorization: Bearer kpr_wrongwrongwrongwrongwrongwrongwrongwrong$i")"; done
check "5 wrong tokens: 401 each" [ "$codes" = 401401401401401 ]
check "6th wrong token from the address: 429" [ "$(c9 -H "Authorization: Bearer kpr_wrongwrongwrongwrongwrongwrongwrongwrong6")" = 429 ]
check "429 code too_many_auth_failures" [ "$(json 'd["code"]' <"$W/c9.out")" = too_many_auth_failures ]
retry=$(grep -i '^Retry-After:' "$W/c9.hdr" | tr -dc 0-9)
check "429 carries Retry-After (${retry:-none} s)" between "${retry:-0}" 1 30
check "a valid token from the locked-out address still works (shared NAT)" [ "$(c9 -H "$AL")" = 200 ]
check "…while another wrong token from it still gets 429" [ "$(c9 -H "Authorization: Bearer kpr_wrongwrongwrongwrongwrongwrongwrongwrong7")" = 429 ]
check "another address is not affected" [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$KPR_CACERT" -H "$AL" "$U2/api/v1/submissions?limit=1")" = 200 ]
codes=""
for i in $(seq 1 8); do codes+="$(curl -s -o /dev/null -w '%{http_code}' --cacert "$KPR_CACERT" --interface 127.0.0.10 "$U2/api/v1/submissions?limit=1")"; done
check "missing Authorization is not counted as a failure (8 x 401)" [ "$codes" = 401401401401401401401401 ]
check "open endpoints stay open to a locked-out address" [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$KPR_CACERT" "${A9[@]}" "$U2/healthz")" = 200 ]
sleep "${retry:-2}"
check "after Retry-After a wrong token is judged again (401)" [ "$(c9 -H "Authorization: Bearer kpr_wrongwrongwrongwrongwrongwrongwrongwrong8")" = 401 ]

# --- uploads per municipality: lowered to 3 per hour by a reload -----------
section "upload rate limit"
set_conf "$CONF" "$CONF.new" intake.upload_rate_limit=3 && mv "$CONF.new" "$CONF"
kill -HUP "$PID2"; sleep 0.5
for i in 1 2 3 4; do gen $((200 + i)) --kommune 1505 --persons 3 --out "$W/rate-$i"; fresh "$W/rate-$i/1505-2025.xml"; done
gen 205 --kommune 1506 --persons 3 --out "$W/rate-5"
fresh "$W/rate-5/1506-2025.xml"
up() { # token file -> status
  curl -s -o "$W/up.out" -D "$W/up.hdr" -w '%{http_code}' --cacert "$KPR_CACERT" -H "$(auth "$1")" "${XML[@]}" \
    --data-binary @"$2" "$U2/api/v1/submissions?dry_run=true"
}
codes="$(up "$TC" "$W/rate-1/1505-2025.xml") $(up "$TC" "$W/rate-2/1505-2025.xml") $(up "$TC" "$W/rate-3/1505-2025.xml")"
check "3 uploads within the limit: 202 each ($codes)" [ "$codes" = "202 202 202" ]
check "4th upload in the hour: 429" [ "$(up "$TC" "$W/rate-4/1505-2025.xml")" = 429 ]
check "429 code rate_limited" [ "$(json 'd["code"]' <"$W/up.out")" = rate_limited ]
retry=$(grep -i '^Retry-After:' "$W/up.hdr" | tr -dc 0-9)
check "Retry-After is one interval (3600/3 = 1200 s; got ${retry:-none})" between "${retry:-0}" 1100 1200
check "another municipality is not affected" [ "$(up "$TD" "$W/rate-5/1506-2025.xml")" = 202 ]
set_conf "$CONF" "$CONF.new" intake.upload_rate_limit=1000 && mv "$CONF.new" "$CONF"
kill -HUP "$PID2"; sleep 0.3

# --- expired tokens are refused --------------------------------------------
section "token expiry"
TX=$(tok 1506 --expires 2001-01-01)
sleep $((2 + 1)) # one token-cache refresh
check "token issued with --expires in the past: 401" [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$KPR_CACERT" -H "$(auth "$TX")" "$U2/api/v1/submissions?limit=1")" = 401 ]
TE=$(tok 1506)
check "a fresh token works" wait_token2 "$TE"
sql "UPDATE kpr.api_token SET expires_at = now() + interval '2 seconds' WHERE token_hash = sha256('$TE'::bytea)" >/dev/null
expired=no
for _ in $(seq 1 40); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$KPR_CACERT" -H "$(auth "$TE")" "$U2/api/v1/submissions?limit=1")" = 401 ] && { expired=yes; break; }
  sleep 0.25
done
check "token refused once its expires_at has passed (set in the database)" [ "$expired" = yes ]

# --- afterwards: still serving, memory bounded, nothing hostile loaded -----
section "afterwards"
check "legitimate upload at the end" legit
all_accepted() {
  local id st
  for id in "${LEGIT_IDS[@]}"; do
    st=$(final_status "$id" "$AL")
    # a later legitimate upload replaces an earlier one
    [ "$st" = accepted ] || [ "$st" = superseded ] || { echo "    legit $id: $st" >&2; return 1; }
  done
}
check "every legitimate upload (${#LEGIT_IDS[@]}) was processed: accepted (or superseded by the next)" all_accepted
ids=$(printf "'%s'," "${HOSTILE_IDS[@]}"); ids=${ids%,}
check "no register rows from any hostile submission (${#HOSTILE_IDS[@]})" [ "$(sql "SELECT count(*) FROM kpr.person WHERE submission_id IN ($ids)")" = 0 ]
check "no register rows for the hostile municipality at all" [ "$(sql "SELECT count(*) FROM kpr.person p JOIN kpr.submission s ON s.id = p.submission_id WHERE s.kommunenummer = '$HK'")" = 0 ]
check "no .part file left in the spool" no_parts
hwm=$(rss VmHWM)
echo "    kprd memory: VmHWM $hwm kB, VmRSS $(rss VmRSS) kB (bound $RSS_BOUND_KB kB)"
check "kprd peak memory under $((RSS_BOUND_KB >> 10)) MiB ($((hwm >> 10)) MiB)" [ "$hwm" -lt "$RSS_BOUND_KB" ]
check "kprd never crashed (same process, healthy)" alive
check "no sanitizer or crash report in the private kprd's log" fails grep -qE 'AddressSanitizer|runtime error|Segmentation|Aborted' "$W/kprd.log"
echo "    took $((SECONDS - T_START)) s"
finish
