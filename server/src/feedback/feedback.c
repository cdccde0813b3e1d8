/*
 * feedback.c — renders one submission's report as the feedback files of
 * SPEC §6: CSV, XML, HTML, JSON and XLSX, all from the same content. This file
 * holds the public entry points (feedback.h); the renderers and what they
 * share are the other files of server/src/feedback/ (feedback_internal.h
 * lists them).
 *
 * The module owns: output escaping for every format, the plain-language
 * status texts and the page layout. Must not: hold the message list in
 * memory (messages are streamed from the report, twice for the formats that
 * show per-rule counts before the details), or write a national ID. The
 * report carries only masked values; as a second line of defence every
 * message field (ref, element, text, value) and sender-chosen metadata
 * string goes through the one masking function (nid_mask_text, SPEC §3)
 * again, with the options the validator used, so what it masks and what it
 * shows as written agree. UUID-shaped identifiers are shown in full (SPEC
 * §3): a ref carrying an ID reaches this point already masked, so no
 * UUID-shaped span still holds one.
 *
 * Strings are written as valid UTF-8 whatever they hold: malformed bytes and
 * characters the target format cannot carry become U+FFFD.
 */
#include "feedback.h"

#include <assert.h>
#include <errno.h>
#include <strings.h>

#include "feedback_internal.h"

/* ---------------------------------------------------------------------- */
/* Format names                                                           */

static const struct {
	const char *name;
	const char *content_type;
} formats[FEEDBACK_FORMAT_COUNT] = {
    [FEEDBACK_CSV] = {"csv", "text/csv; charset=utf-8"},
    [FEEDBACK_XML] = {"xml", "application/xml"},
    [FEEDBACK_HTML] = {"html", "text/html; charset=utf-8"},
    [FEEDBACK_JSON] = {"json", "application/json"},
    [FEEDBACK_XLSX] = {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
};

bool feedback_format_parse(const char *s, enum feedback_format *out)
{
	if (s == NULL)
		return false;
	for (int f = 0; f < FEEDBACK_FORMAT_COUNT; f++) {
		if (strcasecmp(s, formats[f].name) == 0) {
			*out = (enum feedback_format)f;
			return true;
		}
	}
	return false;
}

const char *feedback_format_name(enum feedback_format f)
{
	return (unsigned)f < FEEDBACK_FORMAT_COUNT ? formats[f].name : NULL;
}

const char *feedback_content_type(enum feedback_format f)
{
	return (unsigned)f < FEEDBACK_FORMAT_COUNT ? formats[f].content_type : NULL;
}

const char *feedback_extension(enum feedback_format f)
{
	return feedback_format_name(f);
}

bool feedback_path(char *buf, size_t len, const char *dir, const char *submission_id,
		   const char *token, unsigned unit, enum feedback_format f)
{
	const char *ext = feedback_extension(f);
	int n;
	if (!ext || (unit && !(token && token[0])))
		return false; /* unit files exist only under a token */
	if (unit)
		n = snprintf(buf, len, "%s/%s.%s.u%u.%s", dir, submission_id, token, unit, ext);
	else if (token && token[0])
		n = snprintf(buf, len, "%s/%s.%s.%s", dir, submission_id, token, ext);
	else
		n = snprintf(buf, len, "%s/%s.%s", dir, submission_id, ext);
	return n > 0 && (size_t)n < len;
}

/* ---------------------------------------------------------------------- */

bool feedback_write(FILE *out, enum feedback_format f, const struct feedback_meta *m,
		    struct report *r)
{
	struct fb_out o = {out, true, {.test_mode = true, .allow_2032 = true}};
	if (m->nid)
		o.nid = *m->nid;
	bool ok;

	assert(out != NULL && m != NULL && r != NULL);
	if (m->enhet && !report_set_filter(r, m->enhet)) {
		errno = ENOENT;
		return false;
	}
	errno = 0;
	switch (f) {
	case FEEDBACK_CSV:
		ok = fb_render_csv(&o, r);
		break;
	case FEEDBACK_XML:
		ok = fb_render_xml(&o, m, r);
		break;
	case FEEDBACK_HTML:
		ok = fb_render_html(&o, m, r);
		break;
	case FEEDBACK_JSON:
		ok = fb_render_json(&o, m, r);
		break;
	case FEEDBACK_XLSX:
		ok = fb_render_xlsx(&o, m, r);
		break;
	default:
		ok = false;
		errno = EINVAL;
		break;
	}
	if (m->enhet && !report_set_filter(r, NULL))
		ok = false;
	if (f >= FEEDBACK_FORMAT_COUNT)
		return false;
	if (fflush(out) != 0 || ferror(out))
		ok = false;
	if (!ok && errno == 0)
		errno = EIO;
	return ok && o.ok;
}
