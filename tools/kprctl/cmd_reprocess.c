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
#include "store_job.h"
#include "store_submission.h"

struct requeue {
	const char *id;
	bool failed;
	bool running;       /* out: the job is queued or running already */
	char duplicate[40]; /* out: the submission the same file became */
};

static enum db_tx_status requeue_tx(struct db *db, void *arg)
{
	struct requeue *rq = arg;
	enum db_tx_status rc;
	if (rq->failed) {
		/* the same file sent again meanwhile counts instead (kept failed) */
		if (store_submission_same_file(db, rq->id, rq->duplicate) != DB_TX_OK ||
		    rq->duplicate[0])
			return DB_TX_FAIL;
		/* a failed submission waits again */
		if ((rc = store_submission_unfail(db, rq->id)) != DB_TX_OK)
			return rc;
	}
	/* the job only, and only when it is not running: see the header */
	bool requeued = false;
	if ((rc = store_job_requeue_done(db, rq->id, &requeued)) != DB_TX_OK)
		return rc;
	rq->running = !requeued;
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
	char spool_name[256], status[32];
	bool found = false;
	if (!store_submission_find(db, id, spool_name, status, &found) || !found) {
		fprintf(stderr, "kprctl: no submission %s\n", id);
		goto out;
	}
	char path[4400];
	snprintf(path, sizeof path, "%s/%s", cfg->spool_dir, spool_name);
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
