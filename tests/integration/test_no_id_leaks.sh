#!/usr/bin/env bash
# National IDs never leave the vault in clear (SPEC §4): known IDs (every
# <Fnr> of a kpr-gen file, kept in a private temporary file, never in an
# artifact) go through the whole pipeline — a valid upload, a file with
# broken and duplicated IDs (so messages are produced) and a dry run — and
# then kprd's log, a pg_dump of both databases, the spool, every feedback
# file (on disk and as served), the status JSON and /metrics are searched
# for them. Only counts are printed, never a match.
. "$(dirname "$0")/../lib/common.sh"

WORK=$(mktemp -d /tmp/kpr-leaks-XXXXXX)
chmod 700 "$WORK"
trap 'rm -rf "$WORK"; rm -f "$HTTP_HEADERS"' EXIT
IDS=$WORK/ids

seed=$(( 20000 + RANDOM ))
"$BUILD/kpr-gen" --kommune 0301 --persons 40 --seed "$seed" --out "$WORK/valid" >/dev/null 2>&1
"$BUILD/kpr-gen" --kommune 0301 --persons 40 --seed $((seed + 1)) --out "$WORK/bad" \
  --inject R102=0.05,R103=0.1,R104=0.1,R105=0.1,R106=0.05 >/dev/null 2>&1
"$BUILD/kpr-gen" --kommune 0301 --persons 20 --seed $((seed + 2)) --out "$WORK/dry" >/dev/null 2>&1
valid=$WORK/valid/0301-2025.xml bad=$WORK/bad/0301-2025.xml dry=$WORK/dry/0301-2025.xml
check "kpr-gen wrote the three files" test -s "$valid" -a -s "$bad" -a -s "$dry"

# every 11-digit Fnr value, valid or not (a bad checksum is still someone's ID)
cat "$valid" "$bad" "$dry" | grep -oE '<Fnr>[0-9]{11}</Fnr>' | sed -E 's#</?Fnr>##g' | sort -u > "$IDS"
nids=$(wc -l < "$IDS")
check "known IDs collected ($nids)" [ "$nids" -ge 90 ]

# count of ID occurrences in files/dirs given; prints only the number
count_ids() { { grep -rFaoh -f "$IDS" "$@" 2>/dev/null || true; } | wc -l; }
count_ids_stdin() { { grep -Fao -f "$IDS" || true; } | wc -l; }
check "the search finds the IDs where they are (the uploaded files)" \
  [ "$(count_ids "$valid" "$bad" "$dry")" -ge "$nids" ]

upload() { # file [query] -> sets SUB_ID
  req POST "/api/v1/submissions${2:-}" -H "$(auth "$KPR_MUNI_TOKEN")" \
    -H "Content-Type: application/xml" --data-binary @"$1"
  SUB_ID=$(echo "$BODY" | json 'd["id"]' 2>/dev/null)
}
wait_done() { # id -> sets SUB_STATUS
  for _ in $(seq 1 150); do
    req GET "/api/v1/submissions/$1" -H "$(auth "$KPR_STAFF_TOKEN")"
    SUB_STATUS=$(echo "$BODY" | json 'd["status"]' 2>/dev/null)
    case "$SUB_STATUS" in received|processing|"") sleep 0.2 ;; *) return 0 ;; esac
  done
  return 1
}

upload "$valid"; id_valid=$SUB_ID
check "valid file taken (202)" [ "$HTTP_STATUS" = 202 ]
wait_done "$id_valid"
check "valid file accepted" [ "$SUB_STATUS" = accepted ]

upload "$bad"; id_bad=$SUB_ID
check "file with broken IDs taken" [ "$HTTP_STATUS" = 202 ]
wait_done "$id_bad"
check "file with broken IDs processed with errors ($SUB_STATUS)" \
  matches "$SUB_STATUS" '^(accepted_with_errors|rejected)$'
