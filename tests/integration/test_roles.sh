#!/usr/bin/env bash
# Database roles separate duties (SPEC §4), checked against the real
# cluster: kprd's login role (kpr_ingest) adds to the vault through
# vault.put_batch only and can never read it back or touch an audit table;
# owner roles cannot log in; nobody — not even a superuser, short of
# disabling the trigger — can change or remove an audit row; readers see
# persons only through the disclosure views.
. "$(dirname "$0")/../lib/common.sh"

# kpr_ingest connects like kprd does: the socket directory from the config
sock=$(sed -nE 's/^vault_dsn *= *.*host=([^ ]+).*/\1/p' "$KPR_CONFIG" | head -1)
port=$(sed -nE 's/^vault_dsn *= *.*port=([0-9]+).*/\1/p' "$KPR_CONFIG" | head -1)
pwfile=$KPR_VAR/secrets/kpr_ingest.pw
check "socket directory found in the config" test -d "$sock"
check "kpr_ingest password file present" test -s "$pwfile"
as_ingest() { # db, sql -> exit status of psql
  PGPASSWORD=$(cat "$pwfile") psql -X -q -At -v ON_ERROR_STOP=1 \
    "host=$sock port=${port:-5432} dbname=$1 user=kpr_ingest" -c "$2" >/dev/null 2>&1
}
admin() { # db, sql...
  local dsn=$KPR_REGISTER_ADMIN_DSN
  [ "$1" = vault ] && dsn=$KPR_VAULT_ADMIN_DSN
  shift
  psql -X -q -At -v ON_ERROR_STOP=1 "$dsn" "$@" 2>/dev/null
}

# A refusal counts only when it is the one meant. outcome runs psql and
# prints OK, or the first error as "SQLSTATE: message".
outcome() { # psql arguments...
  local err
  if err=$(psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose "$@" 2>&1 >/dev/null); then echo OK; return; fi
  sed -nE 's/^(psql:[^ ]* )?ERROR: +([0-9A-Z]{5}): (.*)$/\2: \3/p' <<<"$err" | head -1 | grep . || echo "no error line: $err"
}
dsn_of() { if [ "$1" = vault ]; then echo "$KPR_VAULT_ADMIN_DSN"; else echo "$KPR_REGISTER_ADMIN_DSN"; fi; }
db_of() { if [ "$1" = vault ]; then echo kpr_vault; else echo kpr_register; fi; }
outcome_as() { # who (ingest or a NOLOGIN role taken with SET ROLE), vault|register, sql
  if [ "$1" = ingest ]; then
    PGPASSWORD=$(cat "$pwfile") outcome "host=$sock port=${port:-5432} dbname=$(db_of "$2") user=kpr_ingest" -c "$3"
  else
    outcome "$(dsn_of "$2")" -c "SET ROLE $1" -c "$3"
  fi
}
# denied WHO DB HOLDER SQL [TABLE]: WHO gets PostgreSQL's own refusal
# (SQLSTATE 42501 "permission denied"; the append-only triggers raise 42501
# too, with their own text), and the same statement succeeds for HOLDER, a
# role holding the privilege, in a transaction that is rolled back. With
# TABLE, that transaction first turns off TABLE's own triggers (append-only,
# chain guards): they are checked on their own below, and here they would
# refuse even HOLDER.
denied() {
  local who=$1 db=$2 holder=$3 sql=$4 table=${5:-} got ctl
  local -a off=()
  [ -n "$table" ] && off=(-c "ALTER TABLE $table DISABLE TRIGGER USER")
  got=$(outcome_as "$who" "$db" "$sql")
  ctl=$(outcome "$(dsn_of "$db")" -c BEGIN "${off[@]}" -c "SET LOCAL ROLE $holder" -c "$sql" -c ROLLBACK)
  [[ $got == "42501: permission denied for "* ]] && [ "$ctl" = OK ] && return 0
  echo "    as $who: ${got}; as $holder (rolled back): $ctl" >&2
  return 1
}
# refused_by_trigger DB TABLE MESSAGE SQL: a superuser's statement stopped
# by TABLE's trigger with SQLSTATE 42501 and MESSAGE, and the same statement
# going through once TABLE's triggers are off (rolled back).
refused_by_trigger() {
  local db=$1 table=$2 msg=$3 sql=$4 got ctl
  got=$(outcome "$(dsn_of "$db")" -c "$sql")
  ctl=$(outcome "$(dsn_of "$db")" -c BEGIN -c "ALTER TABLE $table DISABLE TRIGGER USER" -c "$sql" -c ROLLBACK)
  [ "$got" = "42501: $msg" ] && [ "$ctl" = OK ] && return 0
  echo "    as superuser: ${got}; with the triggers off (rolled back): $ctl" >&2
  return 1
}

