/*
 * feedback.c — renders one submission's report as the feedback files of
 * SPEC §6: CSV, XML, HTML and JSON, all from the same content.
 *
 * Owns: output escaping for every format, the plain-language status texts
 * and the page layout. Must not: hold the message list in memory (messages
 * are streamed from the report, twice for the formats that show per-rule
 * counts before the details), or write a national ID. The report carries
 * only masked values; as a second line of defence every message field (ref,
 * element, text, value) and sender-chosen metadata string goes through the
 * one masking function (nid_mask_text, SPEC §3) again, with the options the
 * validator used, so what it masks and what it shows as written agree.
 * UUID-shaped identifiers are shown in full (SPEC §3): a ref carrying an ID
 * reaches this point already masked, so no UUID-shaped span still holds one.
 *
 * Strings are written as valid UTF-8 whatever they hold: malformed bytes and
 * characters the target format cannot carry become U+FFFD.
 */
#include "feedback.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules.h"

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
		   const char *token, enum feedback_format f)
{
	int n = token && token[0]
		    ? snprintf(buf, len, "%s/%s.%s.%s", dir, submission_id, token,
			       feedback_extension(f))
		    : snprintf(buf, len, "%s/%s.%s", dir, submission_id, feedback_extension(f));
	return n > 0 && (size_t)n < len;
}

/* ---------------------------------------------------------------------- */
/* Output with one sticky error flag                                      */

struct out {
	FILE *f;
	bool ok;
	struct nid_options nid; /* what counts as a national-ID candidate */
};

static void out_write(struct out *o, const char *s, size_t n)
{
	if (n > 0 && fwrite(s, 1, n, o->f) != n)
		o->ok = false;
}

static void out_puts(struct out *o, const char *s)
{
	out_write(o, s, strlen(s));
}

static void out_putc(struct out *o, char c)
{
	if (putc(c, o->f) == EOF)
		o->ok = false;
}

static void KPR_PRINTF(2, 3) out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (vfprintf(o->f, fmt, ap) < 0)
		o->ok = false;
	va_end(ap);
}

/* ---------------------------------------------------------------------- */
/* Escaping                                                               */

enum esc {
	ESC_XML_TEXT, /* element content */
	ESC_XML_ATTR, /* attribute value in double quotes */
	ESC_HTML,     /* element content or double-quoted attribute */
	ESC_JSON,     /* inside a JSON string */
	ESC_CSV,      /* inside a (possibly quoted) CSV field */
};

#define REPLACEMENT_CHAR 0xFFFDu
#define UUID_LEN         36

/* Decodes one code point; malformed or overlong input, surrogates and values
 * above U+10FFFF give U+FFFD and consume one byte. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2, v = c & 0x1Fu, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3, v = c & 0x0Fu, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4, v = c & 0x07u, min = 0x10000;
	} else {
		*cp = REPLACEMENT_CHAR;
		return 1;
	}
	if (n < len) {
		*cp = REPLACEMENT_CHAR;
		return 1;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = REPLACEMENT_CHAR;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3Fu);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
		*cp = REPLACEMENT_CHAR;
		return 1;
	}
	*cp = v;
	return len;
}

static void out_utf8(struct out *o, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (char)(0xF0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	out_write(o, b, n);
}

/* C0 controls other than TAB, LF, CR; DEL and the C1 controls; the XML 1.0
 * non-characters U+FFFE and U+FFFF. None belongs in a feedback file. */
static bool char_unwanted(uint32_t cp)
{
	if (cp < 0x20)
		return cp != '\t' && cp != '\n' && cp != '\r';
	if (cp >= 0x7F && cp <= 0x9F)
		return true;
	return cp == 0xFFFE || cp == 0xFFFF;
}

static void out_cp(struct out *o, uint32_t cp, enum esc mode)
{
	if (mode == ESC_JSON) {
		switch (cp) {
		case '"':
			out_puts(o, "\\\"");
			return;
		case '\\':
			out_puts(o, "\\\\");
			return;
		case '\b':
			out_puts(o, "\\b");
			return;
		case '\f':
			out_puts(o, "\\f");
			return;
		case '\n':
			out_puts(o, "\\n");
			return;
		case '\r':
			out_puts(o, "\\r");
			return;
		case '\t':
			out_puts(o, "\\t");
			return;
		case 0x2028:
			out_puts(o, "\\u2028");
			return; /* not valid raw in JavaScript */
		case 0x2029:
			out_puts(o, "\\u2029");
			return;
		default:
			break;
		}
		if (cp < 0x20 || cp == 0x7F) {
			out_printf(o, "\\u%04x", (unsigned)cp);
			return;
		}
		out_utf8(o, cp);
		return;
	}

	if (char_unwanted(cp))
		cp = REPLACEMENT_CHAR;

	if (mode == ESC_CSV) {
		if (cp == '"')
			out_puts(o, "\"\"");
		else
			out_utf8(o, cp);
		return;
	}

	/* XML and HTML */
	switch (cp) {
	case '&':
		out_puts(o, "&amp;");
		return;
	case '<':
		out_puts(o, "&lt;");
		return;
	case '>':
		out_puts(o, "&gt;");
		return;
	case '"':
		out_puts(o, mode == ESC_XML_TEXT ? "\"" : "&quot;");
		return;
	case '\'':
		out_puts(o, mode == ESC_HTML ? "&#39;" : "'");
		return;
	case '\n':
		/* attribute-value normalisation would turn a raw LF into a space */
		out_puts(o, mode == ESC_XML_ATTR ? "&#10;" : "\n");
		return;
	case '\t':
		out_puts(o, mode == ESC_XML_ATTR ? "&#9;" : "\t");
		return;
	case '\r':
		/* XML parsers fold a raw CR into LF; HTML has no use for it */
		out_puts(o, mode == ESC_HTML ? " " : "&#13;");
		return;
	default:
		out_utf8(o, cp);
		return;
	}
}

