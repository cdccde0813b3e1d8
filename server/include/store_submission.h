/*
 * store_submission.h — submission rows (kpr.submission): the one column
 * list the API shows and its reader, the lookups of the upload endpoint,
 * the pipeline's reads and its final transaction's writes (supersede,
 * finish), kprctl reprocess's, and the reconciler's questions about a file.
 * Statements on the job queue are in store_job.h; whether a submission
 * counts toward an årgang is kpr.counts_toward_aargang() in SQL
 * (sql/register/0009_counts_toward_aargang.sql).
 *
 * bool functions: false on a database failure. enum db_tx_status functions
 * are steps of a transaction (see store_job.h).
 */
#ifndef STORE_SUBMISSION_H
#define STORE_SUBMISSION_H

#include "db.h"
#include "kpr.h"

/* Staff monitoring (§7), SQL fragments for the progress endpoints, so
 * "missing" means the same in the JSON and in the CSV; $1 is the årgang.
 * Which submissions of alias s count toward it (not a dry run; of that
 * årgang, or without one and received in the following year, Oslo time):
 * one SQL function, kpr.counts_toward_aargang(). */
#define STORE_COUNTS_TOWARD_AARGANG(s) \
	"kpr.counts_toward_aargang(" s ".dry_run, " s ".aargang, " s ".received_at, $1::int)"
/* Which municipalities of alias k are expected: valid on 31 December. */
#define STORE_KOMMUNE_EXPECTED(k) \
	"kpr.kommune_expected(" k ".gyldig_fra, " k ".gyldig_til, $1::int)"

struct store_opt_int {
	bool set; /* false: SQL NULL */
	long long v;
};

struct store_opt_real {
	bool set;
	double v;
};

/* One submission as the API shows it. Strings point into the result set
 * they were read from (valid until store_submissions_free); NULL for SQL
 * NULL where a column may be NULL. Times: Oslo time with offset and ms. */
struct store_submission {
	const char *id, *kommunenummer, *sha256, *status;
	const char *innsending_id, *forrige_id, *fagsystem, *fagsystem_versjon;
	const char *received_at, *started_at, *processed_at;
	const char *superseded_by;
	struct store_opt_int aargang;
	long long bytes;
	bool dry_run, feedback_ready;
	struct store_opt_int persons, registrations, persons_loaded, persons_excluded,
	    registrations_loaded, registrations_excluded;
	struct store_opt_int n_fatal, n_error, n_warning, n_info;
	struct store_opt_real validate_seconds, load_seconds, total_seconds;
};

struct store_submissions; /* rows read, owning their result */

/* One submission; kommune "" for any (staff), else only that
 * municipality's. An empty set when there is none. */
bool store_submission_get(struct db *db, const char *id, const char *kommune,
			  struct store_submissions **out) KPR_WUR;
/* Newest first; kommune "" for all; aargang < 0 for every årgang. */
bool store_submission_list(struct db *db, const char *kommune, int aargang, int limit,
			   struct store_submissions **out) KPR_WUR;
size_t store_submissions_len(const struct store_submissions *s);
void store_submissions_row(const struct store_submissions *s, size_t i,
			   struct store_submission *out);
void store_submissions_free(struct store_submissions *s);

/* The upload endpoint: the submission the same file (sha256) or the same
 * Innsending id ("" for none) already is, failed ones aside. */
bool store_submission_find_existing(struct db *db, const char *kommune, bool dry_run,
				    const char *sha256, const char *innsending_id, char id[40],
				    bool *found) KPR_WUR;
/* Whether a row with this id exists (an INSERT whose answer was lost). */
bool store_submission_exists(struct db *db, const char *id, bool *found) KPR_WUR;

/* What the pipeline reads of a claimed submission. */
struct store_submission_work {
	char kommune[8];
	char spool_name[256];
	char sha256[65];
	long long bytes;
	bool dry_run;
	char received_at[40];    /* Oslo time with offset */
	char feedback_token[33]; /* 32 hex (0008); served until this attempt commits; "" none */
	bool feedback_ready;
};
/* False also when there is no such submission. */
bool store_submission_work(struct db *db, const char *id,
			   struct store_submission_work *out) KPR_WUR;
