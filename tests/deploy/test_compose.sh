#!/usr/bin/env bash
# test_compose.sh [BUILD] — docker-compose.yml started for real with
# podman-compose (make check-deploy): images built from Debian packages on a
# local debian:12, first run, an upload through the published port, kill -9
# of kprd mid-load, down + up, the vault's isolation, kprd's read-only root,
# and no national ID in any container's log.
#
# Runs as root (podman rootful). Takes BUILD (default build/) for kpr-gen,
# which makes the test files on the host; nothing else of the host build is
# used: kprctl runs in the images.
#
# Facts about the development machine this test copes with:
#  - no public image registry: debian:12 is made locally
#    (tests/deploy/make-base-image, from tools/fresh-debian-check's cached
#    debootstrap root); the images built on it stay in podman's store, so a
#    second run builds from cached layers;
#  - the runtime may not set rlimits, and crun refuses the hybrid cgroup
#    layout: CONTAINERS_CONF points at tests/deploy/containers.conf
#    (default_ulimits = [], runtime runc) for every podman call here;
#  - PID 1 is not systemd, so podman 4.3 runs no health checks, and
#    podman-compose 1.0.3 ignores depends_on conditions: the test polls
#    /readyz itself and kpr-init waits for the databases itself.
#
# Environment: KPR_HTTPS_PORT (default: a free port from 18443 up),
# KPR_DEPLOY_PROJECT (compose project name, default kprdeploytest),
# KPR_DEPLOY_KEEP=1 (leave the stack, its volumes and the work directory).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
T0=$SECONDS
T_PASS=0 T_FAIL=0
ok() { T_PASS=$((T_PASS + 1)); echo "  ok   $*"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "  FAIL $*"; }
check() { # description, command...
  local d=$1; shift
  if "$@"; then ok "$d"; else not_ok "$d"; return 1; fi
}
say() { echo "test_compose: $*"; }
elapsed() { echo "$((SECONDS - T0))s"; }
finish() {
  echo "test_compose: $T_PASS passed, $T_FAIL failed ($(elapsed))"
  [ "$T_FAIL" -eq 0 ]
}
die() { not_ok "$*"; finish; exit 1; }

[ "$(id -u)" -eq 0 ] || { echo "test_compose: run as root (podman rootful)" >&2; exit 2; }
for t in podman podman-compose curl python3 openssl; do
  command -v "$t" >/dev/null || die "$t is missing (KPR_WITH_PODMAN=1 tools/install-deps)"
done
[ -x "$BUILD/kpr-gen" ] || die "$BUILD/kpr-gen is missing: make all first"

# this machine: no rlimits for containers, runc instead of crun (see the file)
export CONTAINERS_CONF=$ROOT/tests/deploy/containers.conf
P=${KPR_DEPLOY_PROJECT:-kprdeploytest}
W=$(mktemp -d /tmp/kpr-deploy-XXXXXX)
chmod 755 "$W"
LOG=$W/compose.log
export KPR_SECRETS=$W/secrets KPR_CONF=$W/kprd.conf
if [ -z "${KPR_HTTPS_PORT:-}" ]; then
  KPR_HTTPS_PORT=$(python3 - <<'PY'
import socket
for p in range(18443, 18543):
    s = socket.socket()
    try:
        s.bind(("0.0.0.0", p)); s.close(); print(p); break
    except OSError:
        pass
PY
)
fi
export KPR_HTTPS_PORT
URL=https://localhost:$KPR_HTTPS_PORT
CACERT=$KPR_SECRETS/tls/cert.pem

