/*
 * ingest.c — runs one claimed submission through the pipeline.
 *   1. validate the spooled file, streaming; each accepted person is
 *      pseudonymised, its national ID added to the vault, and its rows
 *      written to per-table COPY buffers in unlinked temporary files
 *      (bounded memory whatever the file size);
 *   2. while a thread sends the vault's batches (only now: a file
 *      rejected late adds nothing to the vault), render the five feedback
 *      files under this attempt's own random token (ingest_feedback.c),
 *      never over files that may be served, and the five again for each
 *      named unit (SPEC §6 ?enhet=), at most FEEDBACK_UNIT_FILES_MAX
 *      units, as the report is gone afterwards;
 *   3. one register transaction: COPY the rows, drop persons retracted by
 *      late duplicate checks, supersede the previous current submission,
 *      record status and counts, wait for the vault, finish the job.
 * A crash before 3 commits leaves nothing behind in the register; the job's
 * lease runs out and another worker runs it again from the spool.
 * Must not: keep, log or write a national ID anywhere but the vault.
 */
#include "ingest.h"
#include "ingest_job.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codelist.h"
#include "failpoint.h"
#include "keystore.h"
#include "log.h"
#include "metrics.h"
#include "pseudo.h"
#include "store_feedback_unit.h"
#include "store_job.h"
#include "store_rows.h"
#include "store_submission.h"
#include "vault.h"

const char *ingest_fault_name(enum ingest_fault f)
{
	switch (f) {
	case FAULT_NONE:
		return "none";
	case FAULT_INTERNAL:
		return "internal";
	case FAULT_LOCAL_IO:
		return "local_io";
	case FAULT_DISK_FULL:
		return "disk_full";
	case FAULT_DATABASE:
		return "database";
	case FAULT_TIME_LIMIT:
		return "time_limit";
	case FAULT_SPOOL_MISSING:
		return "spool_missing";
	}
	return "internal";
}

struct ingest *ingest_new(const struct kpr_config *cfg, char *err, size_t errlen)
{
	struct ingest *in = calloc(1, sizeof *in);
	if (!in) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	in->cfg = cfg;
	in->codes = codelist_load(cfg->codelists_file, err, errlen);
	if (!in->codes)
		goto fail;
	struct keystore_pseudonym_key k;
	if (!keystore_load_pseudonym_key(cfg->keys_dir, &k)) {
		snprintf(err, errlen, "pseudonym key in %s: %s", cfg->keys_dir, keystore_error());
		goto fail;
	}
	in->pseudo = pseudo_new(k.key, sizeof k.key, k.version);
	in->vault = vault_new(cfg, k.version, k.fingerprint, err, errlen);
	keystore_pseudonym_key_wipe(&k);
	if (!in->pseudo) {
		snprintf(err, errlen, "cannot set up pseudonymisation");
		goto fail;
	}
	if (!in->vault)
		goto fail;
	return in;
fail:
	ingest_free(in);
	return NULL;
}

void ingest_free(struct ingest *in)
{
	if (!in)
		return;
	codelist_free(in->codes);
	pseudo_free(in->pseudo);
	vault_free(in->vault);
	free(in);
}

static bool on_person(void *ctx, const struct v_person *p)
{
	struct job *j = ctx;
	if (!copy_rows_storable(&j->nid, p->ref)) {
		/* a ref is the person's key: it cannot be dropped, only refused */
		rlog_error(j->sub_id, "a ref carrying a national-ID candidate reached the loader; "
				      "refusing to load the file");
		return false;
	}
	struct pseudonym ps;
	if (!pseudo_compute(j->in->pseudo, p->fnr, &ps))
		return false;
	if (!j->dry_run && !vault_add(j->in->vault, &ps, p->fnr)) {
		j->failed = true;
		return false;
	}
	if (j->dry_run)
		return true;
	char hex[PSEUDO_HEX_LEN + 1];
	pseudo_to_hex(&ps, hex);
	if (!copy_rows_person(&j->rows, p, hex, ps.key_version)) {
		j->failed = true;
		j->fault = io_fault(errno);
		return false;
	}
	return true;
}

static bool on_retract(void *ctx, const char *ref)
{
	struct job *j = ctx;
	char **nv = realloc(j->retracted, (j->nretracted + 1) * sizeof *nv);
	if (!nv)
		return false;
	j->retracted = nv;
	j->retracted[j->nretracted] = strdup(ref);
	if (!j->retracted[j->nretracted])
		return false;
	j->nretracted++;
	return true;
}

