/*
 * xlsx.c — the feedback workbook (SPEC §6, format=xlsx), for the many
 * municipalities that work in Excel. Sheets, headings in Norwegian, heading
 * row frozen on every sheet, filters on the lists:
 *   Sammendrag  the header facts and the summary, as the HTML page shows them
 *   Per regel   rule, level, count (occurrences), meaning, how to fix it
 *   Per enhet   unit, persons, loaded, excluded, errors, warnings
 *               (fb_units_collect: the report's units, as the HTML shows them)
 *   Mottatt     what was received: unit, figure, service type or code
 *               system, this årgang, the previous, change %, flag
 *               (received_rows, as every format shows them)
 *   Meldinger   every merged message, the CSV's columns; past Excel's
 *               1,048,576 rows the messages go on in "Meldinger (2)", ...
 * Counts and a single line number are number cells; merged line numbers are
 * the CSV's text "12, 40, 77". Every string is a string cell
 * (worksheet_write_string), never a formula, so "=SUM(A1)" stays text and
 * needs no apostrophe guard as the CSV does.
 *
 * Owns: the layout of the workbook. Must not: hold the messages in memory
 * (libxlsxwriter's constant-memory mode keeps one row per sheet; the rest
 * goes to its temporary files), or write a national ID (every string goes
 * through the one masking function, as in the other formats, fb_text).
 * libxlsxwriter writes to a file name, so the workbook is written to a
 * private temporary directory (mkdtemp under $TMPDIR or /tmp, mode 0700,
 * also the library's own temporary files), copied into the output stream
 * and removed, also on error.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "feedback_internal.h"

/* Bytes of one cell's text; Excel holds 32,767 characters. Longer text is
 * cut at a character boundary and ends in " …". */
#define XLSX_CELL_MAX 32000
#define XLSX_COLS_MAX 8

static unsigned long sheet_rows_max = LXW_ROW_MAX;

void feedback_xlsx_set_sheet_rows(unsigned long rows)
{
	sheet_rows_max = rows >= 2 && rows <= LXW_ROW_MAX ? rows : LXW_ROW_MAX;
}

struct column {
	const char *heading;
	double max_width; /* characters */
	bool wrap;        /* long text: wrapped in the cell */
};

static const struct column cols_summary[] = {
    {"Opplysning", 40, false},
    {"Verdi", 80, true},
};
static const struct column cols_rules[] = {
    {"Regel", 12, false},
    {"Nivå", 16, false},
    {"Antall", 14, false},
    {"Hva betyr det", 70, true},
    {"Slik retter dere det", 70, true},
};
static const struct column cols_units[] = {
    {"Enhet", 50, false},   {"Personer", 14, false}, {"Lastet inn", 14, false},
    {"Utelatt", 14, false}, {"Feil", 14, false},     {"Advarsler", 14, false},
};
static const struct column cols_received[] = {
    {"Enhet", 40, false},
    {"Tall", 34, false},
    {"Tjenestetype eller kodeverk", 60, false},
    {"Denne årgangen", 16, false},
    {"Forrige årgang", 16, false},
    {"Endring (%)", 14, false},
    {"Avvik", 10, false},
};
/* the CSV's columns (SPEC §6), in its order */
static const struct column cols_messages[] = {
    {"Regel", 12, false},   {"Alvorlighet", 16, false}, {"Ref", 40, false},   {"Linje", 24, false},
    {"Element", 50, false}, {"Melding", 80, true},      {"Verdi", 50, false}, {"Enhet", 40, false},
};

struct xlsx {
	lxw_workbook *wb;
	lxw_error err;         /* the first libxlsxwriter error */
	struct fb_out scratch; /* the display form of one string */
	char *buf;             /* scratch's memory (open_memstream) */
	size_t len;
	char *esc; /* a string with Excel's escape escaped (ooxml_escaped) */
	size_t esc_size;
	char cut[XLSX_CELL_MAX + 8];
	lxw_format *head, *wrap, *count, *hours, *median, *percent;
};

