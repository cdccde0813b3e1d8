/*
 * ingest.c — runs one claimed submission through the pipeline.
 *   1. validate the spooled file, streaming; each accepted person is
 *      pseudonymised, its national ID added to the vault, and its rows
 *      written to per-table COPY buffers in unlinked temporary files
 *      (bounded memory whatever the file size);
 *   2. render the four feedback files under this attempt's own random
 *      token (feedback_path), never over files that may be served;
 *   3. one register transaction: COPY the rows, drop persons retracted by
 *      late duplicate checks, supersede the previous current submission,
 *      record status and counts, finish the job.
 * A crash before 3 commits leaves nothing behind in the register; the job's
 * lease runs out and another worker runs it again from the spool.
 * Must not: keep, log or write a national ID anywhere but the vault.
 */
#include "ingest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codelist.h"
#include "config.h"
#include "db.h"
#include "failpoint.h"
#include "feedback.h"
#include "keystore.h"
#include "log.h"
#include "metrics.h"
#include "pseudo.h"
#include "report.h"
#include "validate.h"
#include "vault.h"

enum copy_table { T_PERSON = 0, T_VURDERING, T_TJENESTE, T_DIAGNOSE, T_REGISTRERING, T_COUNT };

static const char *const copy_sql[T_COUNT] = {
    "COPY kpr.person (submission_id, ref, pseudonym, key_version, kjonn, fodselsaar,"
    " fodselsaar_oppgitt, dodsdato, line) FROM STDIN",
    "COPY kpr.vurdering (submission_id, ref, dato, skaar, line) FROM STDIN",
    "COPY kpr.tjeneste (submission_id, ref, type, soknad, vedtak, start, slutt, avslag,"
    " timer_per_uke, timer_med_flere, orgnr, line) FROM STDIN",
    "COPY kpr.diagnose (submission_id, ref, kodeverk, kode, line) FROM STDIN",
    "COPY kpr.registrering (submission_id, ref, element, kode, dato, line) FROM STDIN",
};

struct ingest {
	const struct kpr_config *cfg;
	struct codelist *codes;
	struct pseudo_ctx *pseudo;
	struct vault *vault;
};

/* State of one job. */
struct job {
	struct ingest *in;
	const char *sub_id;
	char kommune[8];
	char spool_name[256];
	char sha256[65];
	char received_at[40]; /* Oslo time with offset (kpr.oslo_time) */
	char processed_at[40];
	char fb_token[FEEDBACK_TOKEN_LEN + 1];   /* this attempt's feedback files */
	char prev_token[FEEDBACK_TOKEN_LEN + 1]; /* those served until this commits */
	bool prev_ready;                         /* any feedback served until then */
	bool fb_written;
	struct nid_options nid; /* the validator's: what the feedback masks */
	long long bytes;
	bool dry_run;
	FILE *copy[T_COUNT];
	char **retracted;
	size_t nretracted;
	bool failed; /* a vault or I/O error: the job is retried */
	enum ingest_fault fault;
	struct report *report;
	struct validate_result vres;
	double validate_seconds;
};

const char *ingest_fault_name(enum ingest_fault f)
{
	switch (f) {
	case FAULT_NONE:
		return "none";
	case FAULT_INTERNAL:
		return "internal";
	case FAULT_LOCAL_IO:
		return "local_io";
	case FAULT_DISK_FULL:
		return "disk_full";
	case FAULT_DATABASE:
		return "database";
	case FAULT_TIME_LIMIT:
		return "time_limit";
	case FAULT_SPOOL_MISSING:
		return "spool_missing";
	}
	return "internal";
}

/* A local write failed with errno e: a full disk, or some other I/O fault.
 * Both pass by themselves more often than not, so the job backs off. */