static void job_cleanup(struct job *j)
{
	copy_rows_close(&j->rows);
	for (size_t i = 0; i < j->nretracted; i++)
		free(j->retracted[i]);
	free(j->retracted);
	for (size_t i = 0; i < j->nunits; i++)
		free(j->units[i]);
	free(j->units);
	report_free(j->report);
}

const char *ingest_final_status(const struct job *j, const struct report_summary *s)
{
	if (s->fatal)
		return "rejected";
	if (j->dry_run)
		return "validated";
	return s->by_severity[SEV_ERROR] > 0 ? "accepted_with_errors" : "accepted";
}

/* The vault's batches are sent while the feedback is written and the rows
 * are COPYed: by a thread of its own on the vault's connection, joined in
 * the final transaction before the fence and the COMMIT, so the register
 * never points at IDs the vault does not hold. (For a 38,000-person file
 * the vault takes about a second.) */
struct vault_send {
	struct vault *v;
	pthread_t thread;
	bool running, ok;
};

static void *vault_send_run(void *arg)
{
	struct vault_send *vs = arg;
	vs->ok = vault_flush(vs->v);
	return NULL;
}

static void vault_send_start(struct vault_send *vs, struct vault *v)
{
	vs->v = v;
	vs->ok = false;
	vs->running = pthread_create(&vs->thread, NULL, vault_send_run, vs) == 0;
	if (!vs->running)
		vs->ok = vault_flush(v); /* no thread: here and now */
}

/* Waits for the batches (once; again returns the same); true when all
 * are stored. */
static bool vault_send_join(struct vault_send *vs)
{
	if (vs->running) {
		pthread_join(vs->thread, NULL);
		vs->running = false;
	}
	return vs->ok;
}

struct finish_ctx {
	struct job *j;
	const char *worker_id;
	const char *status;
	double load_seconds;
	bool load_rows;
	char newer[40]; /* a newer accepted submission that stays current */
	bool not_ours;  /* the job was no longer this worker's */
	struct vault_send *vault;
	bool vault_failed; /* the vault did not store every batch */
};

/* The outcome the final transaction records, from the report. */
static struct store_submission_outcome outcome_of(const struct finish_ctx *fc)
{
	const struct job *j = fc->j;
	const struct report_summary *s = report_summary(j->report);
	const struct v_header *h = &j->vres.header;
	return (struct store_submission_outcome){
	    .id = j->sub_id,
	    /* never two current submissions (unique index): a newer one stays current */
	    .status = fc->newer[0] ? "superseded" : fc->status,
	    .aargang = h->aargang > 0 ? h->aargang : 0,
	    .innsending_id = h->id,
	    .forrige_id = h->forrige_id,
	    .fagsystem = copy_rows_storable(&j->nid, h->fagsystem),
	    .fagsystem_versjon = copy_rows_storable(&j->nid, h->fagsystem_versjon),
	    .persons = s->persons,
	    .registrations = s->registrations,
	    .persons_loaded = fc->load_rows ? s->persons_loaded : 0,
	    .persons_excluded = s->persons_excluded,
	    .registrations_loaded = fc->load_rows ? s->registrations_loaded : 0,
	    .registrations_excluded = s->registrations_excluded,
	    .n_fatal = s->by_severity[SEV_FATAL],
	    .n_error = s->by_severity[SEV_ERROR],
	    .n_warning = s->by_severity[SEV_WARNING],
	    .n_info = s->by_severity[SEV_INFO],
	    .validate_seconds = j->validate_seconds,
	    .load_seconds = fc->load_seconds,
	    .processed_at = j->processed_at,
	    .feedback_token = j->fb_token,
	};
}

/* The COPY work: this submission's earlier rows out, the new ones in, the
 * retracted persons out again, and the previous current submission
 * superseded unless a newer one is current. */
static enum db_tx_status load_rows_tx(struct db *db, struct finish_ctx *fc)
{
	struct job *j = fc->j;
	int aargang = j->vres.header.aargang;
	enum db_tx_status rc;
	for (int t = 0; t < STORE_ROWS_TABLE_COUNT; t++)
		if ((rc = store_rows_copy(db, (enum store_rows_table)t, j->rows.f[t])) != DB_TX_OK)
			return rc;
	if ((rc = store_rows_delete_refs(db, j->sub_id, (const char *const *)j->retracted,
					 j->nretracted)) != DB_TX_OK)
		return rc;
	if ((rc = store_submission_lock_current(db, j->kommune, aargang)) != DB_TX_OK ||
	    (rc = store_submission_newer_current(db, j->sub_id, j->kommune, aargang, fc->newer)) !=
		DB_TX_OK)
		return rc;
	if (!fc->newer[0])
		return store_submission_supersede_older(db, j->sub_id, j->kommune, aargang);
	return DB_TX_OK;
}

