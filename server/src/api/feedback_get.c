/*
 * feedback_get.c — GET /api/v1/submissions/{id}/feedback?format=csv|xlsx|xml|html|json:
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
#include "feedback.h"
#include "log.h"
#include "metrics.h"
#include "store_download.h"
#include "store_submission.h"
#include "uuid.h"

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
	const char *visible = rq->who.role == AUTH_ROLE_STAFF ? "" : rq->who.kommune;
	struct store_served_feedback sf;
	bool found = false;
	if (!db || !store_submission_served_feedback(db, rq->segment, visible, &sf, &found)) {
		(void)http_reply_error(rq, KPR_E_DATABASE_UNAVAILABLE, NULL);
		return;
	}
	if (!found) {
		(void)http_reply_error(rq, KPR_E_NOT_FOUND, NULL);
		return;
	}
	if (!sf.ready) {
		(void)http_reply_error(rq, KPR_E_FEEDBACK_NOT_READY, NULL);
		return;
	}
	char path[4200];
	/* the files of the committed attempt (feedback_path) */
	int fd = feedback_path(path, sizeof path, rq->cfg->feedback_dir, rq->segment, sf.token,
			       a->format)
		     ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
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
		bool recorded = rq->who.role == AUTH_ROLE_MUNICIPALITY
				    ? store_download_count(db, rq->segment, fmt, rq->who.token_id)
				    : store_download_audit(db, rq->segment, fmt, rq->who.token_id);
		if (!recorded) {
			/* a download that cannot be counted or audited is not served */
			close(fd);
			(void)http_reply_error(rq, KPR_E_DATABASE_UNAVAILABLE, NULL);
			return;
		}
	}
	metrics_add("kpr_feedback_downloads_total", 1);
	char aargang[16] = "ukjent", disp[160];
	if (sf.aargang > 0)
		snprintf(aargang, sizeof aargang, "%d", sf.aargang);
	snprintf(disp, sizeof disp, "attachment; filename=\"kpr-tilbakemelding-%s-%s-%.8s.%s\"",
		 sf.kommune, aargang, rq->segment, feedback_extension(a->format));
	(void)http_reply_fd(rq, MHD_HTTP_OK, feedback_content_type(a->format), fd,
			    (uint64_t)st.st_size, disp);
}

enum MHD_Result api_feedback_get(struct http_request *rq, const char *upload, size_t *upload_size)
{
	(void)upload;
	(void)upload_size;
	if (!uuid_valid(rq->segment))
		return http_reply_error(rq, KPR_E_NOT_FOUND, NULL);
	const char *f = http_query(rq, "format");
	enum feedback_format fmt = FEEDBACK_CSV;
	if (f && !feedback_format_parse(f, &fmt))
		return http_reply_error(rq, KPR_E_BAD_PARAMETER,
					"format must be csv, xlsx, xml, html or json");
	struct fb_args *a = calloc(1, sizeof *a);
	if (!a)
		return http_reply_error(rq, KPR_E_INTERNAL, NULL);
	a->format = fmt;
	rq->state = a;
	rq->state_free = fb_free;
	return http_defer(rq, feedback_db);
}