static enum ingest_fault io_fault(int e)
{
	return e == ENOSPC || e == EDQUOT ? FAULT_DISK_FULL : FAULT_LOCAL_IO;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct ingest *ingest_new(const struct kpr_config *cfg, char *err, size_t errlen)
{
	struct ingest *in = calloc(1, sizeof *in);
	if (!in) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	in->cfg = cfg;
	in->codes = codelist_load(cfg->codelists_file, err, errlen);
	if (!in->codes)
		goto fail;
	struct keystore_pseudonym_key k;
	if (!keystore_load_pseudonym_key(cfg->keys_dir, &k)) {
		snprintf(err, errlen, "pseudonym key in %s: %s", cfg->keys_dir, keystore_error());
		goto fail;
	}
	in->pseudo = pseudo_new(k.key, sizeof k.key, k.version);
	in->vault = vault_new(cfg, k.version, k.fingerprint, err, errlen);
	keystore_pseudonym_key_wipe(&k);
	if (!in->pseudo) {
		snprintf(err, errlen, "cannot set up pseudonymisation");
		goto fail;
	}
	if (!in->vault)
		goto fail;
	return in;
fail:
	ingest_free(in);
	return NULL;
}

void ingest_free(struct ingest *in)
{
	if (!in)
		return;
	codelist_free(in->codes);
	pseudo_free(in->pseudo);
	vault_free(in->vault);
	free(in);
}

/* COPY text format: backslash, tab, newline and carriage return escaped. */
static void put_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\':
			fputs("\\\\", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static void put_opt(FILE *f, const char *s)
{
	if (s && *s)
		put_text(f, s);
	else
		fputs("\\N", f);
}

static void put_key(FILE *f, const struct job *j, const char *ref)
{
	fputs(j->sub_id, f);
	fputc('\t', f);
	put_text(f, ref);
	fputc('\t', f);
}

static void put_hours(FILE *f, bool has, double v)
{
	if (has)
		fprintf(f, "%.1f", v);
	else
		fputs("\\N", f);
}

static void put_registrering(FILE *f, const struct job *j, const char *ref, const char *element,
			     int kode, const char *dato, unsigned long line)
{
	put_key(f, j, ref);
	fprintf(f, "%s\t", element);
	if (kode > 0)
		fprintf(f, "%d\t", kode);
	else
		fputs("\\N\t", f);
	put_opt(f, dato);
	fprintf(f, "\t%lu\n", line);
}

/* Free text from the file as the register may hold it: as written, or not at
 * all (NULL) when it carries a national-ID candidate (SPEC §3). The
 * validator already refuses or drops such values; this is the loader's own
 * guarantee, so no column outside the vault can ever hold an ID. */
static const char *storable(const struct job *j, const char *s)
{
	return s && nid_has_candidate(s, strlen(s), &j->nid) ? NULL : s;
}

static bool on_person(void *ctx, const struct v_person *p)
{
	struct job *j = ctx;
	if (!storable(j, p->ref)) {
		/* a ref is the person's key: it cannot be dropped, only refused */
		rlog_error(j->sub_id, "a ref carrying a national-ID candidate reached the loader; "
				      "refusing to load the file");
		return false;
	}
	struct pseudonym ps;
	if (!pseudo_compute(j->in->pseudo, p->fnr, &ps))
		return false;
	if (!j->dry_run && !vault_add(j->in->vault, &ps, p->fnr)) {
		j->failed = true;
		return false;
	}
	if (j->dry_run)
		return true;
	char hex[PSEUDO_HEX_LEN + 1];
	pseudo_to_hex(&ps, hex);
	FILE *f = j->copy[T_PERSON];
	put_key(f, j, p->ref);
	fprintf(f, "\\\\x%s\t%d\t%d\t%d\t%s\t", hex, ps.key_version, p->kjonn, p->fodselsaar,
		p->fodselsaar_given ? "t" : "f");
	put_opt(f, p->dodsdato);
	fprintf(f, "\t%lu\n", p->line);

	f = j->copy[T_VURDERING];
	for (size_t i = 0; i < p->n_vurderinger; i++) {
		const struct v_vurdering *v = &p->vurderinger[i];
		put_key(f, j, p->ref);
		fprintf(f, "%s\t{", v->dato);
		for (int k = 0; k < V_FUNKSJON_COUNT; k++)
			fprintf(f, k ? ",%u" : "%u", v->skaar[k]);
		fprintf(f, "}\t%lu\n", v->line);
	}
	f = j->copy[T_TJENESTE];
	for (size_t i = 0; i < p->n_tjenester; i++) {
		const struct v_tjeneste *t = &p->tjenester[i];
		put_key(f, j, p->ref);
		fprintf(f, "%d\t", t->type);
		put_opt(f, t->soknad);
		fputc('\t', f);
		put_opt(f, t->vedtak);
		fputc('\t', f);
		put_opt(f, t->start);
		fputc('\t', f);
		put_opt(f, t->slutt);
		fprintf(f, "\t%s\t", t->avslag ? "t" : "f");
		put_hours(f, t->has_timer_per_uke, t->timer_per_uke);
		fputc('\t', f);
		put_hours(f, t->has_timer_med_flere, t->timer_med_flere);
		fputc('\t', f);
		put_opt(f, storable(j, t->orgnr));
		fprintf(f, "\t%lu\n", t->line);
	}
	f = j->copy[T_DIAGNOSE];
	for (size_t i = 0; i < p->n_diagnoser; i++) {
		put_key(f, j, p->ref);
		put_text(f, p->diagnoser[i].kodeverk);
		fputc('\t', f);
		put_text(f, p->diagnoser[i].kode);
		fprintf(f, "\t%lu\n", p->diagnoser[i].line);
	}
	f = j->copy[T_REGISTRERING];
	for (size_t i = 0; i < p->n_heldogn; i++)
		put_registrering(f, j, p->ref, "Heldogn", p->heldogn[i].kode, p->heldogn[i].dato,
				 p->heldogn[i].line);
	for (size_t i = 0; i < p->n_legemiddel; i++)
		put_registrering(f, j, p->ref, "Legemiddelgjennomgang", p->legemiddel[i].kode,
				 p->legemiddel[i].dato, p->legemiddel[i].line);
	for (size_t i = 0; i < p->n_ernaering; i++)
		put_registrering(f, j, p->ref, "Ernaering", p->ernaering[i].kode,
				 p->ernaering[i].dato, p->ernaering[i].line);
	for (size_t i = 0; i < p->n_individuell_plan; i++)
		put_registrering(f, j, p->ref, "IndividuellPlan", p->individuell_plan[i].kode, NULL,
				 p->individuell_plan[i].line);
	for (size_t i = 0; i < p->n_koordinator; i++)
		put_registrering(f, j, p->ref, "Koordinator", p->koordinator[i].kode, NULL,
				 p->koordinator[i].line);
	for (size_t i = 0; i < p->n_venteliste; i++)
		put_registrering(f, j, p->ref, "Venteliste", 0, p->venteliste[i].vedtak,
				 p->venteliste[i].line);
	for (int t = 0; t < T_COUNT; t++)
		if (ferror(j->copy[t])) {
			j->failed = true;
			j->fault = io_fault(errno);
			return false;
		}
	return true;
}

static bool on_retract(void *ctx, const char *ref)
{
	struct job *j = ctx;
	char **nv = realloc(j->retracted, (j->nretracted + 1) * sizeof *nv);
	if (!nv)
		return false;
	j->retracted = nv;
	j->retracted[j->nretracted] = strdup(ref);
	if (!j->retracted[j->nretracted])
		return false;
	j->nretracted++;
	return true;
}

static void job_cleanup(struct job *j)
{
	for (int t = 0; t < T_COUNT; t++)
		if (j->copy[t])
			fclose(j->copy[t]);
	for (size_t i = 0; i < j->nretracted; i++)
		free(j->retracted[i]);
	free(j->retracted);
	report_free(j->report);
}

static const struct db_stmt st_load = {
    "ingest_load",
    "SELECT kommunenummer, spool_name, sha256, bytes, dry_run,"
    " kpr.oslo_time(received_at), coalesce(feedback_token, ''), feedback_ready"
    " FROM kpr.submission WHERE id = $1::uuid",
    1};
/* The processed time shown in the feedback is the one stored: one clock. */
static const struct db_stmt st_now = {"ingest_now", "SELECT kpr.oslo_time(clock_timestamp(), true)",
				      0};
static const struct db_stmt st_start = {
    "ingest_start",
    "UPDATE kpr.submission SET status = 'processing', started_at = now()"
    " WHERE id = $1::uuid AND status IN ('received', 'processing')",
    1};
static const struct db_stmt st_latest = {
    "ingest_latest",
    "SELECT coalesce(innsending_id, '') FROM kpr.submission WHERE kommunenummer = $1"
    " AND aargang = $2::int AND NOT dry_run AND id <> $3::uuid"
    " AND received_at <= (SELECT received_at FROM kpr.submission WHERE id = $3::uuid)"
    " AND status <> 'received' ORDER BY received_at DESC LIMIT 1",
    3};
static const struct db_stmt st_kommunenavn = {
    "ingest_kommunenavn", "SELECT navn FROM kpr.kommune WHERE kommunenummer = $1", 1};
/* Submissions of one municipality and årgang finish one at a time, and
 * the newest received is current whatever order the workers finish in. */
static const struct db_stmt st_lock_kommune = {
    "ingest_lock_kommune",
    "SELECT pg_advisory_xact_lock(hashtext('kpr.current:' || $1 || ':' || $2))", 2};
static const struct db_stmt st_newer = {
    "ingest_newer",
    "SELECT id::text FROM kpr.submission WHERE kommunenummer = $2 AND aargang = $3::int"
    " AND status IN ('accepted', 'accepted_with_errors') AND id <> $1::uuid"
    " AND received_at > (SELECT received_at FROM kpr.submission WHERE id = $1::uuid)"
    " ORDER BY received_at DESC LIMIT 1",
    3};
static const struct db_stmt st_supersede = {
    "ingest_supersede",
    "UPDATE kpr.submission SET status = 'superseded', superseded_at = now(),"
    " superseded_by = $1::uuid WHERE kommunenummer = $2 AND aargang = $3::int"
    " AND status IN ('accepted', 'accepted_with_errors') AND id <> $1::uuid"
    " AND received_at <= (SELECT received_at FROM kpr.submission WHERE id = $1::uuid)",
    3};
static const struct db_stmt st_superseded_by = {
    "ingest_superseded_by",
    "UPDATE kpr.submission SET status = 'superseded', superseded_at = now(),"
    " superseded_by = $2::uuid WHERE id = $1::uuid",
    2};
static const struct db_stmt st_finish = {
    "ingest_finish",
    "UPDATE kpr.submission SET status = $2, processed_at = $20::timestamptz, aargang = $3::int,"
    " innsending_id = coalesce(innsending_id, nullif($4, '')), forrige_id = nullif($5, ''),"
    " fagsystem = nullif($6, ''), fagsystem_versjon = nullif($7, ''),"
    " persons = $8::int, registrations = $9::bigint, persons_loaded = $10::int,"
    " persons_excluded = $11::int, registrations_loaded = $12::bigint,"
    " registrations_excluded = $13::bigint, n_fatal = $14::int, n_error = $15::int,"
    " n_warning = $16::int, n_info = $17::int, validate_seconds = $18::float8,"
    " load_seconds = $19::float8,"
    " total_seconds = extract(epoch from clock_timestamp() - started_at), feedback_ready = true,"
    " feedback_token = $21"
    " WHERE id = $1::uuid",
    21};
static const struct db_stmt st_job_done = {
    "ingest_job_done",
    "UPDATE kpr.job SET state = 'done', lease_until = NULL, updated_at = now()"
    " WHERE submission_id = $1::uuid AND worker = $2 AND state = 'running' RETURNING 1",
    2};
static const struct db_stmt st_job_ours = {
    "ingest_job_ours",
    "SELECT 1 FROM kpr.job WHERE submission_id = $1::uuid AND worker = $2 AND state = 'running'",
    2};
static const struct db_stmt st_committed = {
    "ingest_committed",
    "SELECT 1 FROM kpr.submission s JOIN kpr.job j ON j.submission_id = s.id"
    " WHERE s.id = $1::uuid AND s.processed_at = $2::timestamptz AND j.state = 'done'",
    2};
/* Removes rows of this submission: one person's ($2 = its ref), or all of
 * them ($2 NULL) when a reprocessed submission replaces its earlier rows.
 * Children first: the loader, not a foreign key, keeps them together. */
static const struct db_stmt st_delete_children = {
    "ingest_delete_children",
    "WITH d1 AS (DELETE FROM kpr.vurdering WHERE submission_id = $1::uuid AND ($2::text IS NULL OR ref = $2)),"
    " d2 AS (DELETE FROM kpr.tjeneste WHERE submission_id = $1::uuid AND ($2::text IS NULL OR ref = $2)),"
    " d3 AS (DELETE FROM kpr.diagnose WHERE submission_id = $1::uuid AND ($2::text IS NULL OR ref = $2)),"
    " d4 AS (DELETE FROM kpr.registrering WHERE submission_id = $1::uuid AND ($2::text IS NULL OR ref = $2))"
    " SELECT 1",
    2};
static const struct db_stmt st_delete_persons = {
    "ingest_delete_persons",
    "DELETE FROM kpr.person WHERE submission_id = $1::uuid AND ($2::text IS NULL OR ref = $2)", 2};

static bool copy_one(struct db *db, enum copy_table t, FILE *f)
{
	if (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0)
		return false;
	PGconn *c = db_conn(db);
	PGresult *r = PQexec(c, copy_sql[t]);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		log_error("COPY start failed: %s", PQerrorMessage(c));
		PQclear(r);
		return false;
	}
	PQclear(r);
	char buf[1 << 16];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		if (PQputCopyData(c, buf, (int)n) != 1)
			return false;
	}
	if (PQputCopyEnd(c, ferror(f) ? "read error" : NULL) != 1)
		return false;
	r = PQgetResult(c);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		log_error("COPY failed: %s", PQresultErrorMessage(r));
	PQclear(r);
	while ((r = PQgetResult(c)))
		PQclear(r);
	return ok;
}