/* status 'processing' (unless it has a final one) and started_at now. */
bool store_submission_start(struct db *db, const char *id) KPR_WUR;
/* The Innsending id ("" none) of this municipality's latest submission of
 * the årgang received before this one and taken up: F007 compares. */
bool store_submission_latest_innsending(struct db *db, const char *kommune, int aargang,
					const char *id, char out[80]) KPR_WUR;
/* The database's clock, Oslo time with offset and ms: the processed time
 * stored and shown in the feedback. */
bool store_submission_clock(struct db *db, char out[40]) KPR_WUR;

/* Final transaction: serialises the finishing of one municipality's
 * submissions of one årgang (a transaction-scoped advisory lock). */
enum db_tx_status store_submission_lock_current(struct db *db, const char *kommune,
						int aargang) KPR_WUR;
/* A current submission received after this one ("" none): it stays current. */
enum db_tx_status store_submission_newer_current(struct db *db, const char *id, const char *kommune,
						 int aargang, char newer[40]) KPR_WUR;
/* Marks every current submission received up to this one superseded by it. */
enum db_tx_status store_submission_supersede_older(struct db *db, const char *id,
						   const char *kommune, int aargang) KPR_WUR;
/* Marks this one superseded by a newer current one. */
enum db_tx_status store_submission_superseded_by(struct db *db, const char *id,
						 const char *newer) KPR_WUR;

/* The outcome the final transaction records. NULL or "" strings are stored
 * as NULL (innsending_id only when none is stored yet). */
struct store_submission_outcome {
	const char *id;
	const char *status;
	int aargang; /* 0: not read from the file (kept NULL) */
	const char *innsending_id, *forrige_id, *fagsystem, *fagsystem_versjon;
	unsigned long persons, registrations;
	unsigned long persons_loaded, persons_excluded;
	unsigned long registrations_loaded, registrations_excluded;
	unsigned long n_fatal, n_error, n_warning, n_info;
	double validate_seconds, load_seconds;
	const char *processed_at;   /* from store_submission_clock */
	const char *feedback_token; /* this attempt's files (feedback_path) */
};
enum db_tx_status store_submission_finish(struct db *db,
					  const struct store_submission_outcome *o) KPR_WUR;

/* GET .../feedback: what a download needs of a submission the caller may
 * see (kommune "" for any; *found false otherwise). */
struct store_served_feedback {
	char kommune[8];
	int aargang;    /* 0: none */
	bool ready;     /* feedback_ready */
	char token[33]; /* the committed attempt's files (feedback_path); "" before tokens */
};
bool store_submission_served_feedback(struct db *db, const char *id, const char *kommune,
				      struct store_served_feedback *out, bool *found) KPR_WUR;

/* kprctl reprocess: the spool file's name and the status. */
bool store_submission_find(struct db *db, const char *id, char spool_name[256], char status[32],
			   bool *found) KPR_WUR;
/* The submission the same file of a failed one became ("" none). */
enum db_tx_status store_submission_same_file(struct db *db, const char *id, char other[40]) KPR_WUR;
/* A failed submission waits again (received); 23505 (DB_TX_FAIL) when the
 * same file was sent again meanwhile. */
enum db_tx_status store_submission_unfail(struct db *db, const char *id) KPR_WUR;

/* The reconciler: what may happen to a submission's spool file. */
enum store_spool_fate {
	STORE_SPOOL_NO_ROW,         /* no submission has this id */
	STORE_SPOOL_KEEP,           /* waiting, running, or failed within retention */
	STORE_SPOOL_PROCESSED,      /* final, its job done */
	STORE_SPOOL_FAILED_EXPIRED, /* failed longer ago than retention_days */
};
bool store_submission_spool_fate(struct db *db, const char *id, int retention_days,
				 enum store_spool_fate *fate) KPR_WUR;
/* What a feedback file's submission says. */
struct store_feedback_fate {
	bool row;            /* false: no such submission */
	char token[40];      /* the committed token, "" none */
	bool failed;         /* status failed */
	bool feedback_ready; /* feedback is served */
	bool job_done;       /* its job is done (no attempt queued or running) */
};
bool store_submission_feedback_fate(struct db *db, const char *id,
				    struct store_feedback_fate *out) KPR_WUR;

#endif
