# Shared helpers for integration tests (sourced). They run against the stack
# tests/run-all started: KPR_URL, KPR_CACERT, KPR_STAFF_TOKEN, KPR_MUNI_TOKEN,
# KPR_CONFIG, KPR_VAR, BUILD are set.
set -u
: "${KPR_URL:?run integration tests through tests/run-all (or eval "\$(tools/kpr-dev up)" first)}" "${BUILD:?}"
KPR_VAR=${KPR_VAR:-$(dirname "$KPR_CONFIG")} # tools/kpr-dev keeps kprd.conf in its state directory
T_PASS=0
T_FAIL=0
T_NAME=$(basename "$0" .sh)

ok() { T_PASS=$((T_PASS + 1)); echo "  ok   $*"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "  FAIL $*"; }
check() { # description, command...: records the result; returns it too, so
  # `check ... || { finish; exit 1; }` stops a test whose later checks need this one
  local d=$1; shift
  if "$@"; then ok "$d"; else not_ok "$d"; return 1; fi
}
fails() { ! "$@"; }
matches() { [[ $1 =~ $2 ]]; }
finish() {
  echo "$T_NAME: $T_PASS passed, $T_FAIL failed"
  [ "$T_FAIL" -eq 0 ]
}

# Test data is deterministic: every kpr-gen seed is fixed, chosen so that what
# a test asserts about its files holds, and printed by gen(). The same bytes
# on every run would make a second run against the same stack (tools/kpr-dev
# up, then the script twice) meet "same file again" answers, so RUN counts
# this test's runs on this stack (1 on a fresh stack, as under make check) and
# fresh() gives the files of runs 2, 3, ... an Innsending id of their own.
# Nothing a test asserts depends on that id. kpr-gen makes the Innsending id
# from the seed and the municipality only, so no two tests use the same seed
# for the same municipality (the stack would take the second file for the
# first): test_load uses 7001 for all of them, the others their own numbers.
mkdir -p "$KPR_VAR/test-runs"
RUN=$(( $(cat "$KPR_VAR/test-runs/$T_NAME" 2>/dev/null || echo 0) + 1 ))
echo "$RUN" > "$KPR_VAR/test-runs/$T_NAME"
gen() { # seed, kpr-gen arguments...: kpr-gen with that seed, the command printed
  echo "  kpr-gen --seed $*"
  "$BUILD/kpr-gen" --seed "$@" >/dev/null
}
fresh() { # file.xml|file.xml.gz...: on run 2, 3, ... a new Innsending id (its last 12 hex digits)
  local f tail; local -a z
  [ "$RUN" -gt 1 ] || return 0
  tail=$(printf '%012x' "$RUN")
  for f in "$@"; do
    z=(cat); [[ $f == *.gz ]] && z=(gzip -dc)
    "${z[@]}" "$f" |
      sed -E "2s/^(<Innsending [^>]* id=\"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-)[0-9a-f]{12}\"/\1$tail\"/" |
      if [[ $f == *.gz ]]; then gzip -n; else cat; fi >"$f.fresh"
    if ! "${z[@]}" "$f.fresh" | sed -n 2p | grep -q "^<Innsending [^>]* id=\"[0-9a-f-]*-$tail\""; then
      not_ok "run $RUN: a fresh Innsending id for $(basename "$f")"; rm -f "$f.fresh"; return 1
    fi
    mv "$f.fresh" "$f"
  done
}

