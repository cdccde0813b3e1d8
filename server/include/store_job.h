/*
 * store_job.h — the job queue (kpr.job): every statement that moves a job
 * through its states. A submission is recorded with its job (enqueue); a
 * worker claims it with FOR UPDATE SKIP LOCKED and a lease that a heartbeat
 * renews; the attempt releases it (retry later), gives up on it (the
 * submission ends `failed`), or finishes it inside the pipeline's final
 * transaction; `kprctl reprocess` and the reconciler queue it again.
 *
 * The fences: every update of a running job names the worker that holds it
 * and requires state 'running', so a worker whose lease ran out and whose
 * job another worker took over changes nothing. The final transaction asks
 * store_job_ours() early (to skip the COPY work) and store_job_done() last,
 * the fence that counts; whether an earlier COMMIT of ours landed is asked
 * with store_job_committed() after the rollback, never inside it.
 *
 * Functions returning bool: false on a database failure (db_exec logged it).
 * Functions returning enum db_tx_status are steps of a transaction run by
 * db_transaction(): DB_TX_RETRY on a serialization failure, deadlock or lost
 * connection, DB_TX_FAIL on any other failure.
 */
#ifndef STORE_JOB_H
#define STORE_JOB_H

#include "db.h"
#include "kpr.h"

/* A new submission as the upload endpoint records it. "" for a value the
 * file's header did not give (stored as NULL). */
struct store_new_submission {
	const char *id;
	const char *kommunenummer;
	int aargang; /* 0: not read from the file */
	const char *innsending_id;
	const char *forrige_id;
	const char *sha256;
	unsigned long long bytes;
	bool gzip;
	const char *spool_name;
	bool dry_run;
	long long token_id;
	const char *fagsystem;
	const char *fagsystem_versjon;
};

/* Records the submission and queues its job in one statement, sent at most
 * once (db_exec_once): on a lost connection it returns false with sqlstate
 * "" and the outcome is unknown; store_submission_exists() on a new session
 * resolves it. sqlstate "23505": the same file or Innsending id raced in. */
bool store_job_enqueue(struct db *db, const struct store_new_submission *s,
		       char sqlstate[6]) KPR_WUR;

/* Claims the oldest claimable job (queued and due, running past its lease,
 * or running under this very worker id: released while the database was
 * away). *claimed false: none. */
bool store_job_claim(struct db *db, const char *worker_id, int lease_seconds, char sub_id[40],
		     int *attempts, bool *claimed) KPR_WUR;

/* Puts a running job of this worker back in the queue, due after
 * delay_seconds. uncounted: the attempt does not count (the database was
 * away). fault: recorded as last_error unless "". */
bool store_job_release(struct db *db, const char *sub_id, const char *worker_id, bool uncounted,
		       int delay_seconds, const char *fault) KPR_WUR;

/* Renews the leases of this process's running jobs (worker ids
 * "<process_id>:<n>"), except those claimed more than time_limit_seconds
 * ago: a stuck worker's job is then claimed again once its lease ends. */
bool store_job_heartbeat(struct db *db, const char *process_id, int lease_seconds,
			 int time_limit_seconds) KPR_WUR;

/* Jobs not done: the queue depth uploads are judged by. */
bool store_job_depth(struct db *db, long *depth) KPR_WUR;

/* The job used up its attempts: done, and its submission `failed` unless
 * it has a final status already (a reprocessing keeps it). Fenced: *ours
 * false when the job is no longer this worker's; *marked: the submission
 * was marked failed. */
bool store_job_give_up(struct db *db, const char *sub_id, const char *worker_id, int attempts,
		       const char *fault, bool *ours, bool *marked) KPR_WUR;

/* Final transaction, first step: is the job still this worker's? */
enum db_tx_status store_job_ours(struct db *db, const char *sub_id, const char *worker_id,
				 bool *ours) KPR_WUR;
/* Final transaction, last step and the fence: finishes the job only while
 * it is still this worker's (*done false otherwise; the caller rolls back). */
enum db_tx_status store_job_done(struct db *db, const char *sub_id, const char *worker_id,
				 bool *done) KPR_WUR;
/* After a rollback: did a COMMIT of ours land with its answer lost? True
 * in *landed when the submission records this attempt's random feedback
 * token, which no other attempt can have (a job state or a time could be
 * changed meanwhile by a reprocessing, or shared by chance). */
bool store_job_committed(struct db *db, const char *sub_id, const char *attempt_token,
			 bool *landed) KPR_WUR;

/* kprctl reprocess: queues a done job again, attempts reset. *requeued
 * false: the job is queued or running already. */
enum db_tx_status store_job_requeue_done(struct db *db, const char *sub_id, bool *requeued) KPR_WUR;

/* Reconciler: queues every waiting submission (received or processing)
 * that has no live job: none at all, or a done one. */
bool store_job_requeue_orphans(struct db *db, int *requeued) KPR_WUR;

#endif