compose() { podman-compose -p "$P" -f "$ROOT/docker-compose.yml" "$@" >>"$LOG" 2>&1; }
cname() { echo "${P}_$1_1"; } # podman-compose 1.0.3 names containers project_service_N
cleanup() {
  local rc=$?
  if [ "${KPR_DEPLOY_KEEP:-0}" = 1 ]; then
    say "kept: project $P (podman-compose -p $P -f $ROOT/docker-compose.yml down -v), work directory $W"
  else
    podman-compose -p "$P" -f "$ROOT/docker-compose.yml" down -v >>"$LOG" 2>&1 || true
    podman network rm -f "${P}_default" >/dev/null 2>&1 || true
    rm -rf "$W"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "project $P, https port $KPR_HTTPS_PORT, work directory $W"

# a stack of an earlier run that was killed outright; its network too (a
# network made before the dnsname plugin was installed resolves no names)
podman-compose -p "$P" -f "$ROOT/docker-compose.yml" down -v >>"$LOG" 2>&1 || true
podman network rm -f "${P}_default" >/dev/null 2>&1 || true

# --- 1. images ---------------------------------------------------------------
t=$SECONDS
check "debian:12 made locally from the debootstrap'd bookworm" "$ROOT/tests/deploy/make-base-image" podman ||
  die "no base image"
check "images built from debian:12 with Debian's packages ($((SECONDS - t))s incl. base)" compose build ||
  { tail -40 "$LOG"; die "build failed"; }
say "build: $((SECONDS - t))s"
# (the layers stay in podman's store, the build stage's too: the next run
# builds from cache. A changed source tree leaves the old build stage
# behind untagged, about 1.4 GB: `podman image prune` removes those.)
base_of() { podman image inspect --format '{{index .Labels "kpr.base.root"}}' "$1" 2>/dev/null; }
for img in kpr-kprd:latest kpr-postgres:15; do
  check "$img is built on the local debian:12 ($(base_of $img))" [ -n "$(base_of $img)" ]
done
check "the database image runs Debian's postgresql-15" \
  bash -c "podman run --rm --entrypoint dpkg-query kpr-postgres:15 -W -f '\${Version}' postgresql-15 | grep -q deb12"

# --- 2. first run ----------------------------------------------------------------
check "tools/kpr-deploy-secrets writes deploy/secrets (keys by kprctl in the kprd image)" \
  env KPR_BUILD="$W/no-host-build" KPR_CONTAINER=podman "$ROOT/tools/kpr-deploy-secrets" "$KPR_SECRETS" ||
  die "no secrets"
check "…and running it again changes nothing" bash -c "
  before=\$(find '$KPR_SECRETS' -type f -exec sha256sum {} + | sort)
  KPR_BUILD='$W/no-host-build' '$ROOT/tools/kpr-deploy-secrets' '$KPR_SECRETS' 2>/dev/null
  [ \"\$before\" = \"\$(find '$KPR_SECRETS' -type f -exec sha256sum {} + | sort)\" ]"
# the production configuration, in test mode (kpr-gen's IDs are synthetic)
# with a short job lease, so that the job kprd held when killed is taken
# over soon after it comes back
python3 - "$ROOT/deploy/compose/kprd.conf" "$KPR_CONF" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r"(?m)^test_mode = false$", "test_mode = true\njob_lease_seconds = 15\njob_retry_backoff_seconds = 1", text)
open(sys.argv[2], "w").write(text)
PY
chmod 644 "$KPR_CONF"
check "test configuration: the compose one with test_mode on" grep -q '^test_mode = true' "$KPR_CONF"

ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" "$URL/readyz")" = 200 ]; }
wait_ready() { # seconds
  local t=$SECONDS
  until ready; do
    [ $((SECONDS - t)) -lt "$1" ] || return 1
    sleep 1
  done
}
t=$SECONDS
check "podman-compose up -d" compose up -d || { tail -40 "$LOG"; die "up failed"; }
check "kprd ready on $URL (polled: no health checks here)" wait_ready 240 ||
  { podman logs "$(cname kpr-init)" 2>&1 | tail -20; podman logs "$(cname kprd)" 2>&1 | tail -20; die "not ready"; }
say "up until ready: $((SECONDS - t))s"
state() { podman inspect --format "{{.State.$2}}" "$(cname "$1")" 2>/dev/null; }
check "kpr-init ran once and exited 0" [ "$(state kpr-init Status)" = exited ] && [ "$(state kpr-init ExitCode)" = 0 ]
check "kpr-init migrated both databases" bash -c "podman logs $(cname kpr-init) 2>&1 | grep -q '^vault .*applied now' && podman logs $(cname kpr-init) 2>&1 | grep -q '^register .*applied now'"
out=$(podman start -a "$(cname kpr-init)" 2>&1)
check "kpr-init run again: exit 0, nothing applied now (idempotent)" \
  bash -c "[ '$(state kpr-init ExitCode)' = 0 ] && ! grep -q 'applied now' <<<'$out' && grep -q 'kpr-init: done' <<<'$out'"
