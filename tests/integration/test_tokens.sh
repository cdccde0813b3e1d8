#!/usr/bin/env bash
# Tokens take effect at once (issue 11). kprd keeps a copy of the active
# tokens; its refresher LISTENs on kpr_api_token, which a trigger notifies on
# every change to kpr.api_token (sql/register/0007_token_notify.sql), and a
# request with a token the copy lacks is suspended until a reload that began
# after it arrived (server/include/auth.h). So, with no waiting in between:
#   - a token from `kprctl token issue` works on the very next request, 20
#     times in a row (a 2 s cache refresh would fail nearly every one), also
#     for an upload (its body is read only once the token has passed);
#   - with the trigger disabled too: the reload on a miss alone suffices;
#   - a revoked token is refused on the very next request, 20 times;
#   - after kprd's token session is killed it reconnects and LISTENs again:
#     issue and revocation still take effect at once;
#   - a kprd started while the register database is unreachable answers a
#     request with a token 503 tokens_not_loaded (with Retry-After), not 401,
#     still 401 for a request without one, and serves the token once the
#     database can be reached.
# Refused tokens are presented from addresses of their own (127.0.0.1xx),
# so they never count toward the stack's failed-token limit on 127.0.0.1.
. "$(dirname "$0")/../lib/common.sh"

W=$(mktemp -d)
PID2=""
sql() { psql -X -qtA "$KPR_REGISTER_ADMIN_DSN" -c "$1"; }
cleanup() {
  sql "ALTER TABLE kpr.api_token ENABLE TRIGGER api_token_notify" >/dev/null 2>&1
  if [ -n "$PID2" ] && kill -0 "$PID2" 2>/dev/null; then
    kill -TERM "$PID2"
    for _ in $(seq 1 100); do kill -0 "$PID2" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID2" 2>/dev/null
  fi
  rm -rf "$W" "$HTTP_HEADERS" "$KPR_VAR/tokens-kprd.conf"
}
trap cleanup EXIT

KOMMUNE=3401 # Kongsvinger: no other test uses it
issue() { "$BUILD/kprctl" token issue --kommune $KOMMUNE --name "test-tokens $1" 2>/dev/null; }
token_id() { sql "SELECT id FROM kpr.api_token WHERE name = 'test-tokens $1' AND revoked_at IS NULL"; }
revoke() { "$BUILD/kprctl" token revoke "$(token_id "$1")" >/dev/null 2>&1; }
code() { echo "$BODY" | json 'd["code"]' 2>/dev/null; }
UNKNOWN=kpr_$(printf 'x%.0s' $(seq 1 43)) # well formed, never issued
list() { # token [curl args...]: GET the submission list with it
  local t=$1; shift
  req GET "/api/v1/submissions?limit=1" -H "$(auth "$t")" "$@"
}
N=20
first_use() { # name prefix: issue N tokens, each used at once; all must pass
  local i t bad=0
  for i in $(seq 1 $N); do
    t=$(issue "$1-$i")
    list "$t"
    [ "$HTTP_STATUS" = 200 ] || { bad=$((bad + 1)); echo "    $1-$i: $HTTP_STATUS $(code)" >&2; }
  done
  [ "$bad" -eq 0 ]
}

# --- issued tokens work on the very next request --------------------------------
check "$N fresh tokens, each accepted on its first request" first_use "run$RUN-new"

gen 11 --kommune $KOMMUNE --persons 20 --out "$W/g"
F=$W/g/$KOMMUNE-2025.xml
fresh "$F"
T=$(issue "run$RUN-upload")
req POST "/api/v1/submissions?dry_run=true" -H "$(auth "$T")" -H "Content-Type: application/xml" --data-binary @"$F"
check "an upload with a token issued a moment before: 202 (got $HTTP_STATUS)" [ "$HTTP_STATUS" = 202 ]

sql "ALTER TABLE kpr.api_token DISABLE TRIGGER api_token_notify" >/dev/null
N=5 check "trigger disabled (no notification): 5 fresh tokens still accepted at once" first_use "run$RUN-nonotify"
sql "ALTER TABLE kpr.api_token ENABLE TRIGGER api_token_notify" >/dev/null

req GET "/api/v1/submissions?limit=1" -H "$(auth "$UNKNOWN")" --interface 127.0.0.100
check "an unknown token: 401 unauthenticated (after one bounded reload)" [ "$HTTP_STATUS $(code)" = "401 unauthenticated" ]

