/*
 * job_queue.c — every statement on kpr.job (store_job.h): enqueue, claim,
 * release, heartbeat, give up, the final transaction's fences, requeue.
 * Must not: decide policy (attempts, backoff, lease length): callers pass
 * them in; here are only the statements and their fences.
 */
#include "store_job.h"

#include <stdio.h>
#include <stdlib.h>

#include "store_util.h"

static const struct db_stmt st_enqueue = {
    "upload_insert",
    "WITH s AS (INSERT INTO kpr.submission (id, kommunenummer, aargang, innsending_id, forrige_id,"
    "  sha256, bytes, content_encoding, spool_name, dry_run, token_id, fagsystem, fagsystem_versjon)"
    "  VALUES ($1::uuid, $2, nullif($3, '')::int, nullif($4, ''), nullif($5, ''), $6,"
    "  $7::bigint, $8, $9, $10::boolean, $11::bigint, nullif($12, ''), nullif($13, ''))"
    "  RETURNING id)"
    " INSERT INTO kpr.job (submission_id) SELECT id FROM s",
    13};
static const struct db_stmt st_claim = {
    "job_claim",
    "UPDATE kpr.job SET state = 'running', attempts = attempts + 1, worker = $1,"
    " lease_until = now() + make_interval(secs => $2::int), claimed_at = now(),"
    " not_before = NULL, updated_at = now()"
    " WHERE submission_id = (SELECT submission_id FROM kpr.job"
    "   WHERE (state = 'queued' AND (not_before IS NULL OR not_before <= now()))"
    "      OR (state = 'running' AND lease_until < now())"
    /* a claiming thread holds no job: one still running under its id was
	 * released while the database was away and is taken back here */
    "      OR (state = 'running' AND worker = $1)"
    "   ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1)"
    " RETURNING submission_id::text, attempts",
    2};
static const struct db_stmt st_release = {
    "job_release",
    "UPDATE kpr.job SET state = 'queued', worker = NULL, lease_until = NULL, updated_at = now(),"
    " attempts = attempts - CASE WHEN $3::boolean THEN 1 ELSE 0 END,"
    " not_before = now() + make_interval(secs => $4::int),"
    " last_error = coalesce(nullif($5, ''), last_error)"
    " WHERE submission_id = $1::uuid AND state = 'running' AND worker = $2",
    5};
static const struct db_stmt st_heartbeat = {
    "job_heartbeat",
    "UPDATE kpr.job SET lease_until = now() + make_interval(secs => $2::int), updated_at = now()"
    " WHERE state = 'running' AND left(worker, length($1) + 1) = $1 || ':'"
    /* a job past its wall-clock limit is no longer renewed: if its worker
	 * is stuck, the lease runs out and the job is claimed again, which
	 * counts an attempt */
    "   AND claimed_at > now() - make_interval(secs => $3::int)",
    3};
static const struct db_stmt st_depth = {"job_depth",
					"SELECT count(*) FROM kpr.job WHERE state <> 'done'", 0};
static const struct db_stmt st_give_up = {
    "job_give_up",
    "WITH j AS (UPDATE kpr.job SET state = 'done', lease_until = NULL, not_before = NULL,"
    "  attempts = $2::int, last_error = coalesce(nullif($3, ''), last_error), updated_at = now()"
    /* fenced like every job write: only while the job is still this worker's */
    "  WHERE submission_id = $1::uuid AND state = 'running' AND worker = $4"
    "  RETURNING submission_id)"
    /* a reprocessed submission keeps its final status (and stays current) */
    " , s AS (UPDATE kpr.submission SET status = 'failed', processed_at = now(),"
    "  feedback_ready = false"
    "  WHERE id = (SELECT submission_id FROM j) AND status IN ('received', 'processing')"
    "  RETURNING 1)"
    " SELECT (SELECT count(*) FROM j), (SELECT count(*) FROM s)",
    4};
static const struct db_stmt st_done = {
    "ingest_job_done",
    "UPDATE kpr.job SET state = 'done', lease_until = NULL, updated_at = now()"
    " WHERE submission_id = $1::uuid AND worker = $2 AND state = 'running' RETURNING 1",
    2};
static const struct db_stmt st_ours = {
    "ingest_job_ours",
    "SELECT 1 FROM kpr.job WHERE submission_id = $1::uuid AND worker = $2 AND state = 'running'",
    2};
static const struct db_stmt st_committed = {
    "ingest_committed", "SELECT 1 FROM kpr.submission WHERE id = $1::uuid AND feedback_token = $2",
    2};
/* The job only, and only when it is not running (see cmd_reprocess.c). */
static const struct db_stmt st_requeue_done = {
    "reprocess_requeue_job",
    "UPDATE kpr.job SET state = 'queued', attempts = 0, worker = NULL, lease_until = NULL,"
    "   not_before = NULL, last_error = NULL, updated_at = now()"
    " WHERE submission_id = $1::uuid AND state = 'done' RETURNING 1",
    1};
static const struct db_stmt st_requeue_orphans = {
    "reconcile_requeue",
    "WITH missing AS ("
    "  INSERT INTO kpr.job (submission_id) SELECT s.id FROM kpr.submission s"
    "  WHERE s.status IN ('received', 'processing')"
    "    AND NOT EXISTS (SELECT 1 FROM kpr.job j WHERE j.submission_id = s.id)"
    "  ON CONFLICT DO NOTHING RETURNING 1),"
    " stale AS ("
    "  UPDATE kpr.job j SET state = 'queued', worker = NULL, lease_until = NULL,"
    "   not_before = NULL, updated_at = now()"
    "  FROM kpr.submission s WHERE s.id = j.submission_id AND j.state = 'done'"
    "   AND s.status IN ('received', 'processing') RETURNING 1)"
    " SELECT (SELECT count(*) FROM missing) + (SELECT count(*) FROM stale)",
    0};

