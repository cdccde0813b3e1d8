/*
 * feedback_get.c — GET /api/v1/submissions/{id}/feedback?format=csv|xlsx|xml|html|json
 * [&enhet=NAME]: the committed attempt's feedback file with its content type
 * and a download filename; with enhet, the same file limited to that unit
 * (its messages plus those about the whole file), rendered at processing
 * time as <id>.<token>.u<n>.<ext> (kpr.feedback_unit maps the name, matched
 * exactly as written, to n). Every download by a municipality is counted
 * (time, format, unit) for the staff; every staff download is audited, with
 * its unit too. The unit's name never goes into a header: the download name
 * carries its number.
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
#include "store_feedback_unit.h"
#include "store_submission.h"
#include "uuid.h"

struct fb_args {
	enum feedback_format format;
	const char *enhet; /* NULL: the whole file; else name, copied */
	char name[4 * 64 + 1];
	unsigned unit; /* the unit's file number, from the register */
};

/* A unit name as a query may give it: 1..64 characters of well-formed
 * UTF-8 without control characters (R110 lets no other unit through, so no
 * other name can match). */
static bool unit_param_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0;
	while (*p) {
		unsigned c = *p, need, cp;
		if (c < 0x80)
			need = 0, cp = c;
		else if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return false;
		p++;
		for (unsigned i = 0; i < need; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (*p & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return false;
		if (++chars > 64)
			return false;
	}
	return chars > 0;
}

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
	if (a->enhet) {
		bool known = false;
		if (!store_feedback_unit_find(db, rq->segment, a->enhet, &a->unit, &known)) {
			(void)http_reply_error(rq, KPR_E_DATABASE_UNAVAILABLE, NULL);
			return;
		}
		if (!known || !sf.token[0]) {
			(void)http_reply_error(rq, KPR_E_UNKNOWN_UNIT, NULL);
			return;
		}
		if (a->unit == 0) {
			(void)http_reply_error(rq, KPR_E_TOO_MANY_UNITS, NULL);
			return;
		}
	}
	char path[4200];
	/* the files of the committed attempt (feedback_path) */
	int fd = feedback_path(path, sizeof path, rq->cfg->feedback_dir, rq->segment, sf.token,
			       a->unit, a->format)
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
		bool recorded =
		    rq->who.role == AUTH_ROLE_MUNICIPALITY
			? store_download_count(db, rq->segment, fmt, a->enhet, rq->who.token_id)
			: store_download_audit(db, rq->segment, fmt, a->enhet, rq->who.token_id);
		if (!recorded) {
			/* a download that cannot be counted or audited is not served */
			close(fd);
			(void)http_reply_error(rq, KPR_E_DATABASE_UNAVAILABLE, NULL);
			return;
		}
	}
	metrics_add("kpr_feedback_downloads_total", 1);
	char aargang[16] = "ukjent", unit[24] = "", disp[180];
	if (sf.aargang > 0)
		snprintf(aargang, sizeof aargang, "%d", sf.aargang);
	if (a->unit)
		snprintf(unit, sizeof unit, "-enhet%u", a->unit);
	snprintf(disp, sizeof disp, "attachment; filename=\"kpr-tilbakemelding-%s-%s-%.8s%s.%s\"",
		 sf.kommune, aargang, rq->segment, unit, feedback_extension(a->format));
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
	const char *enhet = http_query(rq, "enhet");
	if (enhet && !unit_param_valid(enhet))
		return http_reply_error(
		    rq, KPR_E_BAD_PARAMETER,
		    "enhet must be a unit's name as written: 1 to 64 characters "
		    "of UTF-8 without control characters");
	struct fb_args *a = calloc(1, sizeof *a);
	if (!a)
		return http_reply_error(rq, KPR_E_INTERNAL, NULL);
	a->format = fmt;
	if (enhet) {
		snprintf(a->name, sizeof a->name, "%s", enhet); /* fits: checked above */
		a->enhet = a->name;
	}
	rq->state = a;
	rq->state_free = fb_free;
	return http_defer(rq, feedback_db);
}
