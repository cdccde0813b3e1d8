/*
 * feedback_internal.h — what the feedback renderers share; private to
 * server/src/feedback/ (the public interface is server/include/feedback.h).
 *
 *   output.c   one output stream with a sticky error flag, and the escaping
 *              engine: UTF-8 repair, the escaping of each format, and SPEC
 *              §3's masking for display
 *   content.c  status texts, metadata normalisation, per-rule tallies
 *   csv.c, xml.c, html.c, json.c, xlsx.c   one renderer each
 *   feedback.c format names, file paths, feedback_write
 *
 * Must not be included outside server/src/feedback/.
 */
#ifndef FEEDBACK_INTERNAL_H
#define FEEDBACK_INTERNAL_H

#include <stdio.h>

#include "feedback.h"
#include "rules.h"

/* ---------------------------------------------------------------------- */
/* Output with one sticky error flag (output.c)                           */

struct fb_out {
	FILE *f;
	bool ok;
	struct nid_options nid; /* what counts as a national-ID candidate */
};

void fb_put(struct fb_out *o, const char *s, size_t n);
void fb_puts(struct fb_out *o, const char *s);
void fb_putc(struct fb_out *o, char c);
void fb_printf(struct fb_out *o, const char *fmt, ...) KPR_PRINTF(2, 3);

enum esc {
	ESC_XML_TEXT, /* element content */
	ESC_XML_ATTR, /* attribute value in double quotes */
	ESC_HTML,     /* element content or double-quoted attribute */
	ESC_JSON,     /* inside a JSON string */
	ESC_CSV,      /* inside a (possibly quoted) CSV field */
	ESC_NONE,     /* a plain string for a library to write (the XLSX cells):
		       * only the UTF-8 repair and the unwanted characters */
};

/* Writes s escaped for mode, masking national-ID candidates (SPEC §3). */
void fb_text(struct fb_out *o, const char *s, enum esc mode);

/* An identifier (submission id, Innsending/@id): shown in full (SPEC §3),
 * escaped for mode. */
void fb_identifier(struct fb_out *o, const char *s, enum esc mode);

/* ---------------------------------------------------------------------- */
/* Shared content: status, metadata normalisation, per-rule tallies        */
/* (content.c)                                                            */

struct status_info {
	const char *code;
	const char *label;
};

/* What the file would get (or got) if it were loaded. */
const char *fb_outcome_of(const struct report_summary *s);

/* The status shown: the caller's, or the report's when it gives none or
 * one this module does not know. */
const struct status_info *fb_status_of(const struct feedback_meta *m,
				       const struct report_summary *s);

/* The summary as the feedback shows it: a rejected file loaded nothing,
 * whatever the validator counted before the fatal error. */
struct report_summary fb_summary_shown(const struct report_summary *s, const char *status);

/* xs:dateTime from ISO 8601 or PostgreSQL's timestamptz text
 * ("2026-01-05 09:12:00.123+01"): "2026-01-05T09:12:00.123+01:00".
 * False when s is not one of those shapes. */
bool fb_normalise_datetime(const char *s, char *buf, size_t size);

/* Lower-case hex of 64 digits, or false. */
bool fb_normalise_sha256(const char *s, char buf[65]);

/* A time as a person reads it: "2026-01-05 09:12:00 +01:00" (seconds
 * without fraction, "UTC" for Z). False when s is not a time
 * fb_normalise_datetime knows; the caller then shows s as given. */
bool fb_datetime_display(const char *s, char *buf, size_t size);

/* A merged message's line numbers as the CSV writes them: "12, 40, 77",
 * cut with " … (+N)" before an Excel cell would overflow. buf holds at
 * least FB_LINES_TEXT_MAX bytes. */
#define FB_LINES_TEXT_MAX 32000
void fb_lines_text(const struct vmsg *m, char *buf);

static inline bool has_text(const char *s)
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

/* One pass over the messages: per-rule counts, most severe first, then in
 * catalogue order. */
bool fb_tallies_collect(struct tallies *t, struct report *r);
void fb_tallies_free(struct tallies *t);