check "kpr_ingest logs in to the vault" as_ingest kpr_vault "SELECT 1"

# put_batch with the keys this installation uses (a junk ciphertext: the
# vault cannot tell, which is the point of write-only); first, so the keys
# are registered for the direct INSERT below even on a stack that has not
# loaded anything yet. The bytes are fixed per run of this test on the stack
# (RUN): a second run must not repeat a pseudonym or an (enc, seq).
status=$("$BUILD/kprctl" keys status --dir "$KPR_VAR/keys" 2>/dev/null)
fp=$(awk '$1 == "pseudonym" && $2 == 1 {print $3}' <<<"$status")
rid=$(awk '$1 == "reid-public" {print $3}' <<<"$status")
check "key fingerprints from kprctl keys status" matches "$fp:$rid" '^[0-9a-f]{16}:[0-9a-f]{16}$'
bytes() { # n label: n bytes as hex, the same for the same run and label
  local h; h=$(printf 'test_roles %s %s' "$RUN" "$2" | sha512sum | cut -c1-128)
  echo "${h:0:$((2 * $1))}"
}
put="SELECT vault.put_batch(1, '$fp', '$rid', decode('$(bytes 32 enc)', 'hex'),
       ARRAY[decode('$(bytes 16 pseudonym)', 'hex')], ARRAY[0::bigint], ARRAY[decode('$(bytes 27 ct)', 'hex')])"
check "ingest can call vault.put_batch" as_ingest kpr_vault "$put"
unknown_version() {
  local got
  got=$(outcome_as ingest vault "SELECT vault.put_batch(99, '$fp', '$rid', decode('$(bytes 32 enc99)', 'hex'),
     ARRAY[decode('$(bytes 16 pseudonym99)', 'hex')], ARRAY[0::bigint], ARRAY[decode('$(bytes 27 ct99)', 'hex')])")
  [[ $got == "KV001: pseudonym key version 99 is not registered"* ]] || { echo "    got: $got" >&2; return 1; }
}
check "put_batch with an unknown key version is refused (KV001)" unknown_version

# --- the vault: add, never read ----------------------------------------------
check "ingest cannot SELECT vault.entry" denied ingest vault kpr_vault_owner "SELECT count(*) FROM vault.entry"
check "ingest cannot UPDATE vault.entry" denied ingest vault kpr_vault_owner "UPDATE vault.entry SET last_seen = now()"
check "ingest cannot DELETE vault.entry" denied ingest vault kpr_vault_owner "DELETE FROM vault.entry"
check "ingest cannot INSERT into vault.entry directly" denied ingest vault kpr_vault_owner \
  "INSERT INTO vault.entry (pseudonym, key_version, reid_key_id, enc, seq, ct)
   VALUES (decode('$(bytes 16 direct-pseudonym)', 'hex'), 1, '$rid', decode('$(bytes 32 direct-enc)', 'hex'), 0,
           decode('$(bytes 27 direct-ct)', 'hex'))"
check "ingest cannot call vault.reid_fetch" denied ingest vault kpr_reid \
  "SELECT * FROM vault.reid_fetch(decode(repeat('00', 16), 'hex'), 1, 'SAK-1', 'a long enough reason')"
