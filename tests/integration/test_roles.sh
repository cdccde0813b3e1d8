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

check "kpr_ingest logs in to the vault" as_ingest kpr_vault "SELECT 1"

# --- the vault: add, never read ----------------------------------------------
check "ingest cannot SELECT vault.entry" fails as_ingest kpr_vault "SELECT count(*) FROM vault.entry"
check "ingest cannot UPDATE vault.entry" fails as_ingest kpr_vault "UPDATE vault.entry SET last_seen = now()"
check "ingest cannot DELETE vault.entry" fails as_ingest kpr_vault "DELETE FROM vault.entry"
check "ingest cannot INSERT into vault.entry directly" fails as_ingest kpr_vault \
  "INSERT INTO vault.entry (pseudonym, key_version, reid_key_id, enc, seq, ct) VALUES ('\\x00', 1, 'x', '\\x00', 0, '\\x00')"
check "ingest cannot call vault.reid_fetch" fails as_ingest kpr_vault \
  "SELECT * FROM vault.reid_fetch(decode(repeat('00', 16), 'hex'), 1, 'SAK-1', 'a long enough reason')"
check "ingest cannot SELECT the key registry" fails as_ingest kpr_vault "SELECT * FROM vault.pseudonym_key"

# put_batch with the keys this installation uses (a junk ciphertext: the
# vault cannot tell, which is the point of write-only)
status=$("$BUILD/kprctl" keys status --dir "$KPR_VAR/keys" 2>/dev/null)
fp=$(awk '$1 == "pseudonym" && $2 == 1 {print $3}' <<<"$status")
rid=$(awk '$1 == "reid-public" {print $3}' <<<"$status")
check "key fingerprints from kprctl keys status" matches "$fp:$rid" '^[0-9a-f]{16}:[0-9a-f]{16}$'
rnd() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
put="SELECT vault.put_batch(1, '$fp', '$rid', decode('$(rnd 32)', 'hex'),
       ARRAY[decode('$(rnd 16)', 'hex')], ARRAY[0::bigint], ARRAY[decode('$(rnd 27)', 'hex')])"
check "ingest can call vault.put_batch" as_ingest kpr_vault "$put"
check "put_batch with an unknown key version is refused" fails as_ingest kpr_vault \
  "SELECT vault.put_batch(99, '$fp', '$rid', decode('$(rnd 32)', 'hex'),
     ARRAY[decode('$(rnd 16)', 'hex')], ARRAY[0::bigint], ARRAY[decode('$(rnd 27)', 'hex')])"

# --- audit tables: no reading, no changing, by ingest ---------------------------
for t in vault.reid_audit vault.key_event; do
  check "ingest cannot SELECT $t" fails as_ingest kpr_vault "SELECT count(*) FROM $t"
  check "ingest cannot UPDATE $t" fails as_ingest kpr_vault "UPDATE $t SET at = now()"
  check "ingest cannot DELETE $t" fails as_ingest kpr_vault "DELETE FROM $t"
done
check "ingest cannot move the vault's chain heads" fails as_ingest kpr_vault \
  "UPDATE vault.audit_chain SET last_seq = 0"
check "ingest cannot write vault.reid_audit directly" fails as_ingest kpr_vault \
  "INSERT INTO vault.reid_audit (actor, case_no, reason, pseudonym, key_version, found)
   VALUES ('x', 'SAK-1', 'a long enough reason', '\\x00', 1, false)"

# --- the register: health data yes, audit and reservations no --------------------
check "ingest can read submissions (its job)" as_ingest kpr_register "SELECT count(*) FROM kpr.submission"
for t in kpr.audit kpr.reservation kpr.audit_chain; do
  check "ingest cannot SELECT $t" fails as_ingest kpr_register "SELECT count(*) FROM $t"
  check "ingest cannot UPDATE $t" fails as_ingest kpr_register "UPDATE $t SET case_no = 'x'"
  check "ingest cannot DELETE $t" fails as_ingest kpr_register "DELETE FROM $t"
done
check "ingest cannot call kpr.innsyn" fails as_ingest kpr_register \
  "SELECT kpr.innsyn(decode(repeat('00', 16), 'hex'), 1, 'SAK-1', 'a long enough reason', NULL)"
check "ingest cannot call kpr.reserve" fails as_ingest kpr_register \
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
  check "superuser UPDATE on $t refused by the trigger" fails admin vault -c "UPDATE $t SET actor = 'x'"
  check "superuser DELETE on $t refused by the trigger" fails admin vault -c "DELETE FROM $t"
  check "superuser TRUNCATE on $t refused by the trigger" fails admin vault -c "TRUNCATE $t"
done
check "superuser UPDATE on kpr.audit refused" fails admin register -c "UPDATE kpr.audit SET reason = 'x'"
check "superuser DELETE on kpr.audit refused" fails admin register -c "DELETE FROM kpr.audit"
check "superuser TRUNCATE on kpr.audit refused" fails admin register -c "TRUNCATE kpr.audit"
check "chain heads cannot be moved by hand" fails admin register -c "UPDATE kpr.audit_chain SET last_seq = 0"
check "chain heads cannot be deleted" fails admin vault -c "DELETE FROM vault.audit_chain"
check "reservations are never deleted" fails admin register -c "DELETE FROM kpr.reservation"
check "a hand-written audit hash is overwritten by the trigger" \
  [ "$(admin vault -c "INSERT INTO vault.key_event (actor, event, detail, chain_seq, prev_hash, row_hash)
                       VALUES ('test_roles', 'test.roles', 'forged', 1, '\\x00', '\\x00') RETURNING chain_seq > 1 AND octet_length(row_hash) = 32" | head -1)" = t ]
verify_quiet() { "$BUILD/kprctl" audit verify >/dev/null 2>&1; }
check "the chains are intact after all this" verify_quiet

# --- readers: persons only through the disclosure views ---------------------------------
as_reader() { admin register -c "SET ROLE kpr_register_reader" -c "$1" >/dev/null; }
check "reader can SELECT kpr.disclosure_person" as_reader "SELECT count(*) FROM kpr.disclosure_person"
check "reader can SELECT kpr.disclosure_tjeneste" as_reader "SELECT count(*) FROM kpr.disclosure_tjeneste"
check "reader cannot SELECT kpr.person (would bypass reservations)" fails as_reader "SELECT count(*) FROM kpr.person"
check "reader cannot SELECT kpr.reservation" fails as_reader "SELECT count(*) FROM kpr.reservation"
check "reader cannot call kpr.innsyn" fails as_reader \
  "SELECT kpr.innsyn(decode(repeat('00', 16), 'hex'), 1, 'SAK-1', 'a long enough reason', NULL)"
as_reid() { admin "$1" -c "SET ROLE kpr_reid" -c "$2" >/dev/null; }
check "kpr_reid cannot SELECT vault.entry (only reid_fetch, audited)" fails as_reid vault "SELECT count(*) FROM vault.entry"
check "kpr_reid cannot SELECT kpr.person" fails as_reid register "SELECT count(*) FROM kpr.person"

finish
