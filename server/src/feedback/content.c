/*
 * content.c — what every feedback format says alike: the status and its
 * plain-language label, the summary as shown, metadata normalised to its
 * type (times, SHA-256), and per-rule tallies with severity names.
 *
 * Must not: hold the message list (tallies keep one entry per rule).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "feedback_internal.h"

static const struct status_info statuses[] = {
    {"accepted", "Godkjent"},    {"accepted_with_errors", "Godkjent med feil"},
    {"rejected", "Avvist"},      {"validated", "Validert (prøvekjøring)"},
    {"superseded", "Erstattet"},
};

/* What the file would get (or got) if it were loaded. */
const char *fb_outcome_of(const struct report_summary *s)
{
	if (s->fatal || s->by_severity[SEV_FATAL] > 0)
		return "rejected";
	if (s->by_severity[SEV_ERROR] > 0 || s->persons_excluded > 0 ||
	    s->registrations_excluded > 0)
		return "accepted_with_errors";
	return "accepted";
}

const struct status_info *fb_status_of(const struct feedback_meta *m,
				       const struct report_summary *s)
{
	const char *code = m->status;

	if (code == NULL)
		code = m->dry_run ? "validated" : fb_outcome_of(s);
	for (size_t i = 0; i < KPR_ARRAY_LEN(statuses); i++) {
		if (strcmp(statuses[i].code, code) == 0)
			return &statuses[i];
	}
	/* an unknown status string: say what the report says */
	code = m->dry_run ? "validated" : fb_outcome_of(s);
	for (size_t i = 0; i < KPR_ARRAY_LEN(statuses); i++) {
		if (strcmp(statuses[i].code, code) == 0)
			return &statuses[i];
	}
	return &statuses[2];
}

/* The summary as the feedback shows it: a rejected file loaded nothing,
 * whatever the validator counted before the fatal error. */
struct report_summary fb_summary_shown(const struct report_summary *s, const char *status)
{
	struct report_summary v = *s;

	if (strcmp(status, "rejected") == 0 || s->fatal) {
		v.persons_loaded = 0;
		v.persons_excluded = v.persons;
		v.registrations_loaded = 0;
		v.registrations_excluded = v.registrations;
	}
	return v;
}

/* xs:dateTime from ISO 8601 or PostgreSQL's timestamptz text
 * ("2026-01-05 09:12:00.123+01"): "2026-01-05T09:12:00.123+01:00".
 * False when s is not one of those shapes. */
bool fb_normalise_datetime(const char *s, char *buf, size_t size)
{
	int Y, M, D, h, mi, sec = 0, n = 0;
	char frac[16] = "";
	char zone[16] = "";
	const char *p;

	if (s == NULL || size < 40)
		return false;
	if (sscanf(s, "%4d-%2d-%2d%n", &Y, &M, &D, &n) != 3 || n != 10)
		return false;
	p = s + 10;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return false;
	p++;
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) || p[2] != ':' ||
	    !isdigit((unsigned char)p[3]) || !isdigit((unsigned char)p[4]))
		return false;
	h = (p[0] - '0') * 10 + (p[1] - '0');
	mi = (p[3] - '0') * 10 + (p[4] - '0');
	p += 5;
	if (*p == ':') {
		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
			return false;
		sec = (p[1] - '0') * 10 + (p[2] - '0');
		p += 3;
		if (*p == '.' || *p == ',') {
			size_t k = 0;
			frac[k++] = '.';
			p++;
			if (!isdigit((unsigned char)*p))
				return false;
			while (isdigit((unsigned char)*p)) {
				if (k < sizeof(frac) - 1)
					frac[k++] = *p;
				p++;
			}
			frac[k] = '\0';
		}
	}
	if (*p == 'Z' || *p == 'z') {
		strcpy(zone, "Z");
		p++;
	} else if (*p == '+' || *p == '-') {
		char sign = *p++;
		int zh, zm = 0;
		if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
			return false;
		zh = (p[0] - '0') * 10 + (p[1] - '0');
		p += 2;
		if (*p == ':')
			p++;
		if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])) {
			zm = (p[0] - '0') * 10 + (p[1] - '0');
			p += 2;
		}
		if (zh > 14 || zm > 59)
			return false;
		snprintf(zone, sizeof(zone), "%c%02u:%02u", sign, (unsigned)zh % 100,
			 (unsigned)zm % 100);
	}
	if (*p != '\0')
		return false;
	if (Y < 1 || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || sec > 59)
		return false;
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", Y, M, D, h, mi, sec, frac, zone);
	return true;
}

/* Lower-case hex of 64 digits, or false. */
bool fb_normalise_sha256(const char *s, char buf[65])
{
	if (s == NULL || strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return false;
		buf[i] = (char)tolower((unsigned char)s[i]);
	}
	buf[64] = '\0';
	return true;
}

/* A time as a person reads it: "2026-01-05 09:12:00 +01:00". */
bool fb_datetime_display(const char *s, char *buf, size_t size)
{
	char iso[80];

	if (!fb_normalise_datetime(s, iso, sizeof(iso)))
		return false;
	char *t = strchr(iso, 'T');
	char *z = strpbrk(iso + 11, "Z+-");
	if (t)
		*t = ' ';
	char *frac = strchr(iso, '.'); /* a person reads seconds */
	if (frac && z && frac < z)
		memmove(frac, z, strlen(z) + 1), z = frac;
	if (z) {
		char zone[16];
		snprintf(zone, sizeof(zone), "%s", *z == 'Z' ? "UTC" : z);
		*z = '\0';
		snprintf(buf, size, "%s %s", iso, zone);
	} else {
		snprintf(buf, size, "%s", iso);
	}
	return true;
}