static enum db_tx_status finish_tx(struct db *db, void *arg)
{
	struct finish_ctx *fc = arg;
	struct job *j = fc->j;
	enum db_tx_status rc;
	double t0 = now_s();
	bool ours = false;
	fc->newer[0] = '\0';
	/* a worker that lost its lease learns it here, before the COPY work;
	 * the fence that counts is the job update at the end */
	if ((rc = store_job_ours(db, j->sub_id, fc->worker_id, &ours)) != DB_TX_OK)
		return rc;
	fc->not_ours = !ours;
	if (fc->not_ours)
		return DB_TX_FAIL;
	/* a reprocessed submission replaces its own earlier rows, or, when it
	 * is no longer loaded, leaves none behind */
	if (!j->dry_run && (rc = store_rows_delete(db, j->sub_id)) != DB_TX_OK)
		return rc;
	if (fc->load_rows && (rc = load_rows_tx(db, fc)) != DB_TX_OK)
		return rc;
	fc->load_seconds = now_s() - t0;
	struct store_submission_outcome o = outcome_of(fc);
	if ((rc = store_submission_finish(db, &o)) != DB_TX_OK)
		return rc;
	/* which unit's files are which, for the token just recorded */
	if ((rc = store_feedback_units_replace(db, j->sub_id, (const char *const *)j->units,
					       j->nunits, j->unit_files)) != DB_TX_OK)
		return rc;
	/* a file received later finished first: it stays current */
	if (fc->newer[0] &&
	    (rc = store_submission_superseded_by(db, j->sub_id, fc->newer)) != DB_TX_OK)
		return rc;
	/* the vault holds the file's IDs before the register commits */
	if (fc->load_rows && !vault_send_join(fc->vault)) {
		fc->vault_failed = true;
		return DB_TX_FAIL;
	}
	/* the fence: the job is finished only while it is still ours (the
	 * row lock is held from here to the COMMIT, so briefly) */
	bool done = false;
	if ((rc = store_job_done(db, j->sub_id, fc->worker_id, &done)) != DB_TX_OK)
		return rc;
	fc->not_ours = !done;
	if (fc->not_ours)
		return DB_TX_FAIL;
	failpoint("job.before_commit");
	return DB_TX_OK;
}

static void count_rules(struct report *r)
{
	for (size_t i = 0; i < rules_catalogue_len; i++) {
		unsigned long n = report_rule_count(r, rules_catalogue[i].id);
		if (n)
			metrics_count_rule(rules_catalogue[i].id,
					   severity_name(rules_catalogue[i].severity), n);
	}
}

static bool load_job(struct job *j, struct db *reg)
{
	struct store_submission_work w;
	if (!store_submission_work(reg, j->sub_id, &w))
		return false;
	snprintf(j->kommune, sizeof j->kommune, "%s", w.kommune);
	snprintf(j->spool_name, sizeof j->spool_name, "%s", w.spool_name);
	snprintf(j->sha256, sizeof j->sha256, "%s", w.sha256);
	j->bytes = w.bytes;
	j->dry_run = w.dry_run;
	snprintf(j->received_at, sizeof j->received_at, "%s", w.received_at);
	snprintf(j->prev_token, sizeof j->prev_token, "%s", w.feedback_token);
	j->prev_ready = w.feedback_ready;
	return true;
}

/* A failure while a database is unreachable will pass by itself and uses
 * up no attempt; any other failure counts towards giving up. */
static enum ingest_outcome transient(struct ingest *in, struct db *reg)
{
	if (PQstatus(db_conn(reg)) != CONNECTION_OK || !db_ensure(reg) ||
	    !vault_reachable(in->vault))
		return INGEST_RETRY_TRANSIENT;
	return INGEST_RETRY;
}

/* Looks up the municipality's latest Innsending id for the årgang in the
 * file's header: F007 needs it. */
static void find_latest(struct job *j, struct db *reg, const char *path, char latest[80])
{
	char err[256];
	struct v_header peek;
	latest[0] = '\0';
	if (!validate_peek_header(path, &peek, err, sizeof err) || peek.aargang <= 0)
		return;
	if (!store_submission_latest_innsending(reg, j->kommune, peek.aargang, j->sub_id, latest))
		latest[0] = '\0'; /* F007 then finds no earlier submission */
}