static const char *final_status(const struct job *j, const struct report_summary *s)
{
	if (s->fatal)
		return "rejected";
	if (j->dry_run)
		return "validated";
	return s->by_severity[SEV_ERROR] > 0 ? "accepted_with_errors" : "accepted";
}

struct finish_ctx {
	struct job *j;
	const char *worker_id;
	const char *status;
	double load_seconds;
	bool load_rows;
	char newer[40]; /* a newer accepted submission that stays current */
	bool not_ours;  /* the job was no longer this worker's */
};

/* One statement of the finishing transaction. On failure: the runner's
 * verdict (retry on serialization failure or lost connection). The result
 * is kept in *keep when asked for, cleared otherwise. */
static enum db_tx_status step(struct db *db, const struct db_stmt *st, const char *const *p,
			      PGresult **keep)
{
	char sqlstate[6];
	PGresult *r = db_exec(db, st, p, sqlstate);
	if (!r)
		return db_sqlstate_retryable(sqlstate) ? DB_TX_RETRY : DB_TX_FAIL;
	if (keep)
		*keep = r;
	else
		PQclear(r);
	return DB_TX_OK;
}

static enum db_tx_status delete_rows(struct db *db, const char *sub_id, const char *ref)
{
	const char *p[] = {sub_id, ref};
	enum db_tx_status rc = step(db, &st_delete_children, p, NULL);
	return rc == DB_TX_OK ? step(db, &st_delete_persons, p, NULL) : rc;
}