# --- revoked tokens are refused on the very next request ------------------------
revoked_at_once() { # name prefix
  local i t bad=0
  for i in $(seq 1 $N); do
    t=$(issue "$1-$i")
    list "$t"
    [ "$HTTP_STATUS" = 200 ] || { bad=$((bad + 1)); echo "    $1-$i before revoking: $HTTP_STATUS" >&2; continue; }
    revoke "$1-$i" || { bad=$((bad + 1)); echo "    $1-$i: kprctl token revoke failed" >&2; continue; }
    list "$t" --interface "127.0.0.$((100 + i))"
    [ "$HTTP_STATUS $(code)" = "401 unauthenticated" ] || { bad=$((bad + 1)); echo "    $1-$i revoked: $HTTP_STATUS $(code)" >&2; }
  done
  [ "$bad" -eq 0 ]
}
check "$N tokens, each refused on the first request after its revocation" revoked_at_once "run$RUN-revoke"

# --- a lost token session: reconnect, LISTEN again, full reload -----------------
kill_session() { # kprd's token session is the one whose last query read the tokens;
  # pg_terminate_backend waits (up to 5 s) until it is gone
  [ "$(sql "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity
            WHERE datname = 'kpr_register' AND query LIKE 'SELECT token_hash%'")" -ge 1 ]
}
listens() { grep -c "auth: listening on kpr_api_token" "$KPR_VAR/kprd.log"; }
LISTENS=$(listens)
check "kprd's token session terminated" kill_session
T=$(issue "run$RUN-lost")
list "$T"
check "right after: a fresh token accepted at once ($HTTP_STATUS)" [ "$HTTP_STATUS" = 200 ]
check "kprd's new token session terminated again" kill_session
revoke "run$RUN-lost"
list "$T" --interface 127.0.0.130
check "right after: the revoked token refused at once ($HTTP_STATUS)" [ "$HTTP_STATUS $(code)" = "401 unauthenticated" ]
N=5 check "then 5 more revocations, each at once" revoked_at_once "run$RUN-relisten"
check "kprd reconnected and LISTENed again, twice" [ "$(listens)" -ge $((LISTENS + 2)) ]

# --- 503 before the first load ---------------------------------------------------
# A second kprd on the stack's config, but whose register socket directory
# does not exist yet; linking it to the real one makes the database reachable.
SOCK=$(sed -n 's/^register_dsn = host=\([^ ]*\) .*/\1/p' "$KPR_CONFIG")
P2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
U2=https://localhost:$P2
sed -e "s/^port = .*/port = $P2/" -e "s#^register_dsn = host=[^ ]*#register_dsn = host=$W/sock#" \
  -e "s/^workers = .*/workers = 1/" "$KPR_CONFIG" > "$KPR_VAR/tokens-kprd.conf"
"$BUILD/kprd" -c "$KPR_VAR/tokens-kprd.conf" >>"$KPR_VAR/kprd-tokens.log" 2>&1 &
PID2=$!
for _ in $(seq 1 100); do curl -fs --cacert "$KPR_CACERT" -o /dev/null "$U2/healthz" && break; sleep 0.1; done
r2() { local u=$KPR_URL; KPR_URL=$U2; req "$@"; KPR_URL=$u; }
r2 GET "/api/v1/submissions?limit=1" -H "$(auth "$KPR_MUNI_TOKEN")"
check "register unreachable since start: a valid token gets 503 tokens_not_loaded, not 401" \
  [ "$HTTP_STATUS $(code)" = "503 tokens_not_loaded" ]
check "…with Retry-After ($(header Retry-After))" matches "$(header Retry-After)" '^[1-9][0-9]*$'
r2 GET "/api/v1/submissions?limit=1" -H "$(auth "$UNKNOWN")" --interface 127.0.0.131
check "…an unknown well-formed token as well (it may be valid)" [ "$HTTP_STATUS $(code)" = "503 tokens_not_loaded" ]
r2 GET "/api/v1/submissions?limit=1"
check "…a request without a token: 401" [ "$HTTP_STATUS $(code)" = "401 unauthenticated" ]
r2 GET /readyz
check "…/readyz: 503, tokens_loaded false" [ "$HTTP_STATUS $(echo "$BODY" | json 'd["tokens_loaded"]')" = "503 False" ]
check "kprd logged why" grep -q "requests with a token get 503 tokens_not_loaded" "$KPR_VAR/kprd-tokens.log"

ln -s "$SOCK" "$W/sock"
loaded() { # the refresher retries every AUTH_RETRY_SECONDS (2 s)
  for _ in $(seq 1 100); do
    [ "$(curl -s --cacert "$KPR_CACERT" "$U2/readyz" | json 'd["tokens_loaded"]' 2>/dev/null)" = True ] && return 0
    sleep 0.1
  done
  return 1
}
check "database reachable: the tokens load" loaded
r2 GET "/api/v1/submissions?limit=1" -H "$(auth "$KPR_MUNI_TOKEN")"
check "…and the same token is accepted ($HTTP_STATUS)" [ "$HTTP_STATUS" = 200 ]
T=$(issue "run$RUN-second")
r2 GET "/api/v1/submissions?limit=1" -H "$(auth "$T")"
check "…and a token issued now works on it at once too ($HTTP_STATUS)" [ "$HTTP_STATUS" = 200 ]

finish