# curl with the dev CA: sets $BODY and $HTTP_STATUS; headers in $HTTP_HEADERS.
# Every exchange is also recorded to $KPR_EXCHANGES (one .meta/.headers/.body
# triple each, with the test and line that made it); run-all checks them all
# against docs/openapi.yaml at the end (tests/openapi/run conformance), so a
# response the document does not describe fails the suite.
HTTP_HEADERS=$(mktemp)
trap 'rm -f "$HTTP_HEADERS"' EXIT
KPR_EXCHANGES=${KPR_EXCHANGES:-${KPR_VAR:-${KPR_CONFIG%/*}}/openapi-exchanges} # the stack's state directory
T_EXCHANGES=0
req() { # method path [curl args...]
  local m=$1 p=$2 out; shift 2
  out=$(curl -sS --cacert "$KPR_CACERT" -X "$m" -D "$HTTP_HEADERS" -w '\n%{http_code}' "$@" "$KPR_URL$p")
  HTTP_STATUS=${out##*$'\n'}
  BODY=${out%$'\n'*}
  [ "$BODY" != "$out" ] || BODY=""
  record_exchange "$m" "$p"
}
record_exchange() { # method path: the exchange req() just made
  local f i where=""
  for ((i = 2; i < ${#BASH_SOURCE[@]}; i++)); do # the callers, innermost first
    where+="${where:+ < }${BASH_SOURCE[i]##*/}:${BASH_LINENO[i - 1]}"
  done
  T_EXCHANGES=$((T_EXCHANGES + 1))
  [ -d "$KPR_EXCHANGES" ] || mkdir -p "$KPR_EXCHANGES" || return 0
  f=$KPR_EXCHANGES/$T_NAME.$BASHPID.$T_EXCHANGES.${EPOCHREALTIME/./}
  printf '%s' "$BODY" > "$f.body"
  cp "$HTTP_HEADERS" "$f.headers"
  printf '%s\n%s\n%s\n%s\n%s\n' "$1" "$2" "$HTTP_STATUS" "$T_NAME" "$where" > "$f.meta"
}
header() { grep -i "^$1:" "$HTTP_HEADERS" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
# The municipalities tests name by number: a test that picks one still
# missing from the progress list avoids them.
export KPR_NAMED_KOMMUNER="0301 1101 1103 1106 1151 4601 4602 5001 5501 3201 3203 1119 1120 1121 5522 5540 5612"
json() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {"d": d}))' "$1"; }
auth() { echo "Authorization: Bearer $1"; }
wait_token() { # token: accepted now. kprd takes a token from the first request after
  # `kprctl token issue` returns (server/include/auth.h): nothing to wait for,
  # so this only checks it, once
  [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$KPR_CACERT" -H "Authorization: Bearer $1" "$KPR_URL/api/v1/submissions?limit=1")" = 200 ] && return 0
  echo "token not accepted on its first request" >&2; return 1
}
# section.key=value settings over a copy of a kprd config (keep the copy in
# the same directory as the original: its relative paths stay valid)
set_conf() { # src dst section.key=value...
  python3 - "$@" <<'PY'
import re, sys
src, dst, sets = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
out, section, done = [], "", set()
for line in open(src):
    m = re.match(r"\s*\[(.+)\]\s*$", line)
    if m:
        section = m.group(1).strip()
    m = re.match(r"\s*([A-Za-z0-9_]+)\s*=", line)
    if m and "%s.%s" % (section, m.group(1)) in sets:
        k = "%s.%s" % (section, m.group(1))
        line = "%s = %s\n" % (m.group(1), sets[k]); done.add(k)
    out.append(line)
for k, v in sets.items():
    if k not in done:
        s, n = k.split(".", 1)
        out.append("\n[%s]\n%s = %s\n" % (s, n, v))
open(dst, "w").write("".join(out))
PY
}
kprd_pid() { cat "$KPR_VAR/kprd.pid"; }
start_kprd() { # (re)start kprd on the stack's config; waits until healthy
  "$BUILD/kprd" -c "$KPR_CONFIG" >>"$KPR_VAR/kprd.log" 2>&1 &
  echo $! > "$KPR_VAR/kprd.pid"
  disown $! # a later kill -9 is the test's intent, not news for the shell
  local i
  for i in $(seq 1 100); do
    curl -fsS --cacert "$KPR_CACERT" "$KPR_URL/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  [ "$i" -lt 100 ] || return 1
  # and, when its databases are up, ready: tokens loaded (a token issued
  # next is then known at once) and a worker running; bounded
  for _ in $(seq 1 100); do
    curl -fsS --cacert "$KPR_CACERT" "$KPR_URL/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 0
}
wait_done() { # id [auth header]: waits (30 s at most) until the submission has
  # left received/processing; its status in $SUB_STATUS, the answer in $BODY
  local h=${2:-$(auth "$KPR_STAFF_TOKEN")}
  for _ in $(seq 1 150); do
    req GET "/api/v1/submissions/$1" -H "$h"
    SUB_STATUS=$(echo "$BODY" | json 'd["status"]' 2>/dev/null)
    case "$SUB_STATUS" in received | processing | "") sleep 0.2 ;; *) return 0 ;; esac
  done
  return 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port_healthy() { # port: a kprd answers /healthz there
  curl -fsS --max-time 5 --cacert "$KPR_CACERT" -o /dev/null "https://localhost:$1/healthz" 2>/dev/null
}
worker_prefix() { # kprd log: the worker ids of its last start, "host:random:" (kprd logs them)
  grep -o 'workers [^ ]*:0\.\.' "$1" | tail -1 | sed -e 's/^workers //' -e 's/0\.\.$//'
}
poll() { # seconds command...: true once the command is, tried every 0.2 s
  local t=$1; shift
  for _ in $(seq 1 $((t * 5))); do "$@" && return 0; sleep 0.2; done
  return 1
}
stop_pid() { # pid: resume if stopped, SIGTERM, wait (bounded), then SIGKILL
  kill -CONT "$1" 2>/dev/null
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 1 150); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null
}
kill9_kprd() {
  local pid; pid=$(kprd_pid)
  kill -KILL "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}
