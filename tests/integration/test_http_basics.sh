#!/usr/bin/env bash
# The HTTPS front against a real kprd: health and readiness, the JSON error
# shape from the registry, X-Request-Id and security headers on every
# response, routing (404/405), authentication on the first call, TLS 1.2+
# only, configuration errors naming file, line and key, and SIGHUP reload.
. "$(dirname "$0")/../lib/common.sh"

req GET /healthz; body=$BODY
check "healthz answers 200" [ "$HTTP_STATUS" = 200 ]
check "healthz says ok" [ "$(echo "$body" | json 'd["status"]')" = ok ]
check "healthz states test mode" [ "$(echo "$body" | json 'd["test_mode"]')" = True ]
rid=$(header X-Request-Id)
check "X-Request-Id is 32 hex digits" matches "$rid" '^[0-9a-f]{32}$'
check "HSTS header" [ -n "$(header Strict-Transport-Security)" ]
check "nosniff header" [ "$(header X-Content-Type-Options)" = nosniff ]

req GET /readyz; body=$BODY
check "readyz 200 with database and workers" [ "$HTTP_STATUS" = 200 ]
check "readyz reports the database" [ "$(echo "$body" | json 'd["database"]')" = True ]

req GET /no/such/path; body=$BODY
check "unknown path 404" [ "$HTTP_STATUS" = 404 ]
check "error body has code not_found" [ "$(echo "$body" | json 'd["code"]')" = not_found ]
check "error body has a message" [ -n "$(echo "$body" | json 'd["message"]')" ]
check "error body carries the request id" [ "$(echo "$body" | json 'd["request_id"]')" = "$(header X-Request-Id)" ]
check "errors have X-Request-Id too" [ -n "$(header X-Request-Id)" ]

req DELETE /healthz >/dev/null
check "wrong method 405" [ "$HTTP_STATUS" = 405 ]

req GET /metrics; m=$BODY
check "metrics in Prometheus text format" grep -q '^# TYPE kpr_http_requests_total counter' <<<"$m"

# TLS: 1.2 and 1.3 work, 1.0 and 1.1 are refused
host=${KPR_URL#https://}
check "TLS 1.2 accepted" curl -fsS --cacert "$KPR_CACERT" --tls-max 1.2 -o /dev/null "$KPR_URL/healthz"
check "TLS 1.3 accepted" curl -fsS --cacert "$KPR_CACERT" --tlsv1.3 -o /dev/null "$KPR_URL/healthz"
tls11() { openssl s_client -connect "${host/localhost/127.0.0.1}" -tls1_1 </dev/null >/dev/null 2>&1; }
check "TLS 1.1 refused" fails tls11
weak() { openssl s_client -connect "${host/localhost/127.0.0.1}" -tls1_2 -cipher 'AES128-SHA:DES-CBC3-SHA:RC4-SHA' </dev/null >/dev/null 2>&1; }
check "non-AEAD / non-forward-secret suites refused" fails weak

# configuration errors name file, line and key, and kprd exits non-zero
bad=$(mktemp -d)
printf '[server]\ntls_cert_file = x\ntls_key_file = y\nport = 99999\n' > "$bad/kprd.conf"
out=$("$BUILD/kprd" -c "$bad/kprd.conf" --check-config 2>&1); rc=$?
check "bad config exits non-zero" [ "$rc" -ne 0 ]
check "bad config names file:line: key" grep -q "kprd.conf:4: server.port" <<<"$out"
rm -rf "$bad"
check "the running config is valid" "$BUILD/kprd" -c "$KPR_CONFIG" --check-config

# SIGHUP reloads; a broken file is refused and the server keeps serving
cp "$KPR_CONFIG" "$KPR_CONFIG.bak"
sed -i 's/^level = info/level = debug/' "$KPR_CONFIG"
kill -HUP "$(kprd_pid)"; sleep 0.5
check "reload logged" grep -q "configuration reloaded" "$KPR_VAR/kprd.log"
echo "port = nonsense" >> "$KPR_CONFIG"
kill -HUP "$(kprd_pid)"; sleep 0.5
check "broken reload refused with a reason" grep -q "config reload failed, keeping the running configuration" "$KPR_VAR/kprd.log"
mv "$KPR_CONFIG.bak" "$KPR_CONFIG"
kill -HUP "$(kprd_pid)"; sleep 0.3
req GET /healthz >/dev/null
check "still serving after reloads" [ "$HTTP_STATUS" = 200 ]

finish
