/*
 * ingest_job.h — the state of one job, shared by the pipeline (ingest.c)
 * and its feedback files (ingest_feedback.c); private to server/src/intake/.
 */
#ifndef INGEST_JOB_H
#define INGEST_JOB_H

#include <errno.h>
#include <time.h>

#include "config.h"
#include "copy_rows.h"
#include "db.h"
#include "feedback.h"
#include "ingest.h"
#include "nid.h"
#include "report.h"
#include "validate.h"

struct ingest {
	const struct kpr_config *cfg;
	struct codelist *codes;
	struct pseudo_ctx *pseudo;
	struct vault *vault;
};

/* State of one job. */
struct job {
	struct ingest *in;
	const struct kpr_config *cfg; /* the published configuration as the job began */
	const char *sub_id;
	char kommune[8];
	char spool_name[256];
	char sha256[65];
	char received_at[40]; /* Oslo time with offset (kpr.oslo_time) */
	char processed_at[40];
	char fb_token[FEEDBACK_TOKEN_LEN + 1];   /* this attempt's feedback files */
	char prev_token[FEEDBACK_TOKEN_LEN + 1]; /* those served until this commits */
	bool prev_ready;                         /* any feedback served until then */
	bool fb_written;
	bool finishing;         /* the final transaction was begun */
	bool outcome_known;     /* ...and it is known not to have committed */
	struct nid_options nid; /* the validator's: what the feedback masks */
	long long bytes;
	bool dry_run;
	struct copy_rows rows; /* the register rows, COPY text */
	char **retracted;
	size_t nretracted;
	bool failed; /* a vault or I/O error: the job is retried */
	enum ingest_fault fault;
	struct report *report;
	struct validate_result vres;
	double validate_seconds;
	double feedback_seconds; /* every format, the units' files included */
	char **units;            /* the named units in file order (kpr.feedback_unit) */
	size_t nunits;
	size_t unit_files; /* the first unit_files of them got files */
};

/* A local write failed with errno e: a full disk, or some other I/O fault.
 * Both pass by themselves more often than not, so the job backs off. */
static inline enum ingest_fault io_fault(int e)
{
	return e == ENOSPC || e == EDQUOT ? FAULT_DISK_FULL : FAULT_LOCAL_IO;
}

static inline double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The status the submission gets from its report. */
const char *ingest_final_status(const struct job *j, const struct report_summary *s);

/* ingest_feedback.c: this attempt's feedback files. */

/* Renders the five formats of the whole file and of each named unit under
 * a new token (j->fb_token), with what was received beside the previous
 * årgang, and makes them durable; false with j->fault set. */
bool ingest_feedback_write(struct job *j, struct db *reg) KPR_WUR;
/* Removes one token's files of this submission (the whole file's and every
 * unit's); "" the whole file's written before tokens. */
void ingest_feedback_remove(const struct job *j, const char *token);
/* After the commit: removes this submission's files of other tokens older
 * than before less a margin. */
void ingest_feedback_sweep(const struct job *j, time_t before);

#endif
