/*
 * progress_get.c — GET /api/v1/progress?aargang=Y (staff): national intake
 * progress for one årgang (SPEC §7), read in one consistent snapshot.
 *
 * Definitions (also in docs: the dashboard and the CSV use the same ones):
 *   expected     municipalities valid on 31 December of the årgang (357 for 2024/2025)
 *   state        per municipality, from the submissions that count toward the
 *                årgang (API_PROGRESS_OF_AARGANG: dry runs never count):
 *                  accepted     it has a current submission (accepted or
 *                               accepted_with_errors)
 *                  in_progress  no current one, but one is received or processing
 *                  rejected     only rejected submissions
 *                  missing      no submission at all (the reminder list)
 *   error_rate   registrations_excluded / registrations of the current
 *                submission: the share of what the municipality sent that
 *                did not reach the register because of ERROR-level rules
 *   feedback     downloads (by the municipality; staff downloads are not
 *                counted) of the current submission's feedback, or, when
 *                there is none, of the latest rejected submission's
 *   queue        jobs not done; throughput = registrations of submissions
 *                processed in the last hour / 10 minutes, per second
 * Monitoring reads, never writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "config.h"
#include "db.h"
#include "log.h"

#define TS(x)        "kpr.oslo_time(" x ")"
#define OSLO_DATE(x) "(" x " AT TIME ZONE 'Europe/Oslo')::date"

/* One row per expected municipality, in kommunenummer order. */
static const struct db_stmt st_kommuner = {
    "progress_kommuner",
    "WITH s AS ("
    "  SELECT s.id, s.kommunenummer, s.status, s.received_at, s.processed_at, s.persons,"
    "   s.registrations, s.persons_excluded, s.registrations_excluded, s.n_fatal, s.n_error,"
    "   s.n_warning"
    "  FROM kpr.submission s WHERE " API_PROGRESS_OF_AARGANG(
	"s") "),"
	     " per AS ("
	     "  SELECT kommunenummer, count(*) AS n,"
	     "   bool_or(status IN ('accepted', 'accepted_with_errors')) AS has_current,"
	     "   bool_or(status IN ('received', 'processing')) AS has_pending"
	     "  FROM s GROUP BY kommunenummer),"
	     " latest AS ("
	     "  SELECT DISTINCT ON (kommunenummer) * FROM s"
	     "  ORDER BY kommunenummer, received_at DESC, id DESC),"
	     " cur AS (SELECT * FROM s WHERE status IN ('accepted', 'accepted_with_errors')),"
	     " fbsub AS ("
	     "  SELECT DISTINCT ON (kommunenummer) kommunenummer, id, status FROM s"
	     "  WHERE status IN ('accepted', 'accepted_with_errors', 'rejected')"
	     "  ORDER BY kommunenummer, (status <> 'rejected') DESC, received_at DESC, id DESC),"
	     " fb AS ("
	     "  SELECT d.submission_id, count(*) AS n, min(d.downloaded_at) AS first_at,"
	     "   max(d.downloaded_at) AS last_at"
	     "  FROM kpr.feedback_download d JOIN fbsub ON fbsub.id = d.submission_id"
	     "  GROUP BY d.submission_id)"
	     " SELECT k.kommunenummer, k.navn, k.fylkesnummer, f.navn," /* 0-3 */
	     "  CASE WHEN per.n IS NULL THEN 'missing' WHEN per.has_current THEN 'accepted'"
	     "   WHEN per.has_pending THEN 'in_progress'"
	     /* a fault on the server's side: staff act, never shown as rejected */
	     "   WHEN latest.status = 'failed' THEN 'attention' ELSE 'rejected' END," /* 4 */
	     "  coalesce(per.n, 0),"                                                  /* 5 */
	     "  latest.id::text, latest.status, " TS(
		 "latest.received_at") "," /* 6-8 */
				       "  " TS(
					   "latest.processed_at") "," /* 9 */
								  "  cur.id::text, cur.status, " TS(
								      "cur.processed_at") ", cur.persons," /* 10-13 */
											  "  cur.registrations, cur.persons_excluded, cur.registrations_excluded," /* 14-16 */
											  "  cur.n_error, cur.n_warning," /* 17-18 */
											  "  fbsub.id::text, fbsub.status, coalesce(fb.n, 0)," /* 19-21 */
											  "  " TS("fb.first_at") ", " TS(
											      "fb.last_at") "," /* 22-23 */
													    "  coalesce(latest.status = 'failed', false)" /* 24 */
													    " FROM kpr.kommune k JOIN kpr.fylke f USING (fylkesnummer)"
													    " LEFT JOIN per USING (kommunenummer)"
													    " LEFT JOIN latest USING (kommunenummer)"
													    " LEFT JOIN cur USING (kommunenummer)"
													    " LEFT JOIN fbsub USING (kommunenummer)"
													    " LEFT JOIN fb ON fb.submission_id = fbsub.id"
													    " WHERE " API_PROGRESS_EXPECTED(
														"k") " ORDER BY k.kommunenummer",
    1};

