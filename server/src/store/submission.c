/*
 * submission.c — every statement on kpr.submission rows but those that
 * move a job (store_submission.h, store_job.h). The column list the API
 * shows and the code that reads it by position are both here, and only here.
 */
#include "store_submission.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_util.h"

/* The columns store_submissions_row() reads, in its order (enum col). */
#define SUBMISSION_COLUMNS                                                                     \
	"id::text, kommunenummer, aargang, innsending_id, forrige_id, sha256, bytes, dry_run," \
	" status, kpr.oslo_time(received_at, true), kpr.oslo_time(started_at, true),"          \
	" kpr.oslo_time(processed_at, true), persons, registrations,"                          \
	" persons_loaded, persons_excluded, registrations_loaded, registrations_excluded,"     \
	" n_fatal, n_error, n_warning, n_info, validate_seconds, load_seconds, total_seconds," \
	" feedback_ready, superseded_by::text, fagsystem, fagsystem_versjon"

enum col {
	C_ID,
	C_KOMMUNENUMMER,
	C_AARGANG,
	C_INNSENDING_ID,
	C_FORRIGE_ID,
	C_SHA256,
	C_BYTES,
	C_DRY_RUN,
	C_STATUS,
	C_RECEIVED_AT,
	C_STARTED_AT,
	C_PROCESSED_AT,
	C_PERSONS,
	C_REGISTRATIONS,
	C_PERSONS_LOADED,
	C_PERSONS_EXCLUDED,
	C_REGISTRATIONS_LOADED,
	C_REGISTRATIONS_EXCLUDED,
	C_N_FATAL,
	C_N_ERROR,
	C_N_WARNING,
	C_N_INFO,
	C_VALIDATE_SECONDS,
	C_LOAD_SECONDS,
	C_TOTAL_SECONDS,
	C_FEEDBACK_READY,
	C_SUPERSEDED_BY,
	C_FAGSYSTEM,
	C_FAGSYSTEM_VERSJON,
	C_COUNT
};

static const struct db_stmt st_get = {"submission_get",
				      "SELECT " SUBMISSION_COLUMNS " FROM kpr.submission"
				      " WHERE id = $1::uuid AND ($2 = '' OR kommunenummer = $2)",
				      2};
static const struct db_stmt st_list = {
    "submissions_list",
    "SELECT " SUBMISSION_COLUMNS " FROM kpr.submission"
    " WHERE ($1 = '' OR kommunenummer = $1) AND ($2 = '' OR aargang = $2::int)"
    " ORDER BY received_at DESC, id LIMIT $3::int",
    3};
static const struct db_stmt st_existing = {
    "upload_existing",
    "SELECT id::text FROM kpr.submission WHERE kommunenummer = $1 AND dry_run = $2::boolean"
    " AND (sha256 = $3 OR ($4 <> '' AND innsending_id = $4)) AND status <> 'failed'"
    " ORDER BY received_at LIMIT 1",
    4};
static const struct db_stmt st_exists = {"upload_own",
					 "SELECT 1 FROM kpr.submission WHERE id = $1::uuid", 1};
static const struct db_stmt st_work = {
    "ingest_load",
    "SELECT kommunenummer, spool_name, sha256, bytes, dry_run,"
    " kpr.oslo_time(received_at), coalesce(feedback_token, ''), feedback_ready"
    " FROM kpr.submission WHERE id = $1::uuid",
    1};
static const struct db_stmt st_clock = {"ingest_now",
					"SELECT kpr.oslo_time(clock_timestamp(), true)", 0};
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
/* Submissions of one municipality and årgang finish one at a time, and
 * the newest received is current whatever order the workers finish in. */
