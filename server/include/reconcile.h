/*
 * reconcile.h — the reconciler: makes the spool and feedback directories
 * agree with the database after crashes and unknown outcomes. It runs once
 * at start and then every intake.reconcile_interval_seconds, on its own
 * thread and database session, and:
 *   - removes final spool files that have no submission row (a crash
 *     between rename and INSERT, an INSERT whose outcome was unknown), and
 *     those of final submissions (a crash after the final COMMIT, before
 *     the unlink; unless keep_processed_files), and those of `failed` ones
 *     after failed_file_retention_days;
 *   - removes partial uploads (incoming/<random>.part) nobody is writing;
 *   - re-queues submissions that wait for processing but have no live job;
 *   - removes feedback files that are not the committed attempt's once no
 *     attempt of their submission is queued or running (a crash mid-write,
 *     a worker that lost its lease, a reprocessing that replaced them),
 *     and the feedback files of `failed` submissions (never served);
 * acting on a file without a row only when it is older than
 * reconcile_safe_age_minutes, since on a shared spool another node may be
 * between its rename and its INSERT, and never on a file this process is
 * writing (spool_in_flight). It logs counts, never an ID or a file's content.
 */
#ifndef RECONCILE_H
#define RECONCILE_H

#include "kpr.h"

struct kpr_config;
struct db;
struct reconciler;

struct reconcile_counts {
	int spool_orphans;   /* final files without a row */
	int spool_processed; /* files of final submissions */
	int spool_failed;    /* files of failed submissions past their retention */
	int partial;         /* incoming/<random>.part */
	int feedback_stale;  /* feedback files no committed attempt wrote */
	int feedback_failed; /* feedback files of failed submissions */
	int requeued;        /* submissions given a job again */
};

/* One pass. False when the database could not be asked (nothing removed
 * that needed it). */
bool reconcile_once(const struct kpr_config *cfg, struct db *db,
		    struct reconcile_counts *c) KPR_WUR;

struct reconciler *reconciler_start(const struct kpr_config *cfg, char *err, size_t errlen) KPR_WUR;
/* Stops and joins the thread. Accepts NULL. */
void reconciler_stop(struct reconciler *r);

#endif