struct sheet {
	lxw_worksheet *ws;
	const struct column *cols;
	lxw_col_t ncols;
	lxw_row_t row; /* the next row to write */
	double width[XLSX_COLS_MAX];
};

static bool xlsx_ok(const struct xlsx *x)
{
	return x->err == LXW_NO_ERROR && x->scratch.ok;
}

static void xlsx_check(struct xlsx *x, lxw_error e)
{
	if (e != LXW_NO_ERROR && x->err == LXW_NO_ERROR)
		x->err = e;
}

/* Excel reads "_xHHHH_" in a cell's text as the character U+HHHH (OOXML's
 * ST_Xstring escape, which libxlsxwriter uses for a CR but does not apply
 * to the text itself), so a value written "_x0041_" would show as "A". Its
 * underscore is escaped as "_x005F_", and the cell shows what was written. */
static bool ooxml_escape_at(const char *p)
{
	if (p[0] != '_' || p[1] != 'x')
		return false;
	for (int i = 2; i < 6; i++) {
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') ||
		      (p[i] >= 'A' && p[i] <= 'F')))
			return false;
	}
	return p[6] == '_';
}

static const char *ooxml_escaped(struct xlsx *x, const char *s)
{
	size_t k = 0, n = 0;

	for (const char *p = s; *p; p++, n++)
		k += ooxml_escape_at(p);
	if (k == 0)
		return s;
	if (n + 6 * k + 1 > x->esc_size) {
		char *e = realloc(x->esc, n + 6 * k + 1);
		if (e == NULL) {
			x->scratch.ok = false;
			return NULL;
		}
		x->esc = e;
		x->esc_size = n + 6 * k + 1;
	}
	char *w = x->esc;
	for (const char *p = s; *p; p++) {
		if (ooxml_escape_at(p)) {
			memcpy(w, "_x005F", 6);
			w += 6;
		}
		*w++ = *p;
	}
	*w = '\0';
	return x->esc;
}

/* The display form of s for a cell: masked by SPEC §3 unless it is an
 * identifier, valid UTF-8 without control characters (TAB, LF and CR stay),
 * Excel's own escape escaped, cut to what a cell holds. Lives until the
 * next call; NULL on error. */
static const char *shown(struct xlsx *x, const char *s, bool identifier)
{
	if (s == NULL || s[0] == '\0')
		return "";
	rewind(x->scratch.f);
	if (identifier)
		fb_identifier(&x->scratch, s, ESC_NONE);
	else
		fb_text(&x->scratch, s, ESC_NONE);
	fb_putc(&x->scratch, '\0');
	if (fflush(x->scratch.f) != 0 || !x->scratch.ok) {
		x->scratch.ok = false;
		return NULL;
	}
	const char *v = ooxml_escaped(x, x->buf);
	if (v == NULL)
		return NULL;
	size_t n = strlen(v);
	if (n <= XLSX_CELL_MAX)
		return v;
	size_t k = XLSX_CELL_MAX;
	while (k > 0 && ((unsigned char)v[k] & 0xC0) == 0x80)
		k--;
	memcpy(x->cut, v, k);
	memcpy(x->cut + k, " …", sizeof(" …"));
	return x->cut;
}

/* Widens column c for s: its longest line, in characters. */
static void fit(struct sheet *sh, lxw_col_t c, const char *s)
{
	double line = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n') {
			line = 0;
			continue;
		}
		if ((*p & 0xC0) != 0x80)
			line++;
		if (line > sh->width[c])
			sh->width[c] = line;
	}
}

static lxw_format *text_format(const struct xlsx *x, const struct sheet *sh, lxw_col_t c)
{
	return sh->cols[c].wrap ? x->wrap : NULL;
}

