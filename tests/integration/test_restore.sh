#!/usr/bin/env bash
# The backup and restore procedure of docs/runbook.md, tested: the roles
# (pg_dumpall --globals-only), the register and the vault database (each
# pg_dump -Fc on its own, as they live on separate clusters in production)
# are dumped from the running stack, restored into a brand-new throwaway
# cluster (initdb, unix socket in a temporary directory, no TCP), and
# compared table by table: row counts of the register and vault tables, the
# audit chains, and that the restored roles keep their separation of duties.
# The cluster is stopped and removed afterwards.
. "$(dirname "$0")/../lib/common.sh"

PGBIN=$(pg_config --bindir 2>/dev/null || true)
[ -x "$PGBIN/initdb" ] || PGBIN=/usr/lib/postgresql/15/bin
if [ "$(id -u)" -eq 0 ]; then as_pg() { runuser -u postgres -- "$@"; }; PGOS=postgres
else as_pg() { "$@"; }; PGOS=$(id -un); fi

R=$(mktemp -d /tmp/kpr-restore-XXXXXX)
chmod 755 "$R"
DATA=$R/data SOCK=$R/run DUMP=$R/dump
cleanup() {
  if [ -f "$DATA/postmaster.pid" ]; then as_pg "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1; fi
  rm -rf "$R" "$HTTP_HEADERS"
}
trap cleanup EXIT
mkdir -p "$SOCK" "$DUMP"
chown "$PGOS" "$R" "$SOCK"

# --- something worth restoring: one processed submission (then dumps) -----
TOKEN=$("$BUILD/kprctl" token issue --kommune 5001 --name test-restore 2>/dev/null)
wait_token "$TOKEN"
gen 301 --kommune 5001 --persons 60 --out "$R/gen"
fresh "$R/gen/5001-2025.xml"
req POST /api/v1/submissions -H "$(auth "$TOKEN")" -H "Content-Type: application/xml" --data-binary @"$R/gen/5001-2025.xml"
ID=$(echo "$BODY" | json 'd["id"]' 2>/dev/null)
for _ in $(seq 1 150); do
  req GET "/api/v1/submissions/$ID" -H "$(auth "$TOKEN")"
  case "$(echo "$BODY" | json 'd["status"]' 2>/dev/null)" in accepted) break ;; *) sleep 0.2 ;; esac
done
check "a submission to back up was loaded" [ "$(echo "$BODY" | json 'd["status"]' 2>/dev/null)" = accepted ]

reg() { psql -X -qtA "$KPR_REGISTER_ADMIN_DSN" "$@"; }
vlt() { psql -X -qtA "$KPR_VAULT_ADMIN_DSN" "$@"; }
# DSN of the source cluster's maintenance database (for the roles)
SRC_ADMIN=${KPR_REGISTER_ADMIN_DSN/dbname=kpr_register/dbname=postgres}

# --- backup: roles, then each database on its own ---------------------------
t0=$SECONDS
check "roles dumped (pg_dumpall --globals-only)" \
  "$PGBIN/pg_dumpall" -d "$SRC_ADMIN" --globals-only --no-role-passwords -f "$DUMP/globals.sql"
check "register dumped (pg_dump -Fc)" "$PGBIN/pg_dump" -d "$KPR_REGISTER_ADMIN_DSN" -Fc -f "$DUMP/register.dump"
check "vault dumped (pg_dump -Fc), separately" "$PGBIN/pg_dump" -d "$KPR_VAULT_ADMIN_DSN" -Fc -f "$DUMP/vault.dump"
echo "    dumps: $(du -sh "$DUMP" | cut -f1) in $((SECONDS - t0)) s"
# counts at the moment of the dump, from the dumps' own snapshot: compare
# with the source right after (no upload runs meanwhile in this test)
tables_reg="kpr.submission kpr.person kpr.vurdering kpr.tjeneste kpr.job kpr.api_token kpr.audit"
tables_vlt="vault.entry vault.pseudonym_key vault.reid_key vault.audit_chain"
counts() { # psql-fn tables...
  local fn=$1 t; shift
  for t in "$@"; do printf '%s=%s ' "$t" "$($fn -c "SELECT count(*) FROM $t" 2>/dev/null || echo missing)"; done
}
src_reg=$(counts reg $tables_reg)
src_vlt=$(counts vlt $tables_vlt)

# --- a new cluster, as the runbook's restore host would have ---------------
check "new cluster created (initdb)" as_pg "$PGBIN/initdb" -D "$DATA" -U kpr_admin --auth-local=trust \
  -E UTF8 --locale=C.UTF-8 >/dev/null 2>"$R/initdb.log"
cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$SOCK'
fsync = off
unix_socket_permissions = 0700
CONF
check "new cluster started" as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$R/pg.log" -w -t 60 start >/dev/null
NEW="host=$SOCK port=5432 user=kpr_admin"
new() { local db=$1; shift; psql -X -qtA "$NEW dbname=$db" "$@"; }

# --- restore: roles first (passwords are set anew), then each database ----
# the one expected error: the superuser role exists already
new postgres -f "$DUMP/globals.sql" >"$R/globals.log" 2>&1
check "roles restored (only 'kpr_admin already exists' complained)" \
  [ "$(grep -c ERROR "$R/globals.log")" = "$(grep -c 'role "kpr_admin" already exists' "$R/globals.log")" ]
new postgres -c "CREATE DATABASE kpr_register" -c "CREATE DATABASE kpr_vault" >/dev/null
check "register restored (pg_restore, no error)" "$PGBIN/pg_restore" -d "$NEW dbname=kpr_register" --exit-on-error "$DUMP/register.dump"
check "vault restored (pg_restore, no error)" "$PGBIN/pg_restore" -d "$NEW dbname=kpr_vault" --exit-on-error "$DUMP/vault.dump"

nreg() { new kpr_register "$@"; }
nvlt() { new kpr_vault "$@"; }
dst_reg=$(counts nreg $tables_reg)
dst_vlt=$(counts nvlt $tables_vlt)
echo "    register: $dst_reg"
echo "    vault:    $dst_vlt"
check "register row counts equal (kpr.person and the rest)" [ "$src_reg" = "$dst_reg" ]
check "vault row counts equal (vault.entry and the rest)" [ "$src_vlt" = "$dst_vlt" ]
check "kpr.person is not empty" [ "$(nreg -c 'SELECT count(*) FROM kpr.person')" -gt 0 ]
check "vault.entry is not empty" [ "$(nvlt -c 'SELECT count(*) FROM vault.entry')" -gt 0 ]
check "the restored submission is there and current" \
  [ "$(nreg -c "SELECT count(*) FROM kpr.current_person WHERE submission_id = '$ID'")" -gt 0 ]
check "every restored pseudonym of it has its vault entry" \
  [ "$(nreg -c "SELECT count(*) FROM kpr.person WHERE submission_id = '$ID'")" -le "$(nvlt -c 'SELECT count(*) FROM vault.entry')" ]
check "separation of duties restored: kpr_ingest cannot read vault.entry" \
  [ "$(nvlt -c "SELECT has_table_privilege('kpr_ingest', 'vault.entry', 'SELECT')")" = f ]
check "the ingest role can still insert health data" \
  [ "$(nreg -c "SELECT has_table_privilege('kpr_ingest', 'kpr.person', 'INSERT')")" = t ]

as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
check "throwaway cluster stopped" [ ! -f "$DATA/postmaster.pid" ]
finish
