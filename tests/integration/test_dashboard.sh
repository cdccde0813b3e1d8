#!/usr/bin/env bash
# The monitoring dashboard: static files served by kprd (types, CSP, no
# directory traversal, validators), then the page in Debian's headless
# chromium driven by playwright-core (tests/browser/): sign in, counts,
# filters, search, sort, feedback downloads through fetch + Blob, the
# reminder list, sign out, and no request leaving localhost. Accessibility:
# axe-core checks the sign-in, the dashboard with data, the submissions
# dialog and two real HTML feedback files (units, messages, a comparison with
# the previous year) against WCAG 2.1 A and AA: no violations allowed.
# Screenshots go to $KPR_ARTIFACTS (tests/artifacts/).
# playwright-core and axe-core are installed from
# tests/browser/package-lock.json with `npm ci` when node_modules is missing
# or holds another version of either; no browser is downloaded.
# playwright-core 1.61 is the newest that runs on Debian 12's Node.js 18.
. "$(dirname "$0")/../lib/common.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -f "$HTTP_HEADERS"; rm -rf "$WORK"' EXIT
STAFF=$(auth "$KPR_STAFF_TOKEN")
export KPR_ARTIFACTS=${KPR_ARTIFACTS:-$ROOT/tests/artifacts}
mkdir -p "$KPR_ARTIFACTS"

# --- static files ----------------------------------------------------------------
req GET /
check "GET / without a token: 200" [ "$HTTP_STATUS" = 200 ]
check "GET /: text/html" [ "$(header Content-Type)" = "text/html; charset=utf-8" ]
check "GET /: Content-Security-Policy default-src 'self'" matches "$(header Content-Security-Policy)" "^default-src 'self';"
check "GET /: frame-ancestors 'none'" matches "$(header Content-Security-Policy)" "frame-ancestors 'none'"
check "GET /: X-Request-Id" [ -n "$(header X-Request-Id)" ]
check "the page loads nothing from elsewhere" fails grep -Eq '(src|href)="(https?:)?//' <<<"$BODY"
etag=$(header ETag)
req GET /static/app.js
check "app.js: text/javascript" [ "$(header Content-Type)" = "text/javascript; charset=utf-8" ]
req GET /static/app.css
check "app.css: text/css" [ "$(header Content-Type)" = "text/css; charset=utf-8" ]
req GET /static/favicon.svg
check "favicon.svg: image/svg+xml" [ "$(header Content-Type)" = "image/svg+xml" ]
req GET / -H "If-None-Match: $etag"
check "If-None-Match with the ETag: 304" [ "$HTTP_STATUS" = 304 ]
for p in /static/../../config/kprd.conf.example /static/..%2F..%2Fconfig%2Fkprd.conf.example \
         /static/%2e%2e /static/.gitignore /static/index.html~ /static/nothing.js /static/ /static; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --path-as-is --cacert "$KPR_CACERT" "$KPR_URL$p")
  check "no file outside the allowed set: $p -> $code" [ "$code" = 404 ]
done
req POST / -d x
check "POST /: 405" [ "$HTTP_STATUS" = 405 ]

# --- the browser ---------------------------------------------------------------------
if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM:-}" ]; then
  not_ok "chromium not installed (/usr/bin/chromium; apt-get install chromium)"
  finish; exit 1
fi
# node_modules is git-ignored: install when it is missing or was made from
# another lockfile (a checkout that moved to a new playwright-core)
jget() { python3 -c 'import json, sys; print(eval(sys.argv[2], {"d": json.load(open(sys.argv[1]))}))' "$@" 2>/dev/null; }
stale=""
for pkg in playwright-core axe-core; do
  want=$(jget "$ROOT/tests/browser/package-lock.json" "d['packages']['node_modules/$pkg']['version']")
  have=$(jget "$ROOT/tests/browser/node_modules/$pkg/package.json" 'd["version"]')
  if [ -z "$have" ] || [ "$have" != "$want" ]; then stale+="${stale:+, }$pkg $want"; fi
done
if [ -n "$stale" ]; then
  echo "  installing $stale (npm ci --prefix tests/browser)"
  if ! npm ci --prefix "$ROOT/tests/browser" --no-audit --no-fund --loglevel=error >"$WORK/npm.log" 2>&1; then
    sed 's/^/    /' "$WORK/npm.log" | tail -15
    not_ok "npm ci --prefix tests/browser failed: is the npm registry reachable?"
    finish; exit 1
  fi
fi