/* The validation pass: rows to the COPY files, IDs to the vault batches. */
static bool validate_job(struct job *j, const char *path, const char *latest, double deadline)
{
	const struct kpr_config *cfg = j->cfg; /* one consistent set of values per job */
	if (!copy_rows_open(&j->rows, j->sub_id, &j->nid)) {
		j->fault = io_fault(errno);
		log_error("job %s: no temporary file: %s", j->sub_id, strerror(errno));
		return false;
	}
	struct validate_params vp = {
	    .codes = j->in->codes,
	    .auth_kommune = j->kommune,
	    .aargang_open_min = cfg->aargang_open_min,
	    .aargang_open_max = cfg->aargang_open_max,
	    .latest_submission_id = latest,
	    .test_mode = cfg->test_mode,
	    .allow_2032 = cfg->allow_2032_rule,
	    .max_bytes = (unsigned long long)cfg->max_xml_bytes,
	    .deadline = deadline,
	};
	j->nid = (struct nid_options){.test_mode = vp.test_mode, .allow_2032 = vp.allow_2032};
	struct validate_sink sink = {on_person, on_retract, j};
	double tv = now_s();
	bool ok = validate_file(path, &vp, &sink, j->report, &j->vres);
	j->validate_seconds = now_s() - tv;
	if (j->vres.timed_out)
		j->fault = FAULT_TIME_LIMIT;
	else if (!ok && !j->failed && access(path, R_OK) != 0)
		j->fault = FAULT_SPOOL_MISSING;
	/* the COPY files are complete: a full disk shows here, not mid-COPY */
	if (ok && !copy_rows_flush(&j->rows)) {
		j->fault = io_fault(errno);
		ok = false;
	}
	if (!ok || j->failed) {
		rlog_warn(j->sub_id, "validation pass failed (%s); will retry",
			  ingest_fault_name(j->fault ? j->fault : FAULT_INTERNAL));
		return false;
	}
	failpoint("job.after_validate");
	return true;
}

static void log_done(const struct job *j, const struct finish_ctx *fc, double total)
{
	const struct report_summary *s = report_summary(j->report);
	count_rules(j->report);
	metrics_add("kpr_records_processed_total", s->registrations);
	metrics_count_submission(fc->status);
	metrics_observe_job_seconds(total);
	rlog_info(
	    j->sub_id,
	    "%s: kommune %s, %lu persons, %lu registrations (%lu loaded), "
	    "%lu fatal, %lu errors, %lu warnings; validate %.2fs, feedback %.2fs (%zu units), "
	    "load %.2fs, total %.2fs",
	    fc->status, j->kommune, s->persons, s->registrations,
	    fc->load_rows ? s->registrations_loaded : 0, s->by_severity[SEV_FATAL],
	    s->by_severity[SEV_ERROR], s->by_severity[SEV_WARNING], j->validate_seconds,
	    j->feedback_seconds, j->unit_files, fc->load_seconds, total);
}

enum finish_loss {
	FINISH_FAILED,           /* rolled back: this attempt's files go */
	FINISH_UNKNOWN,          /* the outcome could not be learnt: they stay */
	FINISH_LEASE_LOST,       /* another worker's job now */
	FINISH_COMMITTED_EARLIER /* our COMMIT landed, its answer lost */
};

/* The final transaction did not commit, as far as its answers say. Either
 * a COMMIT of ours landed with its answer lost (the runner retried after a
 * lost connection, and the retry failed or found the job no longer ours):
 * then the submission records this attempt's token. Or, when the job was
 * no longer ours, our lease ran out and another worker took it. Asked after
 * the rollback, so that our own uncommitted writes cannot answer; when it
 * cannot be asked, the outcome stays unknown (FINISH_FAILED) and nothing of
 * this attempt is removed. */
static enum finish_loss after_failed_finish(struct job *j, struct db *reg, bool not_ours)
{
	bool landed = false;
	if (PQstatus(db_conn(reg)) != CONNECTION_OK ||
	    !store_job_committed(reg, j->sub_id, j->fb_token, &landed))
		return FINISH_UNKNOWN;
	if (landed)
		return FINISH_COMMITTED_EARLIER;
	return not_ours ? FINISH_LEASE_LOST : FINISH_FAILED;
}

/* The register and the vault now hold what the file said; the file itself
 * holds national IDs in clear, so it leaves the spool at once unless the
 * operator keeps processed files (for reprocessing). A crash before this
 * leaves it to the reconciler, as it does the feedback of an earlier
 * processing that this one replaces. */
