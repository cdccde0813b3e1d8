/*
 * cmd_db.c — `kprctl db migrate|status`: numbered SQL files
 * sql/<database>/NNNN_name.sql applied in order, each in its own
 * transaction together with its row in kpr_schema_migrations (version,
 * name, sha256). An applied file that changed since is reported, never
 * re-run: migrations are append-only.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "hex.h"
#include "kprctl.h"

#define MIGRATION_MAX_BYTES (16u << 20) /* far above any migration */

struct migration {
	int version;
	char name[300];
	char path[4096 + 300];
	char sha256[65];
};

static int cmp_migration(const void *a, const void *b)
{
	return ((const struct migration *)a)->version - ((const struct migration *)b)->version;
}

/* Lists sql/<which>/NNNN_*.sql sorted; returns count or -1. */
static int list_migrations(const char *which, struct migration **out)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/%s", kprctl.sql_dir, which);
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "kprctl: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	struct migration *v = NULL;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		int ver;
		if (l < 9 || strcmp(e->d_name + l - 4, ".sql") ||
		    sscanf(e->d_name, "%4d_", &ver) != 1)
			continue;
		struct migration *nv = realloc(v, (size_t)(n + 1) * sizeof *v);
		if (!nv)
			break;
		v = nv;
		v[n].version = ver;
		snprintf(v[n].name, sizeof v[n].name, "%s", e->d_name);
		snprintf(v[n].path, sizeof v[n].path, "%s/%s", dir, e->d_name);
		size_t len;
		char err[512];
		char *text = files_read_all(v[n].path, MIGRATION_MAX_BYTES, &len, err, sizeof err);
		if (!text || !sha256_hex(text, len, v[n].sha256)) {
			fprintf(stderr, "kprctl: %s\n", text ? "no SHA-256" : err);
			free(text);
			closedir(d);
			free(v);
			return -1;
		}
		free(text);
		n++;
	}
	closedir(d);
	qsort(v, (size_t)n, sizeof *v, cmp_migration);
	for (int i = 1; i < n; i++) {
		if (v[i].version == v[i - 1].version) {
			fprintf(stderr, "kprctl: two migrations numbered %04d in %s\n",
				v[i].version, dir);
			free(v);
			return -1;
		}
	}
	*out = v;
	return n;
}

static bool ensure_table(struct db *db)
{
	char st[6];
	if (db_exec_simple(
		db,
		"CREATE TABLE IF NOT EXISTS public.kpr_schema_migrations ("
		" version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL,"
		" applied_at timestamptz NOT NULL DEFAULT now(), applied_by text NOT NULL)",
		st))
		return true;
	fprintf(stderr, "kprctl: cannot create kpr_schema_migrations: %s\n", db_last_error(db));
	return false;
}

static const struct db_stmt stmt_applied = {
    "mig_applied", "SELECT version, sha256 FROM public.kpr_schema_migrations ORDER BY version", 0};
static const struct db_stmt stmt_record = {
    "mig_record",
    "INSERT INTO public.kpr_schema_migrations (version, name, sha256, applied_by)"
    " VALUES ($1::int, $2, $3, $4)",
    4};

/* For each listed migration, the sha256 it was applied with ("" = pending). */
static bool applied_state(struct db *db, struct migration *v, int n, char (*applied)[65])
{
	PGresult *r = db_exec(db, &stmt_applied, NULL, NULL);
	if (!r)
		return false;
	for (int i = 0; i < n; i++)
		applied[i][0] = '\0';
	for (int row = 0; row < PQntuples(r); row++) {
		int ver = atoi(PQgetvalue(r, row, 0));
		for (int i = 0; i < n; i++)
			if (v[i].version == ver)
				snprintf(applied[i], 65, "%s", PQgetvalue(r, row, 1));
	}
	PQclear(r);
	return true;
}

struct apply_ctx {
	const struct migration *m;
	const char *sql;
};

static enum db_tx_status apply_one(struct db *db, void *arg)
{
	struct apply_ctx *a = arg;
	char st[6], ver[16];
	if (!db_exec_simple(db, a->sql, st)) {
		fprintf(stderr, "kprctl: %s failed: %s\n", a->m->name, db_last_error(db));
		return DB_TX_FAIL;
	}
	snprintf(ver, sizeof ver, "%d", a->m->version);
	const char *params[] = {ver, a->m->name, a->m->sha256, kprctl.actor};
	PGresult *r = db_exec(db, &stmt_record, params, st);
	if (!r)
		return DB_TX_FAIL;
	PQclear(r);
	return DB_TX_OK;
}

static int migrate_one_db(const char *which, struct db *db, bool apply)
{
	struct migration *v = NULL;
	int n = list_migrations(which, &v);
	if (n < 0 || !ensure_table(db)) {
		free(v);
		return 1;
	}
	char(*applied)[65] = calloc((size_t)n + 1, 65);
	if (!applied || !applied_state(db, v, n, applied)) {
		free(v);
		free(applied);
		return 1;
	}
	int rc = 0, pending = 0, applied_now = 0;
	for (int i = 0; i < n; i++) {
		if (applied[i][0]) {
			bool changed = strcmp(applied[i], v[i].sha256) != 0;
			if (changed)
				rc = 1;
			printf("%-8s %s  applied%s\n", which, v[i].name,
			       changed ? "  CHANGED SINCE APPLIED (migrations are append-only)"
				       : "");
			continue;
		}
		pending++;
		if (!apply) {
			printf("%-8s %s  pending\n", which, v[i].name);
			continue;
		}
		size_t len;
		char err[512];
		char *sql = files_read_all(v[i].path, MIGRATION_MAX_BYTES, &len, err, sizeof err);
		if (!sql)
			fprintf(stderr, "kprctl: %s\n", err);
		struct apply_ctx a = {&v[i], sql};
		if (!sql || !db_transaction(db, "READ COMMITTED", apply_one, &a, 0, "kprctl")) {
			free(sql);
			rc = 1;
			break;
		}
		free(sql);
		applied_now++;
		printf("%-8s %s  applied now\n", which, v[i].name);
	}
	if (!apply && pending == 0)
		printf("%-8s up to date\n", which);
	if (apply && applied_now > 0 && rc == 0 && !strcmp(which, "register")) {
		char detail[64];
		snprintf(detail, sizeof detail, "%d register migration(s) applied", applied_now);
		if (!kprctl_audit(db, "db_migrate", detail))
			rc = 1;
	}
	free(v);
	free(applied);
	return rc;
}

int kprctl_cmd_db(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "migrate") && strcmp(argv[1], "status"))) {
		fprintf(stderr, "usage: kprctl db migrate|status\n");
		return 2;
	}
	bool apply = !strcmp(argv[1], "migrate");
	int rc = 0;
	struct db *reg = kprctl_connect_register();
	if (!reg)
		return 1;
	rc |= migrate_one_db("register", reg, apply);
	db_free(reg);
	struct db *vault = kprctl_connect_vault();
	if (!vault)
		return 1;
	rc |= migrate_one_db("vault", vault, apply);
	db_free(vault);
	return rc;
}