/* Submissions and feedback downloads per day (Oslo), every day from the first
 * to the last with either, zeros included, so charts need no gap filling. */
static const struct db_stmt st_days = {
    "progress_days",
    "WITH s AS ("
    "  SELECT s.id, s.received_at FROM kpr.submission s WHERE " API_PROGRESS_OF_AARGANG(
	"s") "),"
	     " sd AS (SELECT " OSLO_DATE(
		 "received_at") " AS d, count(*) AS n FROM s GROUP BY 1),"
				" dd AS (SELECT " OSLO_DATE(
				    "d.downloaded_at") " AS d, count(*) AS n"
						       "  FROM kpr.feedback_download d JOIN s ON s.id = d.submission_id GROUP BY 1),"
						       " r AS (SELECT least((SELECT min(d) FROM sd), (SELECT min(d) FROM dd)) AS lo,"
						       "  greatest((SELECT max(d) FROM sd), (SELECT max(d) FROM dd)) AS hi)"
						       " SELECT to_char(g.d, 'YYYY-MM-DD'), coalesce(sd.n, 0), coalesce(dd.n, 0)"
						       " FROM r CROSS JOIN LATERAL"
						       "  (SELECT generate_series(r.lo, r.hi, interval '1 day')::date AS d) g"
						       " LEFT JOIN sd ON sd.d = g.d LEFT JOIN dd ON dd.d = g.d"
						       " ORDER BY g.d",
    1};

/* Queue and throughput are not per årgang: the workers serve every one. */
static const struct db_stmt st_queue = {
    "progress_queue",
    "SELECT"
    " (SELECT count(*) FROM kpr.job WHERE state = 'queued'),"
    " (SELECT count(*) FROM kpr.job WHERE state = 'running'),"
    " (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8"
    "   FROM kpr.job WHERE state <> 'done'),"
    " coalesce(sum(registrations) FILTER (WHERE processed_at > now() - interval '10 minutes'), 0),"
    " coalesce(sum(registrations), 0),"
    " count(*) FILTER (WHERE processed_at > now() - interval '10 minutes'),"
    " count(*),"
    " " TS("now()") " FROM kpr.submission WHERE processed_at > now() - interval '1 hour'",
    0};

struct progress_args {
	char aargang[8];
	PGresult *kommuner, *days, *queue;
};

static void args_clear(struct progress_args *a)
{
	PQclear(a->kommuner);
	PQclear(a->days);
	PQclear(a->queue);
	a->kommuner = a->days = a->queue = NULL;
}

static void args_free(void *p)
{
	struct progress_args *a = p;
	if (!a)
		return;
	args_clear(a);
	free(a);
}

bool api_progress_aargang(struct http_request *rq, int *aargang)
{
	const char *y = http_query(rq, "aargang");
	if (!y || !*y) {
		*aargang = rq->cfg->aargang_open_max;
		return true;
	}
	if (strlen(y) != 4 || strspn(y, "0123456789") != 4)
		return false;
	*aargang = atoi(y);
	return *aargang >= 2000 && *aargang <= 2100;
}

static enum db_tx_status read_tx(struct db *db, void *ctx)
{
	struct progress_args *a = ctx;
	const char *p[] = {a->aargang};
	char sqlstate[6];
	args_clear(a); /* a retried attempt starts afresh */
	a->kommuner = db_exec(db, &st_kommuner, p, sqlstate);
	if (a->kommuner)
		a->days = db_exec(db, &st_days, p, sqlstate);
	if (a->days)
		a->queue = db_exec(db, &st_queue, NULL, sqlstate);
	if (!a->queue)
		return db_sqlstate_retryable(sqlstate) ? DB_TX_RETRY : DB_TX_FAIL;
	return DB_TX_OK;
}

static json_t *opt_str(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? json_null() : json_string(PQgetvalue(r, row, col));
}

static json_t *opt_int(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? json_null()
					: json_integer((json_int_t)atoll(PQgetvalue(r, row, col)));
}