bool store_job_enqueue(struct db *db, const struct store_new_submission *s, char sqlstate[6])
{
	char aargang[16] = "", bytes[24], token[24];
	if (s->aargang > 0)
		snprintf(aargang, sizeof aargang, "%d", s->aargang);
	snprintf(bytes, sizeof bytes, "%llu", s->bytes);
	snprintf(token, sizeof token, "%lld", s->token_id);
	const char *p[] = {s->id,
			   s->kommunenummer,
			   aargang,
			   s->innsending_id,
			   s->forrige_id,
			   s->sha256,
			   bytes,
			   s->gzip ? "gzip" : "identity",
			   s->spool_name,
			   s->dry_run ? "true" : "false",
			   token,
			   s->fagsystem,
			   s->fagsystem_versjon};
	/* never sent twice: the first may have committed (db.h) */
	PGresult *r = db_exec_once(db, &st_enqueue, p, sqlstate);
	PQclear(r);
	return r != NULL;
}

bool store_job_claim(struct db *db, const char *worker_id, int lease_seconds, char sub_id[40],
		     int *attempts, bool *claimed)
{
	char lease[16];
	snprintf(lease, sizeof lease, "%d", lease_seconds);
	const char *p[] = {worker_id, lease};
	*claimed = false;
	PGresult *r = db_exec(db, &st_claim, p, NULL);
	if (!r)
		return false;
	if (PQntuples(r) == 1) {
		snprintf(sub_id, 40, "%s", PQgetvalue(r, 0, 0));
		*attempts = atoi(PQgetvalue(r, 0, 1));
		*claimed = true;
	}
	PQclear(r);
	return true;
}

bool store_job_release(struct db *db, const char *sub_id, const char *worker_id, bool uncounted,
		       int delay_seconds, const char *fault)
{
	char d[16];
	snprintf(d, sizeof d, "%d", delay_seconds);
	const char *p[] = {sub_id, worker_id, uncounted ? "true" : "false", d, fault};
	return store_run(db, &st_release, p);
}

bool store_job_heartbeat(struct db *db, const char *process_id, int lease_seconds,
			 int time_limit_seconds)
{
	char lease[16], limit[16];
	snprintf(lease, sizeof lease, "%d", lease_seconds);
	snprintf(limit, sizeof limit, "%d", time_limit_seconds);
	const char *p[] = {process_id, lease, limit};
	return store_run(db, &st_heartbeat, p);
}

bool store_job_depth(struct db *db, long *depth)
{
	PGresult *r = db_exec(db, &st_depth, NULL, NULL);
	if (!r)
		return false;
	*depth = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	return true;
}

bool store_job_give_up(struct db *db, const char *sub_id, const char *worker_id, int attempts,
		       const char *fault, bool *ours, bool *marked)
{
	char n[16];
	snprintf(n, sizeof n, "%d", attempts);
	const char *p[] = {sub_id, n, fault, worker_id};
	*ours = *marked = false;
	PGresult *r = db_exec(db, &st_give_up, p, NULL);
	if (!r)
		return false;
	*ours = PQntuples(r) == 1 && atoi(PQgetvalue(r, 0, 0)) == 1;
	*marked = *ours && atoi(PQgetvalue(r, 0, 1)) == 1;
	PQclear(r);
	return true;
}

enum db_tx_status store_job_ours(struct db *db, const char *sub_id, const char *worker_id,
				 bool *ours)
{
	const char *p[] = {sub_id, worker_id};
	PGresult *r;
	enum db_tx_status rc = store_step(db, &st_ours, p, &r);
	if (rc != DB_TX_OK)
		return rc;
	*ours = PQntuples(r) == 1;
	PQclear(r);
	return DB_TX_OK;
}

enum db_tx_status store_job_done(struct db *db, const char *sub_id, const char *worker_id,
				 bool *done)
{
	const char *p[] = {sub_id, worker_id};
	PGresult *r;
	enum db_tx_status rc = store_step(db, &st_done, p, &r);
	if (rc != DB_TX_OK)
		return rc;
	*done = PQntuples(r) == 1;
	PQclear(r);
	return DB_TX_OK;
}

bool store_job_committed(struct db *db, const char *sub_id, const char *attempt_token, bool *landed)
{
	const char *p[] = {sub_id, attempt_token};
	PGresult *r = db_exec(db, &st_committed, p, NULL);
	if (!r)
		return false;
	*landed = PQntuples(r) == 1;
	PQclear(r);
	return true;
}

enum db_tx_status store_job_requeue_done(struct db *db, const char *sub_id, bool *requeued)
{
	const char *p[] = {sub_id};
	PGresult *r;
	enum db_tx_status rc = store_step(db, &st_requeue_done, p, &r);
	if (rc != DB_TX_OK)
		return rc;
	*requeued = PQntuples(r) == 1;
	PQclear(r);
	return DB_TX_OK;
}

bool store_job_requeue_orphans(struct db *db, int *requeued)
{
	PGresult *r = db_exec(db, &st_requeue_orphans, NULL, NULL);
	if (!r)
		return false;
	*requeued = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return true;
}
