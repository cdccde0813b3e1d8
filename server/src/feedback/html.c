/*
 * html.c — the feedback HTML (SPEC §6): one self-contained printable page
 * (no script, no fetched resource): header, status with what to do next,
 * summary, per-unit table (when the file names units), per-rule table,
 * then at most FEEDBACK_HTML_MAX_ROWS details: grouped by unit, each unit
 * on a page of its own when printed, so each department gets its own list
 * (in file order when more than HTML_UNIT_GROUPS_MAX units have messages:
 * grouping reads the message list once per unit).
 */
#include <string.h>

#include "feedback_internal.h"

/* Line numbers shown per message in the HTML table; the CSV has them all. */
#define HTML_LINES_MAX 50
/* Units with messages shown in groups of their own; past this, one list. */
#define HTML_UNIT_GROUPS_MAX 200

static void html(struct fb_out *o, const char *s)
{
	fb_text(o, s, ESC_HTML);
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
    "tr.avvik td{background:#fff4e0}\n"
    ".flag{font-weight:600;color:#6b4100}\n"
    "footer{margin-top:2rem;font-size:.85rem;color:#404040}\n"
    "@page{size:A4 landscape;margin:12mm}\n"
    "@media print{body{margin:0;max-width:none;font-size:9pt;padding:0}"
    "h2{break-after:avoid}thead{display:table-header-group}tr,.status{break-inside:avoid}"
    "section.enhet{break-before:page;page-break-before:always}"
    ".status,.sev,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n"
    "</style>\n";

static void html_dt(struct fb_out *o, const char *label)
{
	fb_printf(o, "<dt>%s</dt><dd>", label);
}

static void html_sev(struct fb_out *o, enum severity s)
{
	fb_printf(o, "<span class=\"sev sev-%s\">%s</span>", sev_code(s), sev_nb(s));
}

static void html_datetime(struct fb_out *o, const char *s)
{
	char buf[80];

	if (!has_text(s)) {
		fb_puts(o, "–");
		return;
	}
	/* shown as "2026-01-05 09:12:00 +01:00": readable and unambiguous */
	if (fb_datetime_display(s, buf, sizeof(buf))) {
		fb_puts(o, buf);
		return;
	}
	html(o, s);
}

static void html_status(struct fb_out *o, const struct status_info *st,
			const struct report_summary *s)
{
	char a[40], b[40];
	const char *code = st->code;

	fb_printf(o, "<section class=\"status st-%s\">\n<h2>Status: %s</h2>\n<p>", code, st->label);
	if (strcmp(code, "accepted") == 0) {
		fb_puts(o, "Filen er godkjent og lastet inn i registeret. Den erstatter eventuelle "
			   "tidligere innsendinger for årgangen.</p>\n<p><strong>Hva gjør dere "
			   "nå?</strong> ");
		if (s->by_severity[SEV_WARNING] + s->by_severity[SEV_INFO] > 0)
			fb_puts(
			    o,
			    "Ingen feil hindret innlastingen. Se gjennom advarslene nedenfor: de "
			    "kan tyde på feil i fagsystemet som bør rettes før neste innsending.");
		else
			fb_puts(o, "Ingenting. Filen hadde ingen feil.");
	} else if (strcmp(code, "accepted_with_errors") == 0) {
		fb_printf(
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
		fb_puts(o,
			"Filen er avvist på grunn av kritiske feil. Ingenting fra denne filen er "
			"lastet inn. Forrige godkjente innsending for årgangen gjelder fortsatt."
			"</p>\n<p><strong>Hva gjør dere nå?</strong> Rett de kritiske feilene som "
			"er beskrevet nedenfor, og send filen på nytt. Ligger feilen i selve "
			"uttrekket, kontakt leverandøren av fagsystemet.");
	} else if (strcmp(code, "validated") == 0) {
		const char *would = fb_outcome_of(s);
		fb_puts(o, "Filen er kontrollert i en prøvekjøring. Ingenting er lastet inn i "
			   "registeret. ");
		if (strcmp(would, "rejected") == 0)
			fb_puts(
			    o,
			    "Ved ordinær innsending ville filen blitt avvist.</p>\n<p><strong>Hva "
			    "gjør dere nå?</strong> Rett de kritiske feilene nedenfor før filen "
			    "sendes inn.");
		else if (strcmp(would, "accepted_with_errors") == 0)
			fb_puts(
			    o, "Ved ordinær innsending ville filen blitt godkjent, men det som har "
			       "feil ville blitt utelatt.</p>\n<p><strong>Hva gjør dere "
			       "nå?</strong> Rett helst feilene nedenfor før filen sendes inn.");
		else
			fb_puts(o, "Ved ordinær innsending ville filen blitt godkjent.</p>\n"
				   "<p><strong>Hva gjør dere nå?</strong> Filen kan sendes inn.");
	} else {
		fb_puts(o,
			"Denne innsendingen er erstattet av en nyere innsending for samme årgang "
			"og gjelder ikke lenger.</p>\n<p><strong>Hva gjør dere nå?</strong> Se "
			"tilbakemeldingen på den nyeste innsendingen.");
	}
	fb_puts(o, "</p>\n</section>\n");
}

static void html_summary(struct fb_out *o, const struct report_summary *s, const char *status)
{
	char a[40];
	bool dry = strcmp(status, "validated") == 0;

	fb_puts(o, "<section>\n<h2>Sammendrag</h2>\n<table class=\"summary\">\n<tbody>\n");
	fb_printf(o, "<tr><th scope=\"row\">Personer i filen</th><td class=\"num\">%s</td></tr>\n",
		  fmt_count(s->persons, a));
	fb_printf(
	    o, "<tr><th scope=\"row\">Registreringer i filen</th><td class=\"num\">%s</td></tr>\n",
	    fmt_count(s->registrations, a));
	fb_printf(o, "<tr><th scope=\"row\">Personer %s</th><td class=\"num\">%s</td></tr>\n",
		  dry ? "som kan lastes inn" : "lastet inn", fmt_count(s->persons_loaded, a));
	fb_printf(o, "<tr><th scope=\"row\">Personer %s</th><td class=\"num\">%s</td></tr>\n",
		  dry ? "som ville blitt utelatt" : "utelatt", fmt_count(s->persons_excluded, a));
	fb_printf(o, "<tr><th scope=\"row\">Registreringer %s</th><td class=\"num\">%s</td></tr>\n",
		  dry ? "som kan lastes inn" : "lastet inn", fmt_count(s->registrations_loaded, a));
	fb_printf(o, "<tr><th scope=\"row\">Registreringer %s</th><td class=\"num\">%s</td></tr>\n",
		  dry ? "som ville blitt utelatt" : "utelatt",
		  fmt_count(s->registrations_excluded, a));
	for (int v = 0; v < SEV_COUNT; v++) {
		fb_puts(o, "<tr><th scope=\"row\">");
		html_sev(o, (enum severity)v);
		fb_printf(o, "</th><td class=\"num\">%s</td></tr>\n",
			  fmt_count(s->by_severity[v], a));
	}
	fb_puts(
	    o, "</tbody>\n</table>\n<p>Antallet per alvorlighetsgrad teller hver forekomst "
	       "(linje) for seg; like meldinger for samme person er slått sammen i detaljene.</p>\n"
	       "</section>\n");
}

/* The file names units (a row other than "(uten enhet)"), or is limited
 * to one. */
static bool units_used(const struct fb_view *v)
{
	if (v->filter)
		return true;
	for (size_t i = 0; i < v->n_units; i++)
		if (fb_unit_kind(v->units[i]->enhet, v->units[i]->enhet == NULL) != FB_UNIT_NONE)
			return true;
	return false;
}

static unsigned long unit_messages(const struct report_unit *u)
{
	unsigned long n = 0;
	for (int sev = 0; sev < SEV_COUNT; sev++)
		n += u->by_severity[sev];
	return n;
}

/* Per unit: persons (under their own unit), loaded, excluded, services
 * (under their own unit or their person's), errors and warnings. */
static void html_units(struct fb_out *o, const struct fb_view *v)
{
	char a[40];

	if (!units_used(v))
		return;
	fb_puts(o, "<section>\n<h2>Per enhet</h2>\n");
	if (v->filter) {
		fb_puts(o, "<p class=\"note\">Denne tilbakemeldingen gjelder bare enheten «");
		html(o, v->filter);
		fb_puts(o, "»: meldingene om enhetens personer og tjenester, og meldingene om hele "
			   "filen. Sammendraget over gjelder hele filen.</p>\n");
	}
	fb_puts(o, "<table class=\"units\">\n<thead><tr><th scope=\"col\">Enhet</th>"
		   "<th scope=\"col\" class=\"num\">Personer</th>"
		   "<th scope=\"col\" class=\"num\">Personer lastet</th>"
		   "<th scope=\"col\" class=\"num\">Personer utelatt</th>"
		   "<th scope=\"col\" class=\"num\">Tjenester</th>"
		   "<th scope=\"col\" class=\"num\">Feil</th>"
		   "<th scope=\"col\" class=\"num\">Advarsler</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < v->n_units; i++) {
		const struct report_unit *u = v->units[i];
		fb_puts(o, "<tr><th scope=\"row\">");
		html(o, fb_unit_label(u));
		fb_printf(o, "</th><td class=\"num\">%s</td>", fmt_count(u->persons, a));
		fb_printf(o, "<td class=\"num\">%s</td>", fmt_count(u->persons_loaded, a));
		fb_printf(o, "<td class=\"num\">%s</td>", fmt_count(u->persons_excluded, a));
		fb_printf(o, "<td class=\"num\">%s</td>", fmt_count(u->services, a));
		fb_printf(o, "<td class=\"num\">%s</td>",
			  fmt_count(u->by_severity[SEV_FATAL] + u->by_severity[SEV_ERROR], a));
		fb_printf(o, "<td class=\"num\">%s</td></tr>\n",
			  fmt_count(u->by_severity[SEV_WARNING], a));
	}
	fb_puts(o,
		"</tbody>\n</table>\n<p>En person telles under sin egen enhet, en tjeneste "
		"under sin egen enhet eller personens. Feil og advarsler teller hver forekomst "
		"(linje). «(ukjent enhet)» er enheter som ikke kunne brukes (regel R110).</p>\n");
	if (v->units_capped)
		fb_printf(o,
			  "<p class=\"note\">Filen har flere enn %s enheter. Enhetene utover de "
			  "første %s er talt sammen under «(andre enheter)»; meldingene viser "
			  "likevel hver sin enhet.</p>\n",
			  fmt_count(REPORT_MAX_UNITS, a), fmt_count(REPORT_MAX_UNITS, a));
	fb_puts(o, "</section>\n");
}

/* What was received: a table per unit (the whole file's first), each
 * figure beside the previous årgang's when compared. */
struct recv_ctx {
	struct fb_out *o;
	const struct fb_received *x;
	const struct received_unit *unit; /* the table open, or none */
	bool open, other;
	int year;
};

static void recv_table_start(struct recv_ctx *h, const struct received_row *row)
{
	struct fb_out *o = h->o;
	fb_puts(o, h->open ? "</tbody>\n</table>\n<h3>" : "<h3>");
	html(o, fb_received_unit_label(row));
	fb_puts(o, "</h3>\n<table class=\"received\">\n<thead><tr><th scope=\"col\">Tall</th>"
		   "<th scope=\"col\">Tjenestetype eller kodeverk</th>");
	if (h->year > 0)
		fb_printf(o, "<th scope=\"col\" class=\"num\">%d</th>", h->year);
	else
		fb_puts(o, "<th scope=\"col\" class=\"num\">Denne filen</th>");
	if (h->x->cmp && h->x->state == RECEIVED_PREV_COMPARED)
		fb_printf(
		    o,
		    "<th scope=\"col\" class=\"num\">%d</th>"
		    "<th scope=\"col\" class=\"num\">Endring</th><th scope=\"col\">Avvik</th>",
		    h->x->cmp->aargang);
	fb_puts(o, "</tr></thead>\n<tbody>\n");
	h->open = true;
	h->unit = row->unit;
	h->other = row->other;
}

/* "12.5" as Norwegian writes it, "12,5" (in place). */
static const char *decimal_comma(char *s)
{
	for (char *c = s; *c; c++)
		if (*c == '.')
			*c = ',';
	return s;
}

static void recv_value(struct fb_out *o, bool has, long long v, int decimals)
{
	char t[40], a[40];
	if (!has) {
		fb_puts(o, "<td class=\"num\">–</td>");
		return;
	}
	if (decimals == 0) {
		fb_printf(o, "<td class=\"num\">%s</td>", fmt_count((unsigned long long)v, a));
		return;
	}
	received_value_text(v, decimals, t, sizeof t);
	fb_printf(o, "<td class=\"num\">%s</td>", decimal_comma(t));
}

static bool recv_row(void *ctx, const struct received_row *row)
{
	struct recv_ctx *h = ctx;
	struct fb_out *o = h->o;
	char what[200], ch[40];
	if (!h->open || row->unit != h->unit || row->other != h->other)
		recv_table_start(h, row);
	fb_printf(o, "<tr%s><td>", row->flagged ? " class=\"avvik\"" : "");
	html(o, row->label);
	fb_puts(o, "</td><td>");
	fb_received_what(row, what, sizeof what);
	html(o, what);
	fb_puts(o, "</td>");
	recv_value(o, row->has_value, row->value, row->decimals);
	if (h->x->cmp && h->x->state == RECEIVED_PREV_COMPARED) {
		recv_value(o, row->has_prev, row->prev, row->decimals);
		fb_received_change_text(row, ch, sizeof ch);
		fb_printf(o, "<td class=\"num\">%s%s</td><td>%s</td>", decimal_comma(ch),
			  ch[0] ? "\xC2\xA0%" : "",
			  row->flagged ? "<span class=\"flag\">Avvik</span>" : "");
	}
	fb_puts(o, "</tr>\n");
	return o->ok;
}

static bool html_received(struct fb_out *o, const struct feedback_meta *m, struct report *r,
			  const struct status_info *st)
{
	struct fb_received x;
	if (!fb_received_collect(&x, m, r, st))
		return false;
	fb_puts(o, "<section class=\"received\">\n<h2>Mottatt</h2>\n<p>");
	html(o, x.note);
	fb_puts(o, "</p>\n");
	struct recv_ctx h = {o, &x, NULL, false, false, m->aargang};
	if (x.shown && !received_rows(x.cur, x.cmp, x.filter, recv_row, &h))
		return false;
	if (h.open)
		fb_puts(o, "</tbody>\n</table>\n<p>Personer med tjenesten telles én gang per "
			   "tjenestetype og enhet. Timer per uke er summen og medianen av "
			   "timerPerUke for tjenestene som har det. En vurdering og en diagnose "
			   "telles under personens enhet.</p>\n");
	fb_puts(o, "</section>\n");
	return o->ok;
}

static void html_rules(struct fb_out *o, const struct tallies *t)
{
	char a[40];

	fb_puts(o, "<section>\n<h2>Meldinger per regel</h2>\n");
	if (t->n == 0) {
		fb_puts(o, "<p>Ingen regler slo til.</p>\n</section>\n");
		return;
	}
	fb_puts(o, "<table class=\"rules\">\n<thead><tr><th scope=\"col\">Regel</th>"
		   "<th scope=\"col\">Nivå</th><th scope=\"col\" class=\"num\">Antall</th>"
		   "<th scope=\"col\">Hva betyr det</th><th scope=\"col\">Slik retter dere det</th>"
		   "</tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < t->n; i++) {
		const struct tally *e = &t->v[i];
		fb_puts(o, "<tr><td>");
		html(o, e->id);
		fb_puts(o, "</td><td>");
		html_sev(o, e->severity);
		fb_printf(o, "</td><td class=\"num\">%s</td><td class=\"txt\">",
			  fmt_count(e->occurrences, a));
		if (e->def != NULL) {
			fb_puts(o, "<strong>");
			html(o, e->def->title);
			fb_puts(o, "</strong>");
			if (has_text(e->def->explanation)) {
				fb_puts(o, "\n");
				html(o, e->def->explanation);
			}
			fb_puts(o, "</td><td class=\"txt\">");
			html(o, e->def->fix);
		} else {
			fb_puts(o, "</td><td class=\"txt\">");
		}
		fb_puts(o, "</td></tr>\n");
	}
	fb_puts(o, "</tbody>\n</table>\n</section>\n");
}

struct html_ctx {
	struct fb_out *o;
	unsigned long rows;
	unsigned long max_rows;
	bool capped;
};

static bool html_visit(void *ctx, const struct vmsg *m)
{
	struct html_ctx *h = ctx;
	struct fb_out *o = h->o;
	char a[40];

	if (h->rows >= h->max_rows) {
		h->capped = true;
		return false;
	}
	h->rows++;
	fb_puts(o, "<tr><td>");
	html(o, m->rule);
	fb_puts(o, "</td><td>");
	html_sev(o, m->severity);
	fb_puts(o, "</td><td>");
	if (has_text(m->ref))
		html(o, m->ref);
	else
		fb_puts(o, "–"); /* a file-level message */
	fb_puts(o, "</td><td class=\"lines\">");
	for (size_t i = 0; i < m->nlines; i++) {
		if (i == HTML_LINES_MAX) {
			fb_printf(o, " og %s til", fmt_count(m->nlines - i, a));
			break;
		}
		fb_printf(o, "%s%lu", i ? ", " : "", m->lines[i]);
	}
	fb_puts(o, "</td><td class=\"path\">");
	html(o, m->path);
	fb_puts(o, "</td><td class=\"txt\">");
	html(o, m->text);
	fb_puts(o, "</td><td class=\"val\">");
	if (m->value != NULL)
		html(o, m->value);
	fb_puts(o, "</td></tr>\n");
	return o->ok;
}

/* The document head's title and the page header: who sent what, when, and
 * what checked it. */
static void html_title(struct fb_out *o, const struct feedback_meta *m,
		       const struct status_info *st)
{
	fb_puts(o, "<title>Tilbakemelding KPR");
	if (has_text(m->kommunenummer)) {
		fb_puts(o, " – ");
		html(o, m->kommunenummer);
		if (has_text(m->kommunenavn)) {
			fb_putc(o, ' ');
			html(o, m->kommunenavn);
		}
	}
	if (m->aargang != 0)
		fb_printf(o, " – årgang %d", m->aargang);
	fb_printf(o, " – %s</title>\n</head>\n<body>\n", st->label);
}

/* Kommune, årgang and the identifiers of the submission. */
static void html_meta_who(struct fb_out *o, const struct feedback_meta *m)
{
	html_dt(o, "Kommune");
	if (has_text(m->kommunenummer)) {
		html(o, m->kommunenummer);
		if (has_text(m->kommunenavn)) {
			fb_putc(o, ' ');
			html(o, m->kommunenavn);
		}
	} else {
		fb_puts(o, "ukjent (kunne ikke leses fra filen)");
	}
	fb_puts(o, "</dd>\n");
	html_dt(o, "Årgang");
	if (m->aargang != 0)
		fb_printf(o, "%d", m->aargang);
	else
		fb_puts(o, "ukjent");
	fb_puts(o, "</dd>\n");
	html_dt(o, "Innsending");
	if (has_text(m->submission_id)) {
		fb_puts(o, "<span class=\"mono\">");
		fb_identifier(o, m->submission_id, ESC_HTML);
		fb_puts(o, "</span>");
	} else {
		fb_puts(o, "kontrollert lokalt (ikke sendt inn)");
	}
	fb_puts(o, "</dd>\n");
	if (has_text(m->innsending_id)) {
		html_dt(o, "Id i filen");
		fb_puts(o, "<span class=\"mono\">");
		fb_identifier(o, m->innsending_id, ESC_HTML);
		fb_puts(o, "</span></dd>\n");
	}
}

/* The sending system, the times, the file's size and hash, the checker. */
static void html_meta_file(struct fb_out *o, const struct feedback_meta *m)
{
	char a[40];

	if (has_text(m->fagsystem)) {
		html_dt(o, "Fagsystem");
		html(o, m->fagsystem);
		if (has_text(m->fagsystem_versjon)) {
			fb_puts(o, " versjon ");
			html(o, m->fagsystem_versjon);
		}
		fb_puts(o, "</dd>\n");
	}
	if (has_text(m->received_at)) {
		html_dt(o, "Mottatt");
		html_datetime(o, m->received_at);
		fb_puts(o, "</dd>\n");
	}
	html_dt(o, "Behandlet");
	html_datetime(o, m->processed_at);
	fb_puts(o, "</dd>\n");
	if (m->bytes > 0) {
		html_dt(o, "Filstørrelse");
		fb_printf(o, "%s byte</dd>\n", fmt_count(m->bytes, a));
	}
	if (has_text(m->sha256)) {
		char sha[65];
		html_dt(o, "Filens SHA-256");
		fb_puts(o, "<span class=\"mono\">");
		if (fb_normalise_sha256(m->sha256, sha))
			fb_puts(o, sha);
		else
			html(o, m->sha256);
		fb_puts(o, "</span></dd>\n");
	}
	html_dt(o, "Kontrollert med");
	fb_puts(o, "KPR mottak versjon " KPR_VERSION ", regelsett " KPR_RULESET_VERSION "</dd>\n");
}

static void details_table_start(struct fb_out *o)
{
	fb_puts(o, "<table class=\"details\">\n<thead><tr><th scope=\"col\">Regel</th>"
		   "<th scope=\"col\">Alvorlighet</th><th scope=\"col\">Ref</th>"
		   "<th scope=\"col\" class=\"num\">Linje</th><th scope=\"col\">Element</th>"
		   "<th scope=\"col\">Melding</th><th scope=\"col\">Verdi</th></tr></thead>\n"
		   "<tbody>\n");
}

/* One group of the details: a heading and the messages of exactly one
 * unit (NULL: about the whole file); nothing when it has none. */
static bool html_group(struct fb_out *o, struct report *r, struct html_ctx *h, const char *unit,
		       const char *label, unsigned long n)
{
	char a[40];

	if (n == 0 || h->capped)
		return o->ok;
	if (unit) {
		fb_puts(o, "<section class=\"enhet\">\n<h3>Enhet: ");
		html(o, label);
	} else {
		fb_puts(o, "<section>\n<h3>Meldinger om hele filen");
	}
	fb_printf(o, " (%s)</h3>\n", fmt_count(n, a));
	details_table_start(o);
	if (!o->ok)
		return false;
	if (!report_foreach_unit(r, unit, html_visit, h) && !h->capped)
		return false;
	fb_puts(o, "</tbody>\n</table>\n</section>\n");
	return o->ok;
}

struct count_ctx {
	unsigned long n;
};

static bool count_visit(void *ctx, const struct vmsg *m)
{
	(void)m;
	((struct count_ctx *)ctx)->n++;
	return true;
}

/* Details grouped by unit: the whole file's messages, then each unit's. */
static bool html_groups(struct fb_out *o, struct report *r, const struct fb_view *v,
			struct html_ctx *h)
{
	struct count_ctx c = {0};
	if (!report_foreach_unit(r, NULL, count_visit, &c))
		return false;
	if (!html_group(o, r, h, NULL, NULL, c.n))
		return false;
	for (size_t i = 0; i < v->n_units; i++) {
		const struct report_unit *u = v->units[i];
		unsigned long n = unit_messages(u);
		if (n == 0)
			continue;
		c.n = 0; /* merged messages, as the heading counts them */
		if (!report_foreach_unit(r, u->enhet, count_visit, &c) ||
		    !html_group(o, r, h, u->enhet, fb_unit_label(u), c.n))
			return false;
	}
	return o->ok;
}

/* The details, at most FEEDBACK_HTML_MAX_ROWS rows, saying so when they
 * stop short; total is the number of merged messages. */
static bool html_details(struct fb_out *o, struct report *r, const struct fb_view *v,
			 unsigned long total)
{
	char a[40], b[40];

	fb_puts(o, "<section>\n<h2>Alle meldinger</h2>\n");
	if (total == 0) {
		fb_puts(o, "<p>Ingen meldinger.</p>\n");
		return o->ok;
	}
	struct html_ctx h = {o, 0, FEEDBACK_HTML_MAX_ROWS, false};
	if (total > h.max_rows)
		fb_printf(o,
			  "<p class=\"note\">Tabellen viser de første %s av %s meldinger. "
			  "Alle meldingene finnes i CSV-filen (åpnes i Excel), og i XML- og "
			  "JSON-filen.</p>\n",
			  fmt_count(h.max_rows, a), fmt_count(total, b));
	size_t groups = 0;
	for (size_t i = 0; i < v->n_units; i++)
		groups += unit_messages(v->units[i]) > 0;
	bool grouped = units_used(v) && !v->units_capped && groups <= HTML_UNIT_GROUPS_MAX;
	if (grouped) {
		fb_puts(o, "<p>Meldingene står per enhet, og innenfor hver enhet i samme "
			   "rekkefølge som i filen; skrevet ut begynner hver enhet på en ny side. "
			   "«Ref» er kommunens journalnummer for personen; «Linje» er "
			   "linjenummeret i filen.</p>\n");
		if (!html_groups(o, r, v, &h))
			return false;
	} else {
		if (units_used(v))
			fb_puts(o, "<p>Filen har for mange enheter til å vise meldingene per enhet "
				   "her; CSV-filen har enheten i siste kolonne.</p>\n");
		fb_puts(o, "<p>Meldingene står i samme rekkefølge som i filen. «Ref» er kommunens "
			   "journalnummer for personen; «Linje» er linjenummeret i filen.</p>\n");
		details_table_start(o);
		if (!o->ok)
			return false;
		if (!report_foreach(r, html_visit, &h) && !h.capped)
			return false;
		fb_puts(o, "</tbody>\n</table>\n");
	}
	if (h.capped)
		fb_printf(o,
			  "<p class=\"note\">%s meldinger er ikke vist her. Se CSV-filen for "
			  "den fullstendige listen.</p>\n",
			  fmt_count(total - h.rows, a));
	return o->ok;
}

bool fb_render_html(struct fb_out *o, const struct feedback_meta *m, struct report *r)
{
	struct fb_view v;

	if (!fb_view_collect(&v, m, r))
		return false;

	fb_puts(o, html_head);
	html_title(o, m, v.st);
	fb_puts(o,
		"<header>\n<h1>Tilbakemelding på innsending til KPR</h1>\n"
		"<p class=\"sub\">Kommunalt pasient- og brukerregister</p>\n<dl class=\"meta\">\n");
	html_meta_who(o, m);
	html_meta_file(o, m);
	fb_puts(o, "</dl>\n</header>\n<main>\n");

	html_status(o, v.st, &v.s);
	html_summary(o, &v.s, v.st->code);
	if (!html_received(o, m, r, v.st)) {
		fb_view_free(&v);
		return false;
	}
	html_units(o, &v);
	html_rules(o, &v.t);

	unsigned long total = v.t.messages;
	bool ok = html_details(o, r, &v, total);
	fb_view_free(&v);
	if (!ok)
		return false;
	fb_puts(
	    o,
	    "</section>\n</main>\n<footer>\n<p>Laget av KPR mottak " KPR_VERSION
	    " med regelsett " KPR_RULESET_VERSION
	    ". Tilbakemeldingen inneholder ikke fødselsnummer: personer er "
	    "identifisert med kommunens journalnummer (ref).</p>\n</footer>\n</body>\n</html>\n");
	return o->ok;
}