/* True when cp is written as its own UTF-8 bytes in mode. */
static bool char_plain(uint32_t cp, enum esc mode)
{
	switch (mode) {
	case ESC_JSON:
		return cp >= 0x20 && cp != '"' && cp != '\\' && cp != 0x7F && cp != 0x2028 &&
		       cp != 0x2029;
	case ESC_CSV:
		return cp != '"' && !char_unwanted(cp);
	default:
		return !char_unwanted(cp) && cp != '&' && cp != '<' && cp != '>' && cp != '"' &&
		       cp != '\'' && cp != '\n' && cp != '\t' && cp != '\r';
	}
}

static bool uuid_at(const char *s, size_t n)
{
	if (n < UUID_LEN)
		return false;
	for (size_t i = 0; i < UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return n == UUID_LEN || !isxdigit((unsigned char)s[UUID_LEN]);
}

/* The display form of s: SPEC §3's masking, except inside UUID-shaped
 * identifiers. Returns s itself when nothing is masked, else a copy in buf
 * (or on the heap, *heap set, when s is longer than buf). */
static const char *masked_for_display(const struct out *o, const char *s, size_t n, char *buf,
				      size_t bufsz, char **heap)
{
	size_t digits = 0;
	for (size_t i = 0; i < n && digits < 11; i++)
		digits += s[i] >= '0' && s[i] <= '9';
	if (digits < 11)
		return s; /* the common case: no candidate can fit */
	char *m = buf;
	if (n + 1 > bufsz) {
		m = *heap = malloc(n + 1);
		if (!m)
			return NULL;
	}
	if (nid_mask_text(s, n, &o->nid, m, n + 1) == 0)
		return s;
	for (size_t i = 0; i < n; i++) {
		bool boundary = i == 0 || !isxdigit((unsigned char)s[i - 1]);
		if (boundary && uuid_at(s + i, n - i)) {
			memcpy(m + i, s + i, UUID_LEN);
			i += UUID_LEN - 1;
		}
	}
	return m;
}

/* Writes p[0..n) escaped for mode. Bytes that need no escaping go out in
 * spans, not one call per character: a national file can carry millions of
 * messages. */
static void out_escaped(struct out *o, const unsigned char *p, size_t n, enum esc mode)
{
	size_t i = 0, span = 0;

	while (i < n) {
		uint32_t cp;
		size_t len = utf8_next(p + i, n - i, &cp);
		bool malformed = cp == REPLACEMENT_CHAR && len == 1;
		if (!malformed && char_plain(cp, mode)) {
			i += len;
			continue;
		}
		out_write(o, (const char *)p + span, i - span);
		out_cp(o, cp, mode);
		i += len;
		span = i;
	}
	out_write(o, (const char *)p + span, i - span);
}

/* Writes s escaped for mode, masking national-ID candidates (SPEC §3). */
static void out_text(struct out *o, const char *s, enum esc mode)
{
	size_t n = s ? strlen(s) : 0;
	char buf[1024], *heap = NULL;
	const char *shown = n ? masked_for_display(o, s, n, buf, sizeof buf, &heap) : "";
	if (!shown) {
		o->ok = false; /* out of memory: never write the unmasked value */
		return;
	}
	out_escaped(o, (const unsigned char *)shown, n, mode);
	free(heap);
}

/* An identifier (submission id, Innsending/@id): shown in full (SPEC §3),
 * escaped for mode. */
static void out_identifier(struct out *o, const char *s, enum esc mode)
{
	out_escaped(o, (const unsigned char *)(s ? s : ""), s ? strlen(s) : 0, mode);
}

/* ---------------------------------------------------------------------- */
/* Shared content: status, metadata normalisation, per-rule tallies        */

struct status_info {
	const char *code;
	const char *label;
};

static const struct status_info statuses[] = {
    {"accepted", "Godkjent"},    {"accepted_with_errors", "Godkjent med feil"},
    {"rejected", "Avvist"},      {"validated", "Validert (prøvekjøring)"},
    {"superseded", "Erstattet"},
};

/* What the file would get (or got) if it were loaded. */
static const char *outcome_of(const struct report_summary *s)
{
	if (s->fatal || s->by_severity[SEV_FATAL] > 0)
		return "rejected";
	if (s->by_severity[SEV_ERROR] > 0 || s->persons_excluded > 0 ||
	    s->registrations_excluded > 0)
		return "accepted_with_errors";
	return "accepted";
}

static const struct status_info *status_of(const struct feedback_meta *m,
					   const struct report_summary *s)
{
	const char *code = m->status;

	if (code == NULL)
		code = m->dry_run ? "validated" : outcome_of(s);
	for (size_t i = 0; i < KPR_ARRAY_LEN(statuses); i++) {
		if (strcmp(statuses[i].code, code) == 0)
			return &statuses[i];
	}
	/* an unknown status string: say what the report says */
	code = m->dry_run ? "validated" : outcome_of(s);
	for (size_t i = 0; i < KPR_ARRAY_LEN(statuses); i++) {
		if (strcmp(statuses[i].code, code) == 0)
			return &statuses[i];
	}
	return &statuses[2];
}

/* The summary as the feedback shows it: a rejected file loaded nothing,
 * whatever the validator counted before the fatal error. */
static struct report_summary summary_shown(const struct report_summary *s, const char *status)
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
static bool normalise_datetime(const char *s, char *buf, size_t size)
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
static bool normalise_sha256(const char *s, char buf[65])
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

static bool has_text(const char *s)
{
	return s != NULL && s[0] != '\0';
}

struct tally {
	const struct rule_def *def; /* NULL for an id missing from the catalogue */
	char id[16];
	enum severity severity;
	size_t order;
	unsigned long messages;    /* merged messages */
	unsigned long occurrences; /* lines, as by_severity counts them */
};

struct tallies {
	struct tally *v;
	size_t n, cap;
	unsigned long messages;
	bool oom;
};

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
static bool tallies_collect(struct tallies *t, struct report *r)
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

static void tallies_free(struct tallies *t)
{
	free(t->v);
	t->v = NULL;
}

static const char *sev_code(enum severity s)
{
	const char *n = severity_name(s);
	return n ? n : "ERROR";
}

static const char *sev_nb(enum severity s)
{
	const char *n = severity_name_nb(s);
	return n ? n : "Feil";
}

/* ---------------------------------------------------------------------- */
/* CSV                                                                    */

/* Excel refuses cells longer than 32,767 characters. */
#define CSV_CELL_MAX 32000

/* RFC 4180 quoting when the field holds ; " CR or LF. A field that starts
 * with = + - @ TAB or CR would be taken for a formula by Excel and
 * LibreOffice (CSV injection), so it gets a leading apostrophe, which both
 * show as text; a negative number in a value column thus reads '-1. */
static void csv_field(struct out *o, const char *s)
{
	if (s == NULL)
		s = "";
	bool guard = s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
	bool quote = strpbrk(s, ";\"\r\n") != NULL;

	if (quote)
		out_putc(o, '"');
	if (guard)
		out_putc(o, '\'');
	out_text(o, s, ESC_CSV);
	if (quote)
		out_putc(o, '"');
}

static bool csv_visit(void *ctx, const struct vmsg *m)
{
	struct out *o = ctx;
	size_t width = 0;

	out_text(o, m->rule, ESC_CSV);
	out_putc(o, ';');
	out_puts(o, sev_nb(m->severity));
	out_putc(o, ';');
	csv_field(o, m->ref);
	out_putc(o, ';');
	for (size_t i = 0; i < m->nlines; i++) {
		char num[32];
		int len = snprintf(num, sizeof(num), "%s%lu", i ? ", " : "", m->lines[i]);
		if (width + (size_t)len > CSV_CELL_MAX - 32) {
			out_printf(o, " … (+%zu)", m->nlines - i);
			break;
		}
		out_write(o, num, (size_t)len);
		width += (size_t)len;
	}
	out_putc(o, ';');
	csv_field(o, m->path);
	out_putc(o, ';');
	csv_field(o, m->text);
	out_putc(o, ';');
	csv_field(o, m->value);
	out_puts(o, "\r\n");
	return o->ok;
}

static bool write_csv(struct out *o, struct report *r)
{
	out_puts(o, "\xEF\xBB\xBF"
		    "regel;alvorlighet;ref;linje;element;melding;verdi\r\n");
	if (!o->ok)
		return false;
	return report_foreach(r, csv_visit, o) && o->ok;
}

/* ---------------------------------------------------------------------- */
/* XML                                                                    */

static void xml_attr(struct out *o, const char *name, const char *value)
{
	if (value == NULL)
		return;
	out_printf(o, " %s=\"", name);
	out_text(o, value, ESC_XML_ATTR);
	out_putc(o, '"');
}

/* An attribute written as is: the caller has normalised it to its type. */
static void xml_attr_raw(struct out *o, const char *name, const char *value)
{
	out_printf(o, " %s=\"%s\"", name, value);
}

static bool xml_visit(void *ctx, const struct vmsg *m)
{
	struct out *o = ctx;

	out_puts(o, "    <Melding");
	xml_attr(o, "regel", m->rule);
	xml_attr_raw(o, "alvorlighet", sev_code(m->severity));
	if (has_text(m->ref))
		xml_attr(o, "ref", m->ref);
	out_puts(o, " linjer=\"");
	for (size_t i = 0; i < m->nlines; i++)
		out_printf(o, "%s%lu", i ? " " : "", m->lines[i]);
	if (m->nlines == 0)
		out_putc(o, '0');
	out_putc(o, '"');
	if (has_text(m->path))
		xml_attr(o, "element", m->path);
	out_puts(o, ">\n      <Tekst>");
	out_text(o, m->text, ESC_XML_TEXT);
	out_puts(o, "</Tekst>\n");
	if (m->value != NULL) {
		out_puts(o, "      <Verdi>");
		out_text(o, m->value, ESC_XML_TEXT);
		out_puts(o, "</Verdi>\n");
	}
	out_puts(o, "    </Melding>\n");
	return o->ok;
}

static void xml_attr_id(struct out *o, const char *name, const char *value)
{
	if (value == NULL)
		return;
	out_printf(o, " %s=\"", name);
	out_identifier(o, value, ESC_XML_ATTR);
	out_putc(o, '"');
}

static bool write_xml(struct out *o, const struct feedback_meta *m, struct report *r)
{
	const struct report_summary *rs = report_summary(r);
	const struct status_info *st = status_of(m, rs);
	struct report_summary s = summary_shown(rs, st->code);
	struct tallies t;
	char buf[80];
	char sha[65];

	if (!tallies_collect(&t, r))
		return false;

	out_puts(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<Tilbakemelding xmlns=\"" FEEDBACK_XML_NAMESPACE "\" versjon=\"1.0\"");
	xml_attr_id(o, "id", m->submission_id);
	xml_attr_id(o, "innsendingId", m->innsending_id);
	xml_attr(o, "kommunenummer", m->kommunenummer);
	xml_attr(o, "kommunenavn", m->kommunenavn);
	if (m->aargang >= 1000 && m->aargang <= 9999)
		out_printf(o, " aargang=\"%04d\"", m->aargang);
	xml_attr_raw(o, "status", st->code);
	xml_attr_raw(o, "proevekjoering", m->dry_run ? "true" : "false");
	if (normalise_datetime(m->received_at, buf, sizeof(buf)))
		xml_attr_raw(o, "mottatt", buf);
	if (normalise_datetime(m->processed_at, buf, sizeof(buf)))
		xml_attr_raw(o, "behandlet", buf);
	if (normalise_sha256(m->sha256, sha))
		xml_attr_raw(o, "sha256", sha);
	if (m->bytes > 0)
		out_printf(o, " bytes=\"%llu\"", m->bytes);
	xml_attr(o, "fagsystem", m->fagsystem);
	xml_attr(o, "fagsystemVersjon", m->fagsystem_versjon);
	xml_attr_raw(o, "programversjon", KPR_VERSION);
	xml_attr_raw(o, "regelsett", KPR_RULESET_VERSION);
	out_puts(o, ">\n");

	out_printf(o,
		   "  <Sammendrag personer=\"%lu\" registreringer=\"%lu\""
		   " personerLastet=\"%lu\" personerUtelatt=\"%lu\""
		   " registreringerLastet=\"%lu\" registreringerUtelatt=\"%lu\""
		   " kritiskeFeil=\"%lu\" feil=\"%lu\" advarsler=\"%lu\" informasjon=\"%lu\""
		   " meldinger=\"%lu\"/>\n",
		   s.persons, s.registrations, s.persons_loaded, s.persons_excluded,
		   s.registrations_loaded, s.registrations_excluded, s.by_severity[SEV_FATAL],
		   s.by_severity[SEV_ERROR], s.by_severity[SEV_WARNING], s.by_severity[SEV_INFO],
		   t.messages);

	if (t.n == 0) {
		out_puts(o, "  <Regler/>\n");
	} else {
		out_puts(o, "  <Regler>\n");
		for (size_t i = 0; i < t.n; i++) {
			const struct tally *e = &t.v[i];
			out_puts(o, "    <Regel");
			xml_attr(o, "id", e->id);
			xml_attr_raw(o, "alvorlighet", sev_code(e->severity));
			out_printf(o, " antall=\"%lu\" meldinger=\"%lu\">\n", e->occurrences,
				   e->messages);
			if (e->def != NULL) {
				out_puts(o, "      <Tittel>");
				out_text(o, e->def->title, ESC_XML_TEXT);
				out_puts(o, "</Tittel>\n");
				if (has_text(e->def->explanation)) {
					out_puts(o, "      <Forklaring>");
					out_text(o, e->def->explanation, ESC_XML_TEXT);
					out_puts(o, "</Forklaring>\n");
				}
				if (has_text(e->def->fix)) {
					out_puts(o, "      <Retting>");
					out_text(o, e->def->fix, ESC_XML_TEXT);
					out_puts(o, "</Retting>\n");
				}
			} else {
				out_puts(o, "      <Tittel></Tittel>\n");
			}
			out_puts(o, "    </Regel>\n");
		}
		out_puts(o, "  </Regler>\n");
	}
	tallies_free(&t);

	if (t.messages == 0) {
		out_puts(o, "  <Meldinger/>\n");
	} else {
		out_puts(o, "  <Meldinger>\n");
		if (!o->ok || !report_foreach(r, xml_visit, o))
			return false;
		out_puts(o, "  </Meldinger>\n");
	}
	out_puts(o, "</Tilbakemelding>\n");
	return o->ok;
}

/* ---------------------------------------------------------------------- */
/* JSON                                                                   */

static void json_str(struct out *o, const char *s)
{
	if (s == NULL) {
		out_puts(o, "null");
		return;
	}
	out_putc(o, '"');
	out_text(o, s, ESC_JSON);
	out_putc(o, '"');
}

static void json_member(struct out *o, const char *name, const char *value, bool comma)
{
	out_printf(o, "%s\"%s\":", comma ? "," : "", name);
	json_str(o, value);
}

struct json_ctx {
	struct out *o;
	bool first;
};

static bool json_visit(void *ctx, const struct vmsg *m)
{
	struct json_ctx *j = ctx;
	struct out *o = j->o;

	out_puts(o, j->first ? "\n    {" : ",\n    {");
	j->first = false;
	json_member(o, "rule", m->rule, false);
	json_member(o, "severity", sev_code(m->severity), true);
	json_member(o, "ref", m->ref ? m->ref : "", true);
	out_puts(o, ",\"lines\":[");
	for (size_t i = 0; i < m->nlines; i++)
		out_printf(o, "%s%lu", i ? "," : "", m->lines[i]);
	out_putc(o, ']');
	json_member(o, "path", m->path, true);
	json_member(o, "text", m->text, true);
	json_member(o, "value", m->value, true);
	out_putc(o, '}');
	return o->ok;
}

static bool write_json(struct out *o, const struct feedback_meta *m, struct report *r)
{
	const struct report_summary *rs = report_summary(r);
	const struct status_info *st = status_of(m, rs);
	struct report_summary s = summary_shown(rs, st->code);
	struct tallies t;
	char buf[80];
	char sha[65];

	if (!tallies_collect(&t, r))
		return false;

	out_puts(
	    o, "{\n  \"format\":\"kpr-tilbakemelding\",\"format_version\":1,\n  \"submission\":{");
	out_puts(o, "\"id\":");
	if (m->submission_id) {
		out_putc(o, '"');
		out_identifier(o, m->submission_id, ESC_JSON);
		out_putc(o, '"');
	} else {
		out_puts(o, "null");
	}
	if (m->innsending_id != NULL) {
		out_puts(o, ",\"innsending_id\":\"");
		out_identifier(o, m->innsending_id, ESC_JSON);
		out_putc(o, '"');
	} else {
		json_member(o, "innsending_id", NULL, true);
	}
	json_member(o, "kommunenummer", m->kommunenummer, true);
	json_member(o, "kommunenavn", m->kommunenavn, true);
	if (m->aargang != 0)
		out_printf(o, ",\"aargang\":%d", m->aargang);
	else
		out_puts(o, ",\"aargang\":null");
	json_member(o, "status", st->code, true);
	json_member(o, "status_text", st->label, true);
	out_printf(o, ",\"dry_run\":%s", m->dry_run ? "true" : "false");
	json_member(o, "received_at",
		    normalise_datetime(m->received_at, buf, sizeof(buf)) ? buf : m->received_at,
		    true);
	json_member(o, "processed_at",
		    normalise_datetime(m->processed_at, buf, sizeof(buf)) ? buf : m->processed_at,
		    true);
	json_member(o, "sha256", normalise_sha256(m->sha256, sha) ? sha : NULL, true);
	out_printf(o, ",\"bytes\":%llu", m->bytes);
	json_member(o, "fagsystem", m->fagsystem, true);
	json_member(o, "fagsystem_versjon", m->fagsystem_versjon, true);
	out_puts(o, "},\n  \"program\":{\"version\":\"" KPR_VERSION
		    "\",\"ruleset\":\"" KPR_RULESET_VERSION "\"},\n");
	out_printf(o,
		   "  \"summary\":{\"persons\":%lu,\"registrations\":%lu,"
		   "\"persons_loaded\":%lu,\"persons_excluded\":%lu,"
		   "\"registrations_loaded\":%lu,\"registrations_excluded\":%lu,"
		   "\"fatal\":%s,\"messages\":%lu,"
		   "\"by_severity\":{\"FATAL\":%lu,\"ERROR\":%lu,\"WARNING\":%lu,\"INFO\":%lu}},\n",
		   s.persons, s.registrations, s.persons_loaded, s.persons_excluded,
		   s.registrations_loaded, s.registrations_excluded,
		   (s.fatal || strcmp(st->code, "rejected") == 0) ? "true" : "false", t.messages,
		   s.by_severity[SEV_FATAL], s.by_severity[SEV_ERROR], s.by_severity[SEV_WARNING],
		   s.by_severity[SEV_INFO]);

	out_puts(o, "  \"rules\":[");
	for (size_t i = 0; i < t.n; i++) {
		const struct tally *e = &t.v[i];
		out_puts(o, i ? ",\n    {" : "\n    {");
		json_member(o, "rule", e->id, false);
		json_member(o, "severity", sev_code(e->severity), true);
		out_printf(o, ",\"count\":%lu,\"messages\":%lu", e->occurrences, e->messages);
		json_member(o, "title", e->def ? e->def->title : NULL, true);
		out_putc(o, '}');
	}
	out_puts(o, t.n ? "\n  ],\n" : "],\n");
	tallies_free(&t);

	struct json_ctx j = {o, true};
	out_puts(o, "  \"messages\":[");
	if (!o->ok || !report_foreach(r, json_visit, &j))
		return false;
	out_puts(o, j.first ? "]\n}\n" : "\n  ]\n}\n");
	return o->ok;
}

/* ---------------------------------------------------------------------- */
/* HTML                                                                   */

/* Line numbers shown per message in the HTML table; the CSV has them all. */
#define HTML_LINES_MAX 50

static void html(struct out *o, const char *s)
{
	out_text(o, s, ESC_HTML);
}

/* 1234567 → "1 234 567" with no-break spaces, as Norwegian writes numbers. */
static const char *fmt_count(unsigned long long v, char buf[40])
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%llu", v);
	size_t k = 0;

	for (int i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0) {
			buf[k++] = '\xC2';
			buf[k++] = '\xA0';
		}
		buf[k++] = digits[i];
	}
	buf[k] = '\0';
	return buf;
}

