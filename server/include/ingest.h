/*
 * ingest.h — the intake pipeline for one claimed submission:
 * validate (streaming) → pseudonymise and add to the vault → COPY into the
 * register → mark the previous submission superseded → store the feedback,
 * all register writes in one transaction that also finishes the job, so a
 * crash at any point leaves either nothing or everything.
 */
#ifndef INGEST_H
#define INGEST_H

#include "kpr.h"

struct kpr_config;
struct db;
struct ingest;

/* Per worker thread: its own vault connection, pseudonym and HPKE contexts. */
struct ingest *ingest_new(const struct kpr_config *cfg, char *err, size_t errlen) KPR_WUR;
void ingest_free(struct ingest *in);

enum ingest_outcome {
	INGEST_DONE = 0,        /* processed (accepted, rejected or validated); job finished */
	INGEST_RETRY,           /* a failure on our side: retry later, counting an attempt */
	INGEST_RETRY_TRANSIENT, /* a database is unreachable: retry without counting */
	INGEST_LEASE_LOST,      /* another worker took the job over: leave it alone */
};

/* Why an attempt failed: stored in kpr.job.last_error, logged, and shown to
 * staff. Never a value from the file. */
enum ingest_fault {
	FAULT_NONE = 0,
	FAULT_INTERNAL,      /* a fault in the pipeline itself */
	FAULT_LOCAL_IO,      /* EIO and other errors writing temporary or feedback files */
	FAULT_DISK_FULL,     /* ENOSPC / EDQUOT locally, or the database's disk (SQLSTATE 53xxx) */
	FAULT_DATABASE,      /* a statement failed while the database was reachable */
	FAULT_TIME_LIMIT,    /* the job ran past intake.job_time_limit_seconds */
	FAULT_SPOOL_MISSING, /* the spooled file is gone */
};
const char *ingest_fault_name(enum ingest_fault f);

/* Runs one claimed job. attempt: the job's attempts counter as claimed
 * (1 on a first attempt). deadline: CLOCK_MONOTONIC seconds after which the
 * attempt stops (validation checks it per chunk). On INGEST_RETRY *fault
 * says why. */
enum ingest_outcome ingest_process(struct ingest *in, struct db *reg, const char *submission_id,
				   const char *worker_id, int attempt, double deadline,
				   enum ingest_fault *fault);

#endif