check "the certificate is the demonstration one from deploy/secrets" \
  bash -c "curl -fsS --cacert '$CACERT' '$URL/healthz' | grep -q test_mode"

# tokens, as the README shows: compose exec into kprd, the register admin
# password on standard input (kprd's container holds none)
token() { # kommune
  podman-compose -p "$P" -f "$ROOT/docker-compose.yml" exec -T kprd \
    kpr-admin token issue --kommune "$1" --name "deploy test $1" \
    <"$KPR_SECRETS/register_admin_password" 2>>"$LOG" | grep -E '^kpr_[[:graph:]]{20,}$' | tail -1
}  # (podman-compose adds its own lines to stdout; the token is kprctl's)
KOMMUNER=(0301 4601 5001 1103 3301 1804)
declare -A TOKEN
for k in "${KOMMUNER[@]}"; do TOKEN[$k]=$(token "$k"); done
check "tokens issued with compose exec kprd kpr-admin (${#TOKEN[@]})" \
  bash -c "[ ${#TOKEN[@]} = ${#KOMMUNER[@]} ] && ! printf '%s\n' ${TOKEN[*]} | grep -qvE '^[[:graph:]]{20,}\$'"

SQL_REG() { # sql: as the register's admin, inside the register-db container
  podman exec -i "$(cname register-db)" sh -c \
    'PGPASSWORD=$(cat /run/secrets/register_admin_password) exec psql -X -qtA -h localhost -U kpr_admin -d kpr_register -c "$1"' sh "$1"
}

# --- 3. a small national sample, kill -9 of kprd mid-load ---------------------------
G=$W/gen
mkdir -p "$G"
"$BUILD/kpr-gen" --seed 14001 --kommune "$(IFS=,; echo "${KOMMUNER[*]:1}")" --persons 12000 --out "$G/a" >/dev/null
"$BUILD/kpr-gen" --seed 14002 --kommune 0301 --persons 12000 --out "$G/b" \
  --inject R103=0.01,R105=0.01 >/dev/null
FILES=("$G/b/0301-2025.xml")
for k in "${KOMMUNER[@]:1}"; do FILES+=("$G/a/$k-2025.xml"); done
check "kpr-gen: ${#FILES[@]} files, $(cat "${FILES[@]}" | wc -c) bytes (kpr-gen --seed 14001/14002)" test -s "${FILES[5]}"
# every Fnr of the sample, for the log search at the end (never printed)
IDS=$W/ids
( umask 077; cat "${FILES[@]}" | grep -oE '<Fnr>[0-9]{11}</Fnr>' | sed -E 's#</?Fnr>##g' | sort -u >"$IDS" )

upload() { # file kommune -> id
  curl -sS --cacert "$CACERT" -H "Authorization: Bearer ${TOKEN[$2]}" -H "Content-Type: application/xml" \
    --data-binary @"$1" "$URL/api/v1/submissions" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' 2>/dev/null
}
declare -A SUB
i=0
for k in "${KOMMUNER[@]}"; do
  SUB[$k]=$(upload "${FILES[$i]}" "$k")
  i=$((i + 1))
done
n202=0
for k in "${KOMMUNER[@]}"; do [ -n "${SUB[$k]}" ] && n202=$((n202 + 1)); done
check "every upload answered 202 with an id ($n202)" [ "$n202" = "${#KOMMUNER[@]}" ]

KPID=$(state kprd Pid)
running=""
for _ in $(seq 1 200); do
  running=$(SQL_REG "SELECT count(*) FROM kpr.job WHERE state = 'running'")
  [ "${running:-0}" -gt 0 ] && break
  sleep 0.05
done
done_before=$(SQL_REG "SELECT count(*) FROM kpr.job WHERE state = 'done'")
check "kill -9 of kprd's host PID $KPID with $running job(s) running, $done_before done" \
  bash -c "[ '${running:-0}' -gt 0 ] && kill -KILL $KPID"