static enum db_tx_status finish_tx(struct db *db, void *arg)
{
	struct finish_ctx *fc = arg;
	struct job *j = fc->j;
	const struct report_summary *s = report_summary(j->report);
	const struct v_header *h = &j->vres.header;
	enum db_tx_status rc;
	PGresult *r;
	double t0 = now_s();
	fc->newer[0] = '\0';
	/* a worker that lost its lease learns it here, before the COPY work;
	 * the fence that counts is the job update at the end */
	const char *pj[] = {j->sub_id, fc->worker_id};
	if ((rc = step(db, &st_job_ours, pj, &r)) != DB_TX_OK)
		return rc;
	fc->not_ours = PQntuples(r) != 1;
	PQclear(r);
	if (fc->not_ours)
		return DB_TX_FAIL;
	/* a reprocessed submission replaces its own earlier rows, or, when it
	 * is no longer loaded, leaves none behind */
	if (!j->dry_run && (rc = delete_rows(db, j->sub_id, NULL)) != DB_TX_OK)
		return rc;
	if (fc->load_rows) {
		for (int t = 0; t < T_COUNT; t++)
			if (!copy_one(db, (enum copy_table)t, j->copy[t]))
				return PQstatus(db_conn(db)) == CONNECTION_OK ? DB_TX_FAIL
									      : DB_TX_RETRY;
		for (size_t i = 0; i < j->nretracted; i++)
			if ((rc = delete_rows(db, j->sub_id, j->retracted[i])) != DB_TX_OK)
				return rc;
		char aargang[16];
		snprintf(aargang, sizeof aargang, "%d", h->aargang);
		const char *lp[] = {j->kommune, aargang};
		const char *p[] = {j->sub_id, j->kommune, aargang};
		if ((rc = step(db, &st_lock_kommune, lp, NULL)) != DB_TX_OK ||
		    (rc = step(db, &st_newer, p, &r)) != DB_TX_OK)
			return rc;
		if (PQntuples(r) == 1)
			snprintf(fc->newer, sizeof fc->newer, "%s", PQgetvalue(r, 0, 0));
		PQclear(r);
		if (!fc->newer[0] && (rc = step(db, &st_supersede, p, NULL)) != DB_TX_OK)
			return rc;
	}
	fc->load_seconds = now_s() - t0;
	char v[21][32];
	const char *p[21];
	snprintf(v[2], 32, "%d", h->aargang);
	snprintf(v[7], 32, "%lu", s->persons);
	snprintf(v[8], 32, "%lu", s->registrations);
	snprintf(v[9], 32, "%lu", fc->load_rows ? s->persons_loaded : 0);
	snprintf(v[10], 32, "%lu", s->persons_excluded);
	snprintf(v[11], 32, "%lu", fc->load_rows ? s->registrations_loaded : 0);
	snprintf(v[12], 32, "%lu", s->registrations_excluded);
	for (int k = 0; k < SEV_COUNT; k++)
		snprintf(v[13 + k], 32, "%lu", s->by_severity[k]);
	snprintf(v[17], 32, "%.3f", j->validate_seconds);
	snprintf(v[18], 32, "%.3f", fc->load_seconds);
	for (int k = 0; k < 21; k++)
		p[k] = v[k];
	p[19] = j->processed_at;
	p[20] = j->fb_token;
	p[0] = j->sub_id;
	/* never two current submissions (unique index): a newer one stays current */
	p[1] = fc->newer[0] ? "superseded" : fc->status;
	p[2] = h->aargang > 0 ? v[2] : NULL;
	p[3] = h->id;
	p[4] = h->forrige_id;
	p[5] = storable(j, h->fagsystem);
	p[6] = storable(j, h->fagsystem_versjon);
	if ((rc = step(db, &st_finish, p, NULL)) != DB_TX_OK)
		return rc;
	if (fc->newer[0]) {
		/* a file received later finished first: it stays current */
		const char *sp[] = {j->sub_id, fc->newer};
		if ((rc = step(db, &st_superseded_by, sp, NULL)) != DB_TX_OK)
			return rc;
	}
	/* the fence: the job is finished only while it is still ours (the
	 * row lock is held from here to the COMMIT, so briefly) */
	if ((rc = step(db, &st_job_done, pj, &r)) != DB_TX_OK)
		return rc;
	fc->not_ours = PQntuples(r) != 1;
	PQclear(r);
	if (fc->not_ours)
		return DB_TX_FAIL;
	failpoint("job.before_commit");
	return DB_TX_OK;
}

