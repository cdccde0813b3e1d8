/*
 * feedback.h — renders one submission's report as the feedback files of
 * SPEC §6: CSV (Excel-friendly), XML (urn:no:kpr:tilbakemelding:1, valid
 * against config/xsd/tilbakemelding.xsd), HTML (one printable page), JSON,
 * and an Excel workbook (XLSX, written with libxlsxwriter).
 * Streams from the report; never holds all messages in memory. Writes no
 * national ID: the report carries only masked values, and as a second line
 * of defence every message field and sender-chosen metadata string is masked
 * again by SPEC §3's rule (nid_mask_text; UUID-shaped identifiers in full).
 *
 * CSV: UTF-8 with BOM, ';', CRLF, header
 *   regel;alvorlighet;ref;linje;element;melding;verdi;enhet
 * fields quoted per RFC 4180 when they hold ; " CR or LF; merged line numbers
 * as "12, 40, 77". Against CSV/formula injection a field starting with
 * = + - @ TAB or CR gets a leading apostrophe (Excel shows it as text), so a
 * value "-5" reads "'-5". XML, HTML and JSON carry values unchanged.
 * XLSX: the sheets Sammendrag, Per regel, Per enhet and Meldinger (the
 * CSV's columns, one row per merged message; a single line number is a
 * number cell, merged ones the CSV's text "12, 40, 77"); every string is a
 * string cell, never a formula, so it needs no apostrophe guard. Past
 * Excel's 1,048,576 rows the messages go on in "Meldinger (2)", and so on.
 * Written in libxlsxwriter's constant-memory mode to a private temporary
 * directory ($TMPDIR or /tmp), then copied into the output stream.
 * HTML shows at most FEEDBACK_HTML_MAX_ROWS detail rows and says so;
 * CSV, XML, JSON and XLSX always hold every message.
 * Per-rule counts ("antall", "count") count occurrences (lines) like
 * report_summary.by_severity; "meldinger"/"messages" count merged messages.
 *
 * Units (SPEC §2, §6): every message carries the enhet of the element it
 * concerns (CSV: the last column, empty when none; XML: Melding/@enhet;
 * JSON: "enhet", null when none; "(ukjent enhet)" after R110), and XML,
 * HTML and JSON show a per-unit summary (persons, loaded, excluded,
 * services, errors, warnings); HTML groups the details by unit, a page per
 * unit when printed. feedback_meta.enhet limits a file to one unit: its
 * messages plus those about the whole file; the summary's severity counts
 * and the per-rule table then count only those messages.
 */
#ifndef FEEDBACK_H
#define FEEDBACK_H

#include <stdio.h>

#include "kpr.h"
#include "nid.h"
#include "received.h"
#include "report.h"

#define FEEDBACK_XML_NAMESPACE "urn:no:kpr:tilbakemelding:1"
/* Rows of the HTML details table; above it the page says so and points to the
 * CSV. CSV, XML and JSON always hold every message. */
#define FEEDBACK_HTML_MAX_ROWS 10000UL

enum feedback_format {
	FEEDBACK_CSV = 0,
	FEEDBACK_XML,
	FEEDBACK_HTML,
	FEEDBACK_JSON,
	FEEDBACK_XLSX,
	FEEDBACK_FORMAT_COUNT
};

struct feedback_meta {
	const char *submission_id; /* the server's id (UUID); NULL offline */
	const char *innsending_id; /* Innsending/@id, NULL if unreadable */
	const char *kommunenummer; /* NULL if unreadable */
	const char *kommunenavn;   /* NULL if unknown */
	int aargang;               /* 0 if unreadable */
	const char *
	    status; /* accepted | accepted_with_errors | rejected | validated | superseded; NULL: from the report */
	const char *received_at;  /* ISO 8601 with zone, NULL offline */
	const char *processed_at; /* ISO 8601 with zone (PostgreSQL timestamptz text accepted) */
	const char *sha256;       /* hex of the file as received, NULL if unknown */
	unsigned long long bytes;
	const char *fagsystem; /* Avsender/@fagsystem + version, may be NULL */
	const char *fagsystem_versjon;
	bool dry_run;
	/* what counts as a national-ID candidate: the validator's options;
	 * NULL: the broadest (test mode and the 2032 rule) */
	const struct nid_options *nid;
	/* NULL: the whole file; else only this unit (exact bytes, as written):
	 * feedback_write fails with errno ENOENT when the report has no such
	 * unit (check first with report_has_unit) */
	const char *enhet;
	/* What was received beside the previous årgang (server feedback);
	 * NULL: no comparison (kpr-validate has no register) */
	const struct received_compare *received;
};

/* "csv" | "xml" | "html" | "json" | "xlsx" */
bool feedback_format_parse(const char *s, enum feedback_format *out) KPR_WUR;
const char *feedback_format_name(enum feedback_format f);
const char *feedback_content_type(enum feedback_format f); /* "text/csv; charset=utf-8", ... */
const char *feedback_extension(enum feedback_format f);    /* "csv", ... */

/* Where one attempt's feedback file is stored: "<dir>/<id>.<token>.<ext>"
 * for the whole file (unit 0), "<dir>/<id>.<token>.u<unit>.<ext>" for the
 * file limited to the unit-th named unit of the report (SPEC §6 ?enhet=,
 * numbered 1.. in report_units' order; kpr.feedback_unit maps names to
 * numbers). Each processing attempt writes under a random token of its own
 * and its final transaction records that token
 * (kpr.submission.feedback_token), so only the committed attempt's files
 * are ever served. An empty or NULL token names a whole file written before
 * tokens: "<dir>/<id>.<ext>" (no unit files then). False when the path does
 * not fit, or a unit is asked for without a token. */
bool feedback_path(char *buf, size_t len, const char *dir, const char *submission_id,
		   const char *token, unsigned unit, enum feedback_format f) KPR_WUR;
/* Units of one submission that get files of their own; the others are
 * answered with the error too_many_units (use the whole file). */
#define FEEDBACK_UNIT_FILES_MAX 500
#define FEEDBACK_TOKEN_LEN      32 /* lower-case hex */

/* Writes the whole file; false on a write error (errno set). */
bool feedback_write(FILE *out, enum feedback_format f, const struct feedback_meta *m,
		    struct report *r) KPR_WUR;

/* Test hook: rows per Meldinger sheet of the workbook, its heading row
 * included (at least 2), so a test can see the messages continue on
 * "Meldinger (2)" without writing a million rows. 0 restores Excel's
 * 1,048,576. Not for production use. */
void feedback_xlsx_set_sheet_rows(unsigned long rows);

#endif