static json_int_t int_at(PGresult *r, int row, int col)
{
	return (json_int_t)atoll(PQgetvalue(r, row, col));
}

static json_t *kommune_json(PGresult *r, int i)
{
	json_t *latest = json_null(), *current = json_null(), *feedback = json_null();
	if (!PQgetisnull(r, i, 6))
		latest = json_pack("{s:s, s:s, s:o, s:o}", "id", PQgetvalue(r, i, 6), "status",
				   PQgetvalue(r, i, 7), "received_at", opt_str(r, i, 8),
				   "processed_at", opt_str(r, i, 9));
	if (!PQgetisnull(r, i, 10)) {
		json_t *rate = json_null();
		if (!PQgetisnull(r, i, 14) && !PQgetisnull(r, i, 16) && int_at(r, i, 14) > 0)
			rate = json_real((double)int_at(r, i, 16) / (double)int_at(r, i, 14));
		else if (!PQgetisnull(r, i, 14))
			rate = json_real(0.0);
		current =
		    json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
			      PQgetvalue(r, i, 10), "status", PQgetvalue(r, i, 11), "processed_at",
			      opt_str(r, i, 12), "persons", opt_int(r, i, 13), "registrations",
			      opt_int(r, i, 14), "persons_excluded", opt_int(r, i, 15),
			      "registrations_excluded", opt_int(r, i, 16), "errors",
			      opt_int(r, i, 17), "warnings", opt_int(r, i, 18), "error_rate", rate);
	}
	if (!PQgetisnull(r, i, 19))
		feedback = json_pack(
		    "{s:s, s:s, s:I, s:o, s:o}", "submission_id", PQgetvalue(r, i, 19),
		    "submission_status", PQgetvalue(r, i, 20), "downloads", int_at(r, i, 21),
		    "first_download", opt_str(r, i, 22), "last_download", opt_str(r, i, 23));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:b}", "kommunenummer",
			 PQgetvalue(r, i, 0), "navn", PQgetvalue(r, i, 1), "fylkesnummer",
			 PQgetvalue(r, i, 2), "fylke", PQgetvalue(r, i, 3), "state",
			 PQgetvalue(r, i, 4), "submissions", int_at(r, i, 5), "latest", latest,
			 "current", current, "feedback", feedback, "needs_attention",
			 PQgetvalue(r, i, 24)[0] == 't');
}

enum progress_state {
	ST_ACCEPTED,
	ST_IN_PROGRESS,
	ST_ATTENTION,
	ST_REJECTED,
	ST_MISSING,
	ST_COUNT
};
static const char *const state_names[ST_COUNT] = {"accepted", "in_progress", "attention",
						  "rejected", "missing"};

static enum progress_state state_of(const char *s)
{
	for (int i = 0; i < ST_COUNT; i++)
		if (!strcmp(s, state_names[i]))
			return (enum progress_state)i;
	return ST_MISSING;
}

static json_t *counts_json(const char *kind_key, const char *kind_val, const char *name,
			   long expected, const long n[ST_COUNT], long with_errors)
{
	json_t *o = json_object();
	if (kind_key) {
		json_object_set_new(o, kind_key, json_string(kind_val));
		json_object_set_new(o, "navn", json_string(name));
	}
	json_object_set_new(o, "expected", json_integer(expected));
	for (int s = 0; s < ST_COUNT; s++)
		json_object_set_new(o, state_names[s], json_integer(n[s]));
	json_object_set_new(o, "accepted_with_errors", json_integer(with_errors));
	return o;
}

/* Per-county and national counts, in C: 357 rows ordered by kommunenummer,
 * so a county's rows are not contiguous (03 Oslo sits among 1xxx-5xxx by
 * number only), hence the small table. */
struct county {
	char nr[4];
	char navn[64];
	long expected, n[ST_COUNT], with_errors;
};