check "ingest cannot SELECT the key registry" denied ingest vault kpr_vault_owner "SELECT * FROM vault.pseudonym_key"

# --- audit tables: no reading, no changing, by ingest ---------------------------
for t in vault.reid_audit vault.key_event; do
  check "ingest cannot SELECT $t" denied ingest vault kpr_auditor "SELECT count(*) FROM $t"
  check "ingest cannot UPDATE $t" denied ingest vault kpr_vault_owner "UPDATE $t SET at = now()" $t
  check "ingest cannot DELETE $t" denied ingest vault kpr_vault_owner "DELETE FROM $t" $t
done
check "ingest cannot move the vault's chain heads" denied ingest vault kpr_vault_owner \
  "UPDATE vault.audit_chain SET last_seq = last_seq" vault.audit_chain
check "ingest cannot write vault.reid_audit directly" denied ingest vault kpr_vault_owner \
  "INSERT INTO vault.reid_audit (actor, case_no, reason, pseudonym, key_version, found)
   VALUES ('x', 'SAK-1', 'a long enough reason', decode(repeat('00', 16), 'hex'), 1, false)"

# --- the register: health data yes, audit and reservations no --------------------
check "ingest can read submissions (its job)" as_ingest kpr_register "SELECT count(*) FROM kpr.submission"
for t in kpr.audit kpr.reservation kpr.audit_chain; do
  case $t in
    kpr.audit_chain) set_col="last_seq = last_seq" ;;
    *) set_col="case_no = 'x'" ;;
  esac
  check "ingest cannot SELECT $t" denied ingest register kpr_register_owner "SELECT count(*) FROM $t"
  check "ingest cannot UPDATE $t" denied ingest register kpr_register_owner "UPDATE $t SET $set_col" $t
  check "ingest cannot DELETE $t" denied ingest register kpr_register_owner "DELETE FROM $t" $t
done
check "ingest cannot call kpr.innsyn" denied ingest register kpr_reid \
  "SELECT kpr.innsyn(decode(repeat('00', 16), 'hex'), 1, 'SAK-1', 'a long enough reason', NULL)"
check "ingest cannot call kpr.reserve" denied ingest register kpr_reid \
  "SELECT * FROM kpr.reserve(decode(repeat('00', 16), 'hex'), 1, 'SAK-1', NULL, NULL)"

# --- owner and group roles cannot log in ---------------------------------------------
for r in kpr_vault_owner kpr_register_owner kpr_reid kpr_auditor kpr_register_reader; do
  check "$r is NOLOGIN" [ "$(admin register -c "SELECT rolcanlogin FROM pg_roles WHERE rolname = '$r'")" = f ]
done
check "vault objects are owned by kpr_vault_owner" \
  [ "$(admin vault -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'vault' AND tableowner <> 'kpr_vault_owner'")" -eq 0 ]
check "register audit objects are owned by kpr_register_owner" \
  [ "$(admin register -c "SELECT count(DISTINCT tableowner) || ':' || min(tableowner) FROM pg_tables
                          WHERE schemaname = 'kpr' AND tablename IN ('audit', 'audit_chain', 'reservation')")" = "1:kpr_register_owner" ]
check "kpr_ingest is no superuser" \
  [ "$(admin register -c "SELECT rolsuper FROM pg_roles WHERE rolname = 'kpr_ingest'")" = f ]
check "kpr_ingest owns no vault table" \
  [ "$(admin vault -c "SELECT count(*) FROM pg_tables WHERE tableowner = 'kpr_ingest'")" -eq 0 ]