/* Removes the feedback files of one token of this submission (an empty
 * token: those written before tokens). Files of a format not written are
 * simply absent. */
static void remove_feedback(const struct job *j, const char *token)
{
	for (int f = 0; f < FEEDBACK_FORMAT_COUNT; f++) {
		char path[4200];
		if (feedback_path(path, sizeof path, j->in->cfg->feedback_dir, j->sub_id, token,
				  (enum feedback_format)f) &&
		    unlink(path) != 0 && errno != ENOENT)
			rlog_warn(j->sub_id, "cannot remove feedback file: %s", strerror(errno));
	}
}

/* After the commit: removes this submission's feedback files of other
 * tokens written before `before` less a margin (clock steps and another
 * host's clock on a shared directory): a half-written file of a crashed
 * attempt, one of an attempt that lost its lease. A file written later may
 * be a new reprocessing's, and is left to the reconciler. */
static void sweep_feedback(const struct job *j, time_t before)
{
	DIR *d = opendir(j->in->cfg->feedback_dir);
	if (!d)
		return;
	size_t tl = strlen(j->fb_token);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		struct stat st;
		if (strncmp(n, j->sub_id, 36) != 0 || n[36] != '.' ||
		    (!strncmp(n + 37, j->fb_token, tl) && n[37 + tl] == '.') ||
		    fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
		    st.st_mtime >= before - 60)
			continue;
		if (unlinkat(dirfd(d), n, 0) != 0 && errno != ENOENT)
			rlog_warn(j->sub_id, "cannot remove a stale feedback file: %s",
				  strerror(errno));
	}
	closedir(d);
}

