/*
 * cmd_reprocess.c — `kprctl reprocess [--config FILE] ID`: queue a
 * submission again from its spooled file: one that `failed` (a fault on the
 * server's side), or, when processed files are kept, one already processed
 * (after a rule fix). Only the job is queued: the submission keeps its
 * status, so a current submission stays in the register until the
 * pipeline's final transaction replaces its rows and status in one step;
 * if reprocessing fails, it is still current. A failed submission goes
 * back to `received`. Reprocessing never duplicates anything. A file
 * already removed after processing cannot be reprocessed: the municipality
 * sends it again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "kprctl.h"

static const struct db_stmt st_find = {
    "reprocess_find", "SELECT spool_name, status FROM kpr.submission WHERE id = $1::uuid", 1};
/* The job only, and only when it is not running: see the header. */
static const struct db_stmt st_requeue_job = {
    "reprocess_requeue_job",
    "UPDATE kpr.job SET state = 'queued', attempts = 0, worker = NULL, lease_until = NULL,"
    "   not_before = NULL, last_error = NULL, updated_at = now()"
    " WHERE submission_id = $1::uuid AND state = 'done' RETURNING 1",
    1};
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

struct requeue {
	const char *id;
	bool failed;
	bool running;       /* out: the job is queued or running already */
	char duplicate[40]; /* out: the submission the same file became */
};

static enum db_tx_status requeue_tx(struct db *db, void *arg)
{
	struct requeue *rq = arg;
	const char *p[] = {rq->id};
	char sqlstate[6];
	if (rq->failed) {
		PGresult *r = db_exec(db, &st_same_file, p, NULL);
		if (r && PQntuples(r) == 1)
			snprintf(rq->duplicate, sizeof rq->duplicate, "%s", PQgetvalue(r, 0, 0));
		PQclear(r);
		if (!r || rq->duplicate[0])
			return DB_TX_FAIL;
		if (!(r = db_exec(db, &st_unfail, p, sqlstate)))
			return db_sqlstate_retryable(sqlstate) ? DB_TX_RETRY : DB_TX_FAIL;
		PQclear(r);
	}
	PGresult *r = db_exec(db, &st_requeue_job, p, sqlstate);
	if (!r)
		return db_sqlstate_retryable(sqlstate) ? DB_TX_RETRY : DB_TX_FAIL;
	rq->running = PQntuples(r) == 0;
	PQclear(r);
	if (rq->running)
		return DB_TX_FAIL;
	return kprctl_audit_submission(db, "reprocess", rq->id) ? DB_TX_OK : DB_TX_FAIL;
}

int kprctl_cmd_reprocess(int argc, char **argv)
{
	const char *conf = getenv("KPR_CONFIG");
	const char *id = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			conf = argv[++i];
		else if (!id)
			id = argv[i];
		else
			id = NULL, i = argc;
	}
	if (!id || !conf) {
		fprintf(stderr,
			"usage: kprctl reprocess [--config FILE | $KPR_CONFIG] SUBMISSION-ID\n");
		return 2;
	}
	char err[1024];
	struct kpr_config *cfg = config_load(conf, err, sizeof err);
	if (!cfg) {
		fprintf(stderr, "kprctl: %s\n", err);
		return 1;
	}
	struct db *db = kprctl_connect_register();
	int rc = 1;
	if (!db)
		goto out;
	const char *p[] = {id};
	PGresult *r = db_exec(db, &st_find, p, NULL);
	if (!r || PQntuples(r) != 1) {
		fprintf(stderr, "kprctl: no submission %s\n", id);
		PQclear(r);
		goto out;
	}
	char path[4400];
	snprintf(path, sizeof path, "%s/%s", cfg->spool_dir, PQgetvalue(r, 0, 0));
	char status[32];
	snprintf(status, sizeof status, "%s", PQgetvalue(r, 0, 1));
	PQclear(r);
	if (!strcmp(status, "superseded")) {
		fprintf(stderr,
			"kprctl: %s is superseded; reprocess the current submission instead\n", id);
		goto out;
	}
	if (access(path, R_OK) != 0) {
		fprintf(stderr,
			"kprctl: the file of %s is no longer in the spool (removed after "
			"processing); the municipality must send it again\n",
			id);
		goto out;
	}
	struct requeue q = {.id = id, .failed = !strcmp(status, "failed")};
	if (db_transaction(db, "READ COMMITTED", requeue_tx, &q, 3, "kprctl")) {
		printf("submission %s (%s) queued again%s\n", id, status,
		       q.failed ? "" : "; it keeps its status until the new result replaces it");
		rc = 0;
	} else if (q.duplicate[0]) {
		fprintf(stderr,
			"kprctl: the same file was sent again as submission %s; that one counts, "
			"and %s stays failed\n",
			q.duplicate, id);
	} else if (q.running) {
		fprintf(stderr, "kprctl: %s is queued or being processed already\n", id);
	}
out:
	db_free(db);
	config_free(cfg);
	return rc;
}
