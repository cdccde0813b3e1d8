/*
 * cmd_reprocess.c — `kprctl reprocess [--config FILE] ID`: queue a
 * submission again from its spooled file, e.g. one that was given up after
 * repeated internal failures, or after a rule fix when processed files are
 * kept. The pipeline replaces the submission's earlier rows in its load
 * transaction, so reprocessing never duplicates anything. A file already
 * removed after processing cannot be reprocessed: the municipality sends it
 * again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "kprctl.h"

static const struct db_stmt st_find = {
    "reprocess_find", "SELECT spool_name, status FROM kpr.submission WHERE id = $1::uuid", 1};
static const struct db_stmt st_requeue = {
    "reprocess_requeue",
    "WITH s AS (UPDATE kpr.submission SET status = 'received', started_at = NULL,"
    "   processed_at = NULL, feedback_ready = false WHERE id = $1::uuid RETURNING id)"
    " UPDATE kpr.job SET state = 'queued', attempts = 0, worker = NULL, lease_until = NULL,"
    "   updated_at = now() WHERE submission_id = (SELECT id FROM s)",
    1};

struct requeue {
	const char *id;
};

static enum db_tx_status requeue_tx(struct db *db, void *arg)
{
	struct requeue *rq = arg;
	const char *p[] = {rq->id};
	PGresult *r = db_exec(db, &st_requeue, p, NULL);
	if (!r)
		return DB_TX_FAIL;
	PQclear(r);
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
	struct requeue q = {id};
	if (db_transaction(db, "READ COMMITTED", requeue_tx, &q, 0, "kprctl")) {
		printf("submission %s (was %s) queued again\n", id, status);
		rc = 0;
	}
out:
	db_free(db);
	config_free(cfg);
	return rc;
}