static const struct db_stmt st_lock_current = {
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
static const struct db_stmt st_served_feedback = {
    "feedback_find",
    "SELECT kommunenummer, coalesce(aargang::text, ''), feedback_ready,"
    " coalesce(feedback_token, '') FROM kpr.submission"
    " WHERE id = $1::uuid AND ($2 = '' OR kommunenummer = $2)",
    2};
static const struct db_stmt st_find = {
    "reprocess_find", "SELECT spool_name, status FROM kpr.submission WHERE id = $1::uuid", 1};
/* A failed submission waits again; its unique indexes count it again, so
 * this fails (23505) when the same file was sent again meanwhile. */
static const struct db_stmt st_unfail = {
    "reprocess_unfail",
    "UPDATE kpr.submission SET status = 'received', started_at = NULL, processed_at = NULL,"
    "   feedback_ready = false WHERE id = $1::uuid AND status = 'failed'",
    1};
static const struct db_stmt st_same_file = {
    "reprocess_same_file",
    "SELECT n.id::text FROM kpr.submission f JOIN kpr.submission n"
    "  ON n.kommunenummer = f.kommunenummer AND n.dry_run = f.dry_run AND n.id <> f.id"
    "  AND (n.sha256 = f.sha256 OR n.innsending_id = f.innsending_id)"
    " WHERE f.id = $1::uuid AND n.status <> 'failed' LIMIT 1",
    1};
/* What may happen to the spool file of one submission: 'keep', 'processed'
 * (final, its job done), 'failed_expired'. No row: the file has none. */
static const struct db_stmt st_spool_fate = {
    "reconcile_spool_fate",
    "SELECT CASE"
    "  WHEN j.state IS DISTINCT FROM 'done' THEN 'keep'"
    "  WHEN s.status = 'failed' AND s.processed_at < now() - make_interval(days => $2::int)"
    "   THEN 'failed_expired'"
    "  WHEN s.status IN ('accepted', 'accepted_with_errors', 'rejected', 'superseded',"
    "   'validated') THEN 'processed'"
    "  ELSE 'keep' END"
    " FROM kpr.submission s LEFT JOIN kpr.job j ON j.submission_id = s.id"
    " WHERE s.id = $1::uuid",
    2};
/* What a feedback file's submission says: the committed token, the status,
 * whether feedback is served, and the job's state ('' without a job). */
static const struct db_stmt st_feedback_fate = {
    "reconcile_feedback_fate",
    "SELECT coalesce(s.feedback_token, ''), s.status, s.feedback_ready, coalesce(j.state, '')"
    " FROM kpr.submission s LEFT JOIN kpr.job j ON j.submission_id = s.id"
    " WHERE s.id = $1::uuid",
    1};

struct store_submissions {
	PGresult *r;
};

static bool submissions_from(PGresult *r, struct store_submissions **out)
{
	*out = NULL;
	if (!r)
		return false;
	struct store_submissions *s = malloc(sizeof *s);
	if (!s) {
		PQclear(r);
		return false;
	}
	s->r = r;
	*out = s;
	return true;
}

bool store_submission_get(struct db *db, const char *id, const char *kommune,
			  struct store_submissions **out)
{
	const char *p[] = {id, kommune};
	return submissions_from(db_exec(db, &st_get, p, NULL), out);
}

bool store_submission_list(struct db *db, const char *kommune, int aargang, int limit,
			   struct store_submissions **out)
{
	char y[16] = "", l[16];
	if (aargang >= 0)
		snprintf(y, sizeof y, "%d", aargang);
	snprintf(l, sizeof l, "%d", limit);
	const char *p[] = {kommune, y, l};
	return submissions_from(db_exec(db, &st_list, p, NULL), out);
}

size_t store_submissions_len(const struct store_submissions *s)
{
	return s ? (size_t)PQntuples(s->r) : 0;
}

void store_submissions_free(struct store_submissions *s)
{
	if (!s)
		return;
	PQclear(s->r);
	free(s);
}

static const char *opt_str(PGresult *r, int row, enum col c)
{
	return PQgetisnull(r, row, c) ? NULL : PQgetvalue(r, row, c);
}

static struct store_opt_int opt_int(PGresult *r, int row, enum col c)
{
	if (PQgetisnull(r, row, c))
		return (struct store_opt_int){false, 0};
	return (struct store_opt_int){true, atoll(PQgetvalue(r, row, c))};
}

static struct store_opt_real opt_real(PGresult *r, int row, enum col c)
{
	if (PQgetisnull(r, row, c))
		return (struct store_opt_real){false, 0};
	return (struct store_opt_real){true, atof(PQgetvalue(r, row, c))};
}

void store_submissions_row(const struct store_submissions *s, size_t i, struct store_submission *o)
{
	PGresult *r = s->r;
	int n = (int)i;
	_Static_assert(C_COUNT == 29, "SUBMISSION_COLUMNS and enum col disagree");
	*o = (struct store_submission){
	    .id = PQgetvalue(r, n, C_ID),
	    .kommunenummer = PQgetvalue(r, n, C_KOMMUNENUMMER),
	    .sha256 = PQgetvalue(r, n, C_SHA256),
	    .status = PQgetvalue(r, n, C_STATUS),
	    .innsending_id = opt_str(r, n, C_INNSENDING_ID),
	    .forrige_id = opt_str(r, n, C_FORRIGE_ID),
	    .fagsystem = opt_str(r, n, C_FAGSYSTEM),
	    .fagsystem_versjon = opt_str(r, n, C_FAGSYSTEM_VERSJON),
	    .received_at = opt_str(r, n, C_RECEIVED_AT),
	    .started_at = opt_str(r, n, C_STARTED_AT),
	    .processed_at = opt_str(r, n, C_PROCESSED_AT),
	    .superseded_by = opt_str(r, n, C_SUPERSEDED_BY),
	    .aargang = opt_int(r, n, C_AARGANG),
	    .bytes = atoll(PQgetvalue(r, n, C_BYTES)),
	    .dry_run = PQgetvalue(r, n, C_DRY_RUN)[0] == 't',
	    .feedback_ready = PQgetvalue(r, n, C_FEEDBACK_READY)[0] == 't',
	    .persons = opt_int(r, n, C_PERSONS),
	    .registrations = opt_int(r, n, C_REGISTRATIONS),
	    .persons_loaded = opt_int(r, n, C_PERSONS_LOADED),
	    .persons_excluded = opt_int(r, n, C_PERSONS_EXCLUDED),
	    .registrations_loaded = opt_int(r, n, C_REGISTRATIONS_LOADED),
	    .registrations_excluded = opt_int(r, n, C_REGISTRATIONS_EXCLUDED),
	    .n_fatal = opt_int(r, n, C_N_FATAL),
	    .n_error = opt_int(r, n, C_N_ERROR),
	    .n_warning = opt_int(r, n, C_N_WARNING),
	    .n_info = opt_int(r, n, C_N_INFO),
	    .validate_seconds = opt_real(r, n, C_VALIDATE_SECONDS),
	    .load_seconds = opt_real(r, n, C_LOAD_SECONDS),
	    .total_seconds = opt_real(r, n, C_TOTAL_SECONDS),
	};
}

/* Runs a statement expected to give at most one row of one text column. */
static bool one_text(struct db *db, const struct db_stmt *st, const char *const *p, char *out,
		     size_t outlen, bool *found)
{
	PGresult *r = db_exec(db, st, p, NULL);
	if (!r)
		return false;
	bool got = PQntuples(r) == 1;
	if (found)
		*found = got;
	if (got && out)
		snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return true;
}

bool store_submission_find_existing(struct db *db, const char *kommune, bool dry_run,
				    const char *sha256, const char *innsending_id, char id[40],
				    bool *found)
{
	const char *p[] = {kommune, dry_run ? "true" : "false", sha256, innsending_id};
	return one_text(db, &st_existing, p, id, 40, found);
}

bool store_submission_exists(struct db *db, const char *id, bool *found)
{
	const char *p[] = {id};
	return one_text(db, &st_exists, p, NULL, 0, found);
}

bool store_submission_work(struct db *db, const char *id, struct store_submission_work *w)
{
	const char *p[] = {id};
	PGresult *r = db_exec(db, &st_work, p, NULL);
	if (!r || PQntuples(r) != 1) {
		PQclear(r);
		return false;
	}
	snprintf(w->kommune, sizeof w->kommune, "%s", PQgetvalue(r, 0, 0));
	snprintf(w->spool_name, sizeof w->spool_name, "%s", PQgetvalue(r, 0, 1));
	snprintf(w->sha256, sizeof w->sha256, "%s", PQgetvalue(r, 0, 2));
	w->bytes = atoll(PQgetvalue(r, 0, 3));
	w->dry_run = PQgetvalue(r, 0, 4)[0] == 't';
	snprintf(w->received_at, sizeof w->received_at, "%s", PQgetvalue(r, 0, 5));
	snprintf(w->feedback_token, sizeof w->feedback_token, "%s", PQgetvalue(r, 0, 6));
	w->feedback_ready = PQgetvalue(r, 0, 7)[0] == 't';
	PQclear(r);
	return true;
}

bool store_submission_start(struct db *db, const char *id)
{
	const char *p[] = {id};
	return store_run(db, &st_start, p);
}

bool store_submission_latest_innsending(struct db *db, const char *kommune, int aargang,
					const char *id, char out[80])
{
	char ag[16];
	snprintf(ag, sizeof ag, "%d", aargang);
	const char *p[] = {kommune, ag, id};
	out[0] = '\0';
	return one_text(db, &st_latest, p, out, 80, NULL);
}

bool store_submission_clock(struct db *db, char out[40])
{
	bool found = false;
	return one_text(db, &st_clock, NULL, out, 40, &found) && found;
}

enum db_tx_status store_submission_lock_current(struct db *db, const char *kommune, int aargang)
{
	char ag[16];
	snprintf(ag, sizeof ag, "%d", aargang);
	const char *p[] = {kommune, ag};
	return store_step(db, &st_lock_current, p, NULL);
}

enum db_tx_status store_submission_newer_current(struct db *db, const char *id, const char *kommune,
						 int aargang, char newer[40])
{
	char ag[16];
	snprintf(ag, sizeof ag, "%d", aargang);
	const char *p[] = {id, kommune, ag};
	PGresult *r;
	enum db_tx_status rc = store_step(db, &st_newer, p, &r);
	newer[0] = '\0';
	if (rc != DB_TX_OK)
		return rc;
	if (PQntuples(r) == 1)
		snprintf(newer, 40, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return DB_TX_OK;
}

enum db_tx_status store_submission_supersede_older(struct db *db, const char *id,
						   const char *kommune, int aargang)
{
	char ag[16];
	snprintf(ag, sizeof ag, "%d", aargang);
	const char *p[] = {id, kommune, ag};
	return store_step(db, &st_supersede, p, NULL);
}

enum db_tx_status store_submission_superseded_by(struct db *db, const char *id, const char *newer)
{
	const char *p[] = {id, newer};
	return store_step(db, &st_superseded_by, p, NULL);
}

enum db_tx_status store_submission_finish(struct db *db, const struct store_submission_outcome *o)
{
	char aargang[16], persons[24], registrations[24], persons_loaded[24], persons_excluded[24],
	    registrations_loaded[24], registrations_excluded[24], n_fatal[24], n_error[24],
	    n_warning[24], n_info[24], validate_s[32], load_s[32];
	snprintf(aargang, sizeof aargang, "%d", o->aargang);
	snprintf(persons, sizeof persons, "%lu", o->persons);
	snprintf(registrations, sizeof registrations, "%lu", o->registrations);
	snprintf(persons_loaded, sizeof persons_loaded, "%lu", o->persons_loaded);
	snprintf(persons_excluded, sizeof persons_excluded, "%lu", o->persons_excluded);
	snprintf(registrations_loaded, sizeof registrations_loaded, "%lu", o->registrations_loaded);
	snprintf(registrations_excluded, sizeof registrations_excluded, "%lu",
		 o->registrations_excluded);
	snprintf(n_fatal, sizeof n_fatal, "%lu", o->n_fatal);
	snprintf(n_error, sizeof n_error, "%lu", o->n_error);
	snprintf(n_warning, sizeof n_warning, "%lu", o->n_warning);
	snprintf(n_info, sizeof n_info, "%lu", o->n_info);
	snprintf(validate_s, sizeof validate_s, "%.3f", o->validate_seconds);
	snprintf(load_s, sizeof load_s, "%.3f", o->load_seconds);
	const char *p[] = {o->id,
			   o->status,
			   o->aargang > 0 ? aargang : NULL,
			   o->innsending_id,
			   o->forrige_id,
			   o->fagsystem,
			   o->fagsystem_versjon,
			   persons,
			   registrations,
			   persons_loaded,
			   persons_excluded,
			   registrations_loaded,
			   registrations_excluded,
			   n_fatal,
			   n_error,
			   n_warning,
			   n_info,
			   validate_s,
			   load_s,
			   o->processed_at,
			   o->feedback_token};
	_Static_assert(KPR_ARRAY_LEN(p) == 21, "st_finish takes 21 parameters");
	return store_step(db, &st_finish, p, NULL);
}

bool store_submission_served_feedback(struct db *db, const char *id, const char *kommune,
				      struct store_served_feedback *out, bool *found)
{
	const char *p[] = {id, kommune};
	PGresult *r = db_exec(db, &st_served_feedback, p, NULL);
	if (!r)
		return false;
	*found = PQntuples(r) == 1;
	memset(out, 0, sizeof *out);
	if (*found) {
		snprintf(out->kommune, sizeof out->kommune, "%s", PQgetvalue(r, 0, 0));
		out->aargang = atoi(PQgetvalue(r, 0, 1));
		out->ready = PQgetvalue(r, 0, 2)[0] == 't';
		snprintf(out->token, sizeof out->token, "%s", PQgetvalue(r, 0, 3));
	}
	PQclear(r);
	return true;
}

bool store_submission_find(struct db *db, const char *id, char spool_name[256], char status[32],
			   bool *found)
{
	const char *p[] = {id};
	PGresult *r = db_exec(db, &st_find, p, NULL);
	if (!r)
		return false;
	*found = PQntuples(r) == 1;
	if (*found) {
		snprintf(spool_name, 256, "%s", PQgetvalue(r, 0, 0));
		snprintf(status, 32, "%s", PQgetvalue(r, 0, 1));
	}
	PQclear(r);
	return true;
}

enum db_tx_status store_submission_same_file(struct db *db, const char *id, char other[40])
{
	const char *p[] = {id};
	PGresult *r;
	other[0] = '\0';
	enum db_tx_status rc = store_step(db, &st_same_file, p, &r);
	if (rc != DB_TX_OK)
		return rc;
	if (PQntuples(r) == 1)
		snprintf(other, 40, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return DB_TX_OK;
}

enum db_tx_status store_submission_unfail(struct db *db, const char *id)
{
	const char *p[] = {id};
	return store_step(db, &st_unfail, p, NULL);
}

bool store_submission_spool_fate(struct db *db, const char *id, int retention_days,
				 enum store_spool_fate *fate)
{
	char days[16], f[32] = "";
	bool found = false;
	snprintf(days, sizeof days, "%d", retention_days);
	const char *p[] = {id, days};
	if (!one_text(db, &st_spool_fate, p, f, sizeof f, &found))
		return false;
	*fate = !found                         ? STORE_SPOOL_NO_ROW
		: !strcmp(f, "processed")      ? STORE_SPOOL_PROCESSED
		: !strcmp(f, "failed_expired") ? STORE_SPOOL_FAILED_EXPIRED
					       : STORE_SPOOL_KEEP;
	return true;
}

bool store_submission_feedback_fate(struct db *db, const char *id, struct store_feedback_fate *o)
{
	const char *p[] = {id};
	PGresult *r = db_exec(db, &st_feedback_fate, p, NULL);
	if (!r)
		return false;
	memset(o, 0, sizeof *o);
	o->row = PQntuples(r) == 1;
	if (o->row) {
		snprintf(o->token, sizeof o->token, "%s", PQgetvalue(r, 0, 0));
		o->failed = !strcmp(PQgetvalue(r, 0, 1), "failed");
		o->feedback_ready = PQgetvalue(r, 0, 2)[0] == 't';
		o->job_done = !strcmp(PQgetvalue(r, 0, 3), "done");
	}
	PQclear(r);
	return true;
}
