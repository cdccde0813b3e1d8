/*
 * metrics_get.c — GET /metrics in the Prometheus text exposition format:
 * the process counters (metrics.c), the spool and queue limits from the
 * configuration with the spool's free space, and the gauges that live in
 * the database — submissions by status, submissions without feedback and
 * the job queue — read on a dbpool thread. When the database does not
 * answer, the rest is still served, with kpr_database_up 0. The alerting
 * rules in deploy/prometheus/ use these names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "config.h"
#include "db.h"
#include "metrics.h"
#include "spool.h"

static const struct db_stmt st_gauges = {
    "metrics_gauges",
    "SELECT 'submission', status, count(*)::float8 FROM kpr.submission GROUP BY status"
    " UNION ALL SELECT 'job', state, count(*)::float8 FROM kpr.job WHERE state <> 'done'"
    "  GROUP BY state"
    " UNION ALL SELECT 'oldest', '', coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8"
    "  FROM kpr.job WHERE state <> 'done'"
    /* a claim adds an attempt and a database outage gives it back, so a
     * queued job with one, or a running one with two, has failed before */
    " UNION ALL SELECT 'retrying', '', count(*)::float8 FROM kpr.job WHERE state <> 'done'"
    "  AND attempts > CASE WHEN state = 'running' THEN 1 ELSE 0 END"
    /* SPEC §6: every processed submission has feedback; a failed one is the
     * server's fault and has none by design */
    " UNION ALL SELECT 'no_feedback', '', count(*)::float8 FROM kpr.submission"
    "  WHERE NOT feedback_ready AND status NOT IN ('received', 'processing', 'failed')",
    0};

static const char *const statuses[] = {
    "received", "processing", "accepted",  "accepted_with_errors",
    "rejected", "superseded", "validated", "failed"};
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
	metrics_write_family(f, "kpr_queue_jobs_retrying", "gauge",
			     "Jobs not yet done that have failed at least once and wait for or run "
			     "another attempt (a job is given up after 5).");
	fprintf(f, "kpr_queue_jobs_retrying %.0f\n", lookup(r, "retrying", ""));
	metrics_write_family(f, "kpr_submissions_without_feedback", "gauge",
			     "Processed submissions (any status but received, processing and "
			     "failed) whose feedback files were never written.");
	fprintf(f, "kpr_submissions_without_feedback %.0f\n", lookup(r, "no_feedback", ""));
}

/* What the configuration allows, beside what is used: uploads get 503 at
 * the queue limit and 507 under the spool's free-space floor. */
static void render_limits(FILE *f, const struct kpr_config *cfg)
{
	int queue_limit = cfg->queue_limit;
	long long min_free = cfg->spool_min_free_bytes;
	long long free_b = spool_free_bytes(cfg->spool_dir);
	metrics_write_family(f, "kpr_queue_limit", "gauge",
			     "intake.queue_limit: at this queue depth uploads get 503 queue_full.");
	fprintf(f, "kpr_queue_limit %d\n", queue_limit);
	if (free_b >= 0) {
		metrics_write_family(f, "kpr_spool_free_bytes", "gauge",
				     "Free space on the spool file system for kprd, in bytes.");
		fprintf(f, "kpr_spool_free_bytes %lld\n", free_b);
	}
	metrics_write_family(f, "kpr_spool_min_free_bytes", "gauge",
			     "intake.spool_min_free_bytes: below this free space uploads get 507.");
	fprintf(f, "kpr_spool_min_free_bytes %lld\n", min_free);
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
	render_limits(f, rq->cfg);
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
