#!/usr/bin/env bash
# The OpenAPI document (docs/openapi.yaml): kprd serves exactly it at
# GET /api/v1/openapi.yaml without a token (application/yaml, ETag, 304);
# it is a valid OpenAPI 3.1 document that agrees with the route table and the
# error registry (tests/openapi/run lint); the checks catch deliberate drift
# (tests/openapi/run selftest); and a real response recorded through req()
# fails the conformance check once the document drifts from it. Every other
# exchange the integration tests make is checked by run-all's final
# "openapi conformance" step.
# The checkers are installed from tests/openapi/package-lock.json with
# `npm ci` when node_modules is missing.
. "$(dirname "$0")/../lib/common.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DOC=$ROOT/docs/openapi.yaml
W=$(mktemp -d)
trap 'rm -f "$HTTP_HEADERS"; rm -rf "$W"' EXIT

# --- served by kprd ----------------------------------------------------------------
req GET /api/v1/openapi.yaml
check "GET /api/v1/openapi.yaml without a token: 200" [ "$HTTP_STATUS" = 200 ]
check "served as application/yaml" [ "$(header Content-Type)" = application/yaml ]
check "the served document is docs/openapi.yaml, byte for byte" cmp -s <(printf '%s' "$BODY") "$DOC"
etag=$(header ETag)
check "ETag: the document's SHA-256 (first 128 bits)" [ "$etag" = "\"$(sha256sum "$DOC" | cut -c1-32)\"" ]
check "X-Request-Id" matches "$(header X-Request-Id)" '^[0-9a-f]{32}$'
req GET /api/v1/openapi.yaml -H "If-None-Match: $etag"
check "If-None-Match with the ETag: 304 without a body" [ "$HTTP_STATUS:${#BODY}" = 304:0 ]
req GET /api/v1/openapi.yaml -H "If-None-Match: \"0123\""
check "If-None-Match with another ETag: 200" [ "$HTTP_STATUS" = 200 ]
req GET /api/v1/openapi.yaml -H "Authorization: Bearer not-a-token"
check "a wrong token does not matter: 200" [ "$HTTP_STATUS" = 200 ]
req POST /api/v1/openapi.yaml -d x
check "POST: 405 method_not_allowed" [ "$HTTP_STATUS $(echo "$BODY" | json 'd["code"]')" = "405 method_not_allowed" ]
head=$(curl -sS -I --cacert "$KPR_CACERT" "$KPR_URL/api/v1/openapi.yaml" | tr -d '\r')
check "HEAD: 200 with the length of the document" grep -qix "content-length: $(stat -c %s "$DOC")" <<<"$head"

# --- error answers other tests check with plain curl, through req() here so
# the final conformance step sees their documented shape too
MUNI=$(auth "$KPR_MUNI_TOKEN") STAFF=$(auth "$KPR_STAFF_TOKEN")
NOID=00000000-0000-4000-8000-000000000000
req POST /api/v1/submissions -H "$MUNI" -H "Content-Type: application/xml"
check "upload without a length: 411 length_required" [ "$HTTP_STATUS $(echo "$BODY" | json 'd["code"]')" = "411 length_required" ]
req POST /api/v1/submissions -H "$MUNI" -H "Content-Type: application/xml" -H "Content-Encoding: br" --data-binary x
check "upload with Content-Encoding br: 415 unsupported_content_encoding" [ "$HTTP_STATUS $(echo "$BODY" | json 'd["code"]')" = "415 unsupported_content_encoding" ]
req GET /api/v1/submissions
check "list without a token: 401" [ "$HTTP_STATUS" = 401 ]
req GET "/api/v1/submissions/$NOID"
check "a submission without a token: 401" [ "$HTTP_STATUS" = 401 ]
req GET "/api/v1/submissions/$NOID/feedback?format=json" -H "$STAFF"
check "feedback of no submission: 404" [ "$HTTP_STATUS" = 404 ]
req GET "/api/v1/submissions/$NOID/feedback" # (no wrong tokens here: they count toward the lockout)
check "feedback without a token: 401" [ "$HTTP_STATUS" = 401 ]
req GET /static/nothing.js
check "a static file that does not exist: 404" [ "$HTTP_STATUS" = 404 ]

# --- the document itself -------------------------------------------------------------
out=$("$ROOT/tests/openapi/run" lint 2>&1); rc=$?
sed 's/^/  /' <<<"$out" | grep -v '^  openapi lint:' || true
check "lint: valid OpenAPI 3.1, strict JSON Schema, route table and error registry agree" [ "$rc" = 0 ]
out=$("$ROOT/tests/openapi/run" selftest 2>&1); rc=$?
grep FAIL <<<"$out" | sed 's/^/  /' || true
check "selftest: $(tail -1 <<<"$out")" [ "$rc" = 0 ]

# --- a real response against a drifted document --------------------------------------
( KPR_EXCHANGES=$W/ex; req GET /healthz )
out=$(node "$ROOT/tests/openapi/conformance.mjs" "$DOC" "$W/ex" 2>&1)
check "conformance: the recorded /healthz answer passes the document" grep -q "^openapi conformance: 1 passed, 0 failed" <<<"$out"
sed 's/required: \[status, version, test_mode\]/required: [status, version, test_mode, uptime_seconds]/' "$DOC" > "$W/drift.yaml"
check "the drifted copy differs" fails cmp -s "$DOC" "$W/drift.yaml"
out=$(node "$ROOT/tests/openapi/conformance.mjs" "$W/drift.yaml" "$W/ex" 2>&1); rc=$?
check "conformance fails when the document requires a member kprd does not send" [ "$rc" != 0 ]
check "the failure names the member" grep -q "uptime_seconds" <<<"$out"
check "the failure names the test and line that made the request" grep -q "made by test_openapi (test_openapi.sh:[0-9]" <<<"$out"

finish
