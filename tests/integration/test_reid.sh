#!/usr/bin/env bash
# Re-identification (innsyn), reservations and the audit chains against the
# real stack (SPEC §4, docs/reidentification.md): a pseudonym from an
# accepted upload decrypts to an ID that is in the uploaded file; no lookup
# without a case number and a reason, and nothing audited then; every lookup
# audited; `kprctl audit verify` passes, and names the row after tampering;
# a ciphertext moved to another row does not decrypt; a reserved person
# leaves the disclosure views and comes back when the reservation is
# revoked; concurrent appends keep the chain intact.
# National IDs are only ever held in shell variables, never printed.
. "$(dirname "$0")/../lib/common.sh"

WORK=$(mktemp -d /tmp/kpr-reid-XXXXXX)
chmod 700 "$WORK"
trap 'rm -rf "$WORK"; rm -f "$HTTP_HEADERS"' EXIT
K=$BUILD/kprctl
PRIV=$KPR_VAR/reid-private.key
export KPR_KEYS_DIR=$KPR_VAR/keys
reg() { psql -X -q -v ON_ERROR_STOP=1 -At "$KPR_REGISTER_ADMIN_DSN" "$@"; }
vlt() { psql -X -q -v ON_ERROR_STOP=1 -At "$KPR_VAULT_ADMIN_DSN" "$@"; }
# tampering runs in one transaction: a failure can never leave a trigger off
reg1() { reg --single-transaction "$@"; }
vlt1() { vlt --single-transaction "$@"; }
export PGOPTIONS="-c client_min_messages=warning"
reid_count() { vlt -c "SELECT count(*) FROM vault.reid_audit"; }
kaudit_count() { reg -c "SELECT count(*) FROM kpr.audit"; }

# --- an accepted upload --------------------------------------------------
gen 40001 --kommune 0301 --persons 30 --out "$WORK/gen"
file=$WORK/gen/0301-2025.xml
fresh "$file"
req POST /api/v1/submissions -H "$(auth "$KPR_MUNI_TOKEN")" -H "Content-Type: application/xml" \
  --data-binary @"$file"
sub=$(echo "$BODY" | json 'd["id"]' 2>/dev/null)
check "upload taken" [ "$HTTP_STATUS" = 202 ]
status=""
for _ in $(seq 1 150); do
  req GET "/api/v1/submissions/$sub" -H "$(auth "$KPR_STAFF_TOKEN")"
  status=$(echo "$BODY" | json 'd["status"]' 2>/dev/null)
  case "$status" in received|processing|"") sleep 0.2 ;; *) break ;; esac
done
check "upload accepted" [ "$status" = accepted ]

