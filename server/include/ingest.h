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
	INGEST_RETRY,           /* failure that may pass: retry, counting an attempt */
	INGEST_RETRY_TRANSIENT, /* a database is unreachable: retry without counting */
	INGEST_FAILED,          /* permanent internal failure: the submission is marked rejected */
};

enum ingest_outcome ingest_process(struct ingest *in, struct db *reg, const char *submission_id,
				   const char *worker_id);

#endif
