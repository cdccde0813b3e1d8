/*
 * cmd_verify.c — `kprctl verify [--config FILE] (SUBMISSION-ID | --all)`:
 * checks that the register says what the status API and the feedback say,
 * for operators after an incident or after restoring the two separately
 * backed-up databases.
 *
 * For every processed submission it recounts from the register's own rows
 * the persons and registrations loaded (SPEC §1: Fnr, Kjonn, Fodselsaar
 * when given and Dodsdato each count, a Vurdering counts 1 + its Funksjon,
 * every other element 1) and compares them with the submission row and,
 * with --config, with its JSON feedback file. It scans every text column of
 * the submission's register rows for a national-ID candidate (SPEC §3; none
 * may be there), and, when the vault is reachable as its owner, checks that
 * every pseudonym of the current register has its vault entry.
 *
 * Prints one line per difference, never a value that could be an ID (only
 * masked forms). Exit 0: no difference; 1: differences; 2: usage or error.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "feedback.h"
#include "kprctl.h"
#include "nid.h"

/* Persons and registrations per submission: recorded and recounted. */
static const struct db_stmt st_counts = {
    "verify_counts",
    "SELECT s.id::text, s.status, s.dry_run, coalesce(s.persons_loaded, 0),"
    " coalesce(s.registrations_loaded, 0), coalesce(p.n, 0),"
    " coalesce(p.r, 0) + coalesce(v.r, 0) + coalesce(t.n, 0) + coalesce(d.n, 0)"
    "   + coalesce(g.n, 0), coalesce(s.feedback_token, '')"
    " FROM kpr.submission s"
    " LEFT JOIN (SELECT submission_id, count(*) AS n,"
    "   sum(2 + fodselsaar_oppgitt::int + (dodsdato IS NOT NULL)::int) AS r"
    "   FROM kpr.person GROUP BY 1) p ON p.submission_id = s.id"
    " LEFT JOIN (SELECT submission_id, sum(1 + cardinality(skaar)) AS r"
    "   FROM kpr.vurdering GROUP BY 1) v ON v.submission_id = s.id"
    " LEFT JOIN (SELECT submission_id, count(*) AS n FROM kpr.tjeneste GROUP BY 1) t"
    "   ON t.submission_id = s.id"
    " LEFT JOIN (SELECT submission_id, count(*) AS n FROM kpr.diagnose GROUP BY 1) d"
    "   ON d.submission_id = s.id"
    " LEFT JOIN (SELECT submission_id, count(*) AS n FROM kpr.registrering GROUP BY 1) g"
    "   ON g.submission_id = s.id"
    " WHERE ($1::uuid IS NULL OR s.id = $1::uuid)"
    "   AND s.status NOT IN ('received', 'processing')"
    " ORDER BY s.received_at, s.id",
    1};

/* Text columns that hold values from a file. Identifiers (Innsending/@id,
 * forrigeId) are shown in full by SPEC §3; sha256 and spool_name are ours. */
static const struct db_stmt st_columns = {
    "verify_columns",
    "SELECT c.table_name, c.column_name FROM information_schema.columns c"
    " JOIN information_schema.tables t ON t.table_schema = c.table_schema"
    "  AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'"
    " WHERE c.table_schema = 'kpr' AND c.data_type IN ('text', 'character varying')"
    "  AND (c.table_name = 'submission' OR EXISTS (SELECT 1 FROM information_schema.columns k"
    "   WHERE k.table_schema = 'kpr' AND k.table_name = c.table_name"
    "   AND k.column_name = 'submission_id'))"
    "  AND NOT (c.table_name = 'submission' AND c.column_name IN"
    "   ('innsending_id', 'forrige_id', 'sha256', 'spool_name', 'kommunenummer', 'status',"
    "    'content_encoding', 'feedback_token'))"
    " ORDER BY 1, 2",
    0};

struct verify {
	const char *only; /* one submission id, or NULL for --all */
	struct kpr_config *cfg;
	struct nid_options nid;
	unsigned long checked, differences;
};

static void difference(struct verify *v, const char *sub, const char *fmt, ...) KPR_PRINTF(3, 4);
static void difference(struct verify *v, const char *sub, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("DIFF %s: ", sub ? sub : "register");
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	v->differences++;
}

