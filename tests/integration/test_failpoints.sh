#!/usr/bin/env bash
# Crash safety at named failpoints (issue 11; SPEC §9). For each failpoint
# in server/src/core/failpoint.c, kprd is started with KPR_FAILPOINT naming it,
# a small national sample (three municipalities) is pushed, kprd kills
# itself there (SIGKILL, as kill -9), and is started again without it; a
# client retries what got no answer. Afterwards, checked against the files
# themselves (not against kprd's own figures):
#   - every upload that got 202 (or 200 on a retry) is processed exactly
#     once: one submission per file, accepted, its job done;
#   - the register holds exactly each file's persons, assessments and
#     services, and every loaded person has its vault entry (the vault's
#     primary key makes a duplicate impossible; a missing one is a loss);
#   - no spool file, partial upload, feedback temporary file or orphan
#     feedback file is left; every processed submission has its feedback,
#     served.
# A test that must be able to fail: a failpoint that is never reached fails
# the round ("kprd killed itself at ..."), so a renamed place cannot pass.
. "$(dirname "$0")/../lib/common.sh"

W=$(mktemp -d)
trap 'rm -rf "$W" "$HTTP_HEADERS"; kill -0 "$(kprd_pid)" 2>/dev/null || start_kprd' EXIT
KOMMUNER=(1820 1824 1828) # Alstahaug, Vefsn, Nesna: no other test uploads for them
declare -A TOKEN
for k in "${KOMMUNER[@]}"; do
  TOKEN[$k]=$("$BUILD/kprctl" token issue --kommune "$k" --name test-failpoints 2>/dev/null)
  wait_token "${TOKEN[$k]}"
done
sql() { psql -X -qtA "$KPR_REGISTER_ADMIN_DSN" -c "$1"; }
vsql() { psql -X -qtA "$KPR_VAULT_ADMIN_DSN" -c "$1"; }

# upload KOMMUNE FILE: prints the HTTP status (000: no answer) and the id
upload() {
  local code
  code=$(curl -sS -o "$W/resp" -w '%{http_code}' --max-time 60 --cacert "$KPR_CACERT" \
    -H "$(auth "${TOKEN[$1]}")" -H "Content-Type: application/xml" \
    --data-binary @"$2" "$KPR_URL/api/v1/submissions" 2>/dev/null) || code=000
  echo "$code $(json 'd["id"]' <"$W/resp" 2>/dev/null)"
}
wait_dead() { # pid, seconds
  for _ in $(seq 1 $(($2 * 10))); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}
wait_final() { # seconds, ids...: every id has left received/processing
  local t=$1; shift
  local list; list=$(printf "'%s'," "$@"); list=${list%,}
  for _ in $(seq 1 $((t * 5))); do
    [ "$(sql "SELECT count(*) FROM kpr.submission WHERE id IN ($list) AND status IN ('received', 'processing')")" = 0 ] && return 0
    sleep 0.2
  done
  return 1
}
# The reconciler removes a file without a database row only once it is
# older than reconcile_safe_age_minutes (60): on a shared spool another node
# may be between its rename and its INSERT. Here that time is let pass for
# the files the crash left, by ageing them, before kprd starts again.
age_leftovers() {
  find "$KPR_VAR/spool" "$KPR_VAR/feedback" -type f -exec touch -d '-2 hours' {} +
}
count_of() { # element file
  grep -c "<$1 " "$2" || true
}