/* A string cell from the report or the sender (masked). */
static void cell_text(struct xlsx *x, struct sheet *sh, lxw_col_t c, const char *s)
{
	const char *v = shown(x, s, false);
	if (v == NULL || v[0] == '\0')
		return;
	xlsx_check(x, worksheet_write_string(sh->ws, sh->row, c, v, text_format(x, sh, c)));
	fit(sh, c, v);
}

/* An identifier (submission id, Innsending/@id): shown in full (SPEC §3). */
static void cell_identifier(struct xlsx *x, struct sheet *sh, lxw_col_t c, const char *s)
{
	const char *v = shown(x, s, true);
	if (v == NULL || v[0] == '\0')
		return;
	xlsx_check(x, worksheet_write_string(sh->ws, sh->row, c, v, text_format(x, sh, c)));
	fit(sh, c, v);
}

/* A number cell; fmt NULL for a line number, x->count for a count. */
static void cell_number(struct xlsx *x, struct sheet *sh, lxw_col_t c, double v, lxw_format *fmt)
{
	char digits[32];

	xlsx_check(x, worksheet_write_number(sh->ws, sh->row, c, v, fmt));
	snprintf(digits, sizeof(digits), "%.0f  ", v); /* room for the separators */
	fit(sh, c, digits);
}