/* The feedback file's summary, or false when there is none to compare. */
static bool feedback_counts(const struct verify *v, const char *sub, const char *token,
			    long long *persons, long long *regs)
{
	char path[4400];
	if (!v->cfg || !v->cfg->feedback_dir ||
	    !feedback_path(path, sizeof path, v->cfg->feedback_dir, sub, token, 0, FEEDBACK_JSON))
		return false;
	json_error_t err;
	json_t *doc = json_load_file(path, 0, &err);
	if (!doc)
		return false;
	json_t *s = json_object_get(doc, "summary");
	*persons = json_integer_value(json_object_get(s, "persons_loaded"));
	*regs = json_integer_value(json_object_get(s, "registrations_loaded"));
	bool ok = json_is_integer(json_object_get(s, "persons_loaded"));
	json_decref(doc);
	return ok;
}

static bool check_counts(struct db *db, struct verify *v)
{
	const char *p[] = {v->only};
	PGresult *r = db_exec(db, &st_counts, p, NULL);
	if (!r) {
		fprintf(stderr, "kprctl verify: %s\n", db_last_error(db));
		return false;
	}
	if (v->only && PQntuples(r) == 0)
		difference(v, v->only, "no processed submission with this id");
	for (int i = 0; i < PQntuples(r); i++) {
		const char *sub = PQgetvalue(r, i, 0), *status = PQgetvalue(r, i, 1);
		bool dry = PQgetvalue(r, i, 2)[0] == 't';
		long long rec_p = atoll(PQgetvalue(r, i, 3)), rec_r = atoll(PQgetvalue(r, i, 4));
		long long reg_p = atoll(PQgetvalue(r, i, 5)), reg_r = atoll(PQgetvalue(r, i, 6));
		v->checked++;
		if (reg_p != rec_p || reg_r != rec_r)
			difference(v, sub,
				   "%s: the status says %lld persons / %lld registrations loaded, "
				   "the register holds %lld / %lld",
				   status, rec_p, rec_r, reg_p, reg_r);
		long long fb_p, fb_r;
		if (!dry && feedback_counts(v, sub, PQgetvalue(r, i, 7), &fb_p, &fb_r) &&
		    (fb_p != reg_p || fb_r != reg_r) && strcmp(status, "rejected") != 0)
			difference(v, sub,
				   "the feedback says %lld persons / %lld registrations loaded, "
				   "the register holds %lld / %lld",
				   fb_p, fb_r, reg_p, reg_r);
	}
	PQclear(r);
	return true;
}

/* Every text column of the register rows: no national-ID candidate. */
static bool check_candidates(struct db *db, struct verify *v)
{
	PGresult *cols = db_exec(db, &st_columns, NULL, NULL);
	if (!cols) {
		fprintf(stderr, "kprctl verify: %s\n", db_last_error(db));
		return false;
	}
	PGconn *c = db_conn(db); /* the per-column scans are built here */
	bool ok = true;
	for (int i = 0; ok && i < PQntuples(cols); i++) {
		const char *table = PQgetvalue(cols, i, 0), *col = PQgetvalue(cols, i, 1);
		char *qt = PQescapeIdentifier(c, table, strlen(table));
		char *qc = PQescapeIdentifier(c, col, strlen(col));
		bool is_sub = strcmp(table, "submission") == 0;
		char sql[1024];
		/* any candidate has six digits in a row: let PostgreSQL filter */
		snprintf(sql, sizeof sql,
			 "SELECT %s::text, %s FROM kpr.%s WHERE %s ~ '[0-9]{6}'"
			 " AND ($1::uuid IS NULL OR %s = $1::uuid)",
			 is_sub ? "id" : "submission_id", qc, qt, qc,
			 is_sub ? "id" : "submission_id");
		const char *p[] = {v->only};
		PGresult *r = PQexecParams(c, sql, 1, NULL, p, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			fprintf(stderr, "kprctl verify: %s", PQerrorMessage(c));
			ok = false;
		}
		for (int k = 0; ok && k < PQntuples(r); k++) {
			const char *val = PQgetvalue(r, k, 1);
			if (!nid_has_candidate(val, strlen(val), &v->nid))
				continue;
			char shown[200];
			(void)nid_mask_text(val, strlen(val), &v->nid, shown, sizeof shown);
			difference(v, PQgetvalue(r, k, 0),
				   "kpr.%s.%s holds a national-ID candidate (%s)", table, col,
				   shown);
		}
		PQclear(r);
		PQfreemem(qt);
		PQfreemem(qc);
	}
	PQclear(cols);
	return ok;
}

