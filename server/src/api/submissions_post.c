/*
 * submissions_post.c — POST /api/v1/submissions: a municipality uploads its
 * yearly extract. Headers are judged on the first call, before any body is
 * read (401/403 by the router; 400, 411, 413, 415, 503, 507 here). The body
 * is streamed to the spool while hashed, never held in memory; past the size
 * limit (413) or below the minimum rate (408) it is answered at once and the
 * partial file removed. On the final call a dbpool thread makes the file
 * durable, and records the submission and its job in one transaction — only
 * then is 202 sent. The same file or the same Innsending/@id again answers
 * 200 with the existing submission.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api.h"
#include "config.h"
#include "db.h"
#include "failpoint.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "spool.h"
#include "store_job.h"
#include "store_submission.h"
#include "validate.h"
#include "worker.h"
#include "uuid.h"

struct upload {
	struct spool_file *spool;
	bool gzip;
	bool dry_run;
	uint64_t window_start_ns; /* minimum upload rate: the window being measured */
	uint64_t window_bytes;    /* bytes received in it */
	char id[37];
	char sha256[65];
	struct v_header header;
	bool header_ok;
};

static void upload_free(void *p)
{
	struct upload *u = p;
	if (!u)
		return;
	spool_free(u->spool);
	free(u);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static enum MHD_Result count_content_length(void *cls, enum MHD_ValueKind kind, const char *key,
					    const char *value)
{
	(void)kind;
	(void)value;
	if (key && !strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH))
		(*(unsigned *)cls)++;
	return MHD_YES;
}

static bool media_type_is_xml(const char *ct)
{
	if (!ct)
		return false;
	size_t n = strcspn(ct, "; \t");
	return (n == 15 && !strncasecmp(ct, "application/xml", 15)) ||
	       (n == 8 && !strncasecmp(ct, "text/xml", 8));
}

static void new_uuid(char out[37])
{
	if (!uuid_new(out))
		abort(); /* the kernel's CSPRNG does not fail once seeded */
}

static enum MHD_Result reply_submission(struct http_request *rq, struct db *db, const char *id,
					unsigned status)
{
	struct store_submissions *rows = NULL;
	if (!store_submission_get(db, id, "", &rows) || store_submissions_len(rows) != 1) {
		store_submissions_free(rows);
		return http_reply_error(rq, KPR_E_DATABASE_UNAVAILABLE, NULL);
	}
	struct store_submission sub;
	store_submissions_row(rows, 0, &sub);
	struct MHD_Response *resp = http_json_response(api_submission_json(&sub));
	store_submissions_free(rows);
	char loc[96];
	snprintf(loc, sizeof loc, "/api/v1/submissions/%s", id);
	if (resp)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, loc);
	return http_reply_response(rq, status, resp);
}

static const char *find_existing(struct db *db, struct http_request *rq, struct upload *u,
				 char out[40])
{
	bool found = false;
	if (!store_submission_find_existing(db, rq->who.kommune, u->dry_run, u->sha256,
					    u->header_ok ? u->header.id : "", out, &found))
		return NULL;
	return found ? out : NULL;
}

/* The INSERT's answer was lost with the connection: it may have committed.
 * Asks a new session whether our own id is there. The file stays in the
 * spool either way: if the row is not there now, it may yet appear (the
 * old session's commit can still land), and the reconciler removes the
 * file once it is older than its safe age and still has no row. */
static bool insert_landed(struct http_request *rq, struct db *db, const char *id)
{
	if (!db_ensure(db))
		return false;
	bool found = false;
	if (!store_submission_exists(db, id, &found))
		found = false;
	rlog_warn(rq->id, "the outcome of recording submission %s was unknown: %s", id,
		  found ? "it was recorded"
			: "not recorded now; its file is left to the reconciler");
	return found;
}

static void accepted(struct http_request *rq, struct db *db, struct upload *u, const char *bytes)
{
	failpoint("upload.after_insert");
	metrics_add("kpr_uploads_total", 1);
	metrics_add("kpr_upload_bytes_total", spool_bytes(u->spool));
	rlog_info(rq->id, "received submission %s from %s: %s bytes%s%s", u->id, rq->who.kommune,
		  bytes, u->gzip ? " (gzip)" : "", u->dry_run ? " (dry run)" : "");
	struct worker_pool *workers = rq->app->workers;
	(void)reply_submission(rq, db, u->id, MHD_HTTP_ACCEPTED); /* rq may be gone after this */
	worker_pool_notify(workers);
}