# the restart policy (unless-stopped) brings it back: conmon sees the exit
# and podman restarts the container; a podman kill would count as a stop
t=$SECONDS
restarted=false
for _ in $(seq 1 60); do
  pid=$(state kprd Pid)
  if [ "$(state kprd Status)" = running ] && [ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != "$KPID" ]; then
    restarted=true
    break
  fi
  sleep 0.5
done
check "the restart policy brought kprd back (new PID $(state kprd Pid), $((SECONDS - t))s)" $restarted ||
  podman start "$(cname kprd)" >>"$LOG" 2>&1
check "kprd ready again after the kill" wait_ready 120

wait_all_final() { # seconds
  local t=$SECONDS
  while [ "$(SQL_REG "SELECT count(*) FROM kpr.submission WHERE status IN ('received', 'processing')")" != 0 ]; do
    [ $((SECONDS - t)) -lt "$1" ] || return 1
    sleep 1
  done
}
check "every 202'ed submission processed (after the lease of the killed job)" wait_all_final 180
processed_once() {
  local k i=0 id st persons jobs bad=0
  for k in "${KOMMUNER[@]}"; do
    id=${SUB[$k]}
    st=$(SQL_REG "SELECT status FROM kpr.submission WHERE id = '$id'")
    persons=$(SQL_REG "SELECT count(*) FROM kpr.person WHERE submission_id = '$id'")
    jobs=$(SQL_REG "SELECT count(*) FROM kpr.job WHERE submission_id = '$id' AND state = 'done'")
    case "$st" in accepted | accepted_with_errors) ;; *) echo "    $k: status $st"; bad=1 ;; esac
    [ "$jobs" = 1 ] || { echo "    $k: $jobs done jobs"; bad=1; }
    if [ "$k" != 0301 ]; then # the clean files: every person once
      [ "$persons" = "$(grep -c '<Person ' "${FILES[$i]}")" ] || { echo "    $k: $persons persons in the register"; bad=1; }
    else
      [ "$persons" -gt 0 ] || { echo "    $k: no persons"; bad=1; }
    fi
    i=$((i + 1))
  done
  [ $bad = 0 ]
}
check "each exactly once: accepted, one done job, the file's persons once in the register" processed_once
retried=$(SQL_REG "SELECT count(*) FROM kpr.job WHERE attempts > 1")
check "the job(s) kprd held when killed ran again ($retried with attempts > 1)" [ "${retried:-0}" -ge 1 ]
TOTAL=$(SQL_REG "SELECT count(*) FROM kpr.person")
# the committed attempts' feedback files (<id>.<token>.<ext>): a killed
# attempt's stale files may also be there until the reconciler removes them
current_feedback() {
  local names
  names=$(SQL_REG "SELECT string_agg(id || '.' || feedback_token || '.' || f, ' ') FROM kpr.submission,
                   unnest(ARRAY['csv', 'xml', 'html', 'json', 'xlsx']) f WHERE feedback_token IS NOT NULL")
  podman exec "$(cname kprd)" sh -c "cd /var/lib/kpr/feedback && ls $names 2>/dev/null | wc -l"
}
SPOOLED=$(current_feedback)
WITH_FB=$(SQL_REG "SELECT count(*) FROM kpr.submission WHERE feedback_token IS NOT NULL")
check "every processed submission's five feedback files on the volume ($SPOOLED)" [ "$SPOOLED" = $((5 * WITH_FB)) ]

# --- 4. down, then up: the data is on its volumes -------------------------------------
t=$SECONDS
check "podman-compose down" compose down
check "…removes the containers, keeps the volumes" bash -c "
  [ -z \"\$(podman ps -a --filter label=io.podman.compose.project=$P -q)\" ] &&
  for v in register-data vault-data spool feedback; do podman volume exists ${P}_\$v || exit 1; done"
check "podman-compose up -d again" compose up -d
check "kprd ready again ($((SECONDS - t))s from down)" wait_ready 300
check "the register kept its $TOTAL persons" [ "$(SQL_REG "SELECT count(*) FROM kpr.person")" = "$TOTAL" ]
check "the tokens still work" \
  [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" -H "Authorization: Bearer ${TOKEN[4601]}" "$URL/api/v1/submissions?limit=1")" = 200 ]
check "the feedback volume kept its files ($SPOOLED)" \
  [ "$(current_feedback)" = "$SPOOLED" ]
fb=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" -H "Authorization: Bearer ${TOKEN[4601]}" \
  "$URL/api/v1/submissions/${SUB[4601]}/feedback?format=csv")
check "a feedback file is served after the restart ($fb)" [ "$fb" = 200 ]

# --- 4b. backup and restore of both databases, as the runbook (§12) does them --------
# (podman exec, not podman-compose exec: podman-compose 1.0.3 writes lines of
# its own to standard output and does not pass the exit status on)
dump() { # service db
  podman exec -i "${P}_$1_1" sh -c \
    'PGPASSWORD=$(cat /run/secrets/'"${1%-db}"'_admin_password) exec pg_dump -h localhost -U kpr_admin -Fc '"$2" \
    2>>"$LOG" >"$W/$2.dump"
}
restore() { # service db
  podman exec -i "${P}_$1_1" sh -c \
    'export PGPASSWORD=$(cat /run/secrets/'"${1%-db}"'_admin_password) PGHOST=localhost PGUSER=kpr_admin
     dropdb '"$2"' && createdb '"$2"' && pg_restore --exit-on-error -d '"$2" \
    <"$W/$2.dump" >>"$LOG" 2>&1
}
check "pg_dump of the register and of the vault (exec in each database container)" \
  bash -c "$(declare -f dump); P=$P ROOT=$ROOT W=$W LOG=$LOG; dump register-db kpr_register && dump vault-db kpr_vault &&
    [ \$(head -c 5 $W/kpr_register.dump) = PGDMP ] && [ \$(head -c 5 $W/kpr_vault.dump) = PGDMP ]"
t=$SECONDS
compose stop kprd
check "restore: both databases dropped and restored from the dumps (kprd stopped)" \
  bash -c "$(declare -f restore); P=$P ROOT=$ROOT W=$W LOG=$LOG; restore register-db kpr_register && restore vault-db kpr_vault"
check "kpr-init after the restore: passwords set again, nothing to migrate" \
  bash -c "out=\$(podman start -a $(cname kpr-init) 2>&1); ! grep -q 'applied now' <<<\"\$out\" && grep -q 'kpr-init: done' <<<\"\$out\""
compose start kprd
check "kprd ready on the restored databases ($((SECONDS - t))s)" wait_ready 120
check "the restored register has its $TOTAL persons" [ "$(SQL_REG "SELECT count(*) FROM kpr.person")" = "$TOTAL" ]
check "the tokens work on the restored register" \
  [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" -H "Authorization: Bearer ${TOKEN[1103]}" "$URL/api/v1/submissions?limit=1")" = 200 ]

# --- 5. the vault: its own container and volume; kprd's role cannot read it -----------
mounts() { podman inspect --format '{{range .Mounts}}{{.Name}}{{.Source}} -> {{.Destination}}{{"\n"}}{{end}}' "$(cname "$1")"; }
check "vault-data is mounted in vault-db only" bash -c "
  mounts() { podman inspect --format '{{range .Mounts}}{{.Name}} {{.Destination}}{{\"\n\"}}{{end}}' ${P}_\$1_1; }
  mounts vault-db | grep -q '^${P}_vault-data /var/lib/postgresql/data\$' &&
  ! mounts register-db | grep -q vault-data && ! mounts kprd | grep -q vault-data &&
  ! mounts register-db | grep -q '^${P}_vault-data' "
check "kprd's container has no admin password" \
  podman exec "$(cname kprd)" sh -c '! ls /run/secrets/*admin* 2>/dev/null | grep -q .'
vault_as_ingest() { # sql
  podman exec -i "$(cname vault-db)" sh -c \
    'PGPASSWORD=$(cat) exec psql -X -qtA -h localhost -U kpr_ingest -d kpr_vault -c "$1"' sh "$1" \
    <"$KPR_SECRETS/db/kpr_vault_ingest.pw" 2>&1
}
check "kpr_ingest logs in to the vault" bash -c "[ \"\$(cat)\" = 1 ]" <<<"$(vault_as_ingest 'SELECT 1')"
check "…and cannot read vault.entry (permission denied)" \
  grep -q 'permission denied' <<<"$(vault_as_ingest 'SELECT count(*) FROM vault.entry')"
nvault=$(podman exec -i "$(cname vault-db)" sh -c \
  'PGPASSWORD=$(cat /run/secrets/vault_admin_password) exec psql -X -qtA -h localhost -U kpr_admin -d kpr_vault -c "SELECT count(*) FROM vault.entry"')
check "the vault holds the sample's IDs ($nvault entries, encrypted)" [ "${nvault:-0}" -gt 0 ]

# --- 6. kprd: read-only root, writes only to its volumes and tmpfs ------------------------
K=$(cname kprd)
check "kprd's container has a read-only root file system" [ "$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$K")" = true ]
check "kprd runs as uid 10001 (kpr), not root" \
  bash -c "grep -q '^Uid:[[:space:]]*10001[[:space:]]' /proc/$(state kprd Pid)/status"
check "kprd cannot write to its root (/usr, /etc, /var/lib/kpr)" \
  podman exec "$K" sh -c '! touch /usr/local/bin/x 2>/dev/null && ! touch /etc/x 2>/dev/null && ! touch /var/lib/kpr/x 2>/dev/null'
# every writable mount in kprd's mount namespace: the two volumes, tmpfs,
# and the engine's own (/dev, /etc/hosts, ...); the root and the config,
# secrets, TLS and key mounts are read-only
rw_mounts() {
  awk '{ split($6, o, ","); rw = 0; for (i in o) if (o[i] == "rw") rw = 1
         sep = 0; for (i = 7; i <= NF; i++) if ($i == "-") { sep = i; break }
         if (rw) print $5, $(sep + 1) }' "/proc/$(state kprd Pid)/mountinfo"
}
bad_rw=$(rw_mounts | awk '
  $2 ~ /^(tmpfs|proc|sysfs|devpts|mqueue|cgroup|cgroup2|devtmpfs)$/ { next }
  $1 == "/var/lib/kpr/spool" || $1 == "/var/lib/kpr/feedback" { next }
  $1 ~ /^\/(etc\/(hosts|hostname|resolv\.conf)|run\/\.containerenv)$/ { next }
  { print }')
check "writable mounts: only the spool and feedback volumes, tmpfs and the engine's files${bad_rw:+ (also: $bad_rw)}" [ -z "$bad_rw" ]
check "/ and the /etc/kpr mounts are read-only" bash -c "
  awk '\$5 == \"/\" || \$5 ~ /^\\/etc\\/kpr/ { split(\$6, o, \",\"); for (i in o) if (o[i] == \"rw\") exit 1 }' /proc/$(state kprd Pid)/mountinfo"
check "the spool is a volume (${P}_spool)" bash -c "mounts() { :; }; podman inspect --format '{{range .Mounts}}{{.Name}} {{.Destination}}{{\"\\n\"}}{{end}}' $K | grep -q '^${P}_spool /var/lib/kpr/spool\$'"

# --- 7. no national ID in any container's log -----------------------------------------------
nids=$(wc -l <"$IDS")
check "the sample's IDs collected ($nids)" [ "$nids" -ge 60000 ]
leaks=0
for c in $(podman ps -a --filter "label=io.podman.compose.project=$P" --format '{{.Names}}'); do
  n=$({ podman logs "$c" 2>&1 | grep -Fao -f "$IDS" || true; } | wc -l)
  leaks=$((leaks + n))
  [ "$n" = 0 ] || echo "    $c: $n"
done
check "no national ID in any container's log (searched: $(podman ps -a --filter "label=io.podman.compose.project=$P" -q | wc -l) containers)" [ "$leaks" = 0 ]
# (the logs of the containers before `down` went with them; kprd's kill -9
# log and kpr-init's are the ones above after the restart, so the first
# generation is searched here too)

finish