# data the page must show: one accepted and one rejected-only municipality
curl -fsS --cacert "$KPR_CACERT" -H "$STAFF" "$KPR_URL/api/v1/progress" -o "$WORK/p.json"
read -r ACC REJ < <(python3 -c '
import json, os, sys
d = json.load(open(sys.argv[1]))
avoid = set(os.environ["KPR_NAMED_KOMMUNER"].split())  # tests/lib/common.sh
m = [k["kommunenummer"] for k in d["kommuner"] if k["state"] == "missing" and k["kommunenummer"] not in avoid]
print(m[-10], m[-11])' "$WORK/p.json")
echo "  using $ACC (accepted) and $REJ (rejected)"
gen 31 --kommune "$ACC" --persons 15 --out "$WORK/gen"
TA=$(tools/kpr-dev token "$ACC" 2>/dev/null); TR=$(tools/kpr-dev token "$REJ" 2>/dev/null)
check "tokens accepted" wait_token "$TA"
wait_token "$TR"
# ACC's file from ACC's token (accepted) and from REJ's (rejected, F003)
for t in "$TA" "$TR"; do
  id=$(curl -sS --cacert "$KPR_CACERT" -H "$(auth "$t")" -H "Content-Type: application/xml" \
    --data-binary @"$WORK/gen/$ACC-2025.xml" "$KPR_URL/api/v1/submissions" | json 'd["id"]')
  for _ in $(seq 1 150); do
    st=$(curl -sS --cacert "$KPR_CACERT" -H "$STAFF" "$KPR_URL/api/v1/submissions/$id" | json 'd["status"]')
    case "$st" in received|processing) sleep 0.2 ;; *) break ;; esac
  done
  if [ "$t" = "$TA" ]; then check "$ACC's file: accepted ($st)" [ "$st" = accepted ]
  else check "the same file from $REJ: rejected ($st)" [ "$st" = rejected ]; fi
done

# real HTML feedback for the accessibility check (axe-core in the browser
# test): a third municipality sends a 2024 file, then a 2025 file, both with
# units, errors and warnings; the 2024 feedback has no previous year, the
# 2025 one compares every figure with 2024 ("Mottatt", flagged changes)
UNI=$(python3 -c '
import json, os, sys
d = json.load(open(sys.argv[1]))
avoid = set(os.environ["KPR_NAMED_KOMMUNER"].split())  # tests/lib/common.sh
m = [k["kommunenummer"] for k in d["kommuner"] if k["state"] == "missing" and k["kommunenummer"] not in avoid]
print(m[-12])' "$WORK/p.json")
echo "  using $UNI (2024 and 2025 feedback with units, for the accessibility check)"
gen 32 --aargang 2024 --kommune "$UNI" --persons 30 --units 3 --inject R103=0.1,R107=0.1 --out "$WORK/y24"
gen 33 --kommune "$UNI" --persons 40 --units 3 --inject R103=0.1,R304=0.1,R107=0.05,R110=0.05 --out "$WORK/y25"
fresh "$WORK/y24/$UNI-2024.xml" "$WORK/y25/$UNI-2025.xml"
TU=$(tools/kpr-dev token "$UNI" 2>/dev/null)
wait_token "$TU"
for y in 2024 2025; do
  id=$(curl -sS --cacert "$KPR_CACERT" -H "$(auth "$TU")" -H "Content-Type: application/xml" \
    --data-binary @"$WORK/y${y#20}/$UNI-$y.xml" "$KPR_URL/api/v1/submissions" | json 'd["id"]')
  check "$UNI's $y file: processed" wait_done "$id"
  check "…accepted with errors ($SUB_STATUS)" [ "$SUB_STATUS" = accepted_with_errors ]
  curl -fsS --cacert "$KPR_CACERT" -H "$(auth "$TU")" -o "$WORK/feedback-$y.html" \
    "$KPR_URL/api/v1/submissions/$id/feedback?format=html"
  cp "$WORK/feedback-$y.html" "$KPR_ARTIFACTS/dashboard-a11y-feedback-$y.html"
done
# what the check must see, or it would pass on a page without it
has() { grep -qF -- "$2" "$WORK/feedback-$1.html"; }
units_and_messages() {
  has 2024 '<h2>Per enhet</h2>' && has 2024 '<section class="enhet">' &&
    has 2025 '<section class="enhet">' && has 2025 'sev-WARNING">Advarsel</span></td>'
}
compared() { has 2025 '<th scope="col" class="num">2024</th>' && has 2025 '<span class="flag">'; }
check "both feedback files: units, errors and warnings" units_and_messages
check "2024 feedback: nothing to compare with" fails has 2024 '>Endring</th>'
check "2025 feedback: compared with 2024, a change flagged" compared

rm -f "$KPR_ARTIFACTS"/dashboard*.png
export DASH_ACCEPTED=$ACC DASH_REJECTED=$REJ DASH_MUNI_TOKEN=$TR NODE_EXTRA_CA_CERTS=$KPR_CACERT
export DASH_FEEDBACK_HTML="$WORK/feedback-2024.html:$WORK/feedback-2025.html"
if (cd "$ROOT/tests/browser" && timeout 75 node dashboard.test.mjs); then
  ok "the dashboard in chromium"
else
  not_ok "the dashboard in chromium (see the lines above)"
fi
check "screenshots saved in $KPR_ARTIFACTS" [ -s "$KPR_ARTIFACTS/dashboard.png" ]

finish