ROUND=0
# round FAILPOINT[@N]: one crash and recovery with a fresh sample
round() {
  local fp=$1 k f code id pid
  ROUND=$((ROUND + 1))
  echo "# failpoint $fp"
  local -a files=() ids=() unanswered=()
  for k in "${KOMMUNER[@]}"; do
    gen $((9100 + ROUND * 10 + ${#files[@]})) --kommune "$k" --persons 60 --out "$W/r$ROUND-$k" >/dev/null
    f=$W/r$ROUND-$k/$k-2025.xml
    fresh "$f"
    files+=("$k:$f")
  done
  kill9_kprd
  KPR_FAILPOINT=$fp start_kprd || { not_ok "kprd starts with KPR_FAILPOINT=$fp"; return; }
  pid=$(kprd_pid)
  for kf in "${files[@]}"; do
    k=${kf%%:*}; f=${kf#*:}
    read -r code id < <(upload "$k" "$f")
    case $code in
      200 | 202) ids+=("$id") ;;
      000) unanswered+=("$kf") ;;
      *) not_ok "$fp: upload answered $code"; unanswered+=("$kf") ;;
    esac
    kill -0 "$pid" 2>/dev/null || break
  done
  check "$fp: kprd killed itself at the failpoint" wait_dead "$pid" 60
  age_leftovers
  start_kprd || { not_ok "$fp: kprd starts again"; return; }
  # the client retries what got no answer, and sends what it had not sent yet
  for kf in "${files[@]}"; do
    k=${kf%%:*}; f=${kf#*:}
    local sha; sha=$(sha256sum "$f" | cut -d' ' -f1)
    local known; known=$(sql "SELECT id FROM kpr.submission WHERE sha256 = '$sha' AND status <> 'failed'")
    if [ -z "$known" ] || printf '%s\n' "${unanswered[@]}" | grep -qx "$kf"; then
      read -r code id < <(upload "$k" "$f")
      check "$fp: $k (re)sent: 202, or 200 for what was recorded before the crash" matches "$code" '^20[02]$'
      [ -n "$id" ] && ids+=("$id")
    fi
  done
  ids=($(printf '%s\n' "${ids[@]}" | sort -u))
  check "$fp: every upload answered for all three files" [ "${#ids[@]}" = 3 ]
  # a killed job waits for its lease (10 s in the test stack)
  check "$fp: every submission processed after the restart" wait_final 90 "${ids[@]}"
  for kf in "${files[@]}"; do
    k=${kf%%:*}; f=${kf#*:}
    local sha row; sha=$(sha256sum "$f" | cut -d' ' -f1)
    row=$(sql "SELECT count(*), string_agg(s.status || '/' || j.state, ','), min(s.id::text)
               FROM kpr.submission s JOIN kpr.job j ON j.submission_id = s.id WHERE s.sha256 = '$sha'")
    check "$fp: $k: exactly one submission for the file, accepted, job done ($row)" matches "$row" '^1\|accepted/done\|'
    id=${row##*|}
    check "$fp: $k: persons loaded exactly once" [ "$(sql "SELECT count(*) FROM kpr.person WHERE submission_id = '$id'")" = "$(count_of Person "$f")" ]
    check "$fp: $k: assessments loaded exactly once" [ "$(sql "SELECT count(*) FROM kpr.vurdering WHERE submission_id = '$id'")" = "$(count_of Vurdering "$f")" ]
    check "$fp: $k: services loaded exactly once" [ "$(sql "SELECT count(*) FROM kpr.tjeneste WHERE submission_id = '$id'")" = "$(count_of Tjeneste "$f")" ]
    check "$fp: $k: the file is current" [ "$(sql "SELECT id FROM kpr.current_submission WHERE kommunenummer = '$k'")" = "$id" ]
    local pseud; pseud=$(sql "SELECT string_agg(DISTINCT '''\\x' || encode(pseudonym, 'hex') || '''::bytea', ',') FROM kpr.person WHERE submission_id = '$id'")
    check "$fp: $k: every loaded person has its vault entry" [ "$(vsql "SELECT count(*) FROM vault.entry WHERE pseudonym IN ($pseud)")" = "$(sql "SELECT count(DISTINCT pseudonym) FROM kpr.person WHERE submission_id = '$id'")" ]
    local served=0 fmt tok
    tok=$(sql "SELECT feedback_token FROM kpr.submission WHERE id = '$id'")
    for fmt in csv xml html json xlsx; do
      [ -f "$KPR_VAR/feedback/$id.$tok.$fmt" ] || continue
      [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$KPR_CACERT" -H "$(auth "${TOKEN[$k]}")" \
        "$KPR_URL/api/v1/submissions/$id/feedback?format=$fmt")" = 200 ] && served=$((served + 1))
    done
    check "$fp: $k: feedback complete and served in all five formats" [ "$served" = 5 ]
  done
  no_leftovers "$fp"
}

# What the crash left behind and the reconciler has not removed yet: spool
# files without a waiting submission (other tests' waiting files are
# theirs, and a failed one keeps its file for failed_file_retention_days),
# partial uploads, feedback files that are not a live submission's
# committed ones.
leftovers() { # one query per directory, whatever other tests left there
  local names
  # the query on standard input: one argument may not pass 128 KiB
  sql_in() { psql -X -qtA "$KPR_REGISTER_ADMIN_DSN" -f -; }
  names=$(find "$KPR_VAR/spool" -maxdepth 1 -type f -name '*.xml*' -printf "'%f',")
  [ -n "$names" ] && sql_in <<<"SELECT 'spool:' || n FROM unnest(ARRAY[${names%,}]::text[]) n
    WHERE NOT EXISTS (SELECT 1 FROM kpr.submission WHERE spool_name = n
                      AND status IN ('received', 'processing', 'failed'))"
  find "$KPR_VAR/spool/incoming" -name '*.part' -printf 'partial:%f\n' 2>/dev/null
  # a feedback file is the committed attempt's (<id>.<token>.<ext>, or a
  # unit's <id>.<token>.u<N>.<ext>, the token recorded) or a leftover:
  # half written, or of another attempt
  names=$(find "$KPR_VAR/feedback" -type f -printf "'%f',")
  [ -n "$names" ] && sql_in <<<"SELECT 'feedback:' || n FROM unnest(ARRAY[${names%,}]::text[]) n
    WHERE NOT EXISTS (SELECT 1 FROM kpr.submission s WHERE s.id::text = left(n, 36)
      AND s.status <> 'failed' AND substr(n, 38) ~
        ('^' || coalesce(s.feedback_token || '\.(u[0-9]+\.)?', '') || '(csv|xml|html|json|xlsx)$'))"
  return 0
}
no_leftovers() { # fp: the reconciler's start-up pass runs beside the workers: poll, bounded
  local left
  for _ in $(seq 1 50); do
    left=$(leftovers)
    [ -z "$left" ] && break
    sleep 0.2
  done
  check "$1: no orphan spool, partial, temporary or feedback file (${left:-none})" [ -z "$left" ]
}

# The uploads: the second file of a round is the one killed, so one before
# it has gone through. The jobs: the second job (the first one done).
# KPR_FAILPOINTS="a@2 b@2" runs only those (to show a round can fail).
for fp in ${KPR_FAILPOINTS:-upload.after_fsync@2 upload.after_rename@2 upload.after_insert@2 \
  job.vault_batch@2 job.after_validate@2 job.feedback_write@6 job.before_commit@2 \
  job.after_commit@2}; do
  round "$fp"
done

# An unknown failpoint name stops kprd at start-up (a typo cannot pass).
check "an unknown KPR_FAILPOINT stops kprd at start" bash -c \
  "KPR_FAILPOINT=no.such.place '$BUILD/kprd' -c '$KPR_CONFIG' >'$W/unknown.log' 2>&1; [ \$? -ne 0 ] && grep -q 'no failpoint named' '$W/unknown.log'"
finish