/* The current register's pseudonyms as a text array "{hex:version,...}",
 * and how many of them have no vault entry. */
static const struct db_stmt st_current_pseudonyms = {
    "verify_current_pseudonyms",
    "SELECT '{' || coalesce(string_agg(DISTINCT encode(pseudonym, 'hex') || ':'"
    " || key_version, ','), '') || '}' FROM kpr.current_person"
    " WHERE $1::uuid IS NULL OR submission_id = $1::uuid",
    1};
static const struct db_stmt st_missing_in_vault = {
    "verify_missing_in_vault",
    "SELECT count(*) FROM unnest($1::text[]) u(x) WHERE NOT EXISTS (SELECT 1 FROM"
    " vault.entry e WHERE e.pseudonym = decode(split_part(u.x, ':', 1), 'hex')"
    " AND e.key_version = split_part(u.x, ':', 2)::int)",
    1};

/* Every pseudonym of the current register has its vault entry. */
static bool check_vault(struct db *reg, struct verify *v)
{
	if (!kprctl.vault_dsn) {
		printf("vault not checked: no vault DSN (--vault-dsn or KPR_VAULT_ADMIN_DSN)\n");
		return true;
	}
	const char *p[] = {v->only};
	PGresult *r = db_exec(reg, &st_current_pseudonyms, p, NULL);
	if (!r) {
		fprintf(stderr, "kprctl verify: %s\n", db_last_error(reg));
		return false;
	}
	struct db *vault = kprctl_connect_vault();
	if (!vault) {
		PQclear(r);
		return false;
	}
	const char *vp[] = {PQgetvalue(r, 0, 0)};
	PGresult *m = db_exec(vault, &st_missing_in_vault, vp, NULL);
	bool ok = m != NULL;
	if (!ok)
		fprintf(stderr, "kprctl verify: %s\n", db_last_error(vault));
	else if (atoll(PQgetvalue(m, 0, 0)) > 0)
		difference(v, v->only,
			   "%s pseudonym(s) of the current register have no vault entry "
			   "(restore the vault from a backup at least as new as the register)",
			   PQgetvalue(m, 0, 0));
	PQclear(m);
	PQclear(r);
	db_free(vault);
	return ok;
}

int kprctl_cmd_verify(int argc, char **argv)
{
	const char *conf = getenv("KPR_CONFIG");
	struct verify v = {.nid = {.test_mode = true, .allow_2032 = true}};
	bool all = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			conf = argv[++i];
		else if (!strcmp(argv[i], "--all"))
			all = true;
		else if (!v.only && argv[i][0] != '-')
			v.only = argv[i];
		else {
			all = false; /* unknown argument: usage */
			v.only = NULL;
			break;
		}
	}
	if (all == (v.only != NULL)) {
		fprintf(
		    stderr,
		    "usage: kprctl verify [--config FILE | $KPR_CONFIG] (SUBMISSION-ID | --all)\n");
		return 2;
	}
	if (conf) {
		char err[1024];
		v.cfg = config_load(conf, err, sizeof err);
		if (!v.cfg) {
			fprintf(stderr, "kprctl: %s\n", err);
			return 2;
		}
		/* candidates as this server judges them (SPEC §3) */
		v.nid.test_mode = v.cfg->test_mode;
		v.nid.allow_2032 = v.cfg->allow_2032_rule;
	} else {
		printf("no config: feedback files not compared; every number any server "
		       "setting accepts counts as a candidate\n");
	}
	struct db *db = kprctl_connect_register();
	int rc = 2;
	if (db && check_counts(db, &v) && check_candidates(db, &v) && check_vault(db, &v)) {
		printf("verify: %lu submission(s) checked, %lu difference(s)\n", v.checked,
		       v.differences);
		rc = v.differences ? 1 : 0;
	}
	db_free(db);
	config_free(v.cfg);
	return rc;
}