static void after_commit(struct job *j, const char *path, bool keep_file, int attempt,
			 time_t before_commit)
{
	if (!keep_file && unlink(path) != 0 && errno != ENOENT)
		rlog_warn(j->sub_id, "cannot remove processed spool file: %s", strerror(errno));
	if (j->prev_token[0] && strcmp(j->prev_token, j->fb_token) != 0)
		ingest_feedback_remove(j, j->prev_token);
	else if (!j->prev_token[0] && j->prev_ready)
		ingest_feedback_remove(j, ""); /* written before tokens */
	/* other attempts' files of this submission can exist only after an
	 * earlier attempt or processing; on a first one the sweep's read of
	 * the whole directory is saved (the reconciler stays the backstop) */
	if (attempt > 1 || j->prev_token[0] || j->prev_ready)
		ingest_feedback_sweep(j, before_commit);
}

enum ingest_outcome ingest_process(struct ingest *in, struct db *reg, const char *sub_id,
				   const char *worker_id, int attempt, double deadline,
				   enum ingest_fault *fault)
{
	double t0 = now_s();
	struct job j = {.in = in, .sub_id = sub_id};
	enum ingest_outcome outcome = INGEST_RETRY;
	const struct kpr_config *cfg = in->cfg;

	struct vault_send vs = {0};
	*fault = FAULT_NONE;
	vault_discard(in->vault); /* nothing of an earlier attempt is sent */
	if (!load_job(&j, reg))
		return transient(in, reg);
	j.cfg = config_acquire(); /* released at out: */
	if (!store_submission_start(reg, sub_id))
		rlog_debug(sub_id, "status not set to processing (database unavailable)");
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", cfg->spool_dir, j.spool_name);
	char latest[80];
	find_latest(&j, reg, path, latest);
	bool keep_file = j.cfg->keep_processed_files;
	int retry_limit = j.cfg->db_retry_limit;

	j.report = report_new(NULL);
	if (!j.report || !validate_job(&j, path, latest, deadline))
		goto failed;
	const struct report_summary *s = report_summary(j.report);
	bool load_rows = !s->fatal && !j.dry_run;
	if (load_rows)
		vault_send_start(&vs, in->vault);
	if (now_s() > deadline && deadline > 0) {
		j.fault = FAULT_TIME_LIMIT;
		goto failed;
	}
	if (!ingest_feedback_write(&j, reg))
		goto failed;
	struct finish_ctx fc = {&j,  worker_id, ingest_final_status(&j, s), 0, load_rows, "", false,
				&vs, false};
	time_t before_commit = time(NULL);
	j.finishing = true;
	if (!db_transaction(reg, "READ COMMITTED", finish_tx, &fc, retry_limit, sub_id)) {
		enum finish_loss loss = after_failed_finish(&j, reg, fc.not_ours);
		j.outcome_known = loss != FINISH_UNKNOWN;
		if (loss == FINISH_LEASE_LOST) {
			rlog_warn(sub_id, "lease lost: another worker took the job over; this "
					  "attempt committed nothing and its feedback is removed");
			ingest_feedback_remove(&j, j.fb_token);
			outcome = INGEST_LEASE_LOST;
			goto out;
		}
		if (fc.vault_failed) {
			rlog_warn(sub_id, "vault unavailable; will retry");
			j.fault = FAULT_DATABASE;
		}
		if (loss == FINISH_FAILED || loss == FINISH_UNKNOWN) {
			if (!j.fault) /* class 53: the database server is out of disk or memory */
				j.fault = !strncmp(db_last_sqlstate(reg), "53", 2) ? FAULT_DISK_FULL
										   : FAULT_DATABASE;
			goto failed;
		}
		/* FINISH_COMMITTED_EARLIER: go on as committed */
	}
	failpoint("job.after_commit");
	after_commit(&j, path, keep_file, attempt, before_commit);
	log_done(&j, &fc, now_s() - t0);
	outcome = INGEST_DONE;
	goto out;
failed:
	(void)vault_send_join(&vs); /* transient() asks the vault's connection */
	/* this attempt's feedback is never served: it goes. Not when the final
	 * transaction's outcome is unknown, as a COMMIT that recorded its token
	 * may have landed unanswered; the reconciler removes it later if no row
	 * points at it. */
	if (j.fb_written && (!j.finishing || j.outcome_known))
		ingest_feedback_remove(&j, j.fb_token);
	outcome = transient(in, reg);
	*fault = j.fault ? j.fault : FAULT_INTERNAL;
out:
	(void)vault_send_join(&vs); /* no thread outlives its job */
	vault_discard(in->vault);
	job_cleanup(&j);
	config_release(j.cfg);
	return outcome;
}