req GET "/api/v1/submissions/$id_bad" -H "$(auth "$KPR_STAFF_TOKEN")"
n_err=$(echo "$BODY" | json 'd["counts"]["messages"]["error"]' 2>/dev/null)
check "the broken IDs produced error messages ($n_err)" [ "${n_err:-0}" -gt 0 ]

upload "$dry" "?dry_run=true"; id_dry=$SUB_ID
check "dry run taken" [ "$HTTP_STATUS" = 202 ]
wait_done "$id_dry"
check "dry run validated" [ "$SUB_STATUS" = validated ]

# what the API serves: status JSON, feedback in every format, /metrics
served=$WORK/served
: > "$served"
for id in "$id_valid" "$id_bad" "$id_dry"; do
  req GET "/api/v1/submissions/$id" -H "$(auth "$KPR_STAFF_TOKEN")"; echo "$BODY" >> "$served"
  for f in csv xml html json; do
    req GET "/api/v1/submissions/$id/feedback?format=$f" -H "$(auth "$KPR_MUNI_TOKEN")"
    echo "$BODY" >> "$served"
  done
done
req GET "/api/v1/submissions?kommune=0301" -H "$(auth "$KPR_STAFF_TOKEN")"; echo "$BODY" >> "$served"
check "feedback was served" grep -q 'regel;alvorlighet;ref;linje;element;melding;verdi' "$served"
check "feedback masks IDs (NNNNNN*****)" grep -qE '[0-9]{6}\*{5}' "$served"
check "no ID in status JSON or served feedback" [ "$(count_ids "$served")" -eq 0 ]
check "no ID in /metrics" [ "$(curl -sS --cacert "$KPR_CACERT" "$KPR_URL/metrics" | count_ids_stdin)" -eq 0 ]

check "no ID in kprd's log" [ "$(count_ids "$KPR_VAR/kprd.log")" -eq 0 ]
check "no ID in the feedback files on disk" [ "$(count_ids "$KPR_VAR/feedback")" -eq 0 ]

pg_dump "$KPR_REGISTER_ADMIN_DSN" > "$WORK/register.sql" 2>"$WORK/dump.err"
check "pg_dump of the register" test -s "$WORK/register.sql"
pg_dump "$KPR_VAULT_ADMIN_DSN" > "$WORK/vault.sql" 2>>"$WORK/dump.err"
check "pg_dump of the vault" test -s "$WORK/vault.sql"
check "the vault holds rows for these persons" grep -q 'COPY vault.entry' "$WORK/vault.sql"
check "no ID in the register database" [ "$(count_ids "$WORK/register.sql")" -eq 0 ]
check "no ID in the vault database (encrypted only)" [ "$(count_ids "$WORK/vault.sql")" -eq 0 ]

# PostgreSQL's own log (reid_fetch logs pseudonyms there, never IDs)
pglog=$(ls "$KPR_VAR"/pg/postgresql.log /var/tmp/kpr-pg-*/postgresql.log 2>/dev/null | head -1)
if [ -n "$pglog" ] && [ -r "$pglog" ]; then
  check "no ID in PostgreSQL's log" [ "$(count_ids "$pglog")" -eq 0 ]
fi

check "no core dump left behind" [ -z "$(find "$KPR_VAR" -maxdepth 2 -name 'core*' -type f 2>/dev/null)" ]

# The spool: it holds a received file until it is processed (the durability
# promise of the 202), but the spool *after processing* must hold no ID:
# kprd removes a file once its submission is processed (server/src/ingest.c;
# [intake] keep_processed_files = true would keep them, and fail this).
spool_ids=0
for _ in $(seq 1 25); do
  spool_ids=$(count_ids "$KPR_VAR/spool")
  [ "$spool_ids" -eq 0 ] && break
  sleep 0.2
done
check "no ID in the spool after processing ($spool_ids found)" \
  [ "$spool_ids" -eq 0 ]

finish