static void finish_upload(struct http_request *rq, struct db *db)
{
	struct upload *u = rq->state;
	char name[64], err[256], existing[40];
	new_uuid(u->id);
	snprintf(name, sizeof name, "%s.xml%s", u->id, u->gzip ? ".gz" : "");
	if (!spool_commit(u->spool, name, u->sha256)) {
		(void)http_reply_error(rq, KPR_E_INSUFFICIENT_STORAGE,
				       "the file could not be stored");
		return;
	}
	u->header_ok = validate_peek_header(spool_path(u->spool), &u->header, err, sizeof err);
	if (!db || !db_ensure(db)) {
		(void)http_reply_error(rq, KPR_E_DATABASE_UNAVAILABLE, NULL);
		return;
	}
	if (find_existing(db, rq, u, existing)) {
		rlog_info(rq->id, "upload is submission %s again (same file or same Innsending id)",
			  existing);
		(void)reply_submission(rq, db, existing, MHD_HTTP_OK);
		return; /* the new spool file is removed with the request state */
	}
	char bytes[24];
	snprintf(bytes, sizeof bytes, "%llu", (unsigned long long)spool_bytes(u->spool));
	const struct v_header *h = u->header_ok ? &u->header : NULL;
	struct store_new_submission ns = {
	    .id = u->id,
	    .kommunenummer = rq->who.kommune,
	    .aargang = h && h->aargang > 0 ? h->aargang : 0,
	    .innsending_id = h ? h->id : "",
	    .forrige_id = h ? h->forrige_id : "",
	    .sha256 = u->sha256,
	    .bytes = (unsigned long long)spool_bytes(u->spool),
	    .gzip = u->gzip,
	    .spool_name = name,
	    .dry_run = u->dry_run,
	    .token_id = rq->who.token_id,
	    .fagsystem = h ? h->fagsystem : "",
	    .fagsystem_versjon = h ? h->fagsystem_versjon : "",
	};
	char sqlstate[6];
	if (store_job_enqueue(db, &ns, sqlstate)) {
		spool_keep(u->spool); /* recorded: the file now belongs to the submission */
		accepted(rq, db, u, bytes);
		return;
	}
	if (!strcmp(sqlstate, "23505") && find_existing(db, rq, u, existing)) {
		/* the same file raced in on another connection */
		(void)reply_submission(rq, db, existing, MHD_HTTP_OK);
		return;
	}
	if (sqlstate[0] == '\0') {
		/* connection lost: never re-sent (store_job_enqueue) */
		spool_keep(u->spool);
		if (insert_landed(rq, db, u->id)) {
			accepted(rq, db, u, bytes);
			return;
		}
	}
	(void)http_reply_error(rq, KPR_E_DATABASE_UNAVAILABLE, NULL);
}

static enum MHD_Result first_call(struct http_request *rq)
{
	const struct kpr_config *cfg = rq->cfg;
	if (!media_type_is_xml(http_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE)))
		return http_reply_error(rq, KPR_E_UNSUPPORTED_MEDIA_TYPE, NULL);
	const char *ce = http_header(rq, MHD_HTTP_HEADER_CONTENT_ENCODING);
	bool gzip = false;
	if (ce && *ce) {
		if (!strcasecmp(ce, "gzip") || !strcasecmp(ce, "x-gzip"))
			gzip = true;
		else if (strcasecmp(ce, "identity"))
			return http_reply_error(rq, KPR_E_UNSUPPORTED_ENCODING, NULL);
	}
	/* libmicrohttpd 0.9.75 frames the body by the first Content-Length and
	 * ignores the others; a proxy in front that took the last would read
	 * another body (request smuggling). RFC 9112 §6.3: 400. */
	unsigned n_cl = 0;
	MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, count_content_length, &n_cl);
	if (n_cl > 1)
		return http_reply_error(rq, KPR_E_BAD_REQUEST, "more than one Content-Length");
	const char *cl = http_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = http_header(rq, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if (!cl && !(te && strcasestr(te, "chunked")))
		return http_reply_error(rq, KPR_E_LENGTH_REQUIRED, NULL);
	if (cl) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(cl, &end, 10);
		if (errno || *end || end == cl)
			return http_reply_error(rq, KPR_E_BAD_REQUEST, "malformed Content-Length");
		if (n > (unsigned long long)cfg->max_upload_bytes) {
			char d[96];
			snprintf(d, sizeof d, "limit is %lld bytes", cfg->max_upload_bytes);
			return http_reply_error(rq, KPR_E_PAYLOAD_TOO_LARGE, d);
		}
	}
	const char *dry = http_query(rq, "dry_run");
	bool dry_run = dry && (!strcmp(dry, "true") || !strcmp(dry, "1"));
	if (dry && !dry_run && strcmp(dry, "false") && strcmp(dry, "0"))
		return http_reply_error(rq, KPR_E_BAD_PARAMETER, "dry_run must be true or false");
	if (rq->app->queue_depth >= cfg->queue_limit)
		return http_reply_error_retry(rq, KPR_E_QUEUE_FULL, cfg->upload_retry_after);
	long long free_b = spool_free_bytes(cfg->spool_dir);
	if (free_b >= 0 && free_b < cfg->spool_min_free_bytes)
		return http_reply_error(rq, KPR_E_INSUFFICIENT_STORAGE,
					"the spool is short of space");
	/* rate limit (ratelimit.h): uploads per municipality; counted here, once
	 * every other header check has passed and the body is about to be read */
	int wait = ratelimit_take(ratelimit_shared(RATELIMIT_UPLOADS), rq->who.kommune,
				  cfg->upload_rate_limit, cfg->upload_rate_window);
	if (wait > 0)
		return http_reply_error_retry(rq, KPR_E_RATE_LIMITED, wait);
	struct upload *u = calloc(1, sizeof *u);
	char err[256];
	if (!u)
		return http_reply_error(rq, KPR_E_INTERNAL, NULL);
	u->spool = spool_create(cfg->spool_dir, err, sizeof err);
	if (!u->spool) {
		rlog_error(rq->id, "spool: %s", err);
		free(u);
		return http_reply_error(rq, KPR_E_INSUFFICIENT_STORAGE, NULL);
	}
	u->gzip = gzip;
	u->dry_run = dry_run;
	u->window_start_ns = mono_ns();
	rq->state = u;
	rq->state_free = upload_free;
	return MHD_YES;
}

