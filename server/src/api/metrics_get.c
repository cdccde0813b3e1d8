/*
 * metrics_get.c — GET /metrics in the Prometheus text exposition format:
 * the process counters (metrics.c) and the gauges that live in the
 * database — submissions by status and the job queue — read on a dbpool
 * thread. When the database does not answer, the process counters are
 * still served, with kpr_database_up 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "db.h"
#include "metrics.h"

static const struct db_stmt st_gauges = {
    "metrics_gauges",
    "SELECT 'submission', status, count(*)::float8 FROM kpr.submission GROUP BY status"
    " UNION ALL SELECT 'job', state, count(*)::float8 FROM kpr.job WHERE state <> 'done'"
    "  GROUP BY state"
    " UNION ALL SELECT 'oldest', '', coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8"
    "  FROM kpr.job WHERE state <> 'done'",
    0};

static const char *const statuses[] = {"received", "processing", "accepted", "accepted_with_errors",
				       "rejected", "superseded", "validated"};
static const char *const job_states[] = {"queued", "running"};

static double lookup(PGresult *r, const char *kind, const char *key)
{
	for (int i = 0; r && i < PQntuples(r); i++)
		if (!strcmp(PQgetvalue(r, i, 0), kind) && !strcmp(PQgetvalue(r, i, 1), key))
			return atof(PQgetvalue(r, i, 2));
	return 0;
}

static void render_db(FILE *f, PGresult *r)
{
	metrics_write_family(f, "kpr_database_up", "gauge",
			     "1 when the register database answered this scrape.");
	fprintf(f, "kpr_database_up %d\n", r ? 1 : 0);
	if (!r)
		return;
	metrics_write_family(
	    f, "kpr_submissions", "gauge",
	    "Submissions in the register database by status (every årgang, dry runs included).");
	for (size_t i = 0; i < KPR_ARRAY_LEN(statuses); i++)
		fprintf(f, "kpr_submissions{status=\"%s\"} %.0f\n", statuses[i],
			lookup(r, "submission", statuses[i]));
	double depth = 0;
	metrics_write_family(f, "kpr_queue_jobs", "gauge", "Jobs not yet done, by state.");
	for (size_t i = 0; i < KPR_ARRAY_LEN(job_states); i++) {
		double n = lookup(r, "job", job_states[i]);
		depth += n;
		fprintf(f, "kpr_queue_jobs{state=\"%s\"} %.0f\n", job_states[i], n);
	}
	metrics_write_family(f, "kpr_queue_depth", "gauge",
			     "Jobs not yet done (queued or running).");
	fprintf(f, "kpr_queue_depth %.0f\n", depth);
	metrics_write_family(
	    f, "kpr_queue_oldest_job_seconds", "gauge",
	    "Age of the oldest job not yet done, in seconds (0: the queue is empty).");
	fprintf(f, "kpr_queue_oldest_job_seconds %.3f\n", lookup(r, "oldest", ""));
}

static void metrics_db(struct http_request *rq, struct db *db)
{
	PGresult *r = db ? db_exec(db, &st_gauges, NULL, NULL) : NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		PQclear(r);
		(void)http_reply_error(rq, KPR_E_INTERNAL, NULL);
		return;
	}
	metrics_render(f);
	render_db(f, r);
	PQclear(r);
	fclose(f);
	(void)http_reply_buffer(rq, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", buf,
				len);
	free(buf);
}

enum MHD_Result api_metrics(struct http_request *rq, const char *upload, size_t *upload_size)
{
	(void)upload;
	(void)upload_size;
	return http_defer(rq, metrics_db);
}