static json_t *progress_json(const struct progress_args *a, int aargang)
{
	PGresult *r = a->kommuner;
	int rows = PQntuples(r);
	struct county counties[64];
	size_t ncounties = 0;
	long total[ST_COUNT] = {0}, total_with_errors = 0;
	json_t *kommuner = json_array();
	for (int i = 0; i < rows; i++) {
		json_array_append_new(kommuner, kommune_json(r, i));
		enum progress_state st = state_of(PQgetvalue(r, i, 4));
		bool with_errors =
		    st == ST_ACCEPTED && !strcmp(PQgetvalue(r, i, 11), "accepted_with_errors");
		total[st]++;
		total_with_errors += with_errors;
		struct county *c = NULL;
		for (size_t j = 0; j < ncounties; j++)
			if (!strcmp(counties[j].nr, PQgetvalue(r, i, 2)))
				c = &counties[j];
		if (!c && ncounties < KPR_ARRAY_LEN(counties)) {
			c = &counties[ncounties++];
			memset(c, 0, sizeof *c);
			snprintf(c->nr, sizeof c->nr, "%s", PQgetvalue(r, i, 2));
			snprintf(c->navn, sizeof c->navn, "%s", PQgetvalue(r, i, 3));
		}
		if (c) {
			c->expected++;
			c->n[st]++;
			c->with_errors += with_errors;
		}
	}
	/* counties by number (insertion sort: 15 of them) */
	for (size_t i = 1; i < ncounties; i++)
		for (size_t j = i; j > 0 && strcmp(counties[j - 1].nr, counties[j].nr) > 0; j--) {
			struct county t = counties[j];
			counties[j] = counties[j - 1];
			counties[j - 1] = t;
		}
	json_t *fylker = json_array();
	for (size_t i = 0; i < ncounties; i++)
		json_array_append_new(fylker, counts_json("fylkesnummer", counties[i].nr,
							  counties[i].navn, counties[i].expected,
							  counties[i].n, counties[i].with_errors));

	json_t *subs_per_day = json_array(), *dl_per_day = json_array();
	for (int i = 0; i < PQntuples(a->days); i++) {
		json_array_append_new(subs_per_day,
				      json_pack("{s:s, s:I}", "date", PQgetvalue(a->days, i, 0),
						"count", int_at(a->days, i, 1)));
		json_array_append_new(dl_per_day,
				      json_pack("{s:s, s:I}", "date", PQgetvalue(a->days, i, 0),
						"count", int_at(a->days, i, 2)));
	}

	PGresult *q = a->queue;
	json_int_t reg10 = int_at(q, 0, 3), reg60 = int_at(q, 0, 4);
	json_t *queue =
	    json_pack("{s:I, s:I, s:I, s:f}", "depth", int_at(q, 0, 0) + int_at(q, 0, 1), "queued",
		      int_at(q, 0, 0), "running", int_at(q, 0, 1), "oldest_seconds",
		      atof(PQgetvalue(q, 0, 2)));
	json_t *throughput =
	    json_pack("{s:I, s:I, s:f, s:f, s:I, s:I}", "registrations_last_10_minutes", reg10,
		      "registrations_last_hour", reg60, "registrations_per_second_last_10_minutes",
		      (double)reg10 / 600.0, "registrations_per_second_last_hour",
		      (double)reg60 / 3600.0, "submissions_last_10_minutes", int_at(q, 0, 5),
		      "submissions_last_hour", int_at(q, 0, 6));

	return json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "aargang", aargang,
			 "generated_at", PQgetvalue(q, 0, 7), "totals",
			 counts_json(NULL, NULL, NULL, rows, total, total_with_errors), "fylker",
			 fylker, "submissions_per_day", subs_per_day, "downloads_per_day",
			 dl_per_day, "queue", queue, "throughput", throughput, "kommuner",
			 kommuner);
}

static void progress_db(struct http_request *rq, struct db *db)
{
	struct progress_args *a = rq->state;
	/* one snapshot: the totals, the days and the rows agree with each other */
	if (!db || !db_transaction(db, "REPEATABLE READ READ ONLY", read_tx, a,
				   rq->cfg->db_retry_limit, rq->id)) {
		(void)http_reply_error(rq, KPR_E_DATABASE_UNAVAILABLE, NULL);
		return;
	}
	json_t *body = progress_json(a, atoi(a->aargang));
	args_clear(a);
	if (!body) {
		(void)http_reply_error(rq, KPR_E_INTERNAL, NULL);
		return;
	}
	(void)http_reply_json(rq, MHD_HTTP_OK, body);
}

enum MHD_Result api_progress_get(struct http_request *rq, const char *upload, size_t *upload_size)
{
	(void)upload;
	(void)upload_size;
	int aargang;
	if (!api_progress_aargang(rq, &aargang))
		return http_reply_error(rq, KPR_E_BAD_PARAMETER, "aargang: a year, 4 digits");
	struct progress_args *a = calloc(1, sizeof *a);
	if (!a)
		return http_reply_error(rq, KPR_E_INTERNAL, NULL);
	snprintf(a->aargang, sizeof a->aargang, "%d", aargang);
	rq->state = a;
	rq->state_free = args_free;
	return http_defer(rq, progress_db);
}