static bool sheet_begin(struct xlsx *x, struct sheet *sh, const char *name,
			const struct column *cols, size_t ncols)
{
	memset(sh, 0, sizeof(*sh));
	sh->cols = cols;
	sh->ncols = (lxw_col_t)ncols;
	sh->ws = workbook_add_worksheet(x->wb, name);
	if (sh->ws == NULL) {
		xlsx_check(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
		return false;
	}
	for (lxw_col_t c = 0; c < sh->ncols; c++) {
		xlsx_check(x, worksheet_write_string(sh->ws, 0, c, cols[c].heading, x->head));
		fit(sh, c, cols[c].heading);
		sh->width[c] += 3; /* the filter button */
	}
	worksheet_freeze_panes(sh->ws, 1, 0);
	sh->row = 1;
	return xlsx_ok(x);
}

/* Sizes the columns; filter: autofilter over the heading and the rows. */
static void sheet_end(struct xlsx *x, struct sheet *sh, bool filter)
{
	for (lxw_col_t c = 0; c < sh->ncols; c++) {
		double w = sh->width[c] + 2;
		if (w > sh->cols[c].max_width)
			w = sh->cols[c].max_width;
		xlsx_check(x, worksheet_set_column(sh->ws, c, c, w, NULL));
	}
	if (filter)
		xlsx_check(x, worksheet_autofilter(sh->ws, 0, 0, sh->row - 1, sh->ncols - 1));
}

/* ---------------------------------------------------------------------- */
/* Sammendrag                                                             */

static void summary_label(struct xlsx *x, struct sheet *sh, const char *label)
{
	xlsx_check(x, worksheet_write_string(sh->ws, sh->row, 0, label, NULL));
	fit(sh, 0, label);
}

static void summary_text(struct xlsx *x, struct sheet *sh, const char *label, const char *value)
{
	summary_label(x, sh, label);
	cell_text(x, sh, 1, value);
	sh->row++;
}

static void summary_count(struct xlsx *x, struct sheet *sh, const char *label, unsigned long long v)
{
	summary_label(x, sh, label);
	cell_number(x, sh, 1, (double)v, x->count);
	sh->row++;
}

static void summary_time(struct xlsx *x, struct sheet *sh, const char *label, const char *s)
{
	char buf[80];

	if (fb_datetime_display(s, buf, sizeof(buf)))
		summary_text(x, sh, label, buf);
	else
		summary_text(x, sh, label, s);
}

/* The header facts, as the HTML page's header shows them. */
static void summary_meta(struct xlsx *x, struct sheet *sh, const struct feedback_meta *m,
			 const struct status_info *st)
{
	char buf[256];

	if (has_text(m->kommunenummer)) {
		snprintf(buf, sizeof(buf), "%s%s%s", m->kommunenummer,
			 has_text(m->kommunenavn) ? " " : "",
			 has_text(m->kommunenavn) ? m->kommunenavn : "");
		summary_text(x, sh, "Kommune", buf);
	} else {
		summary_text(x, sh, "Kommune", "ukjent (kunne ikke leses fra filen)");
	}
	if (m->aargang != 0) {
		summary_label(x, sh, "Årgang");
		cell_number(x, sh, 1, m->aargang, NULL); /* a year: no separator */
		sh->row++;
	} else {
		summary_text(x, sh, "Årgang", "ukjent");
	}
	summary_label(x, sh, "Innsending");
	if (has_text(m->submission_id))
		cell_identifier(x, sh, 1, m->submission_id);
	else
		cell_text(x, sh, 1, "kontrollert lokalt (ikke sendt inn)");
	sh->row++;
	if (has_text(m->innsending_id)) {
		summary_label(x, sh, "Id i filen");
		cell_identifier(x, sh, 1, m->innsending_id);
		sh->row++;
	}
	if (has_text(m->fagsystem)) {
		snprintf(buf, sizeof(buf), "%s%s%s", m->fagsystem,
			 has_text(m->fagsystem_versjon) ? " versjon " : "",
			 has_text(m->fagsystem_versjon) ? m->fagsystem_versjon : "");
		summary_text(x, sh, "Fagsystem", buf);
	}
	if (has_text(m->received_at))
		summary_time(x, sh, "Mottatt", m->received_at);
	if (has_text(m->processed_at))
		summary_time(x, sh, "Behandlet", m->processed_at);
	else
		summary_text(x, sh, "Behandlet", "–");
	if (m->bytes > 0)
		summary_count(x, sh, "Filstørrelse (byte)", m->bytes);
	if (has_text(m->sha256)) {
		char sha[65];
		summary_text(x, sh, "Filens SHA-256",
			     fb_normalise_sha256(m->sha256, sha) ? sha : m->sha256);
	}
	summary_text(x, sh, "Kontrollert med",
		     "KPR mottak versjon " KPR_VERSION ", regelsett " KPR_RULESET_VERSION);
	summary_text(x, sh, "Status", st->label);
}

/* The summary, as the HTML page's "Sammendrag" shows it. */
static void summary_counts(struct xlsx *x, struct sheet *sh, const struct report_summary *s,
			   const char *status)
{
	bool dry = strcmp(status, "validated") == 0;

	summary_count(x, sh, "Personer i filen", s->persons);
	summary_count(x, sh, "Registreringer i filen", s->registrations);
	summary_count(x, sh, dry ? "Personer som kan lastes inn" : "Personer lastet inn",
		      s->persons_loaded);
	summary_count(x, sh, dry ? "Personer som ville blitt utelatt" : "Personer utelatt",
		      s->persons_excluded);
	summary_count(x, sh,
		      dry ? "Registreringer som kan lastes inn" : "Registreringer lastet inn",
		      s->registrations_loaded);
	summary_count(x, sh,
		      dry ? "Registreringer som ville blitt utelatt" : "Registreringer utelatt",
		      s->registrations_excluded);
	for (int v = 0; v < SEV_COUNT; v++)
		summary_count(x, sh, sev_nb((enum severity)v), s->by_severity[v]);
	summary_text(x, sh, "Merknad",
		     "Antallet per alvorlighetsgrad teller hver forekomst (linje) for seg; like "
		     "meldinger for samme person er slått sammen i arket «Meldinger».");
}

static bool sheet_summary(struct xlsx *x, const struct feedback_meta *m, const struct fb_view *v,
			  const struct fb_received *rc)
{
	struct sheet sh;

	if (!sheet_begin(x, &sh, "Sammendrag", cols_summary, KPR_ARRAY_LEN(cols_summary)))
		return false;
	summary_meta(x, &sh, m, v->st);
	summary_counts(x, &sh, &v->s, v->st->code);
	summary_text(x, &sh, "Arket «Mottatt»", rc->note);
	sheet_end(x, &sh, false);
	return xlsx_ok(x);
}

/* ---------------------------------------------------------------------- */
/* Per regel, Per enhet                                                   */

static bool sheet_rules(struct xlsx *x, const struct tallies *t)
{
	struct sheet sh;

	if (!sheet_begin(x, &sh, "Per regel", cols_rules, KPR_ARRAY_LEN(cols_rules)))
		return false;
	for (size_t i = 0; i < t->n && xlsx_ok(x); i++, sh.row++) {
		const struct tally *e = &t->v[i];
		cell_text(x, &sh, 0, e->id);
		cell_text(x, &sh, 1, sev_nb(e->severity));
		cell_number(x, &sh, 2, (double)e->occurrences, x->count);
		if (e->def == NULL)
			continue;
		if (has_text(e->def->explanation)) {
			size_t n = strlen(e->def->title) + strlen(e->def->explanation) + 2;
			char *meaning = malloc(n);
			if (meaning == NULL) {
				xlsx_check(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
				break;
			}
			snprintf(meaning, n, "%s\n%s", e->def->title, e->def->explanation);
			cell_text(x, &sh, 3, meaning);
			free(meaning);
		} else {
			cell_text(x, &sh, 3, e->def->title);
		}
		cell_text(x, &sh, 4, e->def->fix);
	}
	sheet_end(x, &sh, true);
	return xlsx_ok(x);
}

static bool sheet_units(struct xlsx *x, const struct fb_view *v)
{
	struct sheet sh;
	struct fb_units u;

	if (!sheet_begin(x, &sh, "Per enhet", cols_units, KPR_ARRAY_LEN(cols_units)))
		return false;
	if (!fb_units_collect(&u, v)) {
		xlsx_check(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
		return false;
	}
	for (size_t i = 0; i < u.n && xlsx_ok(x); i++, sh.row++) {
		const struct fb_unit *e = &u.v[i];
		cell_text(x, &sh, 0, e->name);
		cell_number(x, &sh, 1, (double)e->persons, x->count);
		cell_number(x, &sh, 2, (double)e->loaded, x->count);
		cell_number(x, &sh, 3, (double)e->excluded, x->count);
		cell_number(x, &sh, 4, (double)e->errors, x->count);
		cell_number(x, &sh, 5, (double)e->warnings, x->count);
	}
	fb_units_free(&u);
	sheet_end(x, &sh, true);
	return xlsx_ok(x);
}

/* Mottatt: one row per figure (received_rows) */

struct received_sheet {
	struct xlsx *x;
	struct sheet sh;
};

static lxw_format *value_format(const struct xlsx *x, int decimals)
{
	return decimals == 0 ? x->count : decimals == 1 ? x->hours : x->median;
}

static double value_of(long long v, int decimals)
{
	return decimals == 0 ? (double)v : decimals == 1 ? (double)v / 10.0 : (double)v / 100.0;
}

static bool received_visit(void *ctx, const struct received_row *row)
{
	struct received_sheet *c = ctx;
	struct xlsx *x = c->x;
	struct sheet *sh = &c->sh;
	char what[200];
	cell_text(x, sh, 0, fb_received_unit_label(row));
	cell_text(x, sh, 1, row->label);
	fb_received_what(row, what, sizeof what);
	if (what[0])
		cell_text(x, sh, 2, what);
	if (row->has_value)
		cell_number(x, sh, 3, value_of(row->value, row->decimals),
			    value_format(x, row->decimals));
	if (row->has_prev)
		cell_number(x, sh, 4, value_of(row->prev, row->decimals),
			    value_format(x, row->decimals));
	if (row->has_change)
		cell_number(x, sh, 5, row->change_percent, x->percent);
	if (row->flagged)
		cell_text(x, sh, 6, "Avvik");
	sh->row++;
	return xlsx_ok(x);
}

static bool sheet_received(struct xlsx *x, const struct fb_received *rc)
{
	struct received_sheet c = {x, {0}};
	if (!sheet_begin(x, &c.sh, "Mottatt", cols_received, KPR_ARRAY_LEN(cols_received)))
		return false;
	bool ok = !rc->shown || received_rows(rc->cur, rc->cmp, rc->filter, received_visit, &c);
	sheet_end(x, &c.sh, true);
	return ok && xlsx_ok(x);
}

/* ---------------------------------------------------------------------- */
/* Meldinger                                                              */

struct messages {
	struct xlsx *x;
	struct sheet sh;
	unsigned sheets;
	char lines[FB_LINES_TEXT_MAX];
};

static bool messages_sheet(struct messages *c)
{
	char name[32];

	if (c->sheets > 0)
		sheet_end(c->x, &c->sh, true);
	c->sheets++;
	if (c->sheets == 1)
		snprintf(name, sizeof(name), "Meldinger");
	else
		snprintf(name, sizeof(name), "Meldinger (%u)", c->sheets);
	return sheet_begin(c->x, &c->sh, name, cols_messages, KPR_ARRAY_LEN(cols_messages));
}

static bool messages_visit(void *ctx, const struct vmsg *m)
{
	struct messages *c = ctx;
	struct xlsx *x = c->x;
	struct sheet *sh = &c->sh;

	if (sh->row >= sheet_rows_max && !messages_sheet(c))
		return false;
	cell_text(x, sh, 0, m->rule);
	cell_text(x, sh, 1, sev_nb(m->severity));
	cell_text(x, sh, 2, m->ref);
	if (m->nlines == 1) {
		cell_number(x, sh, 3, (double)m->lines[0], NULL);
	} else if (m->nlines > 1) {
		fb_lines_text(m, c->lines);
		cell_text(x, sh, 3, c->lines);
	}
	cell_text(x, sh, 4, m->path);
	cell_text(x, sh, 5, m->text);
	cell_text(x, sh, 6, m->value);
	if (m->enhet &&
	    m->enhet[0]) /* NULL (the whole file) and "" (no unit): empty, as in the CSV */
		cell_text(x, sh, 7, m->enhet);
	sh->row++;
	return xlsx_ok(x);
}

static bool sheet_messages(struct xlsx *x, struct report *r)
{
	struct messages *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		xlsx_check(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
		return false;
	}
	c->x = x;
	bool ok = messages_sheet(c) && report_foreach(r, messages_visit, c);
	if (c->sheets > 0)
		sheet_end(x, &c->sh, true);
	free(c);
	return ok && xlsx_ok(x);
}

/* ---------------------------------------------------------------------- */
/* The workbook in a private directory, then into the output stream       */

static void xlsx_formats(struct xlsx *x)
{
	x->head = workbook_add_format(x->wb);
	x->wrap = workbook_add_format(x->wb);
	x->count = workbook_add_format(x->wb);
	x->hours = workbook_add_format(x->wb);
	x->median = workbook_add_format(x->wb);
	x->percent = workbook_add_format(x->wb);
	if (!x->head || !x->wrap || !x->count || !x->hours || !x->median || !x->percent) {
		xlsx_check(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
		return;
	}
	format_set_bold(x->head);
	format_set_bg_color(x->head, 0xE6E6E6);
	format_set_bottom(x->head, LXW_BORDER_THIN);
	format_set_text_wrap(x->wrap);
	format_set_align(x->wrap, LXW_ALIGN_VERTICAL_TOP);
	format_set_num_format(x->count, "#,##0");
	format_set_num_format(x->hours, "#,##0.0");
	format_set_num_format(x->median, "0.00");
	format_set_num_format(x->percent, "+0.0;-0.0;0.0");
}

static bool write_workbook(const char *path, const char *dir, const struct nid_options *nid,
			   const struct feedback_meta *m, const struct fb_view *v, struct report *r)
{
	struct fb_received rc;
	if (!fb_received_collect(&rc, m, r, v->st)) {
		errno = ENOMEM;
		return false;
	}
	struct xlsx *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return false;
	x->scratch.f = open_memstream(&x->buf, &x->len);
	x->scratch.ok = x->scratch.f != NULL;
	x->scratch.nid = *nid;
	lxw_workbook_options opt = {
	    .constant_memory = LXW_TRUE, .tmpdir = (char *)dir, .use_zip64 = LXW_FALSE};
	x->wb = x->scratch.ok ? workbook_new_opt(path, &opt) : NULL;
	if (x->wb == NULL) {
		if (x->scratch.f)
			fclose(x->scratch.f);
		free(x->buf);
		free(x);
		errno = ENOMEM;
		return false;
	}
	lxw_doc_properties props = {
	    .title = "Tilbakemelding på innsending til KPR",
	    .subject = "Kommunalt pasient- og brukerregister",
	    .author = "KPR mottak",
	    .comments = "KPR mottak " KPR_VERSION ", regelsett " KPR_RULESET_VERSION,
	};
	xlsx_check(x, workbook_set_properties(x->wb, &props));
	xlsx_formats(x);

	bool ok = xlsx_ok(x) && sheet_summary(x, m, v, &rc) && sheet_rules(x, &v->t) &&
		  sheet_units(x, v) && sheet_received(x, &rc) && sheet_messages(x, r);
	int saved = errno;
	/* closing writes the file; also after an error, so the library frees
	 * what it holds (the caller removes the directory) */
	lxw_error e = workbook_close(x->wb);
	if (ok && e != LXW_NO_ERROR) {
		ok = false;
		saved = errno ? errno : EIO;
	}
	if (!xlsx_ok(x)) {
		ok = false;
		if (saved == 0)
			saved = x->err == LXW_ERROR_MEMORY_MALLOC_FAILED ? ENOMEM : EIO;
	}
	fclose(x->scratch.f);
	free(x->buf);
	free(x->esc);
	free(x);
	errno = saved;
	return ok;
}

static bool private_dir(char *dir, size_t size)
{
	const char *base = getenv("TMPDIR");
	if (!has_text(base))
		base = "/tmp";
	int n = snprintf(dir, size, "%s/kpr-xlsx-XXXXXX", base);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return false;
	}
	return mkdtemp(dir) != NULL; /* mode 0700 */
}

/* Removes dir and whatever is left in it (the library unlinks its own
 * temporary files at once; this is for an error half way). */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d != NULL) {
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			(void)unlinkat(dirfd(d), de->d_name, 0);
		}
		closedir(d);
	}
	(void)rmdir(dir);
}

static bool copy_file(struct fb_out *o, const char *path)
{
	FILE *in = fopen(path, "rb");
	char buf[65536];
	size_t n;

	if (in == NULL)
		return false;
	while (o->ok && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		fb_put(o, buf, n);
	bool ok = !ferror(in) && o->ok;
	fclose(in);
	if (!ok && errno == 0)
		errno = EIO;
	return ok;
}

bool fb_render_xlsx(struct fb_out *o, const struct feedback_meta *m, struct report *r)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	struct fb_view v;

	if (!private_dir(dir, sizeof(dir)))
		return false;
	snprintf(path, sizeof(path), "%s/tilbakemelding.xlsx", dir);
	bool ok = fb_view_collect(&v, m, r);
	if (ok) {
		ok = write_workbook(path, dir, &o->nid, m, &v, r);
		fb_view_free(&v); /* the tallies and the unit rows */
	}
	if (ok)
		ok = copy_file(o, path);
	int saved = errno;
	remove_dir(dir);
	errno = saved;
	return ok && o->ok;
}
