#!/usr/bin/env bash
# Load: all 357 municipalities upload a kpr-gen file concurrently over
# HTTPS (small files, so this stays quick). Every upload gets 202, every
# submission ends processed, nothing is lost, and kprd's memory stays
# bounded. The full-size version with timings is `make bench`.
# run-last: afterwards no municipality is missing any more.
. "$(dirname "$0")/../lib/common.sh"

W=$(mktemp -d)
trap 'rm -rf "$W" "$HTTP_HEADERS"' EXIT
gen 7001 --all --scale 0.01 --out "$W/files"
fresh "$W"/files/*.xml
n=$(ls "$W"/files/*.xml | wc -l)
check "357 files generated" [ "$n" = 357 ]
for f in "$W"/files/*.xml; do
  k=$(basename "$f" | cut -c1-4)
  printf '%s %s\n' "$f" "$("$BUILD/kprctl" token issue --kommune "$k" --name test-load 2>/dev/null)"
done > "$W/jobs"
wait_token "$(tail -1 "$W/jobs" | cut -d' ' -f2)"
sql() { psql -X -qtA "$KPR_REGISTER_ADMIN_DSN" -c "$1"; }
rss_before=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$(kprd_pid)/status")

upload_one() {
  curl -sS -o /dev/null -w '%{http_code}\n' --cacert "$KPR_CACERT" -H "Authorization: Bearer $2" \
    -H "Content-Type: application/xml" --data-binary @"$1" "$KPR_URL/api/v1/submissions"
}
export -f upload_one
export KPR_CACERT KPR_URL
start=$(date +%s)
xargs -P 48 -L 1 bash -c 'upload_one "$0" "$1"' < "$W/jobs" > "$W/codes" 2>"$W/errors" || true
check "all 357 uploads answered 202 ($(sort "$W/codes" | uniq -c | awk '{print $1 " x " $2}' | paste -sd, -))" [ "$(grep -c '^202$' "$W/codes")" = 357 ]
check "no client errors" [ ! -s "$W/errors" ]

shas=$(sha256sum "$W"/files/*.xml | awk '{print "'"'"'" $1 "'"'"'"}' | paste -sd, -)
ids_sql="SELECT id FROM kpr.submission WHERE sha256 IN ($shas)"
for _ in $(seq 1 300); do # 150 s at most
  [ "$(sql "SELECT count(*) FROM kpr.submission WHERE id IN ($ids_sql) AND status NOT IN ('received', 'processing')")" = 357 ] && break
  sleep 0.5
done
check "all 357 processed" [ "$(sql "SELECT count(*) FROM kpr.submission WHERE id IN ($ids_sql) AND status NOT IN ('received', 'processing')")" = 357 ]
check "all 357 accepted" [ "$(sql "SELECT count(*) FROM kpr.submission WHERE id IN ($ids_sql) AND status IN ('accepted', 'superseded')")" = 357 ]
expected=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["persons"])' "$W/files/manifest.json")
check "every person of every file in the register" [ "$(sql "SELECT count(*) FROM kpr.person WHERE submission_id IN ($ids_sql)")" = "$expected" ]
check "no job left behind" [ "$(sql "SELECT count(*) FROM kpr.job WHERE submission_id IN ($ids_sql) AND state <> 'done'")" = 0 ]
hwm=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$(kprd_pid)/status")
echo "  kprd RSS before $rss_before MiB, peak $hwm MiB; $(( $(date +%s) - start )) s for 357 uploads"
bound=256 # MiB; AddressSanitizer's shadow memory and quarantine (make asan) cost several times that
[ "${KPR_SANITIZED:-0}" = 1 ] && bound=1024
check "kprd peak memory under $bound MiB" [ "$hwm" -lt "$bound" ]
req GET /readyz
check "still ready" [ "$HTTP_STATUS" = 200 ]

finish