/* What the XML, HTML and JSON files show before the messages: the status,
 * the summary as shown, the per-rule tallies and the per-unit rows (free
 * with fb_view_free). With a unit filter the severity counts are those of
 * the messages shown. */
struct fb_view {
	const struct status_info *st;
	struct report_summary s;
	struct tallies t;
	const struct report_unit **units; /* sorted (report_units) */
	size_t n_units;
	bool units_capped;  /* past REPORT_MAX_UNITS: the "other" row */
	const char *filter; /* the unit the file is limited to, NULL: none */
};
bool fb_view_collect(struct fb_view *v, const struct feedback_meta *m, struct report *r);
void fb_view_free(struct fb_view *v);

/* What a unit row is: a unit as written, none, unknown (R110) or the other
 * units past the cap; and its label for people ("(uten enhet)", ...). */
enum fb_unit_kind { FB_UNIT_NAMED, FB_UNIT_NONE, FB_UNIT_UNKNOWN, FB_UNIT_OTHER };
enum fb_unit_kind fb_unit_kind(const char *enhet, bool other_row);
const char *fb_unit_kind_code(enum fb_unit_kind k); /* "enhet" | "uten" | "ukjent" | "andre" */
const char *fb_unit_label(const struct report_unit *u);
/* The same label from a unit's name as written and whether it is the
 * other row. */
const char *fb_unit_name_label(const char *enhet, bool other_row);
/* The enhet a message carries as the machine formats write it: NULL when it
 * concerns the whole file or an element without a unit. */
static inline const char *fb_msg_unit(const struct vmsg *m)
{
	return m->enhet && m->enhet[0] ? m->enhet : NULL;
}

/* One row of the per-unit summary (SPEC §6: unit, persons, loaded, excluded,
 * errors, warnings), from the report's units (fb_view.units) with their
 * labels; errors count FATAL and ERROR together. */
struct fb_unit {
	const char *name; /* its label: the unit as written, "(uten enhet)", "(ukjent enhet)"... */
	unsigned long persons, loaded, excluded, errors, warnings;
};

struct fb_units {
	struct fb_unit *v;
	size_t n;
};

bool fb_units_collect(struct fb_units *u, const struct fb_view *v);
void fb_units_free(struct fb_units *u);

static inline const char *sev_code(enum severity s)
{
	const char *n = severity_name(s);
	return n ? n : "ERROR";
}

static inline const char *sev_nb(enum severity s)
{
	const char *n = severity_name_nb(s);
	return n ? n : "Feil";
}

/* ---------------------------------------------------------------------- */
/* What was received (received_view.c); the rows come from received_rows  */

struct fb_received {
	const struct received_figures *cur;
	const struct received_compare *cmp; /* NULL: no comparison */
	enum received_prev_state state;
	bool shown;         /* false: the file was rejected, nothing is loaded */
	const char *filter; /* the unit the file is limited to, NULL: none */
	char note[512];     /* the sentence about the figures and the comparison */
};
bool fb_received_collect(struct fb_received *x, const struct feedback_meta *m, struct report *r,
			 const struct status_info *st);
/* "hele" (the whole file), or fb_unit_kind_code's */
const char *fb_received_unit_kind(const struct received_row *row);
/* "Hele fila", the unit as written, "(uten enhet)", "(andre enheter)" */
const char *fb_received_unit_label(const struct received_row *row);
/* "15 Helsetjenester i hjemmet", "ICD-10" or "" */
void fb_received_what(const struct received_row *row, char *buf, size_t len);
/* "+12.5" or "" when there is no change to show */
void fb_received_change_text(const struct received_row *row, char *buf, size_t len);

/* ---------------------------------------------------------------------- */
/* The renderers: each writes one whole file; false on an error.          */

bool fb_render_csv(struct fb_out *o, struct report *r);
bool fb_render_xml(struct fb_out *o, const struct feedback_meta *m, struct report *r);
bool fb_render_html(struct fb_out *o, const struct feedback_meta *m, struct report *r);
bool fb_render_json(struct fb_out *o, const struct feedback_meta *m, struct report *r);
bool fb_render_xlsx(struct fb_out *o, const struct feedback_meta *m, struct report *r);

#endif