mapfile -t PS < <(reg -c "SELECT key_version || ':' || encode(pseudonym, 'hex') FROM kpr.person
                          WHERE submission_id = '$sub' ORDER BY ref LIMIT 8")
P=${PS[0]:-}
check "pseudonyms in kpr.person" matches "$P" '^[0-9]+:[0-9a-f]{32}$'
phex=${P#*:}

# --- pseudonym -> national ID ---------------------------------------------
before=$(reid_count)
out=$("$K" reidentify --pseudonym "$P" --private-key "$PRIV" --case "SAK-2026/0042" \
  --reason "innsyn etter begjæring fra den registrerte" 2>&1); rc=$?
check "reidentify succeeds" [ "$rc" -eq 0 ]
ID=$(sed -nE 's/^national ID +([0-9]{11})$/\1/p' <<<"$out")
check "reidentify prints an 11-digit ID" matches "$ID" '^[0-9]{11}$'
check "the ID is in the uploaded file" grep -q "<Fnr>$ID</Fnr>" "$file"
check "exactly one audit row written" [ "$(reid_count)" -eq $((before + 1)) ]
row=$(vlt -F'|' -c "SELECT case_no, key_version || ':' || encode(pseudonym, 'hex'), found, actor, role
                    FROM vault.reid_audit ORDER BY id DESC LIMIT 1")
check "audit row: case, pseudonym, found, actor, role" \
  [ "$row" = "SAK-2026/0042|$P|t|kpr_admin|superuser" ]
check "the audit row holds no national ID" \
  [ "$(vlt -c "SELECT count(*) FROM vault.reid_audit WHERE (case_no || reason || coalesce(os_user, '')) LIKE '%$ID%'")" -eq 0 ]

# --- refused lookups leave no audit row -------------------------------------
before=$(reid_count)
"$K" reidentify --pseudonym "$P" --private-key "$PRIV" --reason "innsyn etter begjæring" >/dev/null 2>&1; rc=$?
check "no --case: refused (exit 2)" [ "$rc" -eq 2 ]
"$K" reidentify --pseudonym "$P" --private-key "$PRIV" --case "SAK-1" --reason "kort" >/dev/null 2>&1; rc=$?
check "reason under 10 characters: refused" [ "$rc" -eq 2 ]
"$K" reidentify --pseudonym "$P" --private-key "$PRIV" --case "SAK-1" >/dev/null 2>&1; rc=$?
check "no --reason: refused" [ "$rc" -eq 2 ]
"$K" reidentify --pseudonym "$P" --private-key "$PRIV" --case "SAK-1" --reason "gjelder $ID" >/dev/null 2>&1; rc=$?
check "an ID in the reason: refused" [ "$rc" -eq 2 ]
sqlout=$(vlt -c "SELECT count(*) FROM vault.reid_fetch(decode('$phex', 'hex'), 1, 'SAK-1', 'kort', NULL)" 2>&1); rc=$?
check "the database refuses a short reason too" [ "$rc" -ne 0 ]
sqlout=$(vlt -c "SELECT count(*) FROM vault.reid_fetch(decode('$phex', 'hex'), 1, ' ', 'a reason long enough')" 2>&1); rc=$?
check "the database refuses an empty case number" [ "$rc" -ne 0 ]
check "nothing audited for refused lookups" [ "$(reid_count)" -eq "$before" ]

# --- national ID -> register records (stdin keeps it off the command line) ---
kb=$(kaudit_count)
out=$(printf '%s\n' "$ID" | "$K" reidentify --fnr - --case "SAK-2026/0043" \
  --reason "innsyn: alle opplysninger om personen" 2>&1); rc=$?
check "reidentify --fnr succeeds" [ "$rc" -eq 0 ]
check "--fnr finds the person in the current register" grep -q "^records      1 in the current register" <<<"$out"
check "--fnr shows the pseudonym" grep -q "^pseudonym    $P\$" <<<"$out"
check "--fnr shows the municipality and submission" grep -q "0301 Oslo, årgang 2025, submission $sub" <<<"$out"
check "--fnr output holds no national ID" fails grep -q "$ID" <<<"$out"
check "--fnr lookup audited in kpr.audit" [ "$(kaudit_count)" -eq $((kb + 1)) ]
check "register audit row: innsyn, pseudonym, result count" \
  [ "$(reg -F'|' -c "SELECT action, key_version || ':' || encode(pseudonym, 'hex'), result_count
                      FROM kpr.audit ORDER BY id DESC LIMIT 1")" = "innsyn|$P|1" ]
json=$(printf '%s\n' "$ID" | "$K" reidentify --fnr - --json --case "SAK-2026/0043" --reason "innsyn: som JSON for brev" 2>/dev/null)
check "--json gives the records as JSON" [ "$(echo "$json" | json 'len(d["persons"])')" = 1 ]

# --- the audit chains ---------------------------------------------------------
out=$("$K" audit verify 2>&1); rc=$?
check "audit verify passes" [ "$rc" -eq 0 ]
check "audit verify covers all three chains" [ "$(grep -c ' intact ' <<<"$out")" -eq 3 ]

aid=$(vlt -c "SELECT id FROM vault.reid_audit ORDER BY id LIMIT 1")
orig=$(vlt -c "SELECT reason FROM vault.reid_audit WHERE id = $aid")
tamper_reason() { # text
  vlt1 -c "ALTER TABLE vault.reid_audit DISABLE TRIGGER reid_audit_append_only" \
      -c "UPDATE vault.reid_audit SET reason = \$t\$$1\$t\$ WHERE id = $aid" \
      -c "ALTER TABLE vault.reid_audit ENABLE TRIGGER reid_audit_append_only"
}
tamper_reason "rutinekontroll (endret i ettertid)"
out=$("$K" audit verify 2>&1); rc=$?
check "verify fails after a row is changed" [ "$rc" -eq 1 ]
check "verify names the changed row" grep -q "vault.reid_audit .*BROKEN at row id $aid " <<<"$out"
tamper_reason "$orig"
"$K" audit verify >/dev/null 2>&1
check "verify passes again once the row is restored" [ $? -eq 0 ]

# register chain: a row in the middle deleted -> the row after it is named
mid=$(reg -c "SELECT id FROM kpr.audit ORDER BY id DESC LIMIT 1 OFFSET 1")
next=$(reg -c "SELECT id FROM kpr.audit WHERE id > $mid ORDER BY id LIMIT 1")
reg1 -c "DROP TABLE IF EXISTS public.audit_saved" \
    -c "CREATE TABLE public.audit_saved AS SELECT * FROM kpr.audit WHERE id = $mid" \
    -c "ALTER TABLE kpr.audit DISABLE TRIGGER USER" -c "DELETE FROM kpr.audit WHERE id = $mid" \
    -c "ALTER TABLE kpr.audit ENABLE TRIGGER USER"
out=$("$K" audit verify --register-only 2>&1); rc=$?
check "verify fails when a row is deleted" [ "$rc" -eq 1 ]
check "verify names the row after the deleted one" grep -q "kpr.audit .*BROKEN at row id $next " <<<"$out"
restore_saved() {
  reg1 -c "ALTER TABLE kpr.audit DISABLE TRIGGER USER" \
      -c "INSERT INTO kpr.audit OVERRIDING SYSTEM VALUE SELECT * FROM public.audit_saved" \
      -c "ALTER TABLE kpr.audit ENABLE TRIGGER USER" -c "DROP TABLE public.audit_saved"
}
restore_saved
"$K" audit verify >/dev/null 2>&1
check "verify passes once the row is back" [ $? -eq 0 ]
# the newest row deleted -> only the head can tell
reg1 -c "CREATE TABLE public.audit_saved AS SELECT * FROM kpr.audit WHERE id = (SELECT max(id) FROM kpr.audit)" \
    -c "ALTER TABLE kpr.audit DISABLE TRIGGER USER" \
    -c "DELETE FROM kpr.audit WHERE id = (SELECT id FROM public.audit_saved)" \
    -c "ALTER TABLE kpr.audit ENABLE TRIGGER USER"
out=$("$K" audit verify --register-only 2>&1); rc=$?
check "verify fails when the newest row is deleted" [ "$rc" -eq 1 ]
check "verify says rows went missing at the end" grep -q "kpr.audit .*BROKEN after row" <<<"$out"
restore_saved
"$K" audit verify >/dev/null 2>&1
check "verify passes once that row is back too" [ $? -eq 0 ]

# --- a ciphertext moved to another row does not open ---------------------------
Q=${PS[1]:-}
qhex=${Q#*:}
vlt1 -c "CREATE TABLE public.entry_saved AS SELECT * FROM vault.entry
          WHERE key_version = 1 AND pseudonym IN (decode('$phex', 'hex'), decode('$qhex', 'hex'))" \
    -c "UPDATE vault.entry SET seq = seq + 1000000000 WHERE pseudonym = decode('$qhex', 'hex')" \
    -c "UPDATE vault.entry e SET enc = s.enc, seq = s.seq, ct = s.ct FROM public.entry_saved s
          WHERE e.pseudonym = decode('$phex', 'hex') AND s.pseudonym = decode('$qhex', 'hex')"
out=$("$K" reidentify --pseudonym "$P" --private-key "$PRIV" --case "SAK-2026/0044" \
  --reason "kontroll av flyttet chiffertekst" 2>&1); rc=$?
check "a moved ciphertext does not decrypt" [ "$rc" -eq 1 ]
check "it says so" grep -q "does not decrypt" <<<"$out"
# (pseudonyms are 32 hex digits and may hold 11 decimal digits in a row by
# chance: drop them before looking for anything that could be an ID)
check "and prints no ID" fails grep -qE '[0-9]{11}' <<<"$(sed -E 's/[0-9a-f]{32}//g' <<<"$out")"
vlt1 -c "UPDATE vault.entry e SET enc = s.enc, seq = s.seq, ct = s.ct FROM public.entry_saved s
          WHERE e.key_version = s.key_version AND e.pseudonym = s.pseudonym AND s.pseudonym = decode('$phex', 'hex')" \
    -c "UPDATE vault.entry e SET enc = s.enc, seq = s.seq, ct = s.ct FROM public.entry_saved s
          WHERE e.key_version = s.key_version AND e.pseudonym = s.pseudonym AND s.pseudonym = decode('$qhex', 'hex')" \
    -c "DROP TABLE public.entry_saved"
"$K" reidentify --pseudonym "$P" --private-key "$PRIV" --case "SAK-2026/0044" \
  --reason "kontroll etter tilbakeføring" >/dev/null 2>&1
check "the restored row decrypts again" [ $? -eq 0 ]

# --- reservations ----------------------------------------------------------------
in_disclosure() { reg -c "SELECT count(*) FROM kpr.disclosure_person WHERE pseudonym = decode('$phex', 'hex')"; }
in_dtjeneste() { reg -c "SELECT count(*) FROM kpr.disclosure_tjeneste WHERE pseudonym = decode('$phex', 'hex')"; }
n_tj=$(reg -c "SELECT count(*) FROM kpr.tjeneste t JOIN kpr.current_person p USING (submission_id, ref)
               WHERE p.pseudonym = decode('$phex', 'hex')")
check "the person is in kpr.disclosure_person" [ "$(in_disclosure)" -eq 1 ]
check "the person's services are in kpr.disclosure_tjeneste" [ "$(in_dtjeneste)" -eq "$n_tj" ]
kb=$(kaudit_count)
out=$(printf '%s\n' "$ID" | "$K" reserve --fnr - --case "SAK-2026/0050" --reason "reservasjon mot utlevering" 2>&1); rc=$?
check "reserve succeeds" [ "$rc" -eq 0 ]
check "reserve output holds no ID" fails grep -q "$ID" <<<"$out"
check "reserved: the person leaves kpr.disclosure_person" [ "$(in_disclosure)" -eq 0 ]
check "reserved: and kpr.disclosure_tjeneste" [ "$(in_dtjeneste)" -eq 0 ]
check "reserved: still in the register itself" \
  [ "$(reg -c "SELECT count(*) FROM kpr.current_person WHERE pseudonym = decode('$phex', 'hex')")" -eq 1 ]
check "reservation recorded by pseudonym" \
  [ "$(reg -c "SELECT count(*) FROM kpr.reservation WHERE pseudonym = decode('$phex', 'hex') AND revoked_at IS NULL")" -eq 1 ]
check "reserve audited" [ "$(reg -c "SELECT action FROM kpr.audit ORDER BY id DESC LIMIT 1")" = reserve ]
"$K" reserve --pseudonym "$P" --case "SAK-2026/0050" >/dev/null 2>&1
check "reserving again is harmless" [ $? -eq 0 ]
check "still one active reservation" \
  [ "$(reg -c "SELECT count(*) FROM kpr.reservation WHERE pseudonym = decode('$phex', 'hex') AND revoked_at IS NULL")" -eq 1 ]
"$K" reserve --pseudonym "$P" >/dev/null 2>&1; rc=$?
check "reserve without --case refused" [ "$rc" -eq 2 ]
out=$("$K" unreserve --fnr "$ID" --case "SAK-2026/0051" 2>&1); rc=$?
check "unreserve succeeds" [ "$rc" -eq 0 ]
check "unreserved: the person is back in kpr.disclosure_person" [ "$(in_disclosure)" -eq 1 ]
check "unreserved: and in kpr.disclosure_tjeneste" [ "$(in_dtjeneste)" -eq "$n_tj" ]
check "the revoked reservation is kept as history" \
  [ "$(reg -c "SELECT count(*) FROM kpr.reservation WHERE pseudonym = decode('$phex', 'hex') AND revoked_at IS NOT NULL")" -ge 1 ]
"$K" unreserve --pseudonym "$P" --case "SAK-2026/0051" >/dev/null 2>&1; rc=$?
check "unreserve with nothing to revoke: exit 1" [ "$rc" -eq 1 ]
check "reserve/unreserve audited (4 rows)" [ "$(kaudit_count)" -eq $((kb + 4)) ]
check "no register audit row holds the ID" \
  [ "$(reg -c "SELECT count(*) FROM kpr.audit WHERE concat_ws('|', case_no, reason, detail, os_user) LIKE '%$ID%'")" -eq 0 ]

# --- concurrent appends keep each chain intact -------------------------------------
vb=$(reid_count); kb=$(kaudit_count)
pids=()
for i in 1 2 3 4 5 6; do
  p=${PS[$(( i % ${#PS[@]} ))]}
  "$K" reserve --pseudonym "$p" --case "SAK-PAR-$i" --reason "parallell test" >/dev/null 2>&1 & pids+=($!)
  "$K" reidentify --pseudonym "$p" --private-key "$PRIV" --case "SAK-PAR-$i" \
    --reason "parallell innsyn nr $i" >/dev/null 2>&1 & pids+=($!)
done
okall=0
for pid in "${pids[@]}"; do wait "$pid" || okall=1; done
check "12 concurrent lookups and reservations succeed" [ "$okall" -eq 0 ]
check "all 6 vault audit rows appended" [ "$(reid_count)" -eq $((vb + 6)) ]
check "all 6 register audit rows appended" [ "$(kaudit_count)" -eq $((kb + 6)) ]
check "no two rows share a prev_hash" \
  [ "$(vlt -c "SELECT count(*) - count(DISTINCT prev_hash) FROM vault.reid_audit")" -eq 0 ]
"$K" audit verify >/dev/null 2>&1
check "audit verify passes after concurrent appends" [ $? -eq 0 ]
for p in "${PS[@]}"; do "$K" unreserve --pseudonym "$p" --case "SAK-PAR" >/dev/null 2>&1; done

check "audit list shows pseudonyms, never IDs" fails grep -q "$ID" <<<"$("$K" audit list 2>&1)"
unset ID
finish