# --- nobody changes an audit row, not even a superuser through the trigger -------------
# (make sure each table has a row, although the statement triggers fire anyway)
admin vault -c "INSERT INTO vault.key_event (actor, event, detail) VALUES ('test_roles', 'test.roles', 'row for the append-only checks')" >/dev/null
admin register -c "SELECT kpr.reserve(decode(repeat('ab', 16), 'hex'), 1, 'SAK-ROLES', 'append-only check', 'test_roles')" >/dev/null
admin register -c "SELECT kpr.unreserve(decode(repeat('ab', 16), 'hex'), 1, 'SAK-ROLES', NULL, 'test_roles')" >/dev/null
check "the vault's append-only triggers are enabled" \
  [ "$(admin vault -c "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%append_only' AND tgenabled = 'O'")" -eq 2 ]
check "the register's append-only trigger is enabled" \
  [ "$(admin register -c "SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_append_only' AND tgenabled = 'O'")" -eq 1 ]
for t in vault.reid_audit vault.key_event; do
  n=${t#vault.}
  check "superuser UPDATE on $t refused by the trigger" refused_by_trigger vault $t "$n is append-only" "UPDATE $t SET actor = 'x'"
  check "superuser DELETE on $t refused by the trigger" refused_by_trigger vault $t "$n is append-only" "DELETE FROM $t"
  check "superuser TRUNCATE on $t refused by the trigger" refused_by_trigger vault $t "$n is append-only" "TRUNCATE $t"
done
check "superuser UPDATE on kpr.audit refused" refused_by_trigger register kpr.audit "audit is append-only" \
  "UPDATE kpr.audit SET reason = reason || ' (endret)'" # innsyn rows need a reason of 10+ characters
check "superuser DELETE on kpr.audit refused" refused_by_trigger register kpr.audit "audit is append-only" "DELETE FROM kpr.audit"
check "superuser TRUNCATE on kpr.audit refused" refused_by_trigger register kpr.audit "audit is append-only" "TRUNCATE kpr.audit"
check "chain heads cannot be moved by hand" refused_by_trigger register kpr.audit_chain \
  "audit_chain heads move only with an audit insert" "UPDATE kpr.audit_chain SET last_seq = 0"
check "chain heads cannot be deleted" refused_by_trigger vault vault.audit_chain "audit_chain is append-only" "DELETE FROM vault.audit_chain"
check "reservations are never deleted" refused_by_trigger register kpr.reservation \
  "reservations are revoked, never deleted" "DELETE FROM kpr.reservation"
check "a hand-written audit hash is overwritten by the trigger" \
  [ "$(admin vault -c "INSERT INTO vault.key_event (actor, event, detail, chain_seq, prev_hash, row_hash)
                       VALUES ('test_roles', 'test.roles', 'forged', 1, '\\x00', '\\x00') RETURNING chain_seq > 1 AND octet_length(row_hash) = 32" | head -1)" = t ]
verify_quiet() { "$BUILD/kprctl" audit verify >/dev/null 2>&1; }
check "the chains are intact after all this" verify_quiet

# --- readers: persons only through the disclosure views ---------------------------------
as_reader() { admin register -c "SET ROLE kpr_register_reader" -c "$1" >/dev/null; }
check "reader can SELECT kpr.disclosure_person" as_reader "SELECT count(*) FROM kpr.disclosure_person"
check "reader can SELECT kpr.disclosure_tjeneste" as_reader "SELECT count(*) FROM kpr.disclosure_tjeneste"
check "reader cannot SELECT kpr.person (would bypass reservations)" denied kpr_register_reader register kpr_register_owner \
  "SELECT count(*) FROM kpr.person"
check "reader cannot SELECT kpr.reservation" denied kpr_register_reader register kpr_register_owner \
  "SELECT count(*) FROM kpr.reservation"
check "reader cannot call kpr.innsyn" denied kpr_register_reader register kpr_reid \
  "SELECT kpr.innsyn(decode(repeat('00', 16), 'hex'), 1, 'SAK-1', 'a long enough reason', NULL)"
check "kpr_reid cannot SELECT vault.entry (only reid_fetch, audited)" denied kpr_reid vault kpr_vault_owner \
  "SELECT count(*) FROM vault.entry"
check "kpr_reid cannot SELECT kpr.person" denied kpr_reid register kpr_register_owner "SELECT count(*) FROM kpr.person"

finish