/* Writes, fsyncs and closes one feedback file; false with errno. */
static bool write_one(const char *path, enum feedback_format f, const struct feedback_meta *m,
		      struct report *report)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		errno = e;
		return false;
	}
	bool ok = feedback_write(out, f, m, report);
	failpoint("job.feedback_write"); /* a file half written */
	int e = ok ? 0 : errno;
	if (ok && fflush(out) != 0)
		ok = false, e = errno;
	if (ok && fsync(fileno(out)) != 0)
		ok = false, e = errno;
	if (fclose(out) != 0 && ok)
		ok = false, e = errno;
	errno = e;
	return ok;
}

/* The feedback files of this attempt, as <id>.<token>.<ext> under a random
 * token of its own: nothing is served from them until the final
 * transaction records the token, so a worker that lost its lease and
 * resumes never overwrites what the committed attempt wrote. */
static bool write_feedback(struct job *j, struct db *reg)
{
	const struct kpr_config *cfg = j->in->cfg;
	char navn[128] = "";
	const char *p[] = {j->kommune};
	PGresult *r = db_exec(reg, &st_kommunenavn, p, NULL);
	if (r && PQntuples(r) == 1)
		snprintf(navn, sizeof navn, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	r = db_exec(reg, &st_now, NULL, NULL);
	if (!r || PQntuples(r) != 1) {
		PQclear(r);
		return false;
	}
	snprintf(j->processed_at, sizeof j->processed_at, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	unsigned char rnd[FEEDBACK_TOKEN_LEN / 2];
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		return false;
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(j->fb_token + 2 * i, 3, "%02x", rnd[i]);
	const struct v_header *h = &j->vres.header;
	struct feedback_meta m = {
	    .submission_id = j->sub_id,
	    .innsending_id = h->id[0] ? h->id : NULL,
	    .kommunenummer = j->kommune,
	    .kommunenavn = navn[0] ? navn : NULL,
	    .aargang = h->aargang,
	    .status = final_status(j, report_summary(j->report)),
	    .received_at = j->received_at,
	    .processed_at = j->processed_at,
	    .sha256 = j->sha256,
	    .bytes = (unsigned long long)j->bytes,
	    .fagsystem = h->fagsystem[0] ? h->fagsystem : NULL,
	    .fagsystem_versjon = h->fagsystem_versjon[0] ? h->fagsystem_versjon : NULL,
	    .dry_run = j->dry_run,
	    .nid = &j->nid,
	};
	j->fb_written = true; /* from here on, a failure removes what was written */
	for (int f = 0; f < FEEDBACK_FORMAT_COUNT; f++) {
		char path[4200];
		if (!feedback_path(path, sizeof path, cfg->feedback_dir, j->sub_id, j->fb_token,
				   (enum feedback_format)f)) {
			j->fault = FAULT_LOCAL_IO;
			return false;
		}
		if (!write_one(path, (enum feedback_format)f, &m, j->report)) {
			/* a renderer fails only when a write does: the errno is an I/O one */
			j->fault = io_fault(errno);
			log_error("job %s: writing feedback %s failed: %s", j->sub_id, path,
				  strerror(errno));
			return false;
		}
	}
	/* the names are durable before the transaction that points at them */
	int dfd = open(cfg->feedback_dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0 || fsync(dfd) != 0) {
		j->fault = io_fault(errno);
		if (dfd >= 0)
			close(dfd);
		return false;
	}
	close(dfd);
	return true;
}

static void count_rules(struct report *r)
{
	for (size_t i = 0; i < rules_catalogue_len; i++) {
		unsigned long n = report_rule_count(r, rules_catalogue[i].id);
		if (n)
			metrics_count_rule(rules_catalogue[i].id,
					   severity_name(rules_catalogue[i].severity), n);
	}
}

static bool load_job(struct job *j, struct db *reg)
{
	const char *p[] = {j->sub_id};
	PGresult *r = db_exec(reg, &st_load, p, NULL);
	if (!r || PQntuples(r) != 1) {
		PQclear(r);
		return false;
	}
	snprintf(j->kommune, sizeof j->kommune, "%s", PQgetvalue(r, 0, 0));
	snprintf(j->spool_name, sizeof j->spool_name, "%s", PQgetvalue(r, 0, 1));
	snprintf(j->sha256, sizeof j->sha256, "%s", PQgetvalue(r, 0, 2));
	j->bytes = atoll(PQgetvalue(r, 0, 3));
	j->dry_run = PQgetvalue(r, 0, 4)[0] == 't';
	snprintf(j->received_at, sizeof j->received_at, "%s", PQgetvalue(r, 0, 5));
	snprintf(j->prev_token, sizeof j->prev_token, "%s", PQgetvalue(r, 0, 6));
	j->prev_ready = PQgetvalue(r, 0, 7)[0] == 't';
	PQclear(r);
	return true;
}

/* A failure while a database is unreachable will pass by itself and uses
 * up no attempt; any other failure counts towards giving up. */
static enum ingest_outcome transient(struct ingest *in, struct db *reg)
{
	if (PQstatus(db_conn(reg)) != CONNECTION_OK || !db_ensure(reg) ||
	    !vault_reachable(in->vault))
		return INGEST_RETRY_TRANSIENT;
	return INGEST_RETRY;
}

/* Looks up the municipality's latest Innsending id for the årgang in the
 * file's header: F007 needs it. */
static void find_latest(struct job *j, struct db *reg, const char *path, char latest[80])
{
	char err[256];
	struct v_header peek;
	latest[0] = '\0';
	if (!validate_peek_header(path, &peek, err, sizeof err) || peek.aargang <= 0)
		return;
	char ag[16];
	snprintf(ag, sizeof ag, "%d", peek.aargang);
	const char *lp[] = {j->kommune, ag, j->sub_id};
	PGresult *r = db_exec(reg, &st_latest, lp, NULL);
	if (r && PQntuples(r) == 1)
		snprintf(latest, 80, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
}

/* The validation pass: rows to the COPY files, IDs to the vault batches. */
static bool validate_job(struct job *j, const char *path, const char *latest, double deadline)
{
	const struct kpr_config *cfg = j->in->cfg;
	for (int t = 0; t < T_COUNT; t++) {
		j->copy[t] = tmpfile();
		if (!j->copy[t]) {
			j->fault = io_fault(errno);
			log_error("job %s: no temporary file: %s", j->sub_id, strerror(errno));
			return false;
		}
	}
	config_read_lock(); /* one consistent set of reloadable values per job */
	struct validate_params vp = {
	    .codes = j->in->codes,
	    .auth_kommune = j->kommune,
	    .aargang_open_min = cfg->aargang_open_min,
	    .aargang_open_max = cfg->aargang_open_max,
	    .latest_submission_id = latest,
	    .test_mode = cfg->test_mode,
	    .allow_2032 = cfg->allow_2032_rule,
	    .max_bytes = (unsigned long long)cfg->max_xml_bytes,
	    .deadline = deadline,
	};
	config_read_unlock();
	j->nid = (struct nid_options){.test_mode = vp.test_mode, .allow_2032 = vp.allow_2032};
	struct validate_sink sink = {on_person, on_retract, j};
	double tv = now_s();
	bool ok = validate_file(path, &vp, &sink, j->report, &j->vres);
	j->validate_seconds = now_s() - tv;
	if (j->vres.timed_out)
		j->fault = FAULT_TIME_LIMIT;
	else if (!ok && !j->failed && access(path, R_OK) != 0)
		j->fault = FAULT_SPOOL_MISSING;
	/* the COPY files are complete: a full disk shows here, not mid-COPY */
	for (int t = 0; ok && t < T_COUNT; t++)
		if (fflush(j->copy[t]) != 0) {
			j->fault = io_fault(errno);
			ok = false;
		}
	if (!ok || j->failed) {
		rlog_warn(j->sub_id, "validation pass failed (%s); will retry",
			  ingest_fault_name(j->fault ? j->fault : FAULT_INTERNAL));
		return false;
	}
	failpoint("job.after_validate");
	return true;
}

static void log_done(const struct job *j, const struct finish_ctx *fc, double total)
{
	const struct report_summary *s = report_summary(j->report);
	count_rules(j->report);
	metrics_add("kpr_records_processed_total", s->registrations);
	metrics_count_submission(fc->status);
	metrics_observe_job_seconds(total);
	rlog_info(j->sub_id,
		  "%s: kommune %s, %lu persons, %lu registrations (%lu loaded), "
		  "%lu fatal, %lu errors, %lu warnings; validate %.2fs, load %.2fs, total %.2fs",
		  fc->status, j->kommune, s->persons, s->registrations,
		  fc->load_rows ? s->registrations_loaded : 0, s->by_severity[SEV_FATAL],
		  s->by_severity[SEV_ERROR], s->by_severity[SEV_WARNING], j->validate_seconds,
		  fc->load_seconds, total);
}

enum finish_loss { FINISH_FAILED, FINISH_LEASE_LOST, FINISH_COMMITTED_EARLIER };

/* The final transaction found the job no longer ours. Either the COMMIT
 * of an earlier try of ours landed with its answer lost (the runner
 * retries on a lost connection): then this very processed time is stored.
 * Or our lease ran out and another worker took the job. Asked after the
 * rollback, so that our own uncommitted writes cannot answer. */
static enum finish_loss after_lost_job(struct job *j, struct db *reg)
{
	const char *pc[] = {j->sub_id, j->processed_at};
	PGresult *r = db_exec(reg, &st_committed, pc, NULL);
	if (!r)
		return FINISH_FAILED;
	bool landed = PQntuples(r) == 1;
	PQclear(r);
	return landed ? FINISH_COMMITTED_EARLIER : FINISH_LEASE_LOST;
}

enum ingest_outcome ingest_process(struct ingest *in, struct db *reg, const char *sub_id,
				   const char *worker_id, double deadline, enum ingest_fault *fault)
{
	double t0 = now_s();
	struct job j = {.in = in, .sub_id = sub_id};
	enum ingest_outcome outcome = INGEST_RETRY;
	const struct kpr_config *cfg = in->cfg;

	*fault = FAULT_NONE;
	vault_discard(in->vault); /* nothing of an earlier attempt is sent */
	if (!load_job(&j, reg))
		return transient(in, reg);
	{
		PGresult *r = db_exec(reg, &st_start, (const char *[]){sub_id}, NULL);
		PQclear(r);
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", cfg->spool_dir, j.spool_name);
	char latest[80];
	find_latest(&j, reg, path, latest);
	config_read_lock();
	bool keep_file = cfg->keep_processed_files;
	int retry_limit = cfg->db_retry_limit;
	config_read_unlock();

	j.report = report_new(NULL);
	if (!j.report || !validate_job(&j, path, latest, deadline))
		goto failed;
	const struct report_summary *s = report_summary(j.report);
	bool load_rows = !s->fatal && !j.dry_run;
	if (load_rows && !vault_flush(in->vault)) {
		rlog_warn(sub_id, "vault unavailable; will retry");
		j.fault = FAULT_DATABASE;
		goto failed;
	}
	if (now_s() > deadline && deadline > 0) {
		j.fault = FAULT_TIME_LIMIT;
		goto failed;
	}
	if (!write_feedback(&j, reg))
		goto failed;
	struct finish_ctx fc = {&j, worker_id, final_status(&j, s), 0, load_rows, "", false};
	time_t before_commit = time(NULL);
	if (!db_transaction(reg, "READ COMMITTED", finish_tx, &fc, retry_limit, sub_id)) {
		enum finish_loss loss = fc.not_ours ? after_lost_job(&j, reg) : FINISH_FAILED;
		if (loss == FINISH_LEASE_LOST) {
			rlog_warn(sub_id, "lease lost: another worker took the job over; this "
					  "attempt committed nothing and its feedback is removed");
			remove_feedback(&j, j.fb_token);
			outcome = INGEST_LEASE_LOST;
			goto out;
		}
		if (loss == FINISH_FAILED) {
			if (!j.fault) /* class 53: the database server is out of disk or memory */
				j.fault = !strncmp(db_last_sqlstate(reg), "53", 2) ? FAULT_DISK_FULL
										   : FAULT_DATABASE;
			goto failed;
		}
		/* FINISH_COMMITTED_EARLIER: go on as committed */
	}
	failpoint("job.after_commit");
	/* The register and the vault now hold what the file said; the file
	 * itself holds national IDs in clear, so it leaves the spool at once
	 * unless the operator keeps processed files (for reprocessing). A
	 * crash before this line leaves it to the reconciler, as it does the
	 * feedback of an earlier processing that this one replaces. */
	if (!keep_file && unlink(path) != 0 && errno != ENOENT)
		rlog_warn(sub_id, "cannot remove processed spool file: %s", strerror(errno));
	if (j.prev_token[0] && strcmp(j.prev_token, j.fb_token) != 0)
		remove_feedback(&j, j.prev_token);
	else if (!j.prev_token[0] && j.prev_ready)
		remove_feedback(&j, ""); /* written before tokens */
	sweep_feedback(&j, before_commit);
	log_done(&j, &fc, now_s() - t0);
	outcome = INGEST_DONE;
	goto out;
failed:
	/* this attempt's feedback is never served: it goes. Not when the
	 * session was lost, as a COMMIT that recorded its token may have landed
	 * unanswered; the reconciler removes it later if no row points at it. */
	if (j.fb_written && PQstatus(db_conn(reg)) == CONNECTION_OK)
		remove_feedback(&j, j.fb_token);
	outcome = transient(in, reg);
	*fault = j.fault ? j.fault : FAULT_INTERNAL;
out:
	vault_discard(in->vault);
	job_cleanup(&j);
	return outcome;
}
