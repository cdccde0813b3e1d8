/*
 * feedback_get.c — GET /api/v1/submissions/{id}/feedback?format=csv|xml|html|json:
 * the committed attempt's feedback file with its content type and a
 * download filename. Every
 * download by a municipality is counted (time, format) for the staff.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "db.h"
#include "feedback.h"
#include "log.h"
#include "metrics.h"

static const struct db_stmt st_find = {
    "feedback_find",
    "SELECT kommunenummer, coalesce(aargang::text, ''), feedback_ready,"
    " coalesce(feedback_token, '') FROM kpr.submission"
    " WHERE id = $1::uuid AND ($2 = '' OR kommunenummer = $2)",
    2};
static const struct db_stmt st_count = {
    "feedback_count",
    "INSERT INTO kpr.feedback_download (submission_id, format, role, token_id)"
    " VALUES ($1::uuid, $2, $3, nullif($4, '0')::bigint)",
    4};

static const struct db_stmt st_audit = {
    "feedback_audit", "SELECT kpr.audit_staff_download($1::uuid, $2, $3::bigint)", 3};

struct fb_args {
	enum feedback_format format;
};

static void fb_free(void *p)
{
	free(p);
}

static void feedback_db(struct http_request *rq, struct db *db)
{
	struct fb_args *a = rq->state;
	const char *fmt = feedback_format_name(a->format);
	const char *p[] = {rq->segment, rq->who.role == AUTH_ROLE_STAFF ? "" : rq->who.kommune};
	PGresult *r = db ? db_exec(db, &st_find, p, NULL) : NULL;
	if (!r) {
		(void)http_reply_error(rq, KPR_E_DATABASE_UNAVAILABLE, NULL);
		return;
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		(void)http_reply_error(rq, KPR_E_NOT_FOUND, NULL);
		return;
	}
	char kommune[8], aargang[8];
	snprintf(kommune, sizeof kommune, "%s", PQgetvalue(r, 0, 0));
	snprintf(aargang, sizeof aargang, "%s", PQgetvalue(r, 0, 1));
	bool ready = PQgetvalue(r, 0, 2)[0] == 't';
	/* the files of the committed attempt (feedback_path) */
	char token[FEEDBACK_TOKEN_LEN + 1];
	snprintf(token, sizeof token, "%s", PQgetvalue(r, 0, 3));
	PQclear(r);
	if (!ready) {
		(void)http_reply_error(rq, KPR_E_FEEDBACK_NOT_READY, NULL);
		return;
	}
	char path[4200];
	int fd = feedback_path(path, sizeof path, rq->app->cfg->feedback_dir, rq->segment, token,
			       a->format)
		     ? open(path, O_RDONLY | O_CLOEXEC)
		     : -1;
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		rlog_error(rq->id, "feedback file %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		(void)http_reply_error(rq, KPR_E_INTERNAL, "feedback file missing");
		return;
	}
	if (strcmp(rq->method, "HEAD") != 0) {
		/* municipality downloads are counted; staff downloads are audited */
		char tok[24];
		snprintf(tok, sizeof tok, "%lld", rq->who.token_id);
		const char *cp[] = {rq->segment, fmt, "municipality", tok};
		const char *ap[] = {rq->segment, fmt, tok};
		PGresult *c = rq->who.role == AUTH_ROLE_MUNICIPALITY
				  ? db_exec_once(db, &st_count, cp, NULL)
				  : db_exec_once(db, &st_audit, ap, NULL);
		if (!c) {
			/* a download that cannot be counted or audited is not served */
			close(fd);
			(void)http_reply_error(rq, KPR_E_DATABASE_UNAVAILABLE, NULL);
			return;
		}
		PQclear(c);
	}
	metrics_add("kpr_feedback_downloads_total", 1);
	char disp[160];
	snprintf(disp, sizeof disp, "attachment; filename=\"kpr-tilbakemelding-%s-%s-%.8s.%s\"",
		 kommune, aargang[0] ? aargang : "ukjent", rq->segment,
		 feedback_extension(a->format));
	(void)http_reply_fd(rq, MHD_HTTP_OK, feedback_content_type(a->format), fd,
			    (uint64_t)st.st_size, disp);
}

enum MHD_Result api_feedback_get(struct http_request *rq, const char *upload, size_t *upload_size)
{
	(void)upload;
	(void)upload_size;
	if (!api_uuid_valid(rq->segment))
		return http_reply_error(rq, KPR_E_NOT_FOUND, NULL);
	const char *f = http_query(rq, "format");
	enum feedback_format fmt = FEEDBACK_CSV;
	if (f && !feedback_format_parse(f, &fmt))
		return http_reply_error(rq, KPR_E_BAD_PARAMETER,
					"format must be csv, xml, html or json");
	struct fb_args *a = calloc(1, sizeof *a);
	if (!a)
		return http_reply_error(rq, KPR_E_INTERNAL, NULL);
	a->format = fmt;
	rq->state = a;
	rq->state_free = fb_free;
	return http_defer(rq, feedback_db);
}
