/*
 * cmd_ref.c — `kprctl ref load`: counties, municipalities and code lists
 * from config/codelists.csv (the same file the validator reads) into the
 * register database, replacing what was there, in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codelist.h"
#include "kprctl.h"

static const struct db_stmt st_fylke = {
    "ref_fylke",
    "INSERT INTO kpr.fylke (fylkesnummer, navn) VALUES ($1, $2)"
    " ON CONFLICT (fylkesnummer) DO UPDATE SET navn = excluded.navn",
    2};
static const struct db_stmt st_kommune = {
    "ref_kommune",
    "INSERT INTO kpr.kommune (kommunenummer, navn, fylkesnummer, gyldig_fra, gyldig_til)"
    " VALUES ($1, $2, $3, $4::date, $5::date) ON CONFLICT (kommunenummer) DO UPDATE SET"
    " navn = excluded.navn, fylkesnummer = excluded.fylkesnummer,"
    " gyldig_fra = excluded.gyldig_fra, gyldig_til = excluded.gyldig_til",
    5};
static const struct db_stmt st_kode = {
    "ref_kode",
    "INSERT INTO kpr.kode (liste, kode, navn, gyldig_fra, gyldig_til, institusjon)"
    " VALUES ($1, $2, $3, $4::date, $5::date, $6::boolean)",
    6};

static void ymd(int v, char out[16])
{
	snprintf(out, 16, "%04d-%02d-%02d", v / 10000 % 10000, v / 100 % 100, v % 100);
}

static bool exec_ok(struct db *db, const struct db_stmt *s, const char *const *p)
{
	PGresult *r = db_exec(db, s, p, NULL);
	PQclear(r);
	return r != NULL;
}

static enum db_tx_status load(struct db *db, void *arg)
{
	const struct codelist *cl = arg;
	char st[6];
	if (!db_exec_simple(db, "DELETE FROM kpr.kode", st))
		return DB_TX_FAIL;
	size_t nf = 0, nk = 0, nc = 0;
	/* counties first: municipalities reference them */
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < codelist_count(cl); i++) {
			const struct codelist_entry *e = codelist_at(cl, i);
			char from[16], to[16];
			ymd(e->valid_from, from);
			ymd(e->valid_to, to);
			const char *to_p = e->valid_to >= 99991231 ? NULL : to;
			bool ok = true;
			if (pass == 0 && !strcmp(e->list, "fylke")) {
				const char *p[] = {e->code, e->name};
				ok = exec_ok(db, &st_fylke, p);
				nf++;
			} else if (pass == 1 && !strcmp(e->list, "kommune")) {
				const char *p[] = {e->code, e->name, e->parent ? e->parent : "",
						   from, to_p};
				ok = exec_ok(db, &st_kommune, p);
				nk++;
			} else if (pass == 2 && strcmp(e->list, "fylke") &&
				   strcmp(e->list, "kommune")) {
				const char *p[] = {e->list, e->code,
						   e->name, from,
						   to_p,    e->institution ? "true" : "false"};
				ok = exec_ok(db, &st_kode, p);
				nc++;
			}
			if (!ok) {
				fprintf(stderr, "kprctl: loading %s %s failed: %s\n", e->list,
					e->code, db_last_error(db));
				return DB_TX_FAIL;
			}
		}
	}
	char detail[128];
	snprintf(detail, sizeof detail, "%zu counties, %zu municipalities, %zu codes", nf, nk, nc);
	if (!kprctl_audit(db, "ref_load", detail))
		return DB_TX_FAIL;
	printf("loaded %s\n", detail);
	return DB_TX_OK;
}

int kprctl_cmd_ref(int argc, char **argv)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/codelists.csv", kprctl.config_dir);
	if (argc < 2 || strcmp(argv[1], "load")) {
		fprintf(stderr, "usage: kprctl ref load [--codes FILE]\n");
		return 2;
	}
	if (argc == 4 && !strcmp(argv[2], "--codes"))
		snprintf(path, sizeof path, "%s", argv[3]);
	else if (argc != 2) {
		fprintf(stderr, "usage: kprctl ref load [--codes FILE]\n");
		return 2;
	}
	char err[512];
	struct codelist *cl = codelist_load(path, err, sizeof err);
	if (!cl) {
		fprintf(stderr, "kprctl: %s\n", err);
		return 1;
	}
	struct db *db = kprctl_connect_register();
	int rc = 1;
	if (db && db_transaction(db, "READ COMMITTED", load, cl, 0, "kprctl"))
		rc = 0;
	db_free(db);
	codelist_free(cl);
	return rc;
}