/* "12, 40, 77", cut with " … (+N)" before an Excel cell would overflow. */
void fb_lines_text(const struct vmsg *m, char *buf)
{
	size_t width = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < m->nlines; i++) {
		char num[32];
		int len = snprintf(num, sizeof(num), "%s%lu", i ? ", " : "", m->lines[i]);
		if (width + (size_t)len > FB_LINES_TEXT_MAX - 32) {
			snprintf(buf + width, FB_LINES_TEXT_MAX - width, " … (+%zu)",
				 m->nlines - i);
			return;
		}
		memcpy(buf + width, num, (size_t)len + 1);
		width += (size_t)len;
	}
}

static bool tally_visit(void *ctx, const struct vmsg *m)
{
	struct tallies *t = ctx;
	struct tally *e = NULL;
	const char *id = m->rule ? m->rule : "";

	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].id, id) == 0) {
			e = &t->v[i];
			break;
		}
	}
	if (e == NULL) {
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 64;
			struct tally *v = realloc(t->v, cap * sizeof(*v));
			if (v == NULL) {
				t->oom = true;
				return false;
			}
			t->v = v;
			t->cap = cap;
		}
		e = &t->v[t->n++];
		memset(e, 0, sizeof(*e));
		snprintf(e->id, sizeof(e->id), "%s", id);
		e->def = rules_find(id);
		e->severity = m->severity;
		e->order = e->def ? (size_t)(e->def - rules_catalogue) : rules_catalogue_len + t->n;
	}
	e->messages++;
	e->occurrences += m->nlines ? m->nlines : 1;
	t->messages++;
	return true;
}

static int tally_cmp(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;

	if (x->severity != y->severity)
		return x->severity < y->severity ? -1 : 1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* One pass over the messages: per-rule counts, most severe first, then in
 * catalogue order. */
bool fb_tallies_collect(struct tallies *t, struct report *r)
{
	memset(t, 0, sizeof(*t));
	if (!report_foreach(r, tally_visit, t)) {
		if (t->oom)
			errno = ENOMEM;
		return false;
	}
	if (t->n > 1)
		qsort(t->v, t->n, sizeof(*t->v), tally_cmp);
	return true;
}

void fb_tallies_free(struct tallies *t)
{
	free(t->v);
	t->v = NULL;
}

bool fb_view_collect(struct fb_view *v, const struct feedback_meta *m, struct report *r)
{
	const struct report_summary *rs = report_summary(r);

	memset(v, 0, sizeof(*v));
	v->st = fb_status_of(m, rs);
	v->s = fb_summary_shown(rs, v->st->code);
	v->filter = report_filter(r);
	v->units_capped = report_units_capped(r);
	if (!fb_tallies_collect(&v->t, r))
		return false;
	long n = report_units(r, &v->units);
	if (n < 0) {
		fb_tallies_free(&v->t);
		errno = ENOMEM;
		return false;
	}
	v->n_units = (size_t)n;
	if (v->filter) {
		/* the severity counts of the messages this file shows */
		for (int sev = 0; sev < SEV_COUNT; sev++)
			v->s.by_severity[sev] = 0;
		for (size_t i = 0; i < v->t.n; i++)
			v->s.by_severity[v->t.v[i].severity] += v->t.v[i].occurrences;
	}
	return true;
}

void fb_view_free(struct fb_view *v)
{
	fb_tallies_free(&v->t);
	free(v->units);
	v->units = NULL;
}

enum fb_unit_kind fb_unit_kind(const char *enhet, bool other_row)
{
	if (other_row)
		return FB_UNIT_OTHER;
	if (!enhet || !enhet[0])
		return FB_UNIT_NONE;
	if (strcmp(enhet, REPORT_UNIT_UNKNOWN) == 0)
		return FB_UNIT_UNKNOWN;
	return FB_UNIT_NAMED;
}

const char *fb_unit_kind_code(enum fb_unit_kind k)
{
	static const char *const codes[] = {"enhet", "uten", "ukjent", "andre"};
	return codes[k];
}

const char *fb_unit_name_label(const char *enhet, bool other_row)
{
	switch (fb_unit_kind(enhet, other_row)) {
	case FB_UNIT_NONE:
		return "(uten enhet)";
	case FB_UNIT_OTHER:
		return "(andre enheter)";
	default:
		return enhet;
	}
}

const char *fb_unit_label(const struct report_unit *u)
{
	return fb_unit_name_label(u->enhet, u->enhet == NULL);
}

/* The report's units with their labels, in the report's order (see
 * feedback_internal.h); errors count FATAL and ERROR together. */
bool fb_units_collect(struct fb_units *u, const struct fb_view *v)
{
	u->n = 0;
	u->v = calloc(v->n_units ? v->n_units : 1, sizeof(*u->v));
	if (u->v == NULL) {
		errno = ENOMEM;
		return false;
	}
	for (size_t i = 0; i < v->n_units; i++) {
		const struct report_unit *e = v->units[i];
		u->v[u->n++] = (struct fb_unit){
		    .name = fb_unit_label(e),
		    .persons = e->persons,
		    .loaded = e->persons_loaded,
		    .excluded = e->persons_excluded,
		    .errors = e->by_severity[SEV_FATAL] + e->by_severity[SEV_ERROR],
		    .warnings = e->by_severity[SEV_WARNING],
		};
	}
	return true;
}

void fb_units_free(struct fb_units *u)
{
	free(u->v);
	u->v = NULL;
	u->n = 0;
}