static const char html_head[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"nb\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta name=\"generator\" content=\"KPR intake " KPR_VERSION "\">\n"
    "<style>\n"
    "body{font-family:system-ui,\"Segoe UI\",Arial,sans-serif;color:#1a1a1a;background:#fff;"
    "margin:2rem auto;max-width:75rem;padding:0 1rem;line-height:1.45}\n"
    "h1{font-size:1.6rem;margin:0 0 .2rem}\n"
    "h2{font-size:1.25rem;margin:2rem 0 .6rem;border-bottom:2px solid #1a1a1a;padding-bottom:.2rem}\n"
    ".sub{margin:0 0 1rem;color:#404040}\n"
    "dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1.2rem;margin:0}\n"
    "dl.meta dt{font-weight:600}\n"
    "dl.meta dd{margin:0;overflow-wrap:anywhere}\n"
    ".mono{font-family:ui-monospace,Consolas,monospace;font-size:.9em}\n"
    ".status{border:3px solid;border-left-width:.8rem;padding:.6rem 1rem;margin:1.5rem 0}\n"
    ".status h2{border:0;margin:0 0 .4rem;padding:0}\n"
    ".st-accepted{border-color:#1e6b30;background:#eaf5ec}\n"
    ".st-accepted_with_errors{border-color:#8a5300;background:#fff4e0}\n"
    ".st-rejected{border-color:#a50e0e;background:#fdecea}\n"
    ".st-validated,.st-superseded{border-color:#0b4f8a;background:#e8f1fb}\n"
    "table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}\n"
    "th,td{border:1px solid #8c8c8c;padding:.3rem .5rem;text-align:left;vertical-align:top}\n"
    "th{background:#e6e6e6}\n"
    "td.num,th.num{text-align:right;white-space:nowrap}\n"
    "td.lines{text-align:right}\n"
    "table.summary{width:auto;min-width:24rem}\n"
    "td.txt{white-space:pre-line;overflow-wrap:anywhere}\n"
    "td.path,td.val{overflow-wrap:anywhere}\n"
    ".sev{display:inline-block;padding:0 .4rem;border:1px solid;border-radius:.2rem;"
    "font-weight:600;white-space:nowrap}\n"
    ".sev-FATAL{background:#a50e0e;color:#fff;border-color:#a50e0e}\n"
    ".sev-ERROR{background:#fdecea;color:#8a1010;border-color:#8a1010}\n"
    ".sev-WARNING{background:#fff4e0;color:#6b4100;border-color:#6b4100}\n"
    ".sev-INFO{background:#e8f1fb;color:#0b4f8a;border-color:#0b4f8a}\n"
    ".note{border:1px solid #0b4f8a;background:#e8f1fb;padding:.5rem 1rem}\n"
    "footer{margin-top:2rem;font-size:.85rem;color:#404040}\n"
    "@page{size:A4 landscape;margin:12mm}\n"
    "@media print{body{margin:0;max-width:none;font-size:9pt;padding:0}"
    "h2{break-after:avoid}thead{display:table-header-group}tr,.status{break-inside:avoid}"
    ".status,.sev,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n"
    "</style>\n";

static void html_dt(struct out *o, const char *label)
{
	out_printf(o, "<dt>%s</dt><dd>", label);
}

static void html_sev(struct out *o, enum severity s)
{
	out_printf(o, "<span class=\"sev sev-%s\">%s</span>", sev_code(s), sev_nb(s));
}

static void html_datetime(struct out *o, const char *s)
{
	char buf[80];

	if (!has_text(s)) {
		out_puts(o, "–");
		return;
	}
	/* shown as "2026-01-05 09:12:00 +01:00": readable and unambiguous */
	if (normalise_datetime(s, buf, sizeof(buf))) {
		char *t = strchr(buf, 'T');
		char *z = strpbrk(buf + 11, "Z+-");
		if (t)
			*t = ' ';
		char *frac = strchr(buf, '.'); /* a person reads seconds */
		if (frac && z && frac < z)
			memmove(frac, z, strlen(z) + 1), z = frac;
		if (z) {
			char zone[16];
			snprintf(zone, sizeof(zone), "%s", *z == 'Z' ? "UTC" : z);
			*z = '\0';
			out_printf(o, "%s %s", buf, zone);
			return;
		}
		out_puts(o, buf);
		return;
	}
	html(o, s);
}

static void html_status(struct out *o, const struct status_info *st, const struct report_summary *s)
{
	char a[40], b[40];
	const char *code = st->code;

	out_printf(o, "<section class=\"status st-%s\">\n<h2>Status: %s</h2>\n<p>", code,
		   st->label);
	if (strcmp(code, "accepted") == 0) {
		out_puts(o,
			 "Filen er godkjent og lastet inn i registeret. Den erstatter eventuelle "
			 "tidligere innsendinger for årgangen.</p>\n<p><strong>Hva gjør dere "
			 "nå?</strong> ");
		if (s->by_severity[SEV_WARNING] + s->by_severity[SEV_INFO] > 0)
			out_puts(
			    o,
			    "Ingen feil hindret innlastingen. Se gjennom advarslene nedenfor: de "
			    "kan tyde på feil i fagsystemet som bør rettes før neste innsending.");
		else
			out_puts(o, "Ingenting. Filen hadde ingen feil.");
	} else if (strcmp(code, "accepted_with_errors") == 0) {
		out_printf(
		    o,
		    "Filen er lastet inn i registeret, men det som hadde feil er utelatt: "
		    "%s %s og %s %s ble ikke lastet inn.</p>\n"
		    "<p><strong>Hva gjør dere nå?</strong> Rett feilene i fagsystemet. Tabellen "
		    "«Meldinger per regel» forklarer hva hver regel betyr og hvordan feilen "
		    "rettes; detaljene viser journalnummer (ref) og linjenummer i filen. Send "
		    "deretter en ny, fullstendig fil for årgangen. Den nye filen erstatter denne.",
		    fmt_count(s->persons_excluded, a),
		    s->persons_excluded == 1 ? "person" : "personer",
		    fmt_count(s->registrations_excluded, b),
		    s->registrations_excluded == 1 ? "registrering" : "registreringer");
	} else if (strcmp(code, "rejected") == 0) {
		out_puts(o,
			 "Filen er avvist på grunn av kritiske feil. Ingenting fra denne filen er "
			 "lastet inn. Forrige godkjente innsending for årgangen gjelder fortsatt."
			 "</p>\n<p><strong>Hva gjør dere nå?</strong> Rett de kritiske feilene som "
			 "er beskrevet nedenfor, og send filen på nytt. Ligger feilen i selve "
			 "uttrekket, kontakt leverandøren av fagsystemet.");
	} else if (strcmp(code, "validated") == 0) {
		const char *would = outcome_of(s);
		out_puts(o, "Filen er kontrollert i en prøvekjøring. Ingenting er lastet inn i "
			    "registeret. ");
		if (strcmp(would, "rejected") == 0)
			out_puts(
			    o,
			    "Ved ordinær innsending ville filen blitt avvist.</p>\n<p><strong>Hva "
			    "gjør dere nå?</strong> Rett de kritiske feilene nedenfor før filen "
			    "sendes inn.");
		else if (strcmp(would, "accepted_with_errors") == 0)
			out_puts(
			    o, "Ved ordinær innsending ville filen blitt godkjent, men det som har "
			       "feil ville blitt utelatt.</p>\n<p><strong>Hva gjør dere "
			       "nå?</strong> Rett helst feilene nedenfor før filen sendes inn.");
		else
			out_puts(o, "Ved ordinær innsending ville filen blitt godkjent.</p>\n"
				    "<p><strong>Hva gjør dere nå?</strong> Filen kan sendes inn.");
	} else {
		out_puts(o,
			 "Denne innsendingen er erstattet av en nyere innsending for samme årgang "
			 "og gjelder ikke lenger.</p>\n<p><strong>Hva gjør dere nå?</strong> Se "
			 "tilbakemeldingen på den nyeste innsendingen.");
	}
	out_puts(o, "</p>\n</section>\n");
}

static void html_summary(struct out *o, const struct report_summary *s, const char *status)
{
	char a[40];
	bool dry = strcmp(status, "validated") == 0;

	out_puts(o, "<section>\n<h2>Sammendrag</h2>\n<table class=\"summary\">\n<tbody>\n");
	out_printf(o, "<tr><th scope=\"row\">Personer i filen</th><td class=\"num\">%s</td></tr>\n",
		   fmt_count(s->persons, a));
	out_printf(
	    o, "<tr><th scope=\"row\">Registreringer i filen</th><td class=\"num\">%s</td></tr>\n",
	    fmt_count(s->registrations, a));
	out_printf(o, "<tr><th scope=\"row\">Personer %s</th><td class=\"num\">%s</td></tr>\n",
		   dry ? "som kan lastes inn" : "lastet inn", fmt_count(s->persons_loaded, a));
	out_printf(o, "<tr><th scope=\"row\">Personer %s</th><td class=\"num\">%s</td></tr>\n",
		   dry ? "som ville blitt utelatt" : "utelatt", fmt_count(s->persons_excluded, a));
	out_printf(
	    o, "<tr><th scope=\"row\">Registreringer %s</th><td class=\"num\">%s</td></tr>\n",
	    dry ? "som kan lastes inn" : "lastet inn", fmt_count(s->registrations_loaded, a));
	out_printf(
	    o, "<tr><th scope=\"row\">Registreringer %s</th><td class=\"num\">%s</td></tr>\n",
	    dry ? "som ville blitt utelatt" : "utelatt", fmt_count(s->registrations_excluded, a));
	for (int v = 0; v < SEV_COUNT; v++) {
		out_puts(o, "<tr><th scope=\"row\">");
		html_sev(o, (enum severity)v);
		out_printf(o, "</th><td class=\"num\">%s</td></tr>\n",
			   fmt_count(s->by_severity[v], a));
	}
	out_puts(
	    o, "</tbody>\n</table>\n<p>Antallet per alvorlighetsgrad teller hver forekomst "
	       "(linje) for seg; like meldinger for samme person er slått sammen i detaljene.</p>\n"
	       "</section>\n");
}

static void html_rules(struct out *o, const struct tallies *t)
{
	char a[40];

	out_puts(o, "<section>\n<h2>Meldinger per regel</h2>\n");
	if (t->n == 0) {
		out_puts(o, "<p>Ingen regler slo til.</p>\n</section>\n");
		return;
	}
	out_puts(o,
		 "<table class=\"rules\">\n<thead><tr><th scope=\"col\">Regel</th>"
		 "<th scope=\"col\">Nivå</th><th scope=\"col\" class=\"num\">Antall</th>"
		 "<th scope=\"col\">Hva betyr det</th><th scope=\"col\">Slik retter dere det</th>"
		 "</tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < t->n; i++) {
		const struct tally *e = &t->v[i];
		out_puts(o, "<tr><td>");
		html(o, e->id);
		out_puts(o, "</td><td>");
		html_sev(o, e->severity);
		out_printf(o, "</td><td class=\"num\">%s</td><td class=\"txt\">",
			   fmt_count(e->occurrences, a));
		if (e->def != NULL) {
			out_puts(o, "<strong>");
			html(o, e->def->title);
			out_puts(o, "</strong>");
			if (has_text(e->def->explanation)) {
				out_puts(o, "\n");
				html(o, e->def->explanation);
			}
			out_puts(o, "</td><td class=\"txt\">");
			html(o, e->def->fix);
		} else {
			out_puts(o, "</td><td class=\"txt\">");
		}
		out_puts(o, "</td></tr>\n");
	}
	out_puts(o, "</tbody>\n</table>\n</section>\n");
}

struct html_ctx {
	struct out *o;
	unsigned long rows;
	unsigned long max_rows;
	bool capped;
};

static bool html_visit(void *ctx, const struct vmsg *m)
{
	struct html_ctx *h = ctx;
	struct out *o = h->o;
	char a[40];

	if (h->rows >= h->max_rows) {
		h->capped = true;
		return false;
	}
	h->rows++;
	out_puts(o, "<tr><td>");
	html(o, m->rule);
	out_puts(o, "</td><td>");
	html_sev(o, m->severity);
	out_puts(o, "</td><td>");
	if (has_text(m->ref))
		html(o, m->ref);
	else
		out_puts(o, "–"); /* a file-level message */
	out_puts(o, "</td><td class=\"lines\">");
	for (size_t i = 0; i < m->nlines; i++) {
		if (i == HTML_LINES_MAX) {
			out_printf(o, " og %s til", fmt_count(m->nlines - i, a));
			break;
		}
		out_printf(o, "%s%lu", i ? ", " : "", m->lines[i]);
	}
	out_puts(o, "</td><td class=\"path\">");
	html(o, m->path);
	out_puts(o, "</td><td class=\"txt\">");
	html(o, m->text);
	out_puts(o, "</td><td class=\"val\">");
	if (m->value != NULL)
		html(o, m->value);
	out_puts(o, "</td></tr>\n");
	return o->ok;
}

static bool write_html(struct out *o, const struct feedback_meta *m, struct report *r)
{
	const struct report_summary *rs = report_summary(r);
	const struct status_info *st = status_of(m, rs);
	struct report_summary s = summary_shown(rs, st->code);
	struct tallies t;
	char a[40], b[40];

	if (!tallies_collect(&t, r))
		return false;

	out_puts(o, html_head);
	out_puts(o, "<title>Tilbakemelding KPR");
	if (has_text(m->kommunenummer)) {
		out_puts(o, " – ");
		html(o, m->kommunenummer);
		if (has_text(m->kommunenavn)) {
			out_putc(o, ' ');
			html(o, m->kommunenavn);
		}
	}
	if (m->aargang != 0)
		out_printf(o, " – årgang %d", m->aargang);
	out_printf(o, " – %s</title>\n</head>\n<body>\n", st->label);

	out_puts(
	    o, "<header>\n<h1>Tilbakemelding på innsending til KPR</h1>\n"
	       "<p class=\"sub\">Kommunalt pasient- og brukerregister</p>\n<dl class=\"meta\">\n");
	html_dt(o, "Kommune");
	if (has_text(m->kommunenummer)) {
		html(o, m->kommunenummer);
		if (has_text(m->kommunenavn)) {
			out_putc(o, ' ');
			html(o, m->kommunenavn);
		}
	} else {
		out_puts(o, "ukjent (kunne ikke leses fra filen)");
	}
	out_puts(o, "</dd>\n");
	html_dt(o, "Årgang");
	if (m->aargang != 0)
		out_printf(o, "%d", m->aargang);
	else
		out_puts(o, "ukjent");
	out_puts(o, "</dd>\n");
	html_dt(o, "Innsending");
	if (has_text(m->submission_id)) {
		out_puts(o, "<span class=\"mono\">");
		out_identifier(o, m->submission_id, ESC_HTML);
		out_puts(o, "</span>");
	} else {
		out_puts(o, "kontrollert lokalt (ikke sendt inn)");
	}
	out_puts(o, "</dd>\n");
	if (has_text(m->innsending_id)) {
		html_dt(o, "Id i filen");
		out_puts(o, "<span class=\"mono\">");
		out_identifier(o, m->innsending_id, ESC_HTML);
		out_puts(o, "</span></dd>\n");
	}
	if (has_text(m->fagsystem)) {
		html_dt(o, "Fagsystem");
		html(o, m->fagsystem);
		if (has_text(m->fagsystem_versjon)) {
			out_puts(o, " versjon ");
			html(o, m->fagsystem_versjon);
		}
		out_puts(o, "</dd>\n");
	}
	if (has_text(m->received_at)) {
		html_dt(o, "Mottatt");
		html_datetime(o, m->received_at);
		out_puts(o, "</dd>\n");
	}
	html_dt(o, "Behandlet");
	html_datetime(o, m->processed_at);
	out_puts(o, "</dd>\n");
	if (m->bytes > 0) {
		html_dt(o, "Filstørrelse");
		out_printf(o, "%s byte</dd>\n", fmt_count(m->bytes, a));
	}
	if (has_text(m->sha256)) {
		char sha[65];
		html_dt(o, "Filens SHA-256");
		out_puts(o, "<span class=\"mono\">");
		if (normalise_sha256(m->sha256, sha))
			out_puts(o, sha);
		else
			html(o, m->sha256);
		out_puts(o, "</span></dd>\n");
	}
	html_dt(o, "Kontrollert med");
	out_puts(o, "KPR mottak versjon " KPR_VERSION ", regelsett " KPR_RULESET_VERSION "</dd>\n");
	out_puts(o, "</dl>\n</header>\n<main>\n");

	html_status(o, st, &s);
	html_summary(o, &s, st->code);
	html_rules(o, &t);

	out_puts(o, "<section>\n<h2>Alle meldinger</h2>\n");
	unsigned long total = t.messages;
	tallies_free(&t);
	if (total == 0) {
		out_puts(o, "<p>Ingen meldinger.</p>\n");
	} else {
		struct html_ctx h = {o, 0, FEEDBACK_HTML_MAX_ROWS, false};
		if (total > h.max_rows)
			out_printf(
			    o,
			    "<p class=\"note\">Tabellen viser de første %s av %s meldinger. "
			    "Alle meldingene finnes i CSV-filen (åpnes i Excel), og i XML- og "
			    "JSON-filen.</p>\n",
			    fmt_count(h.max_rows, a), fmt_count(total, b));
		out_puts(o, "<p>Meldingene står i samme rekkefølge som i filen. «Ref» er kommunens "
			    "journalnummer for personen; «Linje» er linjenummeret i filen.</p>\n");
		out_puts(o,
			 "<table class=\"details\">\n<thead><tr><th scope=\"col\">Regel</th>"
			 "<th scope=\"col\">Alvorlighet</th><th scope=\"col\">Ref</th>"
			 "<th scope=\"col\" class=\"num\">Linje</th><th scope=\"col\">Element</th>"
			 "<th scope=\"col\">Melding</th><th scope=\"col\">Verdi</th></tr></thead>\n"
			 "<tbody>\n");
		if (!o->ok)
			return false;
		if (!report_foreach(r, html_visit, &h) && !h.capped)
			return false;
		out_puts(o, "</tbody>\n</table>\n");
		if (h.capped)
			out_printf(
			    o,
			    "<p class=\"note\">%s meldinger er ikke vist her. Se CSV-filen for "
			    "den fullstendige listen.</p>\n",
			    fmt_count(total - h.rows, a));
	}
	out_puts(
	    o,
	    "</section>\n</main>\n<footer>\n<p>Laget av KPR mottak " KPR_VERSION
	    " med regelsett " KPR_RULESET_VERSION
	    ". Tilbakemeldingen inneholder ikke fødselsnummer: personer er "
	    "identifisert med kommunens journalnummer (ref).</p>\n</footer>\n</body>\n</html>\n");
	return o->ok;
}

/* ---------------------------------------------------------------------- */

bool feedback_write(FILE *out, enum feedback_format f, const struct feedback_meta *m,
		    struct report *r)
{
	struct out o = {out, true, {.test_mode = true, .allow_2032 = true}};
	if (m->nid)
		o.nid = *m->nid;
	bool ok;

	assert(out != NULL && m != NULL && r != NULL);
	errno = 0;
	switch (f) {
	case FEEDBACK_CSV:
		ok = write_csv(&o, r);
		break;
	case FEEDBACK_XML:
		ok = write_xml(&o, m, r);
		break;
	case FEEDBACK_HTML:
		ok = write_html(&o, m, r);
		break;
	case FEEDBACK_JSON:
		ok = write_json(&o, m, r);
		break;
	default:
		errno = EINVAL;
		return false;
	}
	if (fflush(out) != 0 || ferror(out))
		ok = false;
	if (!ok && errno == 0)
		errno = EIO;
	return ok && o.ok;
}