/* The minimum upload rate, checked as bytes arrive: false once a window
 * has gone by in which the client averaged less than min_upload_rate. A
 * client that sends nothing at all never calls in; connection_timeout
 * closes it (and the request state, with the partial file, is freed). */
static bool fast_enough(struct upload *u, const struct kpr_config *cfg, size_t n)
{
	u->window_bytes += n;
	if (cfg->min_upload_rate <= 0)
		return true;
	uint64_t now = mono_ns(), elapsed = now - u->window_start_ns;
	if (elapsed < (uint64_t)cfg->min_upload_rate_window * 1000000000ull)
		return true;
	if ((double)u->window_bytes < (double)cfg->min_upload_rate * ((double)elapsed / 1e9))
		return false;
	u->window_start_ns = now;
	u->window_bytes = 0;
	return true;
}

/* Ends an upload mid-body: the partial file goes at once, and the client
 * hears why while it may still be sending (http_reply_error_now). */
static enum MHD_Result refuse_body(struct http_request *rq, struct upload *u, enum kpr_error e,
				   const char *detail)
{
	rlog_info(rq->id, "upload refused after %llu bytes: %s (%s)",
		  (unsigned long long)spool_bytes(u->spool), kpr_error_get(e)->code,
		  detail ? detail : "");
	spool_free(u->spool); /* removes the .part file */
	u->spool = NULL;
	return http_reply_error_now(rq, e, detail);
}

enum MHD_Result api_submissions_post(struct http_request *rq, const char *upload,
				     size_t *upload_size)
{
	struct upload *u = rq->state;
	if (!u)
		return first_call(rq);
	if (!u->spool)
		return MHD_NO; /* refused already; http.c answers the rest */
	const struct kpr_config *cfg = rq->cfg;
	char d[128];
	if (*upload_size > 0) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (spool_bytes(u->spool) + n > (uint64_t)cfg->max_upload_bytes) {
			snprintf(d, sizeof d, "limit is %lld bytes", cfg->max_upload_bytes);
			return refuse_body(rq, u, KPR_E_PAYLOAD_TOO_LARGE, d);
		}
		if (!fast_enough(u, cfg, n)) {
			snprintf(d, sizeof d,
				 "the minimum is %lld bytes per second over %d seconds",
				 cfg->min_upload_rate, cfg->min_upload_rate_window);
			return refuse_body(rq, u, KPR_E_UPLOAD_TOO_SLOW, d);
		}
		if (!spool_write(u->spool, upload, n))
			return refuse_body(rq, u, KPR_E_INSUFFICIENT_STORAGE, NULL);
		return MHD_YES;
	}
	if (spool_bytes(u->spool) == 0)
		return http_reply_error(rq, KPR_E_BAD_REQUEST, "the body is empty");
	return http_defer(rq, finish_upload);
}
